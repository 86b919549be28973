#!/usr/bin/env bash
# Spool's GPU run, self-contained (a copy of scripts/gpu-check/run.sh in the bundle that
# scripts/gpu-check.sh build makes):  bash run.sh [RESULTS_DIR]   (default: results/ beside it)
#
#   1. OpenCL driver: the ICD files, and the NVIDIA library made visible when no ICD file names
#      it (icd.sh); nvidia-smi's view of the GPU when it is there
#   2. devices: what Spool finds (DeviceReport)                          -> devices.txt
#   3. tests: the OpenCL conformance + parity suites, every kernel       -> junit.txt, reports/,
#      launched, OpenCL required (no device is a failure, not a skip)      tests-per-device.txt
#   4. Spool benchmarks (JMH, dev.spool.bench.gpu) on the OpenCL GPU     -> jmh-spool-*.json
#   5. the same work in PyTorch on CUDA (torch_gpu.py), if torch is here -> torch-gpu.json
#   6. summary: rows for docs/PERFORMANCE.md's GPU table                 -> summary.md
# Everything it prints also goes to run.log. When $OUT is set (the device tool brings back at
# most 8 files from it), $OUT gets five: run.log as it grows, results.tar.gz (all of
# RESULTS_DIR, renewed after each phase), and at the end summary.md, jmh-spool.json (every JMH
# run's results in one array) and torch-gpu.json. Phases run under time limits (seconds; 0 = none)
# that keep the whole run within 8 minutes: SPOOL_GPU_TEST_TIMEOUT (240), SPOOL_GPU_BENCH_TIMEOUT
# (150), SPOOL_GPU_TORCH_TIMEOUT (60); a phase that runs out is reported and the next one starts.
# SPOOL_GPU_JMH_ARGS adds JMH options to every benchmark run, e.g. smaller sizes for a slow
# device such as PoCL: SPOOL_GPU_JMH_ARGS="-p n=256 -p length=1048576".
# Exit status: 0 when a device was found and every test passed, else 1.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
RESULTS=${1:-$HERE/results}
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
# no figures from an earlier run may leak into this one's summary
rm -rf "$RESULTS"/reports "$RESULTS"/icd "$RESULTS"/jmh-spool-* "$RESULTS"/*.txt "$RESULTS"/*.json \
    "$RESULTS"/summary.md "$RESULTS"/run.log
BACK=${OUT:-}
if [ -n "$BACK" ]; then
    mkdir -p "$BACK"
    BACK=$(cd "$BACK" && pwd)
    [ "$BACK" != "$RESULTS" ] || BACK=""
fi
if [ -n "$BACK" ]; then
    rm -f "$BACK/run.log" "$BACK/results.tar.gz" "$BACK/summary.md" "$BACK/jmh-spool.json" "$BACK/torch-gpu.json"
    exec > >(tee -a "$RESULTS/run.log" "$BACK/run.log") 2>&1
else
    exec > >(tee -a "$RESULTS/run.log") 2>&1
fi
exec 3>&1 # the log, for phase messages while a phase's own output goes to a file

TEST_TIMEOUT=${SPOOL_GPU_TEST_TIMEOUT:-240}
BENCH_TIMEOUT=${SPOOL_GPU_BENCH_TIMEOUT:-150}
TORCH_TIMEOUT=${SPOOL_GPU_TORCH_TIMEOUT:-60}
STATUS=0
: > "$RESULTS/phases.txt"
export PYTHONUNBUFFERED=1 # torch_gpu.py's lines in the log as they come

# a carried copy may lose the executable bits
[ -x "$HERE/jre/bin/java" ] || chmod +x "$HERE"/jre/bin/* "$HERE"/jre/lib/jspawnhelper 2>/dev/null
JAVA="$HERE/jre/bin/java"

# limited TIMEOUT_S CMD...: runs CMD under `timeout` (0 = no limit)
limited() {
    local t=$1
    shift
    if [ "$t" -gt 0 ]; then
        timeout --kill-after=10 "$t" "$@"
    else
        "$@"
    fi
}

# pack: the results so far into $OUT/results.tar.gz (written aside, then renamed into place)
pack() {
    [ -n "$BACK" ] || return 0
    tar -C "$RESULTS" -czf "$BACK/.results.tar.gz" . && mv -f "$BACK/.results.tar.gz" "$BACK/results.tar.gz"
}

# phase NAME TIMEOUT_S CMD...: runs a phase, logs its duration and whether it ran out of time,
# then packs the results
phase() {
    local name=$1 t=$2 start rc
    shift 2
    start=$(date +%s)
    limited "$t" "$@"
    rc=$?
    local took=$(( $(date +%s) - start ))
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        echo "gpu-check: $name ran out of its ${t} s and was stopped" >&3
        echo "$name $took s, timed out after ${t} s" >> "$RESULTS/phases.txt"
    else
        echo "$name $took s, exit $rc" >> "$RESULTS/phases.txt"
    fi
    echo "gpu-check: $name took $took s (exit $rc)" >&3
    pack
    return $rc
}

RUN_START=$(date +%s)
echo "== gpu-check $(date -u +%FT%TZ) on $(uname -n), results in $RESULTS"

echo "== OpenCL driver"
export LD_LIBRARY_PATH="$HERE/native${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# shellcheck source=icd.sh
. "$HERE/icd.sh"
spool_setup_icd "$RESULTS"
SMI=$(command -v nvidia-smi || true)
[ -n "$SMI" ] || [ ! -x /usr/local/nvidia/bin/nvidia-smi ] || SMI=/usr/local/nvidia/bin/nvidia-smi
if [ -n "$SMI" ]; then
    "$SMI" --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$RESULTS/nvidia-smi.txt" 2>&1
    echo "nvidia-smi: $(cat "$RESULTS/nvidia-smi.txt")"
else
    echo "nvidia-smi: not found"
fi

CP=$(ls "$HERE"/lib/*.jar | tr '\n' ':')
LOG_OPTS=(-Dlogback.configurationFile=logback-opencl-test.xml)

echo "== devices"
export SPOOL_REQUIRE_OPENCL=1
if ! "$JAVA" "${LOG_OPTS[@]}" -cp "$CP" dev.spool.opencl.DeviceReport > "$RESULTS/devices.txt" 2>&1; then
    cat "$RESULTS/devices.txt"
    echo "gpu-check: no OpenCL device: no tests, no Spool benchmarks"
    STATUS=1
else
    cat "$RESULTS/devices.txt"
    pack

    echo "== tests (output in $RESULTS/junit.txt, XML in $RESULTS/reports)"
    phase tests "$TEST_TIMEOUT" "$JAVA" --add-modules jdk.incubator.vector \
        -Dspool.test.allKernels=true -Dspool.test.backend=opencl "${LOG_OPTS[@]}" \
        -jar "$HERE/junit-platform-console-standalone.jar" -cp "$CP" \
        --scan-classpath "$HERE/lib/spool-runtime-opencl-tests.jar" \
        --scan-classpath "$(ls "$HERE"/lib/runtime-core-*-tests.jar)" \
        --details=tree --details-theme=ascii --disable-banner --disable-ansi-colors --fail-if-no-tests \
        --reports-dir "$RESULTS/reports" > "$RESULTS/junit.txt" 2>&1
    TESTS=$?
    grep -E "^\[ +[0-9]+ tests" "$RESULTS/junit.txt"
    echo "== tests per device: passed, failed, skipped"
    # from the XML report: each testcase carries its display name, which names its device
    cat "$RESULTS"/reports/TEST-*.xml 2>/dev/null | awk '
        /<testcase / { dev = "(no device)"; st = "passed" }
        /<failure|<error/ { st = "failed" }
        /<skipped/ { if (st != "failed") st = "skipped" }
        /^display-name:/ { if (match($0, /opencl:[0-9]+/)) dev = substr($0, RSTART, RLENGTH) }
        /<\/testcase>/ { n[dev "," st]++; seen[dev] = 1 }
        END { for (d in seen) printf "  %-12s %6d passed %6d failed %6d skipped\n", d, n[d ",passed"], n[d ",failed"], n[d ",skipped"] }
    ' | sort | tee "$RESULTS/tests-per-device.txt"
    if [ $TESTS -ne 0 ]; then
        STATUS=1
        echo "== failures"
        sed -n '/^Failures (/,/^Test run finished/p' "$RESULTS/junit.txt" | grep -E "^  JUnit|=>" | head -60
    fi

    echo "== Spool benchmarks (JMH; JSON in $RESULTS/jmh-spool-*.json)"
    # One JMH run per class, so that a run cut short loses one file, not all; short settings
    # that fit: 1 fork, 2 warm-up and 3 measured iterations of ~1 s. Each class may use its share
    # of the time left (what one leaves unused passes to the next); SGEMM, the slowest, comes last.
    BENCH_END=$(( $(date +%s) + BENCH_TIMEOUT ))
    set -- GpuStreamBench GpuMlpBench GpuDispatchBench GpuMatmulBench
    while [ $# -gt 0 ]; do
        bench=$1
        left=0
        if [ "$BENCH_TIMEOUT" -gt 0 ]; then
            left=$(( (BENCH_END - $(date +%s)) / $# ))
            if [ $left -le 5 ]; then
                echo "gpu-check: no time left for $bench (SPOOL_GPU_BENCH_TIMEOUT=$BENCH_TIMEOUT)"
                echo "bench-$bench skipped, no time left" >> "$RESULTS/phases.txt"
                shift
                continue
            fi
        fi
        shift
        phase "bench-$bench" "$left" "$JAVA" -jar "$HERE/bench/benchmarks.jar" "dev\\.spool\\.bench\\.gpu\\.$bench\\." \
            -f 1 -wi 2 -i 3 -w 1s -r 1s -rf json -rff "$RESULTS/jmh-spool-$bench.json" \
            ${SPOOL_GPU_JMH_ARGS:-} > "$RESULTS/jmh-spool-$bench.txt" 2>&1
        sed -n '/^Benchmark /,$p' "$RESULTS/jmh-spool-$bench.txt"
        grep -E "Exception|<failure>" "$RESULTS/jmh-spool-$bench.txt" | head -5
    done
fi

echo "== PyTorch (JSON in $RESULTS/torch-gpu.json)"
if command -v python3 >/dev/null; then
    phase torch "$TORCH_TIMEOUT" python3 "$HERE/torch_gpu.py" --out "$RESULTS/torch-gpu.json"
    echo "== summary (also in $RESULTS/summary.md)"
    echo "total $(( $(date +%s) - RUN_START )) s" >> "$RESULTS/phases.txt"
    python3 "$HERE/summary.py" "$RESULTS" | tee "$RESULTS/summary.md"
    if [ -n "$BACK" ]; then
        cp "$RESULTS/summary.md" "$BACK/"
        cp "$RESULTS/torch-gpu.json" "$BACK/" 2>/dev/null
        # every JMH run's JSON as one array, for tools that read JMH's format
        python3 - "$RESULTS" "$BACK/jmh-spool.json" <<'PY'
import glob, json, sys
rows = []
for path in sorted(glob.glob(sys.argv[1] + "/jmh-spool-*.json")):
    try:
        with open(path) as f:
            rows += json.load(f)
    except ValueError:
        pass  # a run stopped before writing it: its text log is in results.tar.gz
with open(sys.argv[2], "w") as f:
    json.dump(rows, f, indent=2)
PY
    fi
else
    echo "python3 not found: no PyTorch run, no summary (run summary.py on the results elsewhere)"
    echo "total $(( $(date +%s) - RUN_START )) s" >> "$RESULTS/phases.txt"
fi

pack
if [ $STATUS -ne 0 ]; then
    echo "gpu-check: FAILED"
else
    echo "gpu-check: OK"
fi
exit $STATUS
