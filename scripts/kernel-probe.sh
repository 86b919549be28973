#!/usr/bin/env bash
# Builds and launches every kernel Spool's OpenCL backend may launch (KernelCatalog.all, with the
# options of both kernel strategies, prelude and base options as the host builds them), one at a
# time, on one OpenCL platform, and reports which ones fail, crash the process or hang, and what
# the driver printed for each. Made for drivers whose compiler can crash (Mesa 22.3's Rusticl:
# runtime-opencl/README.md, "Rusticl"); rerun it when the driver changes.
#
# The kernels run in a child JVM (dev.spool.opencl.KernelProbe, runtime-opencl's test classes):
# each is built, then launched once on one work-group with zeroed arguments, since llvmpipe
# compiles a kernel to machine code only at its first launch. When the JVM dies, the kernel it
# was on is marked CRASH (the JVM's hs_err file is kept) and a new JVM goes on from the next one.
#
# Usage: scripts/kernel-probe.sh [--platform NAME] [--match REGEX] [--isolate] [--timeout S]
#        scripts/kernel-probe.sh [--platform NAME] --file PATH.cl --kernel NAME [--options OPTS]
#   --platform NAME  OpenCL platform whose name contains NAME (default rusticl; for rusticl,
#                    RUSTICL_ENABLE defaults to llvmpipe)
#   --match REGEX    only manifest lines ("source TAB options TAB kernel") matching REGEX (grep -E)
#   --isolate        one JVM per kernel. Mesa prints each warning once per process, so without
#                    this a warning is attributed to the first kernel that caused it only.
#   --timeout S      seconds one JVM may run before the kernel it is on counts as hung (default 600)
#   --file PATH.cl   instead of the catalog, one stand-alone source (no prelude), e.g. one of the
#                    smallest kernels in runtime-opencl/README.md, "Rusticl"; --kernel names the
#                    kernel to launch, --options adds build options
# Mesa's shader cache is turned off (MESA_SHADER_CACHE_DISABLE), so that every kernel is compiled.
# Output: runtime-opencl/target/kernel-probe/{manifest.tsv, run-N.log, hs_err_*.log, report.txt}.
# Exit status: 0 when every kernel built and launched, 1 otherwise, 2 when no device was found.
# Time: the whole catalog (1242 kernels) takes about 2.5 minutes on Rusticl (2 cores), with the
# build of runtime-opencl's test classes before it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK="$ROOT/runtime-opencl/target/kernel-probe"
PLATFORM=rusticl
MATCH=""
ISOLATE=0
TIMEOUT=600
FILE=""
KERNEL=""
OPTIONS=""
while [ $# -gt 0 ]; do
    case "$1" in
        --platform) PLATFORM=$2; shift 2 ;;
        --match) MATCH=$2; shift 2 ;;
        --isolate) ISOLATE=1; shift ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --file) FILE=$(realpath "$2"); shift 2 ;;
        --kernel) KERNEL=$2; shift 2 ;;
        --options) OPTIONS=$2; shift 2 ;;
        *) echo "kernel-probe: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ "$PLATFORM" = rusticl ] && export RUSTICL_ENABLE=${RUSTICL_ENABLE:-llvmpipe}
export MESA_SHADER_CACHE_DISABLE=true

cd "$ROOT"
rm -rf "$WORK"
mkdir -p "$WORK"
. "$ROOT/scripts/lib/opencl-test-classpath.sh"
opencl_test_classpath "$WORK"

# KernelProbe's command line, before its mode and arguments; its progress goes to stderr
PROBE=(java -XX:ErrorFile="$WORK/hs_err_pid%p.log" -Dspool.opencl.platform="$PLATFORM"
       -Dlogback.configurationFile=logback-opencl-test.xml -cp "$CP" dev.spool.opencl.KernelProbe)

if [ -n "$FILE" ]; then
    [ -n "$KERNEL" ] || { echo "kernel-probe: --file needs --kernel" >&2; exit 2; }
    set +e
    timeout -k 10 "$TIMEOUT" "${PROBE[@]}" file "$FILE" "$KERNEL" "$OPTIONS" > "$WORK/file.log" 2>&1
    STATUS=$?
    set -e
    grep -v "^#" "$WORK/file.log" | grep -v "^$" || true
    grep -q "^probe: OK" "$WORK/file.log" && exit 0
    grep -A1 "Problematic frame" "$WORK/file.log" | tail -1 | sed 's/^# */kernel-probe: CRASH in /' || true
    echo "kernel-probe: $KERNEL of $FILE did not run (exit $STATUS); see $WORK" >&2
    exit 1
