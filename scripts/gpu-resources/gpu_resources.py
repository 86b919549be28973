#!/usr/bin/env python3
"""What an AMD GPU compiler says about every kernel Spool may build.

Reads the manifest that dev.spool.opencl.GpuKernelManifest writes (every program of
KernelCatalog.all(true): source text as the host builds it, build options as a GPU gets them,
its kernels and whether the GPU path launches each), compiles every program once per target
with clang and AMD's device libraries, reads each kernel's resource metadata from the
assembly, computes the occupancy it allows, writes the table (docs/GPU-RESOURCES.md) and
checks the gates:

  * no VGPR spills and no scratch (private) memory in a kernel the GPU path runs. SGPR spills
    are reported, not failed: AMD's compiler spills SGPRs into lanes of a VGPR (v_writelane), no
    memory, and when it cannot, the spill goes to scratch, which fails;
  * at least MIN_WAVES waves per SIMD for the GPU path's elementwise and reduction kernels.

Exit status: 0 when every gate holds, 1 with the list of failures otherwise, 2 on a setup
error (no clang, no device libraries, a compile that failed).
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

MIN_WAVES = 4

# What each target is compiled as. gfx90a (CDNA2, MI200) runs wave64. gfx1100 (RDNA3, Navi 31)
# runs wave32: clang's default for gfx10+, and what ROCm's OpenCL runtime compiles for them.
TARGETS = ("gfx90a", "gfx1100")

# __oclc_ISA_version of each target, for ocml/ockl (major*1000 + minor*100 + stepping). Debian's
# rocm-device-libs 5.2 ships no oclc_isa_version_1100.bc: we make it (the libraries only test
# the value against older generations' thresholds).
ISA_VERSION = {"gfx90a": 9010, "gfx1100": 11000}

DEVICE_LIB_DIRS = ("/usr/lib/x86_64-linux-gnu/amdgcn/bitcode", "/usr/lib/amdgcn/bitcode",
                   "/opt/rocm/amdgcn/bitcode")

# The smallest real kernel: the scratch it reports is what every kernel pays whatever it does.
BASELINE = "kernel void spool_baseline(global int* x) { x[get_global_id(0)] = 1; }\n"


# ---- occupancy ----------------------------------------------------------------------------
# Waves per SIMD that a kernel's registers and local memory allow: the rules of LLVM's AMDGPU
# backend (llvm/lib/Target/AMDGPU/Utils/AMDGPUBaseInfo.cpp: getMaxWavesPerEU,
# getTotalNumVGPRs, getVGPRAllocGranule, getEUsPerCU; GCNSubtarget::getOccupancyWithNumSGPRs
# and getOccupancyWithLocalMemSize), with the register files of AMD's ISA guides:
#   gfx90a: 8 waves per SIMD; 512 VGPRs per lane shared by architected and accumulation VGPRs
#     (.vgpr_count is their sum), allocated in granules of 8; 800 SGPRs per SIMD (LLVM's table
#     below); 64 KiB of LDS per CU of 4 SIMDs.
#   gfx1100: 16 waves per SIMD; a 192 KiB VGPR file per SIMD (Navi 31/32, LLVM's
#     FeatureGFX11FullVGPRs): 1536 VGPRs per lane in wave32, granule 24; 768 in wave64, granule
#     12; SGPRs never limit (each wave gets its own); in WGP mode (the default) a work-group
#     may use 64 KiB of LDS and the WGP's 4 SIMDs share 128 KiB (RDNA3 ISA guide; Mesa's radv
#     computes waves with 128 KiB per WGP too).
# With LDS, waves per SIMD = ceil(groups per CU * waves per group / 4): the busiest SIMD.
# Not modelled: the work-group slots per CU (16 on gfx9: never below 8 waves for the 256-item
# groups Spool launches), and the local memory the host passes as kernel arguments (the tree
# reductions' scratch: at most 16 bytes per work-item, 4 KiB per group of 256, which allows
# 16 groups per CU on gfx90a and 32 per WGP on gfx1100: above both maxima).
def occupancy(target, wave, vgprs, sgprs, lds, group):
    """(waves per SIMD, what limits it) for one kernel."""
    if target == "gfx90a":
        max_waves, total, granule, lds_per_cu = 8, 512, 8, 65536
        if sgprs <= 80:
            by_sgprs = 10
        elif sgprs <= 88:
            by_sgprs = 9
        elif sgprs <= 100:
            by_sgprs = 8
        else:
            by_sgprs = 7
    elif target == "gfx1100":
        max_waves, lds_per_cu, by_sgprs = 16, 131072, 16
        total, granule = (1536, 24) if wave == 32 else (768, 12)
    else:
        raise ValueError("no occupancy rules for " + target)
    by_vgprs = max_waves if vgprs == 0 else total // (-(-vgprs // granule) * granule)
    by_lds = max_waves
    if lds > 0:
        # the groups that fit one CU's (WGP's) LDS, their waves spread over its 4 SIMDs
        waves_per_group = -(-group // wave)
        by_lds = -(-(lds_per_cu // lds) * waves_per_group // 4)
    limits = {"VGPRs": by_vgprs, "SGPRs": by_sgprs, "LDS": by_lds}
    waves = min(max_waves, *limits.values())
    limiter = "/".join(k for k, v in limits.items() if v == waves) if waves < max_waves else "-"
    return waves, limiter


# ---- compiling and reading the metadata -----------------------------------------------------
def find_clang():
    for name in (os.environ.get("CLANG"), "clang-15", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def find_device_libs():
    for d in ([os.environ["ROCM_DEVICE_LIB_PATH"]] if os.environ.get("ROCM_DEVICE_LIB_PATH") else []) \
            + list(DEVICE_LIB_DIRS):
        if os.path.isfile(os.path.join(d, "ocml.bc")):
            return d
    return None


def prepare_libs(clang, libs, work):
    """A folder with AMD's device libraries and an ISA version library for every target."""
    out = os.path.join(work, "device-libs")
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(libs):
        link = os.path.join(out, f)
        if f.endswith(".bc") and not os.path.lexists(link):
            os.symlink(os.path.join(libs, f), link)
    for target, version in ISA_VERSION.items():
        bc = os.path.join(out, "oclc_isa_version_%s.bc" % target[3:])
        if os.path.exists(bc):
            continue
        ll = os.path.join(work, "isa_%s.ll" % target)
        with open(ll, "w") as f:
            f.write('target triple = "amdgcn-amd-amdhsa"\n'
                    "@__oclc_ISA_version = linkonce_odr protected local_unnamed_addr addrspace(4) "
                    "constant i32 %d, align 4\n" % version)
        run([clang, "--target=amdgcn-amd-amdhsa", "-nogpulib", "-c", "-emit-llvm", ll, "-o", bc])
    return out


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s\nexit %d:\n%s" % (" ".join(cmd), p.returncode, p.stderr[-4000:]))
    return p


