#!/usr/bin/env bash
# Builds the benchmarks (with the DJL peers), runs Spool's JMH benchmarks and the peers (DJL,
# numpy, CLBlast) in one session on this machine, and rewrites the generated tables of
# docs/PERFORMANCE.md (between its <!-- generated:... --> markers; the prose stays).
#
# usage: scripts/bench/run.sh [--quick] [--conv-only] [--cnn-only] [--attention-only] [--transformer-only]
#                              [--no-build] [--no-doc] [--ignore-lock]
#   --quick        shorter JMH iterations, SGEMM at 256 and 1024 and the convolutions and the CNN
#                  step in one round each (~8 min, not ~35)
#   --conv-only    only the convolution rounds (Spool and DJL, ~4 min), and only the doc's conv
#                  table rewritten
#   --cnn-only     only the CNN training step rounds (Spool on cpu and opencl:0, DJL; ~4 min),
#                  and only the doc's cnn table rewritten
#   --attention-only  only the attention rounds (Spool on cpu and opencl:0, DJL; ~3 min), and only
#                  the doc's attention table rewritten
#   --transformer-only  only the character transformer's training step rounds (Spool on cpu and
#                  opencl:0, DJL; ~3 min), and only the doc's transformer table rewritten
#   --no-build     reuse benchmarks/target/benchmarks.jar
#   --no-doc       measure, keep the results under benchmarks/target/bench-results, leave the doc
#   --ignore-lock  run even while another JMH run holds /tmp/jmh.lock (both sets of figures
#                  then suffer: only to check the machinery on a shared machine)
# Needs: JDK 17+, Maven (the first build downloads DJL + PyTorch, ~200 MB), python3 + numpy;
# for the OpenCL table an OpenCL device (opencl:0) and CLBlast (apt-get install libclblast-dev).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
QUICK=0 BUILD=1 DOC=1 CONV_ONLY=0 CNN_ONLY=0 ATTENTION_ONLY=0 TRANSFORMER_ONLY=0 LOCK=()
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --conv-only) CONV_ONLY=1 ;;
    --cnn-only) CNN_ONLY=1 ;;
    --attention-only) ATTENTION_ONLY=1 ;;
    --transformer-only) TRANSFORMER_ONLY=1 ;;
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

if [ "$QUICK" = 1 ]; then
  ITER=(-f 1 -wi 1 -w 500ms -i 3 -r 500ms) SIZES=(256 1024) ROUNDS=1 CONV_ROUNDS=1 CNN_ROUNDS=1 ATTENTION_ROUNDS=1
  TRANSFORMER_ROUNDS=1
else
  # iterations from each class's annotations: 3 x 1 s warm-up (MLP: 10, CNN step: 5), 5 x 1 s
  ITER=(-f 1)
  SIZES=(256 512 1024 2048) ROUNDS=5 CONV_ROUNDS=3 CNN_ROUNDS=3 ATTENTION_ROUNDS=3 TRANSFORMER_ROUNDS=3
fi
SIZES_CSV=$(IFS=,; echo "${SIZES[*]}")
QUICK_ARG=$([ "$QUICK" = 1 ] && echo --quick || true)
PEERS=1
if ! unzip -Z1 "$JAR" | grep 'dev/spool/bench/peers/' > /dev/null; then
  say "benchmarks.jar has no DJL peers (built without -Ppeers?): DJL columns stay empty"
  PEERS=0
fi

# jmh NAME REGEX [JMH options...]: one JMH invocation, results in $OUT/NAME.json, log NAME.txt
jmh() {
  local name=$1 regex=$2
  shift 2
  say "JMH $name: $* $regex"
  : > "$OUT/$name.txt" # before tail opens it: the background job may not have created it yet
  java "${LOCK[@]}" -jar "$JAR" -rf json -rff "$OUT/$name.json" "${ITER[@]}" "$@" "$regex" \
    > "$OUT/$name.txt" 2>&1 &
  local pid=$!
  tail -n +1 -f "$OUT/$name.txt" --pid=$pid \
    | grep --line-buffered -E '^(# Benchmark:|# Parameters|Result|  [0-9]|ERROR|<failure>)' >&2 || true
  wait $pid || { echo "JMH failed, see $OUT/$name.txt" >&2; exit 1; }
  [ -s "$OUT/$name.json" ] || { echo "JMH wrote no results, see $OUT/$name.txt" >&2; exit 1; }
  if grep -q '<failure>' "$OUT/$name.txt"; then
    say "some benchmarks failed (their rows stay empty): grep -B5 -A20 '<failure>' $OUT/$name.txt"
  fi
}

