#!/usr/bin/env bash
# Runs Spool's OpenCL test suite on a machine with a GPU but no JDK, Maven or network.
#
#   scripts/gpu-check.sh build [DIR]   (here) builds a self-contained bundle in DIR, default
#                                      runtime-opencl/target/gpu-check/spool-gpu-check, plus DIR.tar.gz:
#       jre/      a jlink'd Java runtime (stripped, compressed)
#       lib/      the test class path: runtime-opencl's classes and tests, every dependency jar,
#                 the core conformance suite (runtime-core tests jar) and the CPU backend it compares with
#       native/   Debian's OpenCL ICD loader libOpenCL.so.1 (package ocl-icd-libopencl1) and the
#                 libOpenCL.so link JOCL loads; the loader reads the GPU driver's ICD file,
#                 e.g. /etc/OpenCL/vendors/nvidia.icd
#       junit-platform-console-standalone.jar, run.sh
#   scripts/gpu-check.sh run [DIR]     runs DIR/run.sh (on the GPU machine, or here against PoCL)
#
# run.sh sets LD_LIBRARY_PATH to native/, requires an OpenCL device (SPOOL_REQUIRE_OPENCL=1: no
# device is a failure, not a skip), launches every kernel (-Dspool.test.allKernels=true), and
# prints the devices and the test counts per device. Results go to $OUT or DIR/results.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEFAULT_DIR="$ROOT/runtime-opencl/target/gpu-check/spool-gpu-check"
MODULES="java.base,java.logging,java.management,java.naming,java.sql,java.xml,jdk.unsupported,jdk.zipfs"

usage() { echo "usage: $0 build|run [DIR]" >&2; exit 2; }

build() {
    local dir=$1
    cd "$ROOT"
    command -v jlink >/dev/null || { echo "jlink not found: a JDK 17+ is needed to build the bundle" >&2; exit 1; }
    local loader
    loader=$(readlink -f /usr/lib/x86_64-linux-gnu/libOpenCL.so.1 2>/dev/null || true)
    [ -f "$loader" ] || { echo "libOpenCL.so.1 not found: apt-get install ocl-icd-libopencl1" >&2; exit 1; }

    echo "gpu-check: building the modules"
    # runtime-opencl and what it needs (parent, core, cpu, kernels) into the local repository,
    # where the -pl runtime-opencl goals below resolve them; -DskipTests still compiles the tests.
    mvn -q -pl runtime-opencl -am install -DskipTests
    rm -rf "$dir"
    mkdir -p "$dir/lib" "$dir/native"
    mvn -q -pl runtime-opencl dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$dir/lib" >/dev/null
    (cd runtime-opencl/target/classes && jar --create --file "$dir/lib/spool-runtime-opencl.jar" .)
    (cd runtime-opencl/target/test-classes && jar --create --file "$dir/lib/spool-runtime-opencl-tests.jar" .)

    local junit_version console_version artifact
    junit_version=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml | head -1)
    console_version="1.${junit_version#5.}"   # JUnit Jupiter 5.x.y ships with Platform 1.x.y
    artifact="org.junit.platform:junit-platform-console-standalone:$console_version"
    mvn -q -N dependency:copy -Dartifact="$artifact" -DoutputDirectory="$dir"
    mv "$dir/junit-platform-console-standalone-$console_version.jar" "$dir/junit-platform-console-standalone.jar"
    # the console launcher brings its own JUnit: the separate copies would be split packages
    rm -f "$dir"/lib/junit-*.jar "$dir"/lib/opentest4j-*.jar "$dir"/lib/apiguardian-*.jar

    cp "$loader" "$dir/native/libOpenCL.so.1"
    ln -s libOpenCL.so.1 "$dir/native/libOpenCL.so"

    echo "gpu-check: jlink ($MODULES)"
    jlink --add-modules "$MODULES" --strip-debug --compress=2 --no-header-files --no-man-pages \
        --output "$dir/jre"

    write_run_script "$dir/run.sh"
    tar -C "$(dirname "$dir")" -czf "$dir.tar.gz" "$(basename "$dir")"
    echo "gpu-check: bundle $dir ($(du -sh "$dir" | cut -f1)), archive $dir.tar.gz ($(du -sh "$dir.tar.gz" | cut -f1))"
    echo "gpu-check: copy it to the GPU machine and run: $(basename "$dir")/run.sh"
}

write_run_script() {
    cat > "$1" <<'RUN'
#!/bin/sh
# Spool OpenCL test suite, self-contained: ./run.sh [RESULTS_DIR]
HERE=$(cd "$(dirname "$0")" && pwd)
RESULTS=${1:-${OUT:-$HERE/results}}
mkdir -p "$RESULTS"
export LD_LIBRARY_PATH="$HERE/native${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export SPOOL_REQUIRE_OPENCL=1
echo "== OpenCL drivers (ICD files)"
ls /etc/OpenCL/vendors/ 2>/dev/null || echo "(no /etc/OpenCL/vendors: install the GPU driver's OpenCL ICD)"
CP=$(ls "$HERE"/lib/*.jar | tr '\n' ':')
JAVA="$HERE/jre/bin/java"
echo "== devices"
"$JAVA" -Dlogback.configurationFile=logback-opencl-test.xml -cp "$CP" dev.spool.opencl.DeviceReport || { echo "gpu-check: no OpenCL device" >&2; exit 1; }
echo "== tests (output in $RESULTS/junit.txt, XML in $RESULTS/reports)"
"$JAVA" -Dspool.test.allKernels=true -Dspool.test.backend=opencl -Dlogback.configurationFile=logback-opencl-test.xml \
    -jar "$HERE/junit-platform-console-standalone.jar" -cp "$CP" \
    --scan-classpath "$HERE/lib/spool-runtime-opencl-tests.jar" \
    --scan-classpath "$(ls "$HERE"/lib/runtime-core-*-tests.jar)" \
    --details=tree --details-theme=ascii --disable-banner --disable-ansi-colors --fail-if-no-tests --reports-dir "$RESULTS/reports" \
    > "$RESULTS/junit.txt" 2>&1
STATUS=$?
grep -E "^\[ +[0-9]+ tests" "$RESULTS/junit.txt"
echo "== tests per device: passed, failed, skipped"
# from the XML report: each testcase carries its display name, which names its device
cat "$RESULTS"/reports/TEST-*.xml | awk '
    /<testcase / { dev = "(no device)"; st = "passed" }
    /<failure|<error/ { st = "failed" }
    /<skipped/ { if (st != "failed") st = "skipped" }
    /^display-name:/ { if (match($0, /opencl:[0-9]+/)) dev = substr($0, RSTART, RLENGTH) }
    /<\/testcase>/ { n[dev "," st]++; seen[dev] = 1 }
    END { for (d in seen) printf "  %-12s %6d passed %6d failed %6d skipped\n", d, n[d ",passed"], n[d ",failed"], n[d ",skipped"] }
' | sort
if [ $STATUS -ne 0 ]; then
    echo "== failures"
    sed -n '/^Failures (/,/^Test run finished/p' "$RESULTS/junit.txt" | grep -E "^  JUnit|=>" | head -60
    echo "gpu-check: FAILED (exit $STATUS)"
else
    echo "gpu-check: OK"
fi
exit $STATUS
RUN
    chmod +x "$1"
}

case "${1:-}" in
    build) build "$(realpath -m "${2:-$DEFAULT_DIR}")" ;;
    run) exec "${2:-$DEFAULT_DIR}/run.sh" ;;
    *) usage ;;
esac
