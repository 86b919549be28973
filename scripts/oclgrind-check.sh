#!/usr/bin/env bash
# Checks Spool's OpenCL kernels for memory errors.
#
#   1. Static: every kernels/*.cl file, for every element type, compiled by clang as OpenCL C
#      1.2 with warnings as errors (implicit double literals, narrowing conversions: what
#      NVIDIA's compiler rejects). Skipped with a note when clang is not installed.
#   2. Dynamic: KernelSmokeTest, which launches every kernel of KernelCatalog at least once
#      for every dtype, with GPU and CPU kernel strategies, and then proves it did (its third
#      test compares the kernels created with the catalog), run under the Oclgrind simulator with its
#      out-of-bounds, uninitialised-value, data-race and API checks. Oclgrind exits 0 whatever it
#      finds, so its log is searched; any report fails the check.
#
# Usage: scripts/oclgrind-check.sh [--no-build]   (--no-build: Maven offline; it always compiles)
# Needs: oclgrind (apt-get install oclgrind), a JDK, Maven. Takes about a minute on 2 cores.
# Output: runtime-opencl/target/oclgrind-check/{oclgrind.log,junit.txt}. Exit status 0 = clean.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK="$ROOT/runtime-opencl/target/oclgrind-check"
KERNELS="$ROOT/kernels/src/main/resources/dev/spool/kernels"
cd "$ROOT"

fail() { echo "oclgrind-check: FAILED: $*" >&2; exit 1; }

command -v oclgrind >/dev/null || fail "oclgrind is not installed (apt-get install oclgrind)"
mkdir -p "$WORK"

