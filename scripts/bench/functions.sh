#!/usr/bin/env bash
# Traced functions (issue #22) against their peers, in one session on this machine, and the
# docs/PERFORMANCE.md table between <!-- generated:functions --> markers (the prose stays):
#   - FunctionStepBench: the MLP step plain-eager, hand-fused eager, and plain as a function
#     (cpu and opencl:0, batch 16 and 128);
#   - FunctionChainBench: GELU from 8 ops as a function against one tanh (4M floats), a 4-op
#     chain on 16M floats against a C STREAM add (stream_add.c, OpenMP, every core);
#   - FunctionCosts: launches per step, trace time, first replay (kernel builds), planned bytes.
#
# usage: scripts/bench/functions.sh [--no-build] [--quick] [--no-doc]     (~10 min, ~5 with --quick)
# Needs: JDK 17+, Maven, a C compiler with OpenMP (gcc), python3; opencl:0 for the OpenCL rows.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=1 QUICK=0 DOC=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    --quick) QUICK=1 ;;
    --no-doc) DOC=0 ;;
    *) echo "unknown option $arg (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
OUT=benchmarks/target/function-results
JAR=benchmarks/target/benchmarks.jar
if [ "$BUILD" = 1 ]; then
  mvn -B -q -o -pl benchmarks -am package -DskipTests
fi
rm -rf "$OUT" && mkdir -p "$OUT"
uptime > "$OUT/load-before.txt"
{ date -u +%Y-%m-%dT%H:%MZ; lscpu | sed -n 's/^Model name: *//p'; nproc;
  if grep -q avx512f /proc/cpuinfo; then echo AVX-512; elif grep -q avx2 /proc/cpuinfo; then echo AVX2; else echo SSE; fi
} > "$OUT/cpu.txt"
java --add-modules jdk.incubator.vector -cp "$JAR" dev.spool.bench.Machine > "$OUT/machine.json" 2> "$OUT/machine.log"
if grep -q '"id": "opencl:0"' "$OUT/machine.json"; then DEVICES=cpu,opencl:0; else DEVICES=cpu; fi
ITER=()
[ "$QUICK" = 1 ] && ITER=(-wi 2 -w 500ms -i 3 -r 500ms)

cc -O3 -march=native -fopenmp scripts/bench/stream_add.c -o "$OUT/stream_add"
OMP_NUM_THREADS=$(nproc) "$OUT/stream_add" $((16 << 20)) 20 > "$OUT/stream-before.json"
# three forks: one fork's JIT decides a step's figure (cpu batch 128, function / hand-fused: 1.41x and
# 1.42x in two one-fork runs, 0.88x and 0.78x in runs of one and three forks the same hour)
java -jar "$JAR" -rf json -rff "$OUT/step.json" -f 3 "${ITER[@]}" -p device="$DEVICES" FunctionStepBench \
  > "$OUT/step.txt" 2>&1
java -jar "$JAR" -rf json -rff "$OUT/chain.json" -f 1 "${ITER[@]}" -p device="$DEVICES" FunctionChainBench \
  > "$OUT/chain.txt" 2>&1
OMP_NUM_THREADS=$(nproc) "$OUT/stream_add" $((16 << 20)) 20 > "$OUT/stream-after.json"
java --add-modules jdk.incubator.vector -cp "$JAR" dev.spool.bench.FunctionCosts ${DEVICES//,/ } \
  > "$OUT/costs.json" 2> "$OUT/costs.log"
uptime > "$OUT/load-after.txt"
if [ "$DOC" = 1 ]; then
  python3 scripts/bench/functions_report.py "$OUT" docs/PERFORMANCE.md
else
  python3 scripts/bench/functions_report.py "$OUT"
fi
