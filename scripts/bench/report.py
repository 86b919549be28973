#!/usr/bin/env python3
"""Rewrites the generated tables of docs/PERFORMANCE.md from one run of scripts/bench/run.sh.

Reads <results>/jmh.json (Spool and the DJL peers, JMH), numpy.json, clblast.txt, machine.json,
load-*.txt and the rounds (sgemm-rounds/, conv-rounds/, cnn-rounds/, attention-rounds/,
transformer-rounds/); replaces the text between <!-- generated:NAME --> and <!-- /generated:NAME -->
for NAME in run, cpu, opencl, conv, cnn, attention, transformer (or only the blocks named by
--blocks); leaves everything else in the file as it is.

usage: report.py --results DIR --doc docs/PERFORMANCE.md [--quick]
                 [--blocks run,cpu,opencl,conv,cnn,attention,transformer]
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys

UNIT_SECONDS = {"s/op": 1.0, "ms/op": 1e-3, "us/op": 1e-6, "ns/op": 1e-9}
SGEMM_SIZES = [256, 512, 1024, 2048]
BLOCKS = ["run", "cpu", "opencl", "conv", "cnn", "attention", "transformer"]
# The convolution rows: (key, label); target: Spool's time at most this multiple of DJL's.
CONV_OPS = [("forward", "forward"), ("inputGradient", "input gradient"), ("filterGradient", "filter gradient")]
CONV_LAYER = "conv2d 3×3, 64→64 channels, 56×56, batch 16"
CONV_TARGET = 1.5
# The CNN training step: Spool's `cpu` time at most this multiple of DJL's; OpenCL's at most this
# multiple of `cpu`'s.
CNN_STEP = "Fashion-MNIST CNN training step, batch 128"
CNN_CPU_TARGET = 1.3
CNN_OPENCL_TARGET = 1.0
# WarmupBench.first100 times this many steps in one shot
WARMUP_STEPS = 100
ATTENTION = "scaled dot-product attention forward + backward, B 8, H 4, T 256, d 64, float32"
ATTENTION_CPU_TARGET = 1.5
ATTENTION_OPENCL_TARGET = 1.0
# The character transformer's training step (examples' CharTransformer): issue 21 asks for the
# figures, with no target.
TRANSFORMER_STEP = "character transformer training step (4 blocks, width 64), batch 64 words × 17"
TRANSFORMER_BATCH = 64
# The step rows measured in rounds of their own: (folder under the results, row key).
STEP_ROUNDS = [("cnn-rounds", "cnn"), ("attention-rounds", "attention"), ("transformer-rounds", "transformer")]
ELEMENTWISE = [  # (op, label, cpu target vs numpy speed)
    ("add", "`add`", 0.85),
    ("mul", "`mul`", 0.85),
    ("relu", "`relu`", 0.85),
    ("exp", "`exp`", 0.5),
    ("tanh", "`tanh`", 0.8),
    ("sigmoid", "`sigmoid`", 0.5),
    ("logAbs", "`log(abs(x))`", None),
    ("addScalar", "`x + 0.5`", None),
    ("log", "`log`", None),
    ("log1p", "`log1p`", None),
    ("sqrt", "`sqrt`", None),
    ("rsqrt", "`rsqrt`", None),
    ("sin", "`sin`", None),
    ("cos", "`cos`", None),
]
# OpenCL targets: time relative to add on the same device (None: shown, no target)
OPENCL_VS_ADD = {"mul": None, "relu": 1.5, "exp": 2.0, "tanh": 2.0, "sigmoid": 2.0,
                 "logAbs": 4.0, "addScalar": 2.0, "log": 2.0, "log1p": 2.0, "sqrt": 2.0,
                 "rsqrt": 2.0, "sin": 2.0, "cos": 2.0}
OPENCL_VS_ADD_NOTE = {"logAbs": " (two unaries)", "addScalar": " (a unary)"}


# ---- reading -------------------------------------------------------------------------------

def jmh_key(bench, params):
    """(device, row key) for one JMH result, or None for benchmarks no table shows."""
    cls, method = bench.split(".")[-2:]
    device = params.get("device")
    if cls.startswith("Djl"):
        device = "djl"
    n = params.get("n")
    key = {
        ("MatmulBench", "matmul"): f"sgemm:{n}",
        ("MatmulBench", "matmulTransposedB"): f"sgemmT:{n}",
        ("DjlMatmulBench", "matmul"): f"sgemm:{n}",
        ("DjlMatmulBench", "matmulTransposedB"): f"sgemmT:{n}",
        ("ElementwiseBench", "op"): f"elementwise:{params.get('op')}",
        ("SumBench", "sum"): "sum",
        ("ColumnSumBench", "columnSum"): "colsum",
        ("DispatchBench", "add"): "dispatch",
        ("DispatchBench", "addUnderTape"): "dispatchTape",
        ("DjlDispatchBench", "add"): "dispatch",
        ("JoclLaunchBench", "launchAdd"): "bareLaunch",
        ("MlpStepBench", "step"): "mlp",
        ("WarmupBench", "first100"): "warmup:first100",
        ("WarmupBench", "steady"): "warmup:steady",
        ("SoftmaxXentBench", "forwardAndGradient"): f"xent:{params.get('shape')}:{params.get('impl')}",
        ("AdamStepBench", "update"): f"adam:{params.get('path')}",
        ("DjlMlpStepBench", "step"): "mlp",
        ("ConvBench", "forward"): "conv:forward",
        ("ConvBench", "inputGradient"): "conv:inputGradient",
        ("ConvBench", "filterGradient"): "conv:filterGradient",
        ("DjlConvBench", "forward"): "conv:forward",
        ("DjlConvBench", "inputGradient"): "conv:inputGradient",
        ("DjlConvBench", "inputGradientAsConv"): "conv:inputGradientAsConv",
        ("DjlConvBench", "filterGradient"): "conv:filterGradient",
        ("CnnStepBench", "step"): "cnn",
        ("DjlCnnStepBench", "step"): "cnn",
        ("AttentionBench", "forwardAndBackward"): "attention",
        ("DjlAttentionBench", "forwardAndBackward"): "attention",
        ("TransformerStepBench", "step"): "transformer",
        ("DjlTransformerStepBench", "step"): "transformer",
    }.get((cls, method))
    if cls == "JoclLaunchBench":
        device = params.get("openclDevice")
    return None if key is None else (device, key)


def read_jmh(path, out):
    """Adds one JMH result file to out: {device: {key: seconds per op}}."""
    with open(path) as f:
        for r in json.load(f):
            k = jmh_key(r["benchmark"], r.get("params", {}))
            if k is None:
                continue
            m = r["primaryMetric"]
            iterations = [v for fork in m.get("rawData", []) for v in fork] or [m["score"]]
            out.setdefault(k[0], {})[k[1]] = statistics.median(iterations) * UNIT_SECONDS[m["scoreUnit"]]


def read_numpy(path):
    """{key: seconds per call} from one numpy_bench.py output."""
    with open(path) as f:
        return json.load(f)["seconds"]


def read_rounds(d):
    """{n: [{device: {key: seconds}} per round]} from <d>/sgemm-rounds (run.sh's SGEMM rounds)."""
    rounds = {}
    folder = os.path.join(d, "sgemm-rounds")
    if not os.path.isdir(folder):
        return rounds
    for name in sorted(os.listdir(folder)):
        m = re.fullmatch(r"(\d+)-(\d+)-(spool|spoolT|djl|numpy)\.json", name)
        if not m:
            continue
        r, n, who = int(m.group(1)), int(m.group(2)), m.group(3)
        one = rounds.setdefault(n, {}).setdefault(r, {})
        path = os.path.join(folder, name)
        if who == "numpy":
            one["numpy"] = read_numpy(path)
        else:
            read_jmh(path, one)
    return {n: [by_round[r] for r in sorted(by_round)] for n, by_round in rounds.items()}


def read_conv_rounds(d):
    """[{device: {key: seconds}} per round] from <d>/conv-rounds (run.sh's convolution rounds);
    the input gradient's peer time in each round is the faster of DJL's two forms."""
    rounds = {}
    folder = os.path.join(d, "conv-rounds")
    if not os.path.isdir(folder):
        return []
    for name in sorted(os.listdir(folder)):
        m = re.fullmatch(r"(\d+)-(spool|djl)\.json", name)
        if m:
            read_jmh(os.path.join(folder, name), rounds.setdefault(int(m.group(1)), {}))
    out = [rounds[r] for r in sorted(rounds)]
    for one in out:
        djl = one.get("djl", {})
        forms = [djl[k] for k in ("conv:inputGradient", "conv:inputGradientAsConv") if k in djl]
        if forms:
            djl["conv:inputGradientPeer"] = min(forms)
    return out


def read_cnn_rounds(d, folder_name="cnn-rounds"):
    """[{device: {"cnn": seconds}} per round] from <d>/cnn-rounds (run.sh's CNN step rounds: per
    round a file each for Spool on cpu, Spool on OpenCL and DJL, named <round>-<who>.json); the
    attention and transformer rounds (STEP_ROUNDS) have the same form."""
    rounds = {}
    folder = os.path.join(d, folder_name)
    if not os.path.isdir(folder):
        return []
    for name in sorted(os.listdir(folder)):
        m = re.fullmatch(r"(\d+)-[\w-]+\.json", name)
        if m:
            read_jmh(os.path.join(folder, name), rounds.setdefault(int(m.group(1)), {}))
    return [rounds[r] for r in sorted(rounds)]


def read_results(d):
    """{device: {key: seconds per op}}, devices: cpu, opencl:N, djl, numpy, clblast; and under
    "rounds" the SGEMM rounds, whose medians replace the main run's cpu, djl and numpy SGEMM
    figures where they have them (DJL's transposed product runs only in the main run)."""
    out = {}
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if re.fullmatch(r"jmh.*\.json", name):
            read_jmh(os.path.join(d, name), out)
    path = os.path.join(d, "numpy.json")
    if os.path.exists(path):
        out.setdefault("numpy", {}).update(read_numpy(path))
    path = os.path.join(d, "clblast.txt")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                m = re.search(r"sgemm (\d+)x\d+x\d+ on .*: median ([\d.]+) ms", line)
                if m:
                    out.setdefault("clblast", {})[f"sgemm:{m.group(1)}"] = float(m.group(2)) * 1e-3
    conv = read_conv_rounds(d)
    out["conv_rounds"] = conv
    for device in ("cpu", "djl"):
        keys = {k for x in conv for k in x.get(device, {})}
        for key in keys:
            out.setdefault(device, {})[key] = statistics.median(
                [x[device][key] for x in conv if key in x.get(device, {})])
    for folder, key in STEP_ROUNDS:
        rounds = read_cnn_rounds(d, folder)
        out[f"{key}_rounds"] = rounds
        for device in sorted({dev for x in rounds for dev in x}):
            values = [x[device][key] for x in rounds if key in x.get(device, {})]
            if values:
                out.setdefault(device, {})[key] = statistics.median(values)
    rounds = read_rounds(d)
    out["rounds"] = rounds
    for n, per_round in rounds.items():
        for device in ("cpu", "djl", "numpy"):
            for key in (f"sgemm:{n}", f"sgemmT:{n}"):
                values = [x[device][key] for x in per_round if key in x.get(device, {})]
                if values:
                    out.setdefault(device, {})[key] = statistics.median(values)
    return out


def paired(r, n, num, den):
    """The ratio num/den (each a (device, key) pair) for SGEMM size n: with rounds, the median
    of each round's own ratio and the range of those ratios; else the ratio of the single
    values. (value, (low, high) or None), or (None, None) when a value is missing."""
    per_round = r.get("rounds", {}).get(n)
    if per_round:
        ratios = [x[num[0]][num[1]] / x[den[0]][den[1]] for x in per_round
                  if num[1] in x.get(num[0], {}) and den[1] in x.get(den[0], {})]
        if not ratios:
            return None, None
        return statistics.median(ratios), (min(ratios), max(ratios)) if len(ratios) > 1 else None
    a, b = r.get(num[0], {}).get(num[1]), r.get(den[0], {}).get(den[1])
    return (None, None) if a is None or b is None else (a / b, None)


def conv_paired(r, key, peer_key):
    """Spool's time over DJL's for one convolution op: the median of the rounds' own ratios and
    their range, or (None, None)."""
    ratios = [x["cpu"][key] / x["djl"][peer_key] for x in r.get("conv_rounds", [])
              if key in x.get("cpu", {}) and peer_key in x.get("djl", {})]
    if not ratios:
        return None, None
    return statistics.median(ratios), (min(ratios), max(ratios)) if len(ratios) > 1 else None


def cnn_paired(r, num, den, key="cnn"):
    """The CNN step's (or, with another key of STEP_ROUNDS, that work's) time on device num over
    its time on device den: the median of the rounds' own ratios and their range, or (None, None)."""
    ratios = [x[num][key] / x[den][key] for x in r.get(f"{key}_rounds", [])
              if key in x.get(num, {}) and key in x.get(den, {})]
    if not ratios:
        return None, None
    return statistics.median(ratios), (min(ratios), max(ratios)) if len(ratios) > 1 else None


def read_text(d, name, default=""):
    try:
        with open(os.path.join(d, name)) as f:
            return f.read().strip()
    except OSError:
        return default


# ---- formatting ----------------------------------------------------------------------------

def fmt_time(s):
    if s is None:
        return "—"
    if s >= 1:
        return f"{s:.3g} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} µs"


def sgemm_cell(s, n):
    return "—" if s is None else f"{fmt_time(s)} ({2.0 * n ** 3 / s / 1e9:.3g} GFLOP/s)"


def met(ok):
    return "—" if ok is None else ("yes" if ok else "**no**")


def row(cells):
    return "| " + " | ".join(cells) + " |"


def speed(peer, spool):
    """Spool's speed as a multiple of the peer's (peer time / Spool time), or None."""
    return None if peer is None or spool is None else peer / spool


def all_ok(checks):
    """Combines (value, ok) checks: None when a value is missing, else all ok."""
    if any(c is None for c in checks):
        return None
    return all(checks)


# ---- tables --------------------------------------------------------------------------------

def cpu_table(r, sizes):
    spool, npy, djl = r.get("cpu", {}), r.get("numpy", {}), r.get("djl", {})
    lines = [
        row(["work", "Spool `cpu`", "numpy", "DJL-PyTorch", "ratio", "target", "met"]),
        row(["---"] * 7),
    ]
    for n in sizes:
        k = f"sgemm:{n}"
        vs_np, np_range = paired(r, n, ("numpy", k), ("cpu", k))
        vs_djl, djl_range = paired(r, n, ("djl", k), ("cpu", k))
        target, ok = "", None
        if n == 1024:
            target = "≥ 0.6× numpy, ≥ 0.7× DJL"
            ok = all_ok([None if vs_np is None else vs_np >= 0.6, None if vs_djl is None else vs_djl >= 0.7])
        elif n == 256:
            target = "≥ 0.8× numpy (AVX-512)"
            ok = None if vs_np is None else vs_np >= 0.8
        lines.append(row([f"SGEMM {n}³", sgemm_cell(spool.get(k), n), sgemm_cell(npy.get(k), n),
                          sgemm_cell(djl.get(k), n),
                          ratio_text([("numpy", vs_np, np_range), ("DJL", vs_djl, djl_range)]),
                          target or "—", met(ok)]))
    for n in sizes:
        k = f"sgemmT:{n}"
        t = spool.get(k)
        rel, rel_range = paired(r, n, ("cpu", k), ("cpu", f"sgemm:{n}"))
        lines.append(row([f"SGEMM {n}³, b transposed", sgemm_cell(t, n), sgemm_cell(npy.get(k), n),
                          sgemm_cell(djl.get(k), n),
                          "—" if rel is None else f"time {rel:.2f}× plain{spread(rel_range)}",
                          "within 10 % of plain", met(None if rel is None else rel <= 1.10)]))
    for op, label, target in ELEMENTWISE:
        k = f"elementwise:{op}"
        vs = speed(npy.get(k), spool.get(k))
        lines.append(row([f"{label}, 4M float32", fmt_time(spool.get(k)), fmt_time(npy.get(k)), "—",
                          ratio_text([("numpy", vs)]),
                          "—" if target is None else f"≥ {target}× numpy",
                          met(None if target is None or vs is None else vs >= target)]))
    for k, label in [("sum", "`sum`, 16M float32"), ("colsum", "column sum, [4096, 1024] axis 0")]:
        vs = speed(npy.get(k), spool.get(k))
        lines.append(row([label, fmt_time(spool.get(k)), fmt_time(npy.get(k)), "—", ratio_text([("numpy", vs)]),
                          "≥ 0.85× numpy", met(None if vs is None else vs >= 0.85)]))
    d = spool.get("dispatch")
    lines.append(row(["1-element `add`, per op", fmt_time(d), fmt_time(npy.get("dispatch")),
                      fmt_time(djl.get("dispatch")),
                      ratio_text([("numpy", speed(npy.get("dispatch"), d)), ("DJL", speed(djl.get("dispatch"), d))]),
                      "≤ 1 µs", met(None if d is None else d <= 1e-6)]))
    dt = spool.get("dispatchTape")
    extra = None if dt is None or d is None else dt - d
    lines.append(row(["1-element `add` under a GradientTape, per op", fmt_time(dt), "—", "—",
                      "—" if extra is None else f"{signed_us(extra)} over no tape",
                      "≤ +0.5 µs", met(None if extra is None else extra <= 0.5e-6)]))
    m, dm = spool.get("mlp"), djl.get("mlp")
    rel = None if m is None or dm is None else m / dm
    lines.append(row(["MLP step 784→256→10, batch 128, SGD", fmt_time(m), "—", fmt_time(dm),
                      "—" if rel is None else f"time {rel:.2f}× DJL",
                      "≤ 1.5× DJL time", met(None if rel is None else rel <= 1.5)]))
    first, steady = spool.get("warmup:first100"), spool.get("warmup:steady")
    per_step = None if first is None else first / WARMUP_STEPS
    rel = None if per_step is None or steady is None else per_step / steady
    lines.append(row([f"MLP step with plain ops, the first {WARMUP_STEPS} of a fresh JVM, per step",
                      fmt_time(per_step), "—", "—",
                      "—" if rel is None else f"time {rel:.2f}× its steady state ({fmt_time(steady)})",
                      "≤ 3× steady state", met(None if rel is None else rel <= 3)]))
    lines += fused_rows(spool, True)
    return lines


def fused_rows(spool, cpu_table):
    """Fused primitives against the composites they replaced, same device and run (no target)."""
    out = []
    items = [(f"xent:{s}", f"softmax cross-entropy, forward + gradient, [{s.replace('x', ', ')}]")
             for s in ("128x10", "1024x1000")] + [("adam", "Adam update of a 784×256 variable")]
    for k, label in items:
        f, c = spool.get(f"{k}:fused"), spool.get(f"{k}:composite")
        sp = "—" if f is None or c is None else f"speed {c / f:.2f}× the composite"
        if cpu_table:
            out.append(row([label + ", fused", fmt_time(f), "—", "—", f"{sp} ({fmt_time(c)})", "—", "—"]))
        else:
            out.append(row([label + ", fused", fmt_time(f), f"composite {fmt_time(c)}", sp, "—", "—"]))
    return out


def signed_us(seconds):
    """A difference in µs with its sign: "+0.41 µs", "−2.50 µs" (noise can make a tape look free)."""
    return f"{'+' if seconds >= 0 else '−'}{abs(seconds) * 1e6:.2f} µs"


def spread(low_high):
    """" (0.62–0.80)": the range of the rounds' ratios, or "" for a single measurement."""
    return "" if low_high is None else f" ({low_high[0]:.2f}–{low_high[1]:.2f})"


def ratio_text(pairs):
    """"speed 0.71× numpy, 0.90× DJL" from (name, value) or (name, value, range) items."""
    parts = [f"{p[1]:.2f}× {p[0]}{spread(p[2] if len(p) > 2 else None)}" for p in pairs if p[1] is not None]
    return "speed " + ", ".join(parts) if parts else "—"


def conv_gflops(s):
    """A convolution pass's time with its rate (2 · 16·56·56·9·64·64 FLOP)."""
    flops = 2.0 * 16 * 56 * 56 * 9 * 64 * 64
    return "—" if s is None else f"{fmt_time(s)} ({flops / s / 1e9:.3g} GFLOP/s)"


def rounds_header(d, count, quick, threads):
    """The sentence above a table of paired rounds: when, the CPU and its vector ISA, the threads,
    the rounds and the load average around them, and how times and ratios are taken."""
    load = re.search(r"load average: ([\d.]+)", read_text(d, "load-before.txt"))
    load_after = re.search(r"load average: ([\d.]+)", read_text(d, "load-after.txt"))
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    model, isa = cpu_model()
    return (f"Run of {when} on {model} ({isa}), {threads}: {count} round{'s' if count > 1 else ''}"
            + (" (quick: 1 × 0.5 s warm-up, 3 × 0.5 s measured)" if quick else "")
            + f", load average {load.group(1) if load else '?'} before, "
            f"{load_after.group(1) if load_after else '?'} after. A time is the median over the rounds; "
            "a ratio is the median of the rounds' own ratios, with their range in brackets.")


def step_cell(s, batch=128, unit="images"):
    """A training step's time with its rate in images (or another unit) per second."""
    return "—" if s is None else f"{fmt_time(s)} ({batch / s:,.0f} {unit}/s)"


def cnn_table(r, d, quick):
    """The CNN training step on `cpu` against DJL-PyTorch, and on OpenCL against `cpu`, from
    run.sh's CNN rounds."""
    rounds = r.get("cnn_rounds", [])
    if not rounds:
        return ["No CNN step rounds in this run."]
    machine = json.loads(read_text(d, "machine.json", "{}") or "{}")
    names = {x["id"]: x["name"] for x in machine.get("devices", [])}
    opencl = sorted({dev for x in rounds for dev in x if dev.startswith("opencl:")})
    threads = "two threads for `cpu` and PyTorch" + (
        ", the OpenCL driver's own" if opencl else "")
    cpu, djl = r.get("cpu", {}).get("cnn"), r.get("djl", {}).get("cnn")
    rel, rel_range = cnn_paired(r, "cpu", "djl")
    lines = [
        rounds_header(d, len(rounds), quick, threads),
        "",
        row(["work", "Spool", "reference", "ratio", "target", "met"]),
        row(["---"] * 6),
        row([f"{CNN_STEP}, `cpu`", step_cell(cpu), f"DJL-PyTorch {step_cell(djl)}",
             "—" if rel is None else f"time {rel:.2f}× DJL{spread(rel_range)}",
             f"≤ {CNN_CPU_TARGET:g}× DJL time", met(None if rel is None else rel <= CNN_CPU_TARGET)]),
    ]
    for dev in opencl:
        t = r.get(dev, {}).get("cnn")
        rel, rel_range = cnn_paired(r, dev, "cpu")
        name = f" ({names[dev]})" if dev in names else ""
        lines.append(row([f"{CNN_STEP}, `{dev}`{name}", step_cell(t), f"Spool `cpu` {step_cell(cpu)}",
                          "—" if rel is None else f"time {rel:.2f}× cpu{spread(rel_range)}",
                          f"≤ {CNN_OPENCL_TARGET:g}× `cpu` time",
                          met(None if rel is None else rel <= CNN_OPENCL_TARGET)]))
    return lines


def attention_table(r, d, quick):
    """Fused attention forward + backward on `cpu` against DJL-PyTorch, and on OpenCL against
    `cpu`, from run.sh's attention rounds."""
    rounds = r.get("attention_rounds", [])
    if not rounds:
        return ["No attention rounds in this run."]
    machine = json.loads(read_text(d, "machine.json", "{}") or "{}")
    names = {x["id"]: x["name"] for x in machine.get("devices", [])}
    opencl = sorted({dev for x in rounds for dev in x if dev.startswith("opencl:")})
    threads = "two threads for `cpu` and PyTorch" + (", the OpenCL driver's own" if opencl else "")
    cpu, djl = r.get("cpu", {}).get("attention"), r.get("djl", {}).get("attention")
    rel, rel_range = cnn_paired(r, "cpu", "djl", "attention")
    lines = [
        rounds_header(d, len(rounds), quick, threads),
        "",
        row(["work", "Spool", "reference", "ratio", "target", "met"]),
        row(["---"] * 6),
        row([f"{ATTENTION}, `cpu`", fmt_time(cpu),
             f"DJL-PyTorch {fmt_time(djl)} (matmul, softmax, matmul, autograd)",
             "—" if rel is None else f"time {rel:.2f}× DJL{spread(rel_range)}",
             f"≤ {ATTENTION_CPU_TARGET:g}× DJL time", met(None if rel is None else rel <= ATTENTION_CPU_TARGET)]),
    ]
    for dev in opencl:
        t = r.get(dev, {}).get("attention")
        rel, rel_range = cnn_paired(r, dev, "cpu", "attention")
        name = f" ({names[dev]})" if dev in names else ""
        lines.append(row([f"{ATTENTION}, `{dev}`{name}", fmt_time(t), f"Spool `cpu` {fmt_time(cpu)}",
                          "—" if rel is None else f"time {rel:.2f}× cpu{spread(rel_range)}",
                          f"≤ {ATTENTION_OPENCL_TARGET:g}× `cpu` time",
                          met(None if rel is None else rel <= ATTENTION_OPENCL_TARGET)]))
    return lines


def transformer_table(r, d, quick):
    """The character transformer's training step on `cpu` against DJL-PyTorch, and on OpenCL
    against `cpu`, from run.sh's transformer rounds; reported, with no target."""
    rounds = r.get("transformer_rounds", [])
    if not rounds:
        return ["No transformer step rounds in this run."]
    machine = json.loads(read_text(d, "machine.json", "{}") or "{}")
    names = {x["id"]: x["name"] for x in machine.get("devices", [])}
    opencl = sorted({dev for x in rounds for dev in x if dev.startswith("opencl:")})
    threads = "two threads for `cpu` and PyTorch" + (", the OpenCL driver's own" if opencl else "")
    cpu, djl = r.get("cpu", {}).get("transformer"), r.get("djl", {}).get("transformer")
    rel, rel_range = cnn_paired(r, "cpu", "djl", "transformer")

    def cell(s):
        return step_cell(s, TRANSFORMER_BATCH, "words")

    lines = [
        rounds_header(d, len(rounds), quick, threads),
        "",
        row(["work", "Spool", "reference", "ratio", "target", "met"]),
        row(["---"] * 6),
        row([f"{TRANSFORMER_STEP}, `cpu`", cell(cpu), f"DJL-PyTorch {cell(djl)}",
             "—" if rel is None else f"time {rel:.2f}× DJL{spread(rel_range)}", "reported (no target)", "—"]),
    ]
    for dev in opencl:
        t = r.get(dev, {}).get("transformer")
        rel, rel_range = cnn_paired(r, dev, "cpu", "transformer")
        name = f" ({names[dev]})" if dev in names else ""
        lines.append(row([f"{TRANSFORMER_STEP}, `{dev}`{name}", cell(t), f"Spool `cpu` {cell(cpu)}",
                          "—" if rel is None else f"time {rel:.2f}× cpu{spread(rel_range)}",
                          "reported (no target)", "—"]))
    return lines


def conv_table(r, d, quick):
    """The convolution layer on `cpu` against DJL-PyTorch, from run.sh's conv rounds."""
    spool, djl, rounds = r.get("cpu", {}), r.get("djl", {}), r.get("conv_rounds", [])
    if not rounds:
        return ["No convolution rounds in this run."]
    lines = [
        rounds_header(d, len(rounds), quick, "two threads each"),
        "",
        row(["work", "Spool `cpu`", "DJL-PyTorch", "ratio", "target", "met"]),
        row(["---"] * 6),
    ]
    for key, label in CONV_OPS:
        k = f"conv:{key}"
        if key == "inputGradient":
            peer_key = "conv:inputGradientPeer"
            peer = (f"{fmt_time(djl.get('conv:inputGradient'))} (autograd), "
                    f"{fmt_time(djl.get('conv:inputGradientAsConv'))} (as a conv)")
        else:
            peer_key = k
            peer = conv_gflops(djl.get(k))
        rel, rel_range = conv_paired(r, k, peer_key)
        lines.append(row([f"{CONV_LAYER}, {label}", conv_gflops(spool.get(k)), peer,
                          "—" if rel is None else f"time {rel:.2f}× DJL{spread(rel_range)}",
                          f"≤ {CONV_TARGET:g}× DJL time", met(None if rel is None else rel <= CONV_TARGET)]))
    return lines


def opencl_table(r, device, sizes):
    spool, cpu, clb = r.get(device, {}), r.get("cpu", {}), r.get("clblast", {})
    lines = [
        row(["work", f"Spool `{device}`", "reference", "ratio", "target", "met"]),
        row(["---"] * 6),
    ]
    d, bare = spool.get("dispatch"), spool.get("bareLaunch")
    above = None if d is None or bare is None else d - bare
    lines.append(row(["1-element `add`, per op (20 000 queued, one synchronize)", fmt_time(d),
                      f"bare JOCL launch {fmt_time(bare)}",
                      "—" if above is None else f"+{above * 1e6:.2f} µs over bare" if above >= 0
                      else f"{-above * 1e6:.2f} µs below bare",
                      "≤ 5 µs and ≤ 3 µs above bare",
                      met(all_ok([None if d is None else d <= 5e-6, None if above is None else above <= 3e-6]))]))
    dt = spool.get("dispatchTape")
    extra = None if dt is None or d is None else dt - d
    lines.append(row(["1-element `add` under a GradientTape, per op", fmt_time(dt), f"no tape {fmt_time(d)}",
                      "—" if extra is None else signed_us(extra), "—", "—"]))
    for n in sizes:
        k = f"sgemm:{n}"
        vs = speed(clb.get(k), spool.get(k))
        target = "≥ 2× CLBlast" if n == 1024 else "—"
        lines.append(row([f"SGEMM {n}³", sgemm_cell(spool.get(k), n), f"CLBlast {sgemm_cell(clb.get(k), n)}",
                          ratio_text([("CLBlast", vs)]), target,
                          met(None if n != 1024 or vs is None else vs >= 2.0)]))
    for n in sizes:
        t, plain = spool.get(f"sgemmT:{n}"), spool.get(f"sgemm:{n}")
        rel = None if t is None or plain is None else t / plain
        lines.append(row([f"SGEMM {n}³, b transposed", sgemm_cell(t, n), f"plain {fmt_time(plain)}",
                          "—" if rel is None else f"time {rel:.2f}× plain", "—", "—"]))
    add = spool.get("elementwise:add")
    lines.append(row(["`add`, 4M float32", fmt_time(add), f"`cpu` {fmt_time(cpu.get('elementwise:add'))}",
                      "—", "—", "—"]))
    for op, label, _ in ELEMENTWISE[1:]:
        t = spool.get(f"elementwise:{op}")
        rel = None if t is None or add is None else t / add
        limit = OPENCL_VS_ADD[op]
        lines.append(row([f"{label}, 4M float32", fmt_time(t), f"`add` {fmt_time(add)}",
                          "—" if rel is None else f"time {rel:.2f}× add",
                          "—" if limit is None else f"≤ {limit:g}× add{OPENCL_VS_ADD_NOTE.get(op, '')}",
                          met(None if limit is None or rel is None else rel <= limit)]))
    for k, label in [("sum", "`sum`, 16M float32"), ("colsum", "column sum, [4096, 1024] axis 0")]:
        lines.append(row([label, fmt_time(spool.get(k)), f"`cpu` {fmt_time(cpu.get(k))}",
                          ratio_text([("cpu", speed(cpu.get(k), spool.get(k)))]), "—", "—"]))
    m, mc = spool.get("mlp"), cpu.get("mlp")
    rel = None if m is None or mc is None else m / mc
    lines.append(row(["MLP step 784→256→10, batch 128, SGD", fmt_time(m), f"`cpu` {fmt_time(mc)}",
                      "—" if rel is None else f"time {rel:.2f}× cpu", "faster than `cpu`",
                      met(None if rel is None else rel < 1.0)]))
    lines += fused_rows(spool, False)
    return lines


def cpu_model():
    """(model name, widest x86 vector ISA) from lscpu, or ("unknown CPU", "?")."""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return "unknown CPU", "?"
    m = re.search(r"^Model name:\s*(.+)$", lscpu, re.M)
    f = re.search(r"^Flags:\s*(.+)$", lscpu, re.M)
    flags = set(f.group(1).split()) if f else set()
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "?"
    return (m.group(1).strip() if m else "unknown CPU"), isa


def run_lines(d, quick, rounds):
    machine = json.loads(read_text(d, "machine.json", "{}") or "{}")
    model, _ = cpu_model()
    load = re.search(r"load average: ([\d.]+)", read_text(d, "load-before.txt"))
    load_after = re.search(r"load average: ([\d.]+)", read_text(d, "load-after.txt"))
    numpy = json.loads(read_text(d, "numpy.json", "{}") or "{}")
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    devices = ", ".join(f"`{x['id']}` {x['name']} ({x['vendor']})" for x in machine.get("devices", []))
    lines = [
        f"Run of {when} by `scripts/bench/run.sh{' --quick' if quick else ''}`"
        + (" (quick: short iterations, SGEMM at 256 and 1024 in one round)" if quick else "") + ".",
        "",
        f"- Machine: {model}, {machine.get('processors', '?')} processors seen by the JVM; "
        f"load average {load.group(1) if load else '?'} before the run, "
        f"{load_after.group(1) if load_after else '?'} after (a loaded machine makes every figure noisy).",
        f"- JDK {machine.get('java', '?')}, {machine.get('vm', '?')}; JMH 1.37, 1 fork, "
        + ("1 × 0.5 s warm-up, 3 × 0.5 s measured" if quick
           else "3 × 1 s warm-up (10 × 1 s for the MLP step, Spool and DJL), 5 × 1 s measured")
        + "; each figure is the median of the measured iterations.",
        f"- Spool devices: {devices or '?'}.",
        *rounds_lines(rounds),
        f"- Peers: numpy {numpy.get('numpy', '?')} (python {numpy.get('python', '?')}), "
        "DJL 0.36.0 with PyTorch 2.7.1 (CPU), "
        f"CLBlast {read_text(d, 'clblast-version.txt', '?') or '?'} on `opencl:0`, a bare JOCL launch.",
    ]
    return lines


def rounds_lines(rounds):
    if not rounds:
        return []
    count = max(len(v) for v in rounds.values())
    return [f"- SGEMM on `cpu` in {count} round{'s' if count > 1 else ''}: per round and size, Spool's "
            "plain and transposed products (a fork each), numpy and DJL's plain product back to back, "
            "the order reversed every other round. A time is the median over the rounds; a ratio is "
            "the median of the rounds' own ratios, with their range in brackets. DJL's transposed "
            "product runs once, in the main run."]


def replace_block(doc, name, lines):
    start, end = f"<!-- generated:{name} -->", f"<!-- /generated:{name} -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(doc):
        sys.exit(f"report.py: the doc has no {start} … {end} block")
    body = "\n".join([start, "", *lines, "", end])
    return pattern.sub(lambda _: body, doc, count=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--doc", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--blocks", default=",".join(BLOCKS),
                    help="the generated blocks to rewrite (run.sh --conv-only: conv; --cnn-only: cnn; "
                         "--attention-only: attention; --transformer-only: transformer)")
    a = ap.parse_args()
    blocks = a.blocks.split(",")
    unknown = [b for b in blocks if b not in BLOCKS]
    if unknown:
        sys.exit(f"report.py: unknown blocks {unknown}; known: {BLOCKS}")
    r = read_results(a.results)
    if any(b in blocks for b in ("run", "cpu", "opencl")) and not r.get("cpu"):
        sys.exit(f"report.py: no Spool cpu results in {a.results}/jmh.json")
    opencl = [dev for dev in r if dev.startswith("opencl:")]
    # the sizes measured on any device (cpu's come from the rounds, OpenCL's from one JMH run)
    sizes = [n for n in SGEMM_SIZES if any(f"sgemm:{n}" in r.get(dev, {}) for dev in ["cpu", *opencl])]
    with open(a.doc) as f:
        doc = f.read()
    if "run" in blocks:
        doc = replace_block(doc, "run", run_lines(a.results, a.quick, r.get("rounds")))
    if "cpu" in blocks:
        doc = replace_block(doc, "cpu", cpu_table(r, sizes))
    if "opencl" in blocks:
        if opencl:
            doc = replace_block(doc, "opencl", opencl_table(r, opencl[0], sizes))
        else:
            doc = replace_block(doc, "opencl", ["No OpenCL device in this run."])
    if "conv" in blocks:
        doc = replace_block(doc, "conv", conv_table(r, a.results, a.quick))
    if "cnn" in blocks:
        doc = replace_block(doc, "cnn", cnn_table(r, a.results, a.quick))
    if "attention" in blocks:
        doc = replace_block(doc, "attention", attention_table(r, a.results, a.quick))
    if "transformer" in blocks:
        doc = replace_block(doc, "transformer", transformer_table(r, a.results, a.quick))
    with open(a.doc, "w") as f:
        f.write(doc)


if __name__ == "__main__":
    main()
