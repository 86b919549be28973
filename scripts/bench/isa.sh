#!/usr/bin/env bash
# Issue 22's two eager gaps on every x86 ISA this machine can run, each beside numpy in the same
# round: `tanh` on 4M float32 (ElementwiseBench) and SGEMM 256³ (MatmulBench) on `cpu`.
#   - AVX-512 (where the CPU has it): the JVM's and numpy's defaults;
#   - AVX2: the JVM with -XX:UseAVX=2 (the Vector API's preferred species becomes 256-bit),
#     numpy with NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL" (its AVX2 loops) and OpenBLAS with
#     OPENBLAS_CORETYPE=Haswell (its AVX2 kernels).
# Rounds alternate the ISAs' order; each row is the median of the rounds' medians. Prints a
# Markdown table and keeps the raw results in benchmarks/target/isa-results.
#
# usage: scripts/bench/isa.sh [--no-build] [--rounds N]        (~2 min a round)
# Needs: JDK 17+, Maven, python3 + numpy.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=1 ROUNDS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --rounds) ROUNDS=$2; shift ;;
    *) echo "unknown option $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
  shift
done
JAR=benchmarks/target/benchmarks.jar
OUT=benchmarks/target/isa-results
if [ "$BUILD" = 1 ]; then
  mvn -B -q -o -pl benchmarks -am package -DskipTests
fi
rm -rf "$OUT" && mkdir -p "$OUT"
ISAS=(avx2)
grep -q avx512f /proc/cpuinfo && ISAS=(avx512 avx2)
lscpu | sed -n 's/^Model name: *//p' > "$OUT/cpu.txt"
uptime > "$OUT/load-before.txt"

one() { # round isa
  local r=$1 isa=$2 jvm="--add-modules jdk.incubator.vector -XX:ActiveProcessorCount=2"
  local -a env=()
  if [ "$isa" = avx2 ]; then
    jvm="$jvm -XX:UseAVX=2"
    env=(NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL" OPENBLAS_CORETYPE=Haswell)
  fi
  echo "round $r, $isa" >&2
  java -jar "$JAR" '^dev\.spool\.bench\.ElementwiseBench\.op$' -p device=cpu -p op=tanh -f 1 -rf json -rff "$OUT/$r-$isa-tanh.json" \
    -jvmArgsAppend "$jvm" > "$OUT/$r-$isa-tanh.txt" 2>&1
  java -jar "$JAR" '^dev\.spool\.bench\.MatmulBench\.matmul$' -p device=cpu -p n=256 -f 1 -rf json -rff "$OUT/$r-$isa-sgemm.json" \
    -jvmArgsAppend "$jvm" > "$OUT/$r-$isa-sgemm.txt" 2>&1
  env "${env[@]}" python3 scripts/bench/numpy_bench.py --sgemm 256 > "$OUT/$r-$isa-numpy-sgemm.json"
  env "${env[@]}" python3 scripts/bench/numpy_bench.py --no-sgemm > "$OUT/$r-$isa-numpy.json"
}

for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then order=("${ISAS[@]}"); else order=(); for ((i = ${#ISAS[@]} - 1; i >= 0; i--)); do order+=("${ISAS[i]}"); done; fi
  for isa in "${order[@]}"; do one "$r" "$isa"; done
done
uptime > "$OUT/load-after.txt"

python3 - "$OUT" "$ROUNDS" "${ISAS[@]}" <<'EOF'
import json, statistics, sys
out, rounds, isas = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def jmh_ms(path):
    # Spool's row (a jar built with -Ppeers also has DJL's, which the pattern above leaves out)
    r = [b for b in json.load(open(path)) if ".peers." not in b["benchmark"]
         and b["params"].get("n", "256") == "256"][0]["primaryMetric"]["rawData"]
    return statistics.median(v for fork in r for v in fork)

def numpy_ms(path, key):
    return json.load(open(path))["seconds"][key] * 1e3

print(f"{open(out + '/cpu.txt').read().strip()}, 2 JMH threads; load before/after: "
      f"{open(out + '/load-before.txt').read().split('load average:')[1].strip()} / "
      f"{open(out + '/load-after.txt').read().split('load average:')[1].strip()}; medians of {rounds} rounds\n")
print("| ISA | `tanh` 4M: Spool | numpy | speed ÷ numpy | SGEMM 256³: Spool | numpy | speed ÷ numpy |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for isa in isas:
    rows = []
    for r in range(1, rounds + 1):
        p = f"{out}/{r}-{isa}"
        rows.append((jmh_ms(p + "-tanh.json"), numpy_ms(p + "-numpy.json", "elementwise:tanh"),
                     jmh_ms(p + "-sgemm.json") , numpy_ms(p + "-numpy-sgemm.json", "sgemm:256")))
    t, nt, g, ng = (statistics.median(c) for c in zip(*rows))
    tr = statistics.median(n / s for s, n, _, _ in rows)
    gr = statistics.median(n / s for _, _, s, n in rows)
    gf = 2 * 256 ** 3 / 1e6
    print(f"| {'AVX-512' if isa == 'avx512' else 'AVX2'} | {t:.3f} ms | {nt:.3f} ms | {tr:.2f}× "
          f"({', '.join(f'{n / s:.2f}' for s, n, _, _ in rows)}) | {g * 1e3:.0f} µs ({gf / g:.0f} GFLOP/s) | "
          f"{ng * 1e3:.0f} µs ({gf / ng:.0f} GFLOP/s) | {gr:.2f}× ({', '.join(f'{n / s:.2f}' for _, _, s, n in rows)}) |")
EOF
