#!/usr/bin/env bash
# What an AMD GPU compiler says about every kernel Spool may build (docs/GPU-RESOURCES.md).
#
#   1. GpuKernelManifest (runtime-opencl) writes every program of KernelCatalog.all(true) as a
#      GPU builds it: source text with the prelude, build options, kernels, which are GPU path.
#   2. gpu_resources.py compiles each program once for gfx90a and once for gfx1100 with clang
#      and AMD's device libraries, on every core, reads each kernel's registers, spills, local
#      and scratch memory, computes the waves per SIMD they allow, writes the table and checks
#      the gates: no spills or scratch in GPU-path kernels, >= 4 waves per SIMD for the GPU
#      path's elementwise and reduction kernels.
#
# Usage: scripts/gpu-resources/run.sh [--ci] [--offline]
#   default: rewrites docs/GPU-RESOURCES.md, then fails if a gate fails.
#   --ci:    also fails if docs/GPU-RESOURCES.md differs from what it generated (a kernel
#            changed and the table was not regenerated); leaves the file as it is.
#   --offline: Maven offline.
# Needs: clang-15 and rocm-device-libs (apt-get install clang-15 rocm-device-libs), python3, a
# JDK and Maven. About 1.5 minutes on 2 cores. Output: runtime-opencl/target/gpu-resources/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK="$ROOT/runtime-opencl/target/gpu-resources"
DOC="$ROOT/docs/GPU-RESOURCES.md"
CI_MODE=false
MVN_OFFLINE=""
for arg in "$@"; do
    case "$arg" in
        --ci) CI_MODE=true ;;
        --offline) MVN_OFFLINE="-o" ;;
        *) echo "usage: $0 [--ci] [--offline]" >&2; exit 2 ;;
    esac
done
cd "$ROOT"
mkdir -p "$WORK"

start=$(date +%s)
mvn -q $MVN_OFFLINE -pl runtime-opencl -am compile dependency:build-classpath -Dmdep.includeScope=runtime \
    -Dmdep.outputFile="$WORK/classpath.txt" >/dev/null
rm -rf "$WORK/manifest"
java -cp "$ROOT/runtime-opencl/target/classes:$(cat "$WORK/classpath.txt")" dev.spool.opencl.GpuKernelManifest \
    "$WORK/manifest"
set +e
python3 "$ROOT/scripts/gpu-resources/gpu_resources.py" "$WORK/manifest" --doc "$WORK/GPU-RESOURCES.md" \
    --json "$WORK/resources.json" --work "$WORK"
status=$?
set -e
[ -f "$WORK/GPU-RESOURCES.md" ] || exit "$status"
if $CI_MODE; then
    if ! cmp -s "$WORK/GPU-RESOURCES.md" "$DOC"; then
        diff -u "$DOC" "$WORK/GPU-RESOURCES.md" | head -40 >&2 || true
        echo "gpu-resources: FAILED: docs/GPU-RESOURCES.md is not what the kernels compile to now;" \
            "run scripts/gpu-resources/run.sh and commit it" >&2
        status=1
    fi
else
    cp "$WORK/GPU-RESOURCES.md" "$DOC"
fi
echo "gpu-resources: $(( $(date +%s) - start )) s in all"
exit "$status"
