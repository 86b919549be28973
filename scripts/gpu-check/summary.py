#!/usr/bin/env python3
"""Turns the files of a GPU run (scripts/gpu-check/run.sh) into the rows of docs/PERFORMANCE.md's
GPU table, with the driver version and the test counts per device. Standard library only: it
runs on the GPU machine at the end of run.sh, or here on fetched results.

    python3 summary.py RESULTS_DIR      (prints Markdown)

Reads devices.txt, nvidia-smi.txt, tests-per-device.txt, junit.txt, jmh-spool-*.json,
torch-gpu.json and phases.txt; whatever is missing shows as "—" with the reason where known.
Speeds are medians: of JMH's measured iterations for Spool, of torch_gpu.py's runs for PyTorch.
"""
import glob
import json
import os
import re
import statistics
import sys

DISPATCH_OPS = 20_000
SGEMM_TARGET = 0.7   # Spool SGEMM 4096 >= 0.7 x PyTorch
SGEMM_TARGET_N = 4096
STREAM_TARGET = 0.8  # add and sum >= 0.8 x device-to-device copy bandwidth
UNIT_SECONDS = {"s/op": 1.0, "ms/op": 1e-3, "us/op": 1e-6, "ns/op": 1e-9}
DASH = "—"


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def spool_times(results):
    """{(Class.method, size): median seconds per op} from every jmh-spool-*.json; size is the
    parameter n or length, else None. Where a JMH run was stopped before writing its JSON, the
    measured iterations of its text log (jmh-spool-*.txt) stand in; their keys are also returned."""
    times, partial = {}, set()
    stems = {os.path.splitext(p)[0] for p in glob.glob(os.path.join(results, "jmh-spool-*.*"))}
    for stem in sorted(stems):
        runs = None
        try:
            with open(stem + ".json") as f:
                runs = json.load(f)
        except (OSError, ValueError):
            pass
        if runs:
            for r in runs:
                metric = r["primaryMetric"]
                iterations = [x for fork in metric.get("rawData", []) for x in fork] or [metric["score"]]
                key = spool_key(r["benchmark"], r.get("params", {}))
                times[key] = statistics.median(iterations) * UNIT_SECONDS[metric["scoreUnit"]]
        else:
            for key, seconds in text_log_iterations(read(stem + ".txt") or "").items():
                times[key] = statistics.median(seconds)
                partial.add(key)
    return times, partial


def spool_key(benchmark, params):
    size = params.get("n", params.get("length"))
    return ".".join(benchmark.rsplit(".", 2)[-2:]), int(size) if size else None


def text_log_iterations(text):
    """{key: [seconds of each measured iteration]} from JMH's human-readable output."""
    found, key = {}, None
    for line in text.splitlines():
        m = re.match(r"# Benchmark: (\S+)", line)
        if m:
            benchmark, key = m.group(1), None
            continue
        m = re.match(r"# Parameters: \((.*)\)", line)
        if m:
            params = dict(p.split(" = ", 1) for p in m.group(1).split(", ") if " = " in p)
            key = spool_key(benchmark, params)
            continue
        m = re.match(r"Iteration\s+\d+: ([0-9.]+) (\S+/op)", line)
        if m and key and m.group(2) in UNIT_SECONDS:
            found.setdefault(key, []).append(float(m.group(1)) * UNIT_SECONDS[m.group(2)])
    return found


def torch_info(results):
    text = read(os.path.join(results, "torch-gpu.json"))
    if text is None:
        return {"available": False, "reason": "no torch-gpu.json (the PyTorch step did not run)"}, {}
    info = json.loads(text)
    times = {}
    for r in info.get("results", []):
        size = r["size"] if r["name"] in ("sgemm", "add", "sum", "copy") else None
        times[(r["name"], size)] = r["median_ms"] * 1e-3
    return info, times


def gflops(n, s):
    return 2.0 * n ** 3 / s / 1e9