# The convolution layer on cpu in rounds, as SGEMM below: per round Spool's three ops (a fork
# each) and DJL's four back to back, the order reversed every other round; report.py takes the
# median over rounds of each time and of each round's own ratio. Both see two threads (the
# classes' fork options). Each round is 7 forks of ~8 s measured, ~80 s in all.
conv_rounds() {
  mkdir -p "$OUT/conv-rounds"
  for r in $(seq 1 "$CONV_ROUNDS"); do
    spool() { jmh "conv-rounds/$r-spool" 'dev\.spool\.bench\.ConvBench\.' -p device=cpu; }
    djl() { [ "$PEERS" = 0 ] || jmh "conv-rounds/$r-djl" 'dev\.spool\.bench\.peers\.DjlConvBench\.'; }
    if [ $((r % 2)) = 1 ]; then spool; djl; else djl; spool; fi
  done
}
# The CNN training step in rounds, as the convolutions: per round Spool on cpu, Spool on
# opencl:0 (when there is one) and DJL, a fork each, the order reversed every other round;
# report.py takes the median over rounds of each time and of each round's own ratios (cpu vs
# DJL, opencl:0 vs cpu). Spool's cpu device and PyTorch run two threads (the classes' fork
# options); the OpenCL driver runs its own. A fork is 5 s of warm-up and 5 s measured after a
# setup that checks the model and trains it 10 steps; a round takes ~70 s with PoCL's plain
# convolution kernels (a step there is ~1.3 s).
cnn_rounds() {
  mkdir -p "$OUT/cnn-rounds"
  for r in $(seq 1 "$CNN_ROUNDS"); do
    cpu() { jmh "cnn-rounds/$r-spool-cpu" 'dev\.spool\.bench\.CnnStepBench\.' -p device=cpu; }
    ocl() { [ "$OPENCL" = 0 ] || jmh "cnn-rounds/$r-spool-opencl" 'dev\.spool\.bench\.CnnStepBench\.' -p device=opencl:0; }
    djl() { [ "$PEERS" = 0 ] || jmh "cnn-rounds/$r-djl" 'dev\.spool\.bench\.peers\.DjlCnnStepBench\.'; }
    if [ $((r % 2)) = 1 ]; then cpu; ocl; djl; else djl; ocl; cpu; fi
  done
}
# Scaled dot-product attention forward + backward (B 8, H 4, T 256, d 64) in rounds, as the CNN
# step: per round Spool on cpu, Spool on opencl:0 (when there is one) and DJL, a fork each, the
# order reversed every other round; report.py takes the medians and the rounds' own ratios.
attention_rounds() {
  mkdir -p "$OUT/attention-rounds"
  for r in $(seq 1 "$ATTENTION_ROUNDS"); do
    cpu() { jmh "attention-rounds/$r-spool-cpu" 'dev\.spool\.bench\.AttentionBench\.' -p device=cpu; }
    ocl() { [ "$OPENCL" = 0 ] || jmh "attention-rounds/$r-spool-opencl" 'dev\.spool\.bench\.AttentionBench\.' -p device=opencl:0; }
    djl() { [ "$PEERS" = 0 ] || jmh "attention-rounds/$r-djl" 'dev\.spool\.bench\.peers\.DjlAttentionBench\.'; }
    if [ $((r % 2)) = 1 ]; then cpu; ocl; djl; else djl; ocl; cpu; fi
  done
}
# One training step of examples' CharTransformer (batch 64 words, context 17, width 64, 4 blocks,
# AdamW with clipping; TransformerData) in rounds, as the CNN step: per round Spool on cpu, Spool
# on opencl:0 (when there is one) and DJL, a fork each, the order reversed every other round;
# report.py takes the medians and the rounds' own ratios. Spool runs the step as a traced
# function, as the example does. A fork is 5 s of warm-up and 5 s measured after a setup that
# checks the logits and the loss against a float64 reference and trains 10 steps, ~20 s in all
# (PoCL's first launches compile its kernels); a round takes ~55 s on an idle machine.
transformer_rounds() {
  mkdir -p "$OUT/transformer-rounds"
  for r in $(seq 1 "$TRANSFORMER_ROUNDS"); do
    cpu() { jmh "transformer-rounds/$r-spool-cpu" 'dev\.spool\.bench\.TransformerStepBench\.' -p device=cpu; }
    ocl() { [ "$OPENCL" = 0 ] || jmh "transformer-rounds/$r-spool-opencl" 'dev\.spool\.bench\.TransformerStepBench\.' -p device=opencl:0; }
    djl() { [ "$PEERS" = 0 ] || jmh "transformer-rounds/$r-djl" 'dev\.spool\.bench\.peers\.DjlTransformerStepBench\.'; }
    if [ $((r % 2)) = 1 ]; then cpu; ocl; djl; else djl; ocl; cpu; fi
  done
}
# only_rounds NAME BLOCK: one family of rounds alone, then only its block of the doc rewritten
only_rounds() {
  "$1"
  uptime > "$OUT/load-after.txt"
  if [ "$DOC" = 1 ]; then
    say "rewriting the $2 table of docs/PERFORMANCE.md"
    python3 scripts/bench/report.py --results "$OUT" --doc docs/PERFORMANCE.md --blocks "$2" $QUICK_ARG
  fi
  say "done in $(( $(date +%s) - START )) s; raw results in $OUT"
  exit 0
}
[ "$CONV_ONLY" = 0 ] || only_rounds conv_rounds conv
[ "$CNN_ONLY" = 0 ] || only_rounds cnn_rounds cnn
[ "$ATTENTION_ONLY" = 0 ] || only_rounds attention_rounds attention
[ "$TRANSFORMER_ONLY" = 0 ] || only_rounds transformer_rounds transformer