fi

"${PROBE[@]}" list "$WORK/all.tsv" 2>"$WORK/list.log" || { cat "$WORK/list.log" >&2; exit 2; }
head -1 "$WORK/list.log"
if [ -n "$MATCH" ]; then
    grep -E -- "$MATCH" "$WORK/all.tsv" > "$WORK/manifest.tsv" || true
else
    cp "$WORK/all.tsv" "$WORK/manifest.tsv"
fi
TOTAL=$(wc -l < "$WORK/manifest.tsv")
[ "$TOTAL" -gt 0 ] || { echo "kernel-probe: no kernel matches '$MATCH'" >&2; exit 2; }
echo "kernel-probe: $TOTAL kernels on platform '$PLATFORM'$([ "$ISOLATE" = 1 ] && echo ", one JVM each")"

# Runs JVMs until every entry has an end line: a JVM that dies leaves its entry without one,
# which gets a CRASH (or HANG) line here, and the next JVM starts after it.
START=$(date +%s)
RUN=0
FROM=0
while [ "$FROM" -lt "$TOTAL" ]; do
    RUN=$((RUN + 1))
    LOG="$WORK/run-$RUN.log"
    TO=$TOTAL
    [ "$ISOLATE" = 1 ] && TO=$((FROM + 1))
    set +e
    timeout -k 10 "$TIMEOUT" "${PROBE[@]}" run "$WORK/manifest.tsv" "$FROM" "$TO" > "$LOG" 2>&1
    STATUS=$?
    set -e
    LAST=$(sed -n 's/^probe: BEGIN \([0-9]*\) .*/\1/p' "$LOG" | tail -1)
    if [ -n "$LAST" ] && ! grep -qE "^probe: (OK|FAIL) $LAST( |$)" "$LOG"; then
        if [ "$STATUS" -eq 124 ] || [ "$STATUS" -eq 137 ]; then
            echo "probe: HANG $LAST no end after ${TIMEOUT}s" >> "$LOG"
        else
            HS=$(grep -o "$WORK/hs_err_pid[0-9]*.log" "$LOG" | head -1 || true)
            FRAME=$(grep -A1 "Problematic frame" "$LOG" | tail -1 | sed 's/^# *//' || true)
            echo "probe: CRASH $LAST exit $STATUS, ${FRAME:-no frame}, ${HS:-no hs_err file}" >> "$LOG"
        fi
        FROM=$((LAST + 1))
    elif [ "$STATUS" -ne 0 ]; then
        tail -20 "$LOG" >&2
        echo "kernel-probe: the probe JVM failed (exit $STATUS) outside any kernel; see $LOG" >&2
        exit 2
    else
        FROM=$TO
    fi
done

# The report: one line per kernel that did not pass, each driver message with the kernels after
# whose BEGIN line it appeared, and the counts.
REPORT="$WORK/report.txt"
for i in $(seq 1 "$RUN"); do cat "$WORK/run-$i.log"; done | awk -v manifest="$WORK/manifest.tsv" '
    BEGIN { while ((getline line < manifest) > 0) { name[n++] = line } }
    /^probe: BEGIN / { cur = $3; next }
    /^probe: BUILT / { next }
    /^probe: (OK|FAIL|CRASH|HANG) / {
        status[$3] = $2; msg = $0; sub(/^probe: [A-Z]+ [0-9]+ ?/, "", msg); detail[$3] = msg; next }
    /^probe: / || /^#/ || /^$/ { next }
    cur != "" { if (!(($0) in seen)) { seen[$0] = 1; order[m++] = $0 } warned[$0] = warned[$0] "\n    " name[cur] }
    END {
        for (i = 0; i < n; i++) { s = (i in status) ? status[i] : "MISSING"; count[s]++
            if (s != "OK") { printf "%s  %s\n    %s\n", s, name[i], detail[i] } }
        for (j = 0; j < m; j++) { printf "driver message: %s\n  after:%s\n", order[j], warned[order[j]] }
        printf "kernel-probe: %d kernels: %d OK, %d FAIL, %d CRASH, %d HANG, %d MISSING\n", n,
            count["OK"], count["FAIL"], count["CRASH"], count["HANG"], count["MISSING"]
    }' | sed 's/\t/ | /g' > "$REPORT"
cat "$REPORT"
echo "kernel-probe: $RUN JVM(s), $(( $(date +%s) - START )) s; logs in $WORK"
tail -1 "$REPORT" | grep -q " 0 FAIL, 0 CRASH, 0 HANG, 0 MISSING"
