#!/usr/bin/env bash
# The convolutions on opencl:0 against the cpu device, in paired rounds on this machine: per
# round, ConvBench (the 3x3 64->64 56x56 batch-16 layer: forward, input gradient, filter
# gradient) and CnnConvBench (the convolutions of a Fashion-MNIST CNN training step, batch 128)
# on each device, a JMH fork per benchmark, the device order reversed every other round. Prints
# each time as the median over rounds and each opencl/cpu ratio as the median of the rounds'
# own ratios with their range, and the load average before every fork (the machine is shared:
# read the ratios with it).
#
# usage: scripts/bench/opencl-conv.sh [--rounds N] [--quick] [--no-build] [--ignore-lock]
#   --quick: 1 warm-up and 3 measured iterations of 0.5 s (default: the classes' 3 x 1 s, 5 x 1 s)
# Takes about 2 minutes a round (1 with --quick). Results: benchmarks/target/opencl-conv/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
ROUNDS=3 BUILD=1 ITER=() LOCK=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --quick) ITER=(-wi 1 -w 500ms -i 3 -r 500ms) ;;
    --no-build) BUILD=0 ;;
    --ignore-lock) LOCK=(-Djmh.ignoreLock=true) ;;
    *) echo "unknown option $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
  shift
done
OUT=benchmarks/target/opencl-conv
JAR=benchmarks/target/benchmarks.jar
if [ "$BUILD" = 1 ]; then
  mvn -B -q -o -pl benchmarks -am package -DskipTests || mvn -B -q -pl benchmarks -am package -DskipTests
fi
rm -rf "$OUT" && mkdir -p "$OUT"
for r in $(seq 1 "$ROUNDS"); do
  devices=(cpu opencl:0)
  [ $((r % 2)) = 1 ] || devices=(opencl:0 cpu)
  for d in "${devices[@]}"; do
    for bench in ConvBench CnnConvBench; do
      name="$r-$bench-${d/:/}"
      echo "$name $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/load.txt"
      echo "[round $r] $bench on $d (load $(cut -d' ' -f1 /proc/loadavg))" >&2
      java "${LOCK[@]}" -jar "$JAR" -f 1 "${ITER[@]}" -rf json -rff "$OUT/$name.json" -p "device=$d" \
        "dev\\.spool\\.bench\\.$bench\\." > "$OUT/$name.txt" 2>&1 || { tail -30 "$OUT/$name.txt" >&2; exit 1; }
    done
  done
done
python3 - "$OUT" <<'EOF'
import glob, json, os, statistics, sys
out = sys.argv[1]
times = {}  # (round, benchmark, device) -> ms
for f in glob.glob(os.path.join(out, "*.json")):
    r = int(os.path.basename(f).split("-")[0])
    for b in json.load(open(f)):
        name = b["benchmark"].replace("dev.spool.bench.", "")
        times[(r, name, b["params"]["device"])] = b["primaryMetric"]["score"]
loads = [float(l.split()[1]) for l in open(os.path.join(out, "load.txt"))]
print("load average (1 min) before the forks: %.2f-%.2f, median %.2f" % (min(loads), max(loads), statistics.median(loads)))
print("| benchmark | cpu | opencl:0 | opencl:0 / cpu time (range over rounds) |")
print("| --- | --- | --- | --- |")
for name in sorted({k[1] for k in times}):
    rounds = sorted({k[0] for k in times if k[1] == name})
    cpu = [times[(r, name, "cpu")] for r in rounds if (r, name, "cpu") in times]
    ocl = [times[(r, name, "opencl:0")] for r in rounds if (r, name, "opencl:0") in times]
    ratios = [times[(r, name, "opencl:0")] / times[(r, name, "cpu")] for r in rounds
              if (r, name, "cpu") in times and (r, name, "opencl:0") in times]
    print("| %s | %.2f ms | %.2f ms | %.2fx (%.2f-%.2f) |" % (name, statistics.median(cpu), statistics.median(ocl),
          statistics.median(ratios), min(ratios), max(ratios)))
EOF