def gbs(nbytes, s):
    return nbytes / s / 1e9


def fmt(x, digits=1):
    return DASH if x is None else f"{x:,.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None else a / b


def verdict(value, limit):
    if value is None:
        return "not measured"
    return "yes" if value >= limit else "**no**"


def test_counts(results):
    """[(device, passed, failed, skipped)] from tests-per-device.txt."""
    rows = []
    for line in (read(os.path.join(results, "tests-per-device.txt")) or "").splitlines():
        m = re.match(r"\s*(\S.*?)\s+(\d+) passed\s+(\d+) failed\s+(\d+) skipped", line)
        if m:
            rows.append((m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))))
    return rows


def driver_lines(results):
    lines = []
    devices = read(os.path.join(results, "devices.txt"))
    if devices:
        # DeviceReport: a line per platform, its devices indented under it ("opencl:N  ..." or
        # "skipped ..."), then the choice of 'opencl'
        listed = [l.strip() for l in devices.splitlines()]
        lines += [f"- Spool sees: `{l}`" for l in listed if l.startswith("opencl:")]
        lines += [f"- Spool skipped: `{l}`" for l in listed if l.startswith("skipped")]
        if not any(l.startswith("opencl:") for l in listed):
            lines.append(f"- Spool sees no OpenCL device: `{devices.strip().splitlines()[-1] if devices.strip() else ''}`")
    else:
        lines.append("- Spool's device listing did not run (no devices.txt)")
    smi = read(os.path.join(results, "nvidia-smi.txt"))
    lines.append(f"- nvidia-smi: `{smi.strip()}`" if smi else "- nvidia-smi: not found")
    return lines


