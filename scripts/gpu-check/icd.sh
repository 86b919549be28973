# Sourced by run.sh (bash): makes the NVIDIA driver's OpenCL library visible to the ICD loader.
#
# The ICD loader (libOpenCL.so.1) opens the drivers named by the files in /etc/OpenCL/vendors.
# A container that mounts the NVIDIA driver under /usr/local/nvidia often has the driver's
# OpenCL library (libnvidia-opencl.so.1) but no nvidia.icd naming it. spool_setup_icd finds the
# library and, when no ICD file names it, writes one into a folder of its own, copies the
# system's ICD files beside it (so that nothing else is hidden) and points OCL_ICD_VENDORS there.
#
#   spool_setup_icd WORK_DIR     writes WORK_DIR/icd/ when needed; logs what it found on stdout
#
# Overrides (for tests): SPOOL_ICD_VENDORS_DIR (default /etc/OpenCL/vendors) and
# SPOOL_ICD_SEARCH_DIRS, a colon-separated list replacing the default search: /usr/local/nvidia
# (recursive), the LD_LIBRARY_PATH folders, `ldconfig -p`, /usr/lib/x86_64-linux-gnu, /usr/lib64,
# /usr/lib. An OCL_ICD_VENDORS already set is left alone.

SPOOL_NVIDIA_OPENCL=""

# Prints the paths of libnvidia-opencl.so* under the folders given, one a line, best first:
# the .so.1 name before a versioned file (libnvidia-opencl.so.550.54.15) where only that exists.
spool_find_nvidia_opencl() {
    local dir found
    for dir in "$@"; do
        [ -d "$dir" ] || continue
        found=$(find "$dir" -maxdepth 4 \( -type f -o -type l \) -name 'libnvidia-opencl.so*' 2>/dev/null | sort)
        [ -n "$found" ] || continue
        printf '%s\n' "$found" | grep '/libnvidia-opencl\.so\.1$' || true
        printf '%s\n' "$found" | grep -v '/libnvidia-opencl\.so\.1$' || true
    done
}

spool_default_search_dirs() {
    local d
    echo /usr/local/nvidia
    printf '%s\n' "${LD_LIBRARY_PATH:-}" | tr ':' '\n' | grep -v '^$' || true
    if command -v ldconfig >/dev/null 2>&1; then
        ldconfig -p 2>/dev/null | sed -n 's:.*libnvidia-opencl\.so[^ ]* .*=> \(.*\)/[^/]*$:\1:p' | sort -u
    fi
    for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do
        echo "$d"
    done
}

spool_setup_icd() {
    local work=$1
    local vendors=${SPOOL_ICD_VENDORS_DIR:-/etc/OpenCL/vendors}
    local dirs=() lib icd
    echo "ICD files in $vendors:"
    if ls "$vendors"/*.icd >/dev/null 2>&1; then
        for icd in "$vendors"/*.icd; do
            echo "  $(basename "$icd"): $(head -c 300 "$icd" | tr -d '\n')"
        done
    else
        echo "  (none)"
    fi
    if [ -n "${SPOOL_ICD_SEARCH_DIRS:-}" ]; then
        IFS=: read -r -a dirs <<< "$SPOOL_ICD_SEARCH_DIRS"
    else
        mapfile -t dirs < <(spool_default_search_dirs)
    fi
    lib=$(spool_find_nvidia_opencl "${dirs[@]}" | head -1)
    if [ -z "$lib" ]; then
        echo "NVIDIA OpenCL library: not found (searched ${dirs[*]})"
        return 0
    fi
    SPOOL_NVIDIA_OPENCL=$lib
    echo "NVIDIA OpenCL library: $lib$( [ -L "$lib" ] && echo " -> $(readlink -f "$lib")")"
    if [ -n "${OCL_ICD_VENDORS:-}" ]; then
        echo "OCL_ICD_VENDORS is already set ($OCL_ICD_VENDORS): left as it is"
        return 0
    fi
    if grep -qs 'libnvidia-opencl' "$vendors"/*.icd; then
        # it may name the library without a folder: make sure the loader can find it
        export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$(dirname "$lib")"
        echo "an ICD file in $vendors names the NVIDIA library: using the system's ICD files" \
            "(appended $(dirname "$lib") to LD_LIBRARY_PATH)"
        return 0
    fi
    mkdir -p "$work/icd"
    rm -f "$work"/icd/*.icd
    if ls "$vendors"/*.icd >/dev/null 2>&1; then
        cp "$vendors"/*.icd "$work/icd/"
    fi
    printf '%s\n' "$lib" > "$work/icd/spool-nvidia.icd"
    export OCL_ICD_VENDORS="$work/icd"
    # the driver's other libraries (libcuda.so.1, ...) lie beside it
    export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$(dirname "$lib")"
    echo "no ICD file names it: wrote $work/icd/spool-nvidia.icd, OCL_ICD_VENDORS=$OCL_ICD_VENDORS" \
        "(with $(ls "$work/icd" | wc -l) ICD file(s)), appended $(dirname "$lib") to LD_LIBRARY_PATH"
}