def compile_program(clang, libs, target, source_file, options, out):
    """Compiles one program for one target; returns {kernel: metadata} from its assembly."""
    # -fdeclare-opencl-builtins: clang's table of builtins instead of parsing opencl-c.h, the
    # same code in a third less time
    cmd = [clang, "-x", "cl", "-Xclang", "-fdeclare-opencl-builtins", "-Xclang", "-finclude-default-header",
           "--target=amdgcn-amd-amdhsa",
           "-mcpu=" + target, "--rocm-device-lib-path=" + libs, "-O3", "-S", "-o", out]
    cmd += options.split() + [source_file]
    run(cmd)
    with open(out) as f:
        return parse_metadata(f.read())


KEYS = {"name", "vgpr_count", "agpr_count", "sgpr_count", "vgpr_spill_count", "sgpr_spill_count",
        "group_segment_fixed_size", "private_segment_fixed_size", "wavefront_size",
        "max_flat_workgroup_size", "uses_dynamic_stack"}


def parse_metadata(asm):
    """The amdhsa.kernels entries of an assembly file: {name: {key: value}}."""
    m = re.search(r"^\s*\.amdgpu_metadata\s*$(.*?)^\s*\.end_amdgpu_metadata", asm, re.M | re.S)
    if not m:
        raise ValueError("no .amdgpu_metadata in the assembly")
    kernels, cur, list_key = [], None, None
    for line in m.group(1).splitlines():
        if line.startswith("  - ."):  # a new kernel entry
            cur = {}
            kernels.append(cur)
            line = "    " + line[4:]
        if cur is None:
            continue
        top = re.match(r"^    \.(\w+):\s*(.*)$", line)
        if top:
            key, value = top.group(1), top.group(2).strip()
            list_key = key if key == "reqd_workgroup_size" and not value else None
            if key in KEYS:
                cur[key] = value if key == "name" else (value == "true" if value in ("true", "false") else int(value))
            continue
        item = re.match(r"^      - (\d+)\s*$", line)
        if item and list_key:
            cur.setdefault(list_key, []).append(int(item.group(1)))
    return {k["name"]: k for k in kernels}


