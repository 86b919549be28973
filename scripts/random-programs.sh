#!/usr/bin/env bash
# Random differentiable programs (runtime-core's RandomPrograms) on every device: gradients
# against float64 finite differences on cpu and OpenCL, and OpenCL against cpu.
#
#   scripts/random-programs.sh [N]     N programs per check (default 10000; CI runs 300)
#
# Prints how many programs each check ran and how many failed; a failure prints the program,
# shrunk to a small one that still fails, as Java code. Exit status: Maven's.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
set +e
# runtime-cpu and runtime-opencl, every Surefire execution (cpu with and without the Vector API,
# OpenCL with its default and with GPU kernels forced); -Dtest also runs the parity check in
# runtime-cpu, where it compares cpu with itself: that line is dropped below.
mvn -B -q -pl runtime-opencl -am verify -Dtest='RandomProgram*Test' \
    -Dsurefire.failIfNoSpecifiedTests=false -Dspool.test.randomPrograms="$N" > "$LOG" 2>&1
STATUS=$?
set -e
grep -E "random programs" "$LOG" | grep -v "^.*- cpu: .* compared with cpu" | sed 's/^.*INFO  *[A-Za-z]* - //' | sort | uniq -c |
    sed 's/^ *1 //; s/^ *\([0-9]*\) \(.*\)/\2 (x\1: once per Surefire execution)/'
if [ $STATUS -ne 0 ]; then
    grep -E "^\[ERROR\]|shrunk to|^  Tensor|^  return" "$LOG" | head -80
    echo "random-programs: FAILED (exit $STATUS)"
fi
exit $STATUS
