#!/usr/bin/env bash
# Builds and runs the CLBlast SGEMM reference (clblast_sgemm.c) that docs/PERFORMANCE.md
# compares Spool's OpenCL matmul with. Needs: apt-get install libclblast-dev gcc.
# usage: scripts/bench/clblast-sgemm.sh [N] [device index]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/../../runtime-opencl/target/bench"
mkdir -p "$OUT"
[ -f /usr/include/clblast_c.h ] || { echo "CLBlast is not installed: apt-get install libclblast-dev" >&2; exit 1; }
gcc -O2 -std=gnu11 -Wall -Wextra -o "$OUT/clblast_sgemm" "$HERE/clblast_sgemm.c" -lclblast -lOpenCL
"$OUT/clblast_sgemm" "${1:-512}" "${2:-0}"
