#!/usr/bin/env bash
# Builds the benchmarks (with the DJL peers), runs Spool's JMH benchmarks and the peers (DJL,
# numpy, CLBlast) in one session on this machine, and rewrites the generated tables of
# docs/PERFORMANCE.md (between its <!-- generated:... --> markers; the prose stays).
#
# usage: scripts/bench/run.sh [--quick] [--no-build] [--no-doc] [--ignore-lock]
#   --quick        shorter JMH iterations, SGEMM at 256 and 1024 only (~5 min instead of ~15)
#   --no-build     reuse benchmarks/target/benchmarks.jar
#   --no-doc       measure, keep the results under benchmarks/target/bench-results, leave the doc
#   --ignore-lock  run even while another JMH run holds /tmp/jmh.lock (both sets of figures
#                  then suffer: only to check the machinery on a shared machine)
# Needs: JDK 17+, Maven (the first build downloads DJL + PyTorch, ~200 MB), python3 + numpy;
# for the OpenCL table an OpenCL device (opencl:0) and CLBlast (apt-get install libclblast-dev).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
QUICK=0 BUILD=1 DOC=1 LOCK=()
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --no-build) BUILD=0 ;;
    --no-doc) DOC=0 ;;
    --ignore-lock) LOCK=(-Djmh.ignoreLock=true) ;;
    *) echo "unknown option $arg (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
OUT=benchmarks/target/bench-results
JAR=benchmarks/target/benchmarks.jar
START=$(date +%s)
say() { echo "[bench $(( $(date +%s) - START ))s] $*" >&2; }

if [ "$BUILD" = 1 ]; then
  say "building benchmarks.jar with the peers (-Ppeers)"
  # offline first (everything cached); online once, for the first download of the peers
  mvn -B -q -o -Ppeers -pl benchmarks -am package -DskipTests \
    || mvn -B -q -Ppeers -pl benchmarks -am package -DskipTests
fi
[ -f "$JAR" ] || { echo "$JAR is missing: run without --no-build" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"
uptime > "$OUT/load-before.txt"

java --add-modules jdk.incubator.vector -cp "$JAR" dev.spool.bench.Machine > "$OUT/machine.json" 2> "$OUT/machine.log"
if grep -q '"id": "opencl:0"' "$OUT/machine.json"; then
  DEVICES=cpu,opencl:0 OPENCL=1
else
  DEVICES=cpu OPENCL=0
  say "no opencl:0 on this machine: cpu only"
fi

JMH=(-rf json -rff "$OUT/jmh.json" -p "device=$DEVICES" -e 'dev\.spool\.bench\.gpu\.')
if [ "$QUICK" = 1 ]; then
  JMH+=(-f 1 -wi 1 -w 500ms -i 3 -r 500ms -p n=256,1024)
else
  JMH+=(-f 1)   # iterations from each class's annotations: 3 x 1 s warm-up (MLP: 10), 5 x 1 s
fi
[ "$OPENCL" = 1 ] || JMH+=(-e JoclLaunchBench)
if ! unzip -Z1 "$JAR" | grep 'dev/spool/bench/peers/' > /dev/null; then
  say "benchmarks.jar has no DJL peers (built without -Ppeers?): DJL columns stay empty"
fi
say "JMH: ${JMH[*]}"
java "${LOCK[@]}" -jar "$JAR" "${JMH[@]}" 'dev\.spool\.bench\.' > "$OUT/jmh.txt" 2>&1 &
JMH_PID=$!
tail -n +1 -f "$OUT/jmh.txt" --pid=$JMH_PID | grep --line-buffered -E '^(# Benchmark:|# Parameters|Result|  [0-9]|ERROR|<failure>)' >&2 || true
wait $JMH_PID || { echo "JMH failed, see $OUT/jmh.txt" >&2; exit 1; }
[ -s "$OUT/jmh.json" ] || { echo "JMH wrote no results, see $OUT/jmh.txt" >&2; exit 1; }
if grep -q '<failure>' "$OUT/jmh.txt"; then
  say "some benchmarks failed (their rows stay empty): grep -B5 -A20 '<failure>' $OUT/jmh.txt"
fi

say "numpy"
python3 scripts/bench/numpy_bench.py $([ "$QUICK" = 1 ] && echo --quick) > "$OUT/numpy.json"

if [ "$OPENCL" = 1 ] && [ -f /usr/include/clblast_c.h ]; then
  say "CLBlast SGEMM on opencl:0"
  for n in $([ "$QUICK" = 1 ] && echo 256 1024 || echo 256 512 1024 2048); do
    scripts/bench/clblast-sgemm.sh "$n" 0 >> "$OUT/clblast.txt"
  done
  dpkg-query -W -f '${Version}' libclblast-dev > "$OUT/clblast-version.txt" 2>/dev/null || true
else
  say "no CLBlast run (no opencl:0 or no libclblast-dev)"
fi
uptime > "$OUT/load-after.txt"

if [ "$DOC" = 1 ]; then
  say "rewriting docs/PERFORMANCE.md"
  python3 scripts/bench/report.py --results "$OUT" --doc docs/PERFORMANCE.md \
    $([ "$QUICK" = 1 ] && echo --quick)
fi
say "done in $(( $(date +%s) - START )) s; raw results in $OUT"
