#!/usr/bin/env bash
# Tests icd.sh's discovery of the NVIDIA OpenCL library on fake folder trees (no GPU needed):
#   bash scripts/gpu-check/test-icd.sh
# Each case runs spool_setup_icd in a fresh subshell with SPOOL_ICD_VENDORS_DIR and
# SPOOL_ICD_SEARCH_DIRS pointing into a temporary tree, then checks OCL_ICD_VENDORS and the
# ICD file written. Exit status 0 = all cases pass.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
FAILS=0

check() { # NAME CONDITION-COMMAND...
    local name=$1
    shift
    if "$@"; then
        echo "ok   $name"
    else
        echo "FAIL $name"
        FAILS=$((FAILS + 1))
    fi
}

# Runs spool_setup_icd in a subshell; prints "OCL_ICD_VENDORS=..." and "LIB=..." after its log.
setup() { # VENDORS_DIR SEARCH_DIRS WORK [OCL_ICD_VENDORS]
    (
        unset OCL_ICD_VENDORS
        [ -n "${4:-}" ] && export OCL_ICD_VENDORS=$4
        export SPOOL_ICD_VENDORS_DIR=$1 SPOOL_ICD_SEARCH_DIRS=$2
        # shellcheck source=icd.sh
        . "$HERE/icd.sh"
        spool_setup_icd "$3"
        echo "OCL_ICD_VENDORS=${OCL_ICD_VENDORS:-}"
        echo "LIB=$SPOOL_NVIDIA_OPENCL"
        echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
    )
}

# 1. driver mounted under a nested folder, a PoCL ICD file only: an ICD file is written
mkdir -p "$T/nvidia/lib64" "$T/vendors" "$T/empty"
printf 'libpocl.so.2' > "$T/vendors/pocl.icd"
: > "$T/nvidia/lib64/libnvidia-opencl.so.550.54.15"
ln -s libnvidia-opencl.so.550.54.15 "$T/nvidia/lib64/libnvidia-opencl.so.1"
out=$(setup "$T/vendors" "$T/empty:$T/nvidia" "$T/work1")
check "finds the .so.1 link in a nested folder" grep -qx "LIB=$T/nvidia/lib64/libnvidia-opencl.so.1" <<< "$out"
check "points OCL_ICD_VENDORS at its own folder" grep -qx "OCL_ICD_VENDORS=$T/work1/icd" <<< "$out"
check "the ICD file holds the full path" grep -qx "$T/nvidia/lib64/libnvidia-opencl.so.1" "$T/work1/icd/spool-nvidia.icd"
check "keeps the system's ICD files beside it" cmp -s "$T/vendors/pocl.icd" "$T/work1/icd/pocl.icd"
check "the driver folder joins LD_LIBRARY_PATH" grep -q "^LD_LIBRARY_PATH=.*$T/nvidia/lib64\$" <<< "$out"
check "logs what it found" grep -q "^NVIDIA OpenCL library: $T/nvidia/lib64/libnvidia-opencl.so.1 -> " <<< "$out"

# 2. only a versioned file, no .so.1 link: that file is used
mkdir -p "$T/versioned"
: > "$T/versioned/libnvidia-opencl.so.570.1"
out=$(setup "$T/vendors" "$T/versioned" "$T/work2")
check "falls back to a versioned file" grep -qx "$T/versioned/libnvidia-opencl.so.570.1" "$T/work2/icd/spool-nvidia.icd"

# 3. an ICD file already names the library: the system's files are used as they are
mkdir -p "$T/vendors-nv"
printf 'libnvidia-opencl.so.1\n' > "$T/vendors-nv/nvidia.icd"
out=$(setup "$T/vendors-nv" "$T/nvidia" "$T/work3")
check "an existing nvidia.icd is used" grep -qx "OCL_ICD_VENDORS=" <<< "$out"
check "and no ICD file is written" test ! -e "$T/work3/icd"

# 4. no library anywhere (PoCL here): nothing changes
out=$(setup "$T/vendors" "$T/empty:$T/missing" "$T/work4")
check "no library: OCL_ICD_VENDORS stays unset" grep -qx "OCL_ICD_VENDORS=" <<< "$out"
check "no library: says so" grep -q "^NVIDIA OpenCL library: not found" <<< "$out"
check "no library: no ICD folder" test ! -e "$T/work4/icd"

# 5. OCL_ICD_VENDORS set by the user is left alone
out=$(setup "$T/vendors" "$T/nvidia" "$T/work5" "/opt/my-vendors")
check "a user's OCL_ICD_VENDORS is kept" grep -qx "OCL_ICD_VENDORS=/opt/my-vendors" <<< "$out"

# 6. the default search list includes /usr/local/nvidia and the LD_LIBRARY_PATH folders
dirs=$(LD_LIBRARY_PATH="$T/a:$T/b" bash -c ". '$HERE/icd.sh'; spool_default_search_dirs")
check "default search starts at /usr/local/nvidia" test "$(head -1 <<< "$dirs")" = /usr/local/nvidia
check "default search has the LD_LIBRARY_PATH folders" grep -qx "$T/b" <<< "$dirs"

if [ "$FAILS" -ne 0 ]; then
    echo "test-icd: $FAILS case(s) FAILED"
    exit 1
fi
echo "test-icd: OK"
