#!/usr/bin/env bash
# Runs Spool's OpenCL test suites on a second OpenCL implementation: Mesa's Rusticl on llvmpipe
# (RUSTICL_ENABLE=llvmpipe; OpenCL 3.0, OpenCL C 1.2, no fp64, so float32 and the integer types
# only: the suites ask the device and assert that it refuses float64). Rusticl is also Mesa's
# OpenCL for AMD and Intel GPUs, and its compiler is not PoCL's: kernels that PoCL accepts can
# crash it (runtime-opencl/README.md, "Rusticl").
#
#   1. The Rusticl device must be there: without it the check fails (it never skips).
#   2. The test classes below run in child JVMs (JUnit's console launcher), so that a driver crash
#      kills only that JVM: the check then fails with the test that was running and the JVM's
#      hs_err file, instead of a bare "forked VM terminated".
#
# Classes: core's conformance suite (dev.spool.conformance: forward values, gradient checks,
#   parity with the cpu device, random programs, bad inputs, float64 refused) and
#   runtime-opencl's own tests (dev.spool.opencl: every kernel built and launched, both kernel
#   strategies), except the three classes that check core's accounting and locking, not
#   kernels, and that runtime-opencl's second surefire execution leaves out for that reason
#   too: MemoryBudgetTest, SoakTest, ThreadsTest (they run on PoCL in `mvn verify`).
# Usage: scripts/rusticl-check.sh
# Needs: mesa-opencl-icd (Rusticl), a JDK, Maven. Takes 2 min 40 s on 2 cores (AMD EPYC), 40 s of
# it Maven and the build (runtime-opencl/README.md, "Rusticl").
# Output: runtime-opencl/target/rusticl-check/{device.txt, tests.log, reports/, hs_err_pid*.log}.
# Exit status 0 when the device is there and every test passed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK="$ROOT/runtime-opencl/target/rusticl-check"
cd "$ROOT"

fail() { echo "rusticl-check: FAILED: $*" >&2; exit 1; }

SELECT=(--select-package dev.spool.conformance --select-package dev.spool.opencl
        --exclude-classname '^dev\.spool\.conformance\.(MemoryBudgetTest|SoakTest|ThreadsTest)$')

export RUSTICL_ENABLE=llvmpipe
export SPOOL_OPENCL_PLATFORM=rusticl
# no OpenCL device must fail the tests, not skip them
export SPOOL_REQUIRE_OPENCL=1
rm -rf "$WORK"
mkdir -p "$WORK"
# Rusticl 22.3 compiles a kernel with llvmpipe at every launch, and only Mesa's shader cache
# skips the work after the first (with the cache off, the suite runs ~100x slower). A fresh
# cache for each run: every kernel is compiled once, as on a new CI machine, so that the time
# and a compiler crash do not depend on what earlier runs left in ~/.cache/mesa_shader_cache.
export MESA_SHADER_CACHE_DIR="$WORK/mesa-shader-cache"
unset MESA_SHADER_CACHE_DISABLE
. "$ROOT/scripts/lib/opencl-test-classpath.sh"
opencl_test_classpath "$WORK"
junit_console "$WORK"

# What runtime-opencl's surefire configuration (pom.xml) gives its test JVMs.
JAVA=(java --add-modules jdk.incubator.vector -Dspool.cpu.pool.minElements=1 -Dspool.cpu.pool.poison=true
      -Dspool.test.backend=opencl -Dspool.opencl.tune=false -Dspool.opencl.platform=rusticl
      -Dlogback.configurationFile=logback-opencl-test.xml -XX:ErrorFile="$WORK/hs_err_pid%p.log")

# ---- 1. the device ------------------------------------------------------------------------------
START=$(date +%s)
set +e
"${JAVA[@]}" -cp "$CP" dev.spool.opencl.DeviceReport > "$WORK/device.txt" 2>&1
STATUS=$?
set -e
grep -q "llvmpipe" "$WORK/device.txt" || { cat "$WORK/device.txt" >&2; fail "Spool found no Rusticl llvmpipe device (exit $STATUS): is mesa-opencl-icd installed? (apt-get install mesa-opencl-icd)"; }
grep "llvmpipe" "$WORK/device.txt" | head -1

# ---- 2. the tests ---------------------------------------------------------------------------------
LOG="$WORK/tests.log"
set +e
"${JAVA[@]}" -jar "$CONSOLE" -cp "$CP" "${SELECT[@]}" --details=verbose --disable-banner \
    --disable-ansi-colors --fail-if-no-tests --reports-dir "$WORK/reports" > "$LOG" 2>&1
STATUS=$?
set -e
ELAPSED=$(( $(date +%s) - START ))

HS=$(ls "$WORK"/hs_err_pid*.log 2>/dev/null | head -1 || true)
if [ -n "$HS" ] || [ "$STATUS" -ge 128 ]; then
    # The verbose tree names each class, method and invocation when it starts, indented by
    # depth, and each container again when it finishes: what is still open is what died.
    RUNNING=$(awk '/^[│ ]*[├└]─ / && !/ dynamically registered$/ {
            match($0, /[├└]─ /); k = RSTART; name = substr($0, RSTART + RLENGTH)
            for (d in open) if (d + 0 >= k) delete open[d]
            if (name !~ / finished after [0-9]+ ms\.$/) open[k] = name }
        END { n = 0; for (d in open) keys[n++] = d + 0
            for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (keys[j] < keys[i]) { t = keys[i]; keys[i] = keys[j]; keys[j] = t }
            out = ""; for (i = 0; i < n; i++) if (open[keys[i]] != "JUnit Jupiter") out = out (out == "" ? "" : " > ") open[keys[i]]
            print out }' "$LOG")
    FRAME=$(grep -A1 "Problematic frame" "$LOG" | tail -1 | sed 's/^# *//' || true)
    tail -30 "$LOG" >&2
    fail "Rusticl crashed the test JVM (exit $STATUS, ${FRAME:-no frame}) while running '$RUNNING'; see ${HS:-no hs_err file} and $LOG"
fi
grep -E "tests (successful|failed|skipped|aborted|found)" "$LOG" || true
if [ "$STATUS" -ne 0 ]; then
    # each failed test: its name (the line that started it) and what it caught
    awk '/^[│ ]*[├└]─ / { name = $0; sub(/^[│ ]*[├└]─ /, "", name); caught = "" }
         /caught: / { caught = $0; sub(/^[│ ]*caught: /, "", caught) }
         /status: ✘/ { print "FAILED: " name "\n    " caught }' "$LOG" | head -60 >&2
    fail "tests failed on Rusticl (exit $STATUS); see $LOG and $WORK/reports"
fi
grep -Eq "^\[ *0 tests failed *\]" "$LOG" || fail "no test summary in $LOG"
# a test skipped or aborted here would be a float64 case, or a device, that went missing quietly
grep -Eq "^\[ *0 tests skipped *\]" "$LOG" && grep -Eq "^\[ *0 tests aborted *\]" "$LOG" \
    || fail "tests were skipped or aborted on Rusticl; see $LOG"
echo "rusticl-check: OK in ${ELAPSED} s on $(grep -o 'llvmpipe[^)]*)' "$WORK/device.txt" | head -1)"