# ---- 1. static checks --------------------------------------------------------------------
CLANG=$(command -v clang || command -v clang-15 || command -v clang-14 || true)
if [ -n "$CLANG" ]; then
    TYPES=("-DT=float -DT_IS_FP=1" "-DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1" "-DT=int -DT_IS_INT=32"
           "-DT=long -DT_IS_INT=64" "-DT=uchar -DT_IS_BOOL=1")
    lint() { # file, options
        local gemm=() # the files whose programs have gemm.cl's tile loops in front (KernelSources.WITH_GEMM)
        case "$1" in matmul.cl|conv_gemm.cl) gemm=(-include "$KERNELS/gemm.cl") ;; esac
        "$CLANG" -x cl -cl-std=CL1.2 -Xclang -finclude-default-header -fsyntax-only --target=spir64 \
            -Werror -Wall -Wextra -Wconversion -Wdouble-promotion -Wfloat-conversion \
            -Wno-sign-conversion -Wno-unused-function -Wno-unused-parameter $2 \
            -include "$KERNELS/prelude.cl" "${gemm[@]}" "$KERNELS/$1" \
            || fail "$1 with '$2' does not compile cleanly"
    }
    # every kernel file as the host builds it, prelude.cl in front (which lints the prelude too)
    for f in "$KERNELS"/*.cl; do [ "$(basename "$f")" = prelude.cl ] || lint "$(basename "$f")" ""; done
    for t in "${TYPES[@]}"; do
        lint elementwise.cl "$t"
        lint elementwise.cl "$t -DSPOOL_FMA_BUILTIN -DSPOOL_CHUNK=1024"   # what PoCL builds
        lint indexing.cl "$t -DIDX=int"
        lint indexing.cl "$t -DIDX=long"
        for d in "${TYPES[@]}"; do
            lint copy.cl "$(echo "$t" | sed 's/-DT/-DS/g') $(echo "$d" | sed 's/-DT/-DD/g')"
        done
    done
    for t in "${TYPES[@]:0:4}"; do lint reduction.cl "$t"; done
    lint reduction.cl "-DACC=double -DACC_IS_DOUBLE=1 -DOUT=double"
    lint reduction.cl "-DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1 -DACC=double -DACC_IS_DOUBLE=1 -DOUT=float"
    lint matmul.cl "-DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1"
    lint matmul.cl "-DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1 -DVW=16 -DROWS=8"
    lint conv_gemm.cl "-DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1"
    lint conv_gemm.cl "-DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1 -DROWS=6 -DVW=16 -DMB=48 -DNB=64 -DKC=256"
    lint conv.cl "-DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1 -DSPOOL_CHUNK=1024"
    lint random.cl "-DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1"
    lint softmax.cl "-DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1"
    lint attention.cl "-DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1 -DACC_N=64"
    for t in "${TYPES[@]:0:2}"; do lint attention.cl "$t -DACC_N=64 -DUNIT_LAST=1 -DVEC_DOT=1 -DTILES=1"; done # CPU tiles
    lint training.cl "-DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1 -DSPOOL_CHUNK=1024"
    # binary ops with a unary epilogue (Backend.binaryUnary): the macro, for float and int types
    for t in "${TYPES[@]:0:2}"; do lint elementwise.cl "$t -DEPILOGUE=TANH"; done
    for t in "${TYPES[@]:2:2}"; do lint elementwise.cl "$t -DEPILOGUE=RELU"; done
    lint elementwise.cl "-DEPILOGUE=SIGMOID"
    echo "oclgrind-check: kernels compile cleanly with $CLANG -Werror (OpenCL C 1.2)"
else
    echo "oclgrind-check: clang not found, static kernel checks skipped"
fi

# ---- 2. build, class path, JUnit console launcher ------------------------------------------
# Compiled in the reactor (-am), never installed into the local repository: the class path
# then names the sibling modules' target/classes. Each module of the reactor writes the output
# file in turn; runtime-opencl comes last, so its class path is what stays.
MVN_OFFLINE=""
[ "${1:-}" = "--no-build" ] && MVN_OFFLINE="-o"   # kept for old callers: same work, offline
mvn -q $MVN_OFFLINE -pl runtime-opencl -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$WORK/classpath.txt" >/dev/null
JUNIT_VERSION=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml | head -1)
CONSOLE_VERSION="1.${JUNIT_VERSION#5.}"   # JUnit Jupiter 5.x.y ships with Platform 1.x.y
CONSOLE="$WORK/junit-platform-console-standalone-$CONSOLE_VERSION.jar"
if [ ! -f "$CONSOLE" ]; then
    ARTIFACT="org.junit.platform:junit-platform-console-standalone:$CONSOLE_VERSION"
    mvn -q -N dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$WORK"
fi
CP="$ROOT/runtime-opencl/target/test-classes:$ROOT/runtime-opencl/target/classes:$(cat "$WORK/classpath.txt")"

# ---- 3. the smoke test under Oclgrind --------------------------------------------------------
# -cl-opt-disable: Oclgrind 21.10's uninitialised-value plugin cannot interpret the LLVM
# 'freeze' instruction that optimisation introduces. spool.opencl.memoryCheck: exact-size,
# never-reused buffers and blocking writes, which that plugin tracks correctly.
LOG="$WORK/oclgrind.log"
rm -f "$LOG"
set +e
SPOOL_REQUIRE_OPENCL=1 oclgrind --check-api --data-races --uninitialized --build-options -cl-opt-disable \
    --log "$LOG" \
    java -Dspool.test.allKernels=true -Dspool.opencl.memoryCheck=true -Dspool.opencl.platform=oclgrind \
    -Dlogback.configurationFile=logback-opencl-test.xml \
    -jar "$CONSOLE" -cp "$CP" --select-class dev.spool.opencl.KernelSmokeTest \
    --details=tree --disable-banner --disable-ansi-colors --fail-if-no-tests > "$WORK/junit.txt" 2>&1
STATUS=$?
set -e
touch "$LOG"

# Oclgrind reports: invalid reads/writes, uninitialised values, data races, divergence, API
# errors, fatal errors. Everything in the log except its notice about the 'execute' command.
REPORTS=$(grep -E "Invalid (read|write)|[Uu]ninitiali[sz]ed|data race|divergence|runtime error|FATAL|Error:" "$LOG" || true)
if [ -n "$REPORTS" ]; then
    grep -v "Delegated to the 'execute'\|This behaviour has been deprecated\|Please use the 'execute'" "$LOG" | head -60 >&2
    echo "--- reports by kind:" >&2
    echo "$REPORTS" | sed 's/ at .*//; s/ 0x.*//' | sort | uniq -c | sort -rn >&2
    fail "Oclgrind reported $(echo "$REPORTS" | wc -l) problem(s) (JUnit exit $STATUS); full log: $LOG"
fi
grep -q "Oclgrind" "$WORK/junit.txt" || fail "the tests did not run on the Oclgrind device; see $WORK/junit.txt"
[ "$STATUS" -eq 0 ] || { tail -40 "$WORK/junit.txt" >&2; fail "KernelSmokeTest failed under Oclgrind (exit $STATUS)"; }
grep -E "tests (successful|failed)" "$WORK/junit.txt"
echo "oclgrind-check: OK, every kernel ran under Oclgrind with no report ($LOG)"