# ---- the report -------------------------------------------------------------------------------
def variant(options, base):
    rest = options[len(base):].strip() if options.startswith(base) else options
    return rest or "(none)"


def measure(manifest_dir, work, jobs):
    clang = find_clang()
    if not clang:
        sys.exit("gpu-resources: clang-15 is not installed (apt-get install clang-15)")
    libs = find_device_libs()
    if not libs:
        sys.exit("gpu-resources: AMD's device libraries are not installed (apt-get install rocm-device-libs)")
    version = run([clang, "--version"]).stdout.splitlines()[0]
    with open(os.path.join(manifest_dir, "programs.json")) as f:
        manifest = json.load(f)
    libs = prepare_libs(clang, libs, work)
    base = manifest["baseOptions"]
    asm = os.path.join(work, "asm")
    os.makedirs(asm, exist_ok=True)

    baseline_src = os.path.join(work, "baseline.cl")
    with open(baseline_src, "w") as f:
        f.write(BASELINE)
    tasks = [("baseline", t, baseline_src, base) for t in TARGETS]
    for i, p in enumerate(manifest["programs"]):
        for t in TARGETS:
            tasks.append((i, t, os.path.join(manifest_dir, p["source"]), p["options"]))

    def one(task):
        """The kernels' metadata, or the compiler's error: a program a GPU cannot build."""
        i, t, src, opts = task
        try:
            return task, compile_program(clang, libs, t, src, opts, os.path.join(asm, "%s-%s.s" % (i, t)))
        except RuntimeError as e:
            if i == "baseline":
                raise
            errors = [l for l in str(e).splitlines() if "error:" in l]
            return task, " ".join(errors) or str(e).splitlines()[-1]

    results = {}
    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for (i, t, _, _), meta in pool.map(one, tasks):
            results[(i, t)] = meta
    seconds = time.time() - start
    baseline = {t: results[("baseline", t)]["spool_baseline"]["private_segment_fixed_size"] for t in TARGETS}

    rows = []
    for i, p in enumerate(manifest["programs"]):
        for k in p["kernels"]:
            row = {"source": p["source"], "variant": variant(p["options"], base), "kernel": k["kernel"],
                   "gpuPath": k["gpuPath"], "family": k["family"], "serves": k["serves"], "targets": {}}
            for t in TARGETS:
                if isinstance(results[(i, t)], str):
                    row["targets"][t] = {"error": results[(i, t)]}
                    continue
                meta = results[(i, t)].get(k["kernel"])
                if meta is None:
                    raise SystemExit("gpu-resources: %s [%s] has no kernel %s for %s"
                                     % (p["source"], p["options"], k["kernel"], t))
                group = 1
                for d in meta.get("reqd_workgroup_size", []):
                    group *= d
                if not meta.get("reqd_workgroup_size"):
                    group = meta.get("max_flat_workgroup_size", 256)
                wave = meta.get("wavefront_size", 64)
                waves, limiter = occupancy(t, wave, meta["vgpr_count"], meta["sgpr_count"],
                                           meta["group_segment_fixed_size"], group)
                row["targets"][t] = {
                    "vgprs": meta["vgpr_count"], "agprs": meta.get("agpr_count", 0), "sgprs": meta["sgpr_count"],
                    "vgprSpills": meta["vgpr_spill_count"], "sgprSpills": meta["sgpr_spill_count"],
                    "lds": meta["group_segment_fixed_size"],
                    "scratch": meta["private_segment_fixed_size"] - baseline[t],
                    "dynamicStack": meta.get("uses_dynamic_stack", False),
                    "wave": wave, "waves": waves, "limiter": limiter}
            rows.append(row)
    return {"clang": version, "baseOptions": base, "deviceLibs": os.path.realpath(os.path.join(libs, "ocml.bc")),
            "baseline": baseline, "programs": len(manifest["programs"]), "compiles": len(tasks),
            "seconds": seconds, "rows": rows}


