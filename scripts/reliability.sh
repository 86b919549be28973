#!/usr/bin/env bash
# Regenerates the figures of docs/RELIABILITY.md: the training loop of issue 10 (no TensorScope:
# X rows x width, W width x width, loss = mean(square(tanh(X@W)@W)), SGD), without and with
# scopes, on PoCL (opencl:0) within a device memory budget and on cpu in a 512 MB Java heap.
# The fast parts run as tests in CI (MemoryBudgetTest, SmallHeapLoopTest, FaultsTest).
# usage: scripts/reliability.sh [steps] [rows] [width] [budget]   (default 2000 256 512 64m)
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-2000}
ROWS=${2:-256}
WIDTH=${3:-512}
BUDGET=${4:-64m}
mvn -B -o -q -pl examples -am package -DskipTests
JAR=examples/target/spool-examples.jar
# run JVM-OPTIONS ARGS...: one mode of the loop in a JVM of its own
run() { local jvm=$1; shift; java $jvm --add-modules jdk.incubator.vector -cp "$JAR" dev.spool.examples.Reliability \
          --steps "$STEPS" --rows "$ROWS" --width "$WIDTH" "$@" 2>/dev/null | grep '^device='; }
echo "# PoCL, budget $BUDGET"
run "" --device opencl:0 --budget "$BUDGET"
run "" --device opencl:0 --budget "$BUDGET" --scoped
echo "# cpu, -Xmx512m, default budget (80% of the heap)"
run -Xmx512m --device cpu
run -Xmx512m --device cpu --scoped