def summary(results):
    spool, partial = spool_times(results)
    tinfo, torch = torch_info(results)
    out = ["## GPU run summary", ""]
    out += driver_lines(results)
    if tinfo.get("available"):
        out.append(f"- PyTorch {tinfo.get('torch')} (CUDA {tinfo.get('torch_cuda')}) on {tinfo.get('device')}"
                   + (f"; stopped early: {tinfo['error']}" if tinfo.get("error") else ""))
    else:
        out.append(f"- PyTorch: not measured ({tinfo.get('reason', 'unknown reason')})")
    phases = read(os.path.join(results, "phases.txt"))
    if phases:
        out.append("- phases: " + "; ".join(l.strip() for l in phases.splitlines() if l.strip()))

    out += ["", "### Tests per device", ""]
    counts = test_counts(results)
    if counts:
        out += ["| device | passed | failed | skipped |", "| --- | --- | --- | --- |"]
        out += [f"| {d} | {p} | {f} | {s} |" for d, p, f, s in counts]
    else:
        out.append("no test results (tests-per-device.txt missing or empty)")
    totals = re.findall(r"\[\s+(\d+) tests (successful|failed|skipped|aborted)\s+\]",
                        read(os.path.join(results, "junit.txt")) or "")
    total = {kind: int(n) for n, kind in totals}
    all_pass = bool(total) and total.get("successful", 0) > 0 and total.get("failed", 0) == 0 \
        and total.get("aborted", 0) == 0 and total.get("skipped", 0) == 0
    if total:
        out.append("")
        out.append("JUnit totals: " + ", ".join(f"{n} {kind}" for kind, n in total.items()))

    def pair(skey, tkey, f):
        """(Spool, PyTorch) of f(median seconds, size), None where not measured."""
        return tuple(None if k not in d else f(d[k], k[1]) for d, k in ((spool, skey), (torch, tkey)))

    def sizes(spool_method, torch_name):
        return sorted({k[1] for k in spool if k[0] == spool_method} | {k[1] for k in torch if k[0] == torch_name})

    def length_label(n):
        return f"{n >> 20}M" if n % (1 << 20) == 0 else f"{n:,}"

    out += ["", "### Speed (medians; Spool on OpenCL, PyTorch on CUDA, same GPU, same run)", "",
            "| work | Spool | PyTorch | Spool ÷ PyTorch (speed) | target | met |",
            "| --- | --- | --- | --- | --- | --- |"]
    # the sizes of the GPU run always have a row; others (a smaller PoCL run) where measured
    for n in sorted(set(sizes("GpuMatmulBench.sgemm", "sgemm")) | {1024, SGEMM_TARGET_N}):
        sg = pair(("GpuMatmulBench.sgemm", n), ("sgemm", n), lambda t, n: gflops(n, t))
        target = (f"≥ {SGEMM_TARGET} × PyTorch | {verdict(ratio(*sg), SGEMM_TARGET)}"
                  if n == SGEMM_TARGET_N else "|")
        out.append(f"| SGEMM {n}³ float32 | {fmt(sg[0])} GFLOP/s | {fmt(sg[1])} GFLOP/s "
                   f"| {fmt(ratio(*sg), 2)} | {target} |")
    # add and sum are held to the copy of the same length, measured by the same JMH run
    for n in sorted(set(sizes("GpuStreamBench.copyBareJocl", "copy")) | {64 << 20}):
        cp = pair(("GpuStreamBench.copyBareJocl", n), ("copy", n), lambda t, n: gbs(8 * n, t))
        for name, moved, what in (("add", 12, "3 × 4 bytes moved"), ("sum", 4, "4 bytes read")):
            bw = pair((f"GpuStreamBench.{name}", n), (name, n), lambda t, n, m=moved: gbs(m * n, t))
            vs_copy = ratio(bw[0], cp[0])
            out.append(f"| `{name}` {length_label(n)} float32 ({what} an element) | {fmt(bw[0])} GB/s "
                       f"| {fmt(bw[1])} GB/s | {fmt(ratio(*bw), 2)} | ≥ {STREAM_TARGET} × copy: "
                       f"{fmt(vs_copy, 2)} × | {verdict(vs_copy, STREAM_TARGET)} |")
        out.append(f"| device-to-device copy {length_label(n)} float32 | {fmt(cp[0])} GB/s (bare JOCL "
                   f"`clEnqueueCopyBuffer`) | {fmt(cp[1])} GB/s (`y.copy_(x)`) | {fmt(ratio(*cp), 2)} "
                   f"| reference | |")
    # Spool's JMH score is per add already (@OperationsPerInvocation); PyTorch's time is for 20k
    d1 = pair(("GpuDispatchBench.add1", None), ("add1", None), lambda t, _: t * 1e6)
    d1 = (d1[0], None if d1[1] is None else d1[1] / DISPATCH_OPS)
    out.append(f"| 1-element `add`, 20k enqueued then one wait | {fmt(d1[0], 2)} µs/op | {fmt(d1[1], 2)} µs/op "
               f"| {fmt(ratio(d1[1], d1[0]), 2)} | | |")
    mlp = pair(("GpuMlpBench.trainStep", None), ("mlp_step", None), lambda t, _: t * 1e3)
    out.append(f"| MLP step 784→256→10, batch 128 | {fmt(mlp[0], 3)} ms | {fmt(mlp[1], 3)} ms "
               f"| {fmt(ratio(mlp[1], mlp[0]), 2)} | | |")
    out.append(f"| tests (every kernel launched) | "
               f"{', '.join(f'{d}: {p} passed, {f} failed, {sk} skipped' for d, p, f, sk in counts) or DASH} "
               f"| | | every test passes | {'yes' if all_pass else ('**no**' if total else 'not run')} |")
    if partial:
        out += ["", "Cut short (the JMH run was stopped before writing its JSON; medians of the measured "
                "iterations in its text log): " + ", ".join(f"{m}{'' if n is None else f' ({n})'}"
                                                            for m, n in sorted(partial, key=str))]
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write(summary(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