def failures(report):
    out = []
    for r in report["rows"]:
        if not r["gpuPath"]:
            continue
        for t, m in r["targets"].items():
            what = "%s %s [%s] on %s" % (r["source"], r["kernel"], r["variant"], t)
            if "error" in m:
                out.append("%s: the program does not build: %s" % (what, m["error"]))
                continue
            if m["vgprSpills"]:
                out.append("%s: spills %d VGPRs" % (what, m["vgprSpills"]))
            if m["scratch"] > 0 or m["dynamicStack"]:
                out.append("%s: uses %d bytes of scratch memory%s" % (what, m["scratch"],
                           " and a dynamic stack" if m["dynamicStack"] else ""))
            if r["family"] in ("ELEMENTWISE", "REDUCTION") and m["waves"] < MIN_WAVES:
                out.append("%s: %d waves per SIMD (limited by %s), below %d"
                           % (what, m["waves"], m["limiter"], MIN_WAVES))
    return out


def worst(report, n):
    """The GPU-path rows that allow the fewest waves (then use the most VGPRs), per family."""
    out = []
    for family in ("ELEMENTWISE", "REDUCTION", "MATMUL"):
        rows = [r for r in report["rows"] if r["gpuPath"] and r["family"] == family]
        rows.sort(key=lambda r: (min(m.get("waves", -1) for m in r["targets"].values()),
                                 -max(m.get("vgprs", 1 << 20) for m in r["targets"].values()), r["kernel"]))
        out += rows[:n]
    return out


def cells(m):
    if "error" in m:
        return "does not build | | | | |"
    spills = "%d/%d" % (m["vgprSpills"], m["sgprSpills"]) if m["vgprSpills"] or m["sgprSpills"] else "0"
    return "%d | %d | %s | %d | %d | %d" % (m["vgprs"], m["sgprs"], spills, m["lds"], m["scratch"], m["waves"])


def table(rows):
    head = ("| source | kernel | variant | GPU path | " + " | ".join(
        "%s VGPRs | SGPRs | spills | LDS | scratch | waves" % t for t in TARGETS) + " |\n")
    head += "|" + " --- |" * (4 + 6 * len(TARGETS)) + "\n"
    body = ""
    for r in rows:
        body += "| %s | %s | `%s` | %s | %s |\n" % (
            r["source"], r["kernel"], r["variant"], "yes" if r["gpuPath"] else "no",
            " | ".join(cells(r["targets"][t]) for t in TARGETS))
    return head + body