# Everything but SGEMM, the convolutions, the CNN and transformer steps and attention, which run
# below in rounds: SGEMM on OpenCL once,
# on cpu in rounds with DJL's plain one.
EXCLUDE=(-e 'dev\.spool\.bench\.gpu\.' -e 'dev\.spool\.bench\.MatmulBench\.' -e 'DjlMatmulBench\.matmul$'
  -e 'ConvBench\.' -e 'CnnStepBench\.' -e 'WarmupBench\.' -e 'AttentionBench\.' -e 'TransformerStepBench\.')
[ "$OPENCL" = 1 ] || EXCLUDE+=(-e JoclLaunchBench)
jmh jmh 'dev\.spool\.bench\.' -p "device=$DEVICES" -p "n=$SIZES_CSV" "${EXCLUDE[@]}"
if [ "$OPENCL" = 1 ]; then
  jmh jmh-opencl-sgemm 'dev\.spool\.bench\.MatmulBench\.' -p device=opencl:0 \
    -p "n=$SIZES_CSV"
fi

# Warm-up of the plain-ops MLP step: the first 100 steps of a fresh JVM, one shot per fork (the
# iteration options above would time later shots of a warm JVM, so they are left out), then the
# same step at steady state with the usual iterations.
# The steady state keeps the class's 15 s of warm-up even with --quick: on a loaded VM the
# first 40-50 steps alone took 5-9 s (a 6 s warm-up left it at 270 ms a step).
warmup_rows() {
  local ITER=()
  jmh warmup-first 'dev\.spool\.bench\.WarmupBench\.first100$' -p device=cpu -f "$WARM_FORKS" -wi 0 -i 1
  jmh warmup-steady 'dev\.spool\.bench\.WarmupBench\.steady$' -p device=cpu -f 1
}
WARM_FORKS=$([ "$QUICK" = 1 ] && echo 3 || echo 5)
warmup_rows

say "numpy"
python3 scripts/bench/numpy_bench.py --no-sgemm $QUICK_ARG > "$OUT/numpy.json"

# SGEMM on cpu in rounds: the machine runs in faster and slower stretches that last seconds,
# and forks minutes apart once gave a 1.59x "transposed penalty" that alternating in one JVM
# puts at 0.94-1.01x. So each round times, per size, Spool's plain and transposed products
# (adjacent forks), numpy and DJL back to back, the whole order reversed every other round;
# report.py takes the median over rounds of each time and of each round's own ratios.
# (DJL's transposed product has no target: it runs once, in the main JMH run above.)
mkdir -p "$OUT/sgemm-rounds"
for r in $(seq 1 "$ROUNDS"); do
  for n in "${SIZES[@]}"; do
    plain() { jmh "sgemm-rounds/$r-$n-spool" 'dev\.spool\.bench\.MatmulBench\.matmul$' -p device=cpu -p "n=$n"; }
    transposed() { jmh "sgemm-rounds/$r-$n-spoolT" 'dev\.spool\.bench\.MatmulBench\.matmulTransposedB$' -p device=cpu -p "n=$n"; }
    djl() { [ "$PEERS" = 0 ] || jmh "sgemm-rounds/$r-$n-djl" 'dev\.spool\.bench\.peers\.DjlMatmulBench\.matmul$' -p "n=$n"; }
    numpy() {
      say "numpy SGEMM $n, round $r"
      python3 scripts/bench/numpy_bench.py --sgemm "$n" $QUICK_ARG \
        > "$OUT/sgemm-rounds/$r-$n-numpy.json"
    }
    if [ $((r % 2)) = 1 ]; then plain; transposed; numpy; djl; else djl; numpy; transposed; plain; fi
  done
done

conv_rounds
cnn_rounds
attention_rounds
transformer_rounds

if [ "$OPENCL" = 1 ] && [ -f /usr/include/clblast_c.h ]; then
  say "CLBlast SGEMM on opencl:0"
  for n in "${SIZES[@]}"; do
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
    $QUICK_ARG
fi
say "done in $(( $(date +%s) - START )) s; raw results in $OUT"
