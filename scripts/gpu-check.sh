#!/usr/bin/env bash
# Spool's whole GPU run as one command: the OpenCL test suite, Spool's GPU benchmarks and the
# same work in PyTorch, on a machine with a GPU but no JDK, Maven or network.
#
#   scripts/gpu-check.sh build [DIR]   (here, with a JDK 17 and Maven) builds a self-contained
#                                      bundle in DIR, default target/gpu-check/spool-gpu-check
#                                      under the repository root, plus DIR.tar.gz:
#       jre/      a jlink'd Java runtime (stripped, compressed)
#       lib/      the test class path: runtime-opencl's classes and tests, every dependency jar,
#                 the core conformance suite (runtime-core tests jar) and the CPU backend it compares with
#       bench/    benchmarks.jar: the benchmarks module's shaded JMH jar (dev.spool.bench.gpu)
#       native/   Debian's OpenCL ICD loader libOpenCL.so.1 (package ocl-icd-libopencl1) and the
#                 libOpenCL.so name JOCL loads (a copy); the loader reads the GPU driver's ICD file,
#                 e.g. /etc/OpenCL/vendors/nvidia.icd, or the one icd.sh writes when none names
#                 the driver's libnvidia-opencl.so.1
#       run.sh, icd.sh, summary.py (from scripts/gpu-check/), torch_gpu.py (from scripts/bench/),
#       junit-platform-console-standalone.jar
#   scripts/gpu-check.sh run [DIR]     runs DIR/run.sh: on the GPU machine, or here against PoCL.
#                                      Results go to DIR/results; where $OUT is set, $OUT gets
#                                      run.log, results.tar.gz (all of them), summary.md,
#                                      jmh-spool.json and torch-gpu.json.
#
# On the GPU machine through the device tool, from the repository root, carrying the bundle
# (about 49 MiB; the tool takes 64 MiB with the working tree):
#   carry: ["target/gpu-check/spool-gpu-check"]   command: bash scripts/gpu-check.sh run
#   timeout_s: 600 (the run limits its phases to about 7.5 minutes)
# The table rows for docs/PERFORMANCE.md are in $OUT/summary.md. Rebuild the bundle after
# changing any of the files it copies, in the checkout the tool sends.
#
# The build goes through the Maven reactor (package, never install: the local repository is
# left alone). MVN overrides the Maven command, e.g. MVN="mvn -o" to build offline.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEFAULT_DIR="$ROOT/target/gpu-check/spool-gpu-check"
MODULES="java.base,java.logging,java.management,java.naming,java.sql,java.xml,jdk.unsupported,jdk.zipfs,jdk.incubator.vector"
MVN=${MVN:-mvn}

usage() { echo "usage: $0 build|run [DIR]" >&2; exit 2; }

build() {
    local dir=$1
    cd "$ROOT"
    command -v jlink >/dev/null || { echo "jlink not found: a JDK 17+ is needed to build the bundle" >&2; exit 1; }
    local loader
    loader=$(readlink -f /usr/lib/x86_64-linux-gnu/libOpenCL.so.1 2>/dev/null || true)
    [ -f "$loader" ] || { echo "libOpenCL.so.1 not found: apt-get install ocl-icd-libopencl1" >&2; exit 1; }

    echo "gpu-check: building the modules (reactor package, no install)"
    # runtime-opencl (its tests compiled, not run) and benchmarks with what they need; each
    # module's test-scope dependencies into its target/dependency, resolved from the reactor
    rm -rf runtime-opencl/target/dependency benchmarks/target/dependency
    $MVN -B -q -pl runtime-opencl,benchmarks -am package dependency:copy-dependencies \
        -DskipTests -DincludeScope=test
    rm -rf "$dir"
    mkdir -p "$dir/lib" "$dir/native" "$dir/bench"
    cp runtime-opencl/target/dependency/*.jar "$dir/lib/"
    (cd runtime-opencl/target/classes && jar --create --file "$dir/lib/spool-runtime-opencl.jar" .)
    (cd runtime-opencl/target/test-classes && jar --create --file "$dir/lib/spool-runtime-opencl-tests.jar" .)
    cp benchmarks/target/benchmarks.jar "$dir/bench/"

    local junit_version console_version artifact
    junit_version=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml | head -1)
    console_version="1.${junit_version#5.}"   # JUnit Jupiter 5.x.y ships with Platform 1.x.y
    artifact="org.junit.platform:junit-platform-console-standalone:$console_version"
    $MVN -B -q -N dependency:copy -Dartifact="$artifact" -DoutputDirectory="$dir"
    mv "$dir/junit-platform-console-standalone-$console_version.jar" "$dir/junit-platform-console-standalone.jar"
    # the console launcher brings its own JUnit: the separate copies would be split packages
    rm -f "$dir"/lib/junit-*.jar "$dir"/lib/opentest4j-*.jar "$dir"/lib/apiguardian-*.jar

    cp "$loader" "$dir/native/libOpenCL.so.1"
    # a copy, not a link: the device tool carries links as links
    cp "$loader" "$dir/native/libOpenCL.so"
    cp scripts/gpu-check/run.sh scripts/gpu-check/icd.sh scripts/gpu-check/summary.py scripts/bench/torch_gpu.py "$dir/"
    chmod +x "$dir/run.sh"

    echo "gpu-check: jlink ($MODULES)"
    jlink --add-modules "$MODULES" --strip-debug --compress=2 --no-header-files --no-man-pages \
        --output "$dir/jre"

    tar -C "$(dirname "$dir")" -czf "$dir.tar.gz" "$(basename "$dir")"
    echo "gpu-check: bundle $dir ($(du -sh "$dir" | cut -f1)), archive $dir.tar.gz ($(du -sh "$dir.tar.gz" | cut -f1))"
    echo "gpu-check: on the GPU machine: bash scripts/gpu-check.sh run (with ${dir#"$ROOT"/} carried)," \
        "or copy the archive there and run: bash $(basename "$dir")/run.sh"
}

case "${1:-}" in
    build) build "$(realpath -m "${2:-$DEFAULT_DIR}")" ;;
    run) exec bash "${2:-$DEFAULT_DIR}/run.sh" ;;
    *) usage ;;
esac