def markdown(report, fails):
    b = report["baseline"]
    doc = """# What a GPU compiler says about every kernel

Generated by `scripts/gpu-resources/run.sh` (do not edit by hand; CI regenerates it and fails
when it differs from this file). Every program that `KernelCatalog.all(true)` lists (every
kernel file with every `-D` variant the host builds, float64 included, every GEMM candidate of
`GemmConfig.CANDIDATES`), as `GpuKernelManifest` writes it: the prelude in front and the build
options a GPU gets (`%s`), compiled once per target by
%s with AMD's device libraries (Debian's `rocm-device-libs`: the OpenCL builtins,
`get_global_id` included, are inlined as on a real AMD GPU; `-nogpulib` would leave each as a
call to an unknown function, and the compiler then assumes 16 KiB of stack and reserves
registers for it).

Targets: **gfx90a** (CDNA2, Instinct MI200, wave64) and **gfx1100** (RDNA3, Radeon RX 7900,
wave32). Columns per target: VGPRs (on gfx90a architected plus accumulation VGPRs), SGPRs,
spills (VGPRs/SGPRs spilled, "0" for none), LDS (static local memory in bytes; the local memory the
host passes as an argument, at most 4 KiB per group, is not included), scratch (private bytes
per work-item above the baseline kernel's, which reports %s), and waves (waves per SIMD the
kernel allows: gfx90a at most 8, gfx1100 at most 16; the rules are in `gpu_resources.py`,
from LLVM's AMDGPU backend and AMD's ISA guides).

Caveat for gfx1100: clang-15 predates LLVM's model of Navi 31's 1536-VGPR file and allocates
within a smaller budget (128 VGPRs for a 256-item group), so it may spill where a newer compiler
does not: Debian's clang-19 compiles the float64 tile `tiled:128x64x16:8x4` in 146 VGPRs without
spills, clang-15 spills 10. The waves columns use the hardware's rules, not clang-15's.

"GPU path": a kernel that a device with GPU-style kernels (`Tuning.Style.GPU`) may launch,
from `KernelCatalog.KernelRef.styles` (the matmul candidates from `GemmTuner.candidates`).
The gates, for GPU-path kernels on both targets: no VGPR spills, no scratch, and at least %d
waves per SIMD for elementwise and reduction kernels. SGPR spills are shown but allowed: the
compiler spills SGPRs into lanes of a VGPR, not to memory (when it cannot, the kernel uses
scratch, which fails).

%s

## The worst GPU-path rows of each family

%s
## Every kernel

%s"""
    gates = ("**Gates: all hold** (%d programs, %d kernels)." % (report["programs"], len(report["rows"]))
             if not fails else "**Gates: %d failures:**\n\n" % len(fails) + "".join("- %s\n" % f for f in fails))
    baseline = ", ".join("%d bytes on %s" % (v, t) for t, v in b.items())
    return doc % (report["baseOptions"], "`" + report["clang"] + "`", baseline, MIN_WAVES, gates,
                  table(worst(report, 5)), table(report["rows"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifest", help="the folder GpuKernelManifest wrote")
    ap.add_argument("--doc", help="write the markdown report here")
    ap.add_argument("--json", help="write the measurements here (for comparisons)")
    ap.add_argument("--work", help="keep the assembly here (default: a temporary folder)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--from-json", help="no compiling: report the measurements a --json run wrote")
    args = ap.parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            report = json.load(f)
    else:
        work = args.work or tempfile.mkdtemp(prefix="gpu-resources-")
        os.makedirs(work, exist_ok=True)
        try:
            report = measure(args.manifest, work, args.jobs)
        except (RuntimeError, ValueError) as e:
            print("gpu-resources: %s" % e, file=sys.stderr)
            return 2
    fails = failures(report)
    if args.doc:
        with open(args.doc, "w") as f:
            f.write(markdown(report, fails))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    print("gpu-resources: %d programs, %d compiles for %s in %.1f s on %d jobs; baseline scratch %s"
          % (report["programs"], report["compiles"], ", ".join(TARGETS), report["seconds"], args.jobs,
             report["baseline"]))
    if fails:
        print("gpu-resources: FAILED, %d gate failures in GPU-path kernels:" % len(fails), file=sys.stderr)
        for f in fails:
            print("  " + f, file=sys.stderr)
        return 1
    print("gpu-resources: OK, no VGPR spills or scratch in GPU-path kernels, elementwise and reductions at >= %d waves"
          % MIN_WAVES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
