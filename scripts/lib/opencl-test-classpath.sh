# Sourced by the scripts that run runtime-opencl's test classes in a JVM of their own
# (kernel-probe.sh, rusticl-check.sh). Defines:
#   opencl_test_classpath WORK   compiles runtime-opencl and the modules it needs with their test
#                                classes, in the reactor (never installed), and sets CP to the
#                                test class path: the modules' target/classes and test-classes
#                                and the dependency jars. Needs ROOT (the repository root).
#   junit_console WORK           sets CONSOLE to JUnit's console launcher jar (the version that
#                                goes with the pom's JUnit Jupiter), fetched into WORK once.
opencl_test_classpath() {
    local work=$1
    (cd "$ROOT" && mvn -q -pl runtime-opencl -am test-compile dependency:build-classpath \
        -Dmdep.includeScope=test -Dmdep.outputFile="$work/classpath.txt" >/dev/null)
    CP="$ROOT/runtime-opencl/target/test-classes:$ROOT/runtime-opencl/target/classes:$(cat "$work/classpath.txt")"
}

junit_console() {
    local work=$1 jupiter version
    jupiter=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' "$ROOT/pom.xml" | head -1)
    version="1.${jupiter#5.}" # JUnit Jupiter 5.x.y ships with Platform 1.x.y
    CONSOLE="$work/junit-platform-console-standalone-$version.jar"
    if [ ! -f "$CONSOLE" ]; then
        (cd "$ROOT" && mvn -q -N dependency:copy -DoutputDirectory="$work" \
            -Dartifact="org.junit.platform:junit-platform-console-standalone:$version" >/dev/null)
    fi
}
