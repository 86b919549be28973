#!/usr/bin/env bash
# Spool as a dependency of someone else's project: installs this clone's published artifacts
# (the BOM, the parent, runtime-core, runtime-cpu, kernels, runtime-opencl, nn; tests not run),
# builds scripts/outside-project (a Maven project that imports the BOM) against them, and runs
# it on `cpu` and on `opencl`, first on the class path, then on the module path (Spool's jars
# as automatic modules). The program checks a second derivative and a small fit against their
# exact values and exits 1 on a wrong one.
#
# Your ~/.m2 is only read: everything is installed into a throwaway local repository,
# target/outside-project-m2, made afresh each run. Third-party artifacts (plugins, SLF4J, JOCL,
# Logback) are copied there from ~/.m2/repository (SPOOL_SEED_REPO to use another), which
# settings.xml names as a file:// repository of releases only, so Spool's snapshots can come
# only from this run's install; what is not there comes from Maven Central. Those settings
# replace your ~/.m2/settings.xml for these two builds (a mirror or proxy there is not used).
#
# No OpenCL device: the OpenCL runs are skipped with a note, or fail if SPOOL_REQUIRE_OPENCL=1
# (CI). JAVA_HOME picks the JDK for the build and the runs (e.g. a JDK 25, where it also checks
# that --enable-native-access leaves no "restricted method" warning).
#
# Usage: scripts/outside-project.sh      Needs: a JDK 17+, Maven. About a minute after a build.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROJECT="$ROOT/scripts/outside-project"
REPO="$ROOT/target/outside-project-m2"
export SPOOL_SEED_REPO="${SPOOL_SEED_REPO:-$HOME/.m2/repository}"   # read by settings.xml
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

say() { echo "outside-project [${SECONDS}s]: $*"; }
fail() { echo "outside-project [${SECONDS}s]: FAILED: $*" >&2; exit 1; }
MVN=(mvn -B -q -s "$PROJECT/settings.xml" -Dmaven.repo.local="$REPO")

VERSION=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$ROOT/bom/pom.xml" | head -1)
[ -n "$VERSION" ] || fail "no version in bom/pom.xml"

rm -rf "$REPO"
say "installing Spool $VERSION into $REPO"
# useIncrementalCompilation=false: compile only sources newer than their classes. Otherwise the
# compiler plugin sees the fresh repository's jars as changed dependencies and recompiles every
# module that the build before this one (CI's mvn verify) compiled already: 50 s instead of 10.
"${MVN[@]}" -f "$ROOT/pom.xml" -pl bom,.,runtime-core,runtime-cpu,kernels,runtime-opencl,nn -DskipTests \
    -Dmaven.compiler.useIncrementalCompilation=false install || fail "mvn install of Spool's artifacts"
say "building $PROJECT against them"
"${MVN[@]}" -f "$PROJECT/pom.xml" -Dspool.version="$VERSION" clean package || fail "the outside project does not build"

APP="$PROJECT/target/spool-outside-project.jar"
LIB="$PROJECT/target/lib"
# What the README tells applications to add: the Vector API for the cpu device's SIMD paths;
# native access for JOCL's System.loadLibrary (JDK 24+ warns without it), which on the class
# path is the unnamed module's and on the module path JOCL's automatic module's ("jocl"); and
# on the module path org.slf4j, which Spool's automatic modules cannot require themselves
# (without it: NoClassDefFoundError: org/slf4j/LoggerFactory). The binding, Logback, then
# comes in by service binding.
CLASS_PATH=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED
            -cp "$APP:$LIB/*" com.example.spoolapp.Main)
MODULE_PATH=(--add-modules jdk.incubator.vector,org.slf4j --enable-native-access=jocl
             -p "$APP:$LIB" -m com.example.spoolapp/com.example.spoolapp.Main)

OUT="$PROJECT/target/run.log"
run() { # device, class-path|module-path; returns the program's status
    local args
    if [ "$2" = class-path ]; then args=("${CLASS_PATH[@]}"); else args=("${MODULE_PATH[@]}"); fi
    say "$1 on the $2"
    local status=0
    "$JAVA" "${args[@]}" "$1" "$2" >"$OUT" 2>&1 || status=$?
    sed 's/^/    /' "$OUT"
    if grep -q 'restricted method' "$OUT"; then
        fail "$1 on the $2: the JVM warned about native access despite the flags above"
    fi
    return $status
}

run cpu class-path || fail "cpu on the class path"

OPENCL=1
RAN="cpu"
run opencl class-path || {
    status=$?
    [ $status = 2 ] || fail "opencl on the class path"
    [ "${SPOOL_REQUIRE_OPENCL:-}" != 1 ] || fail "no OpenCL device, and SPOOL_REQUIRE_OPENCL=1"
    say "no OpenCL device here: OpenCL runs skipped (SPOOL_REQUIRE_OPENCL=1 makes this a failure)"
    OPENCL=0
}

run cpu module-path || fail "cpu on the module path"
# OpenCL worked on the class path, so here "not available" is a failure too.
if [ $OPENCL = 1 ]; then
    run opencl module-path || fail "opencl on the module path"
    RAN="cpu and opencl"
fi

say "OK on $RAN, class path and module path (Spool $VERSION, $("$JAVA" -version 2>&1 | head -1))"
