#!/usr/bin/env bash
# Regenerates the figures of docs/RELIABILITY.md (the blocks between <!-- generated:NAME -->
# markers; everything else is left as it is) from one run on this machine:
#   memory   the training loop of issue 10 (no TensorScope: X rows x width, W width x width,
#            loss = mean(square(tanh(X@W)@W)), SGD), without and with scopes, on PoCL (opencl:0)
#            within a device memory budget and on cpu in a 512 MB Java heap (examples' Reliability)
#   badinput the bad-input sweep and table (BadInputSweepTest, BadInputTableTest), cpu and PoCL
#   soak     the MLP of the speed issues, SOAK_STEPS steps at batch SOAK_BATCH per device (SoakTest)
#   threads  eight threads on one device, with scopes and within a small budget (ThreadsTest)
# CI runs the fast parts as tests (1,000 soak steps at batch 16).
# usage: scripts/reliability.sh [steps] [rows] [width] [budget]   (memory loop; default 300 256 512 64m)
#        env SOAK_STEPS (default 10000), SOAK_BATCH (default 128), RESULTS (default target/reliability)
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-300}
ROWS=${2:-256}
WIDTH=${3:-512}
BUDGET=${4:-64m}
SOAK_STEPS=${SOAK_STEPS:-10000}
SOAK_BATCH=${SOAK_BATCH:-128}
RESULTS=${RESULTS:-target/reliability}
mkdir -p "$RESULTS"
uptime > "$RESULTS/load-start.txt"

# ---- memory under pressure (examples' Reliability, each mode in a JVM of its own) -----------
mvn -B -o -q -pl examples -am package -DskipTests
JAR=examples/target/spool-examples.jar
run() { local jvm=$1; shift; java $jvm --add-modules jdk.incubator.vector -cp "$JAR" dev.spool.examples.Reliability \
          --steps "$STEPS" --rows "$ROWS" --width "$WIDTH" "$@" 2>/dev/null | grep '^device='; }
{
  run "" --device opencl:0 --budget "$BUDGET"
  run "" --device opencl:0 --budget "$BUDGET" --scoped
  run -Xmx512m --device cpu
  run -Xmx512m --device cpu --scoped
} | tee "$RESULTS/memory.txt"

# ---- bad input, soak, threads: the conformance tests with the long settings -----------------
TESTS='BadInputSweepTest,BadInputTableTest,SoakTest,ThreadsTest'
# One reactor run for both backends (a second with -pl runtime-opencl -am would run the cpu module's again).
rm -rf runtime-cpu/target/reliability runtime-opencl/target/reliability
SPOOL_REQUIRE_OPENCL=1 mvn -B -o -pl runtime-cpu,runtime-opencl -am verify -Dtest="$TESTS" \
    -Dsurefire.failIfNoSpecifiedTests=false -Dspool.soak.steps="$SOAK_STEPS" -Dspool.soak.batch="$SOAK_BATCH" \
    > "$RESULTS/tests.log" 2>&1 || { echo "tests failed: see $RESULTS/tests.log"; exit 1; }
cp runtime-cpu/target/reliability/*.txt runtime-opencl/target/reliability/*.txt "$RESULTS/"
uptime > "$RESULTS/load-end.txt"

python3 scripts/reliability_report.py --results "$RESULTS" --doc docs/RELIABILITY.md
echo "docs/RELIABILITY.md regenerated from $RESULTS"
