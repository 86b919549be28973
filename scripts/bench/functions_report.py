#!/usr/bin/env python3
"""The traced-function table of docs/PERFORMANCE.md from scripts/bench/functions.sh's results.

usage: functions_report.py RESULTS_DIR [PERFORMANCE.md]
Prints the table; with the doc, rewrites it between <!-- generated:functions --> markers.
Every speed is a ratio to a peer measured in the same run: the hand-fused eager step, one
tanh, a C STREAM add. Each target is marked met or missed.
"""
import json
import os
import re
import statistics
import sys

UNIT = {"s/op": 1.0, "ms/op": 1e-3, "us/op": 1e-6, "ns/op": 1e-9}


def read_jmh(path):
    """{(class, method, params tuple): median seconds per op}"""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for r in json.load(f):
            cls, method = r["benchmark"].split(".")[-2:]
            params = r.get("params", {})
            m = r["primaryMetric"]
            it = [v for fork in m.get("rawData", []) for v in fork] or [m["score"]]
            key = (cls, method, tuple(sorted(params.items())))
            out[key] = statistics.median(it) * UNIT[m["scoreUnit"]]
    return out


def ms(s):
    return "—" if s is None else f"{s * 1e3:.3f} ms" if s < 0.01 else f"{s * 1e3:.2f} ms"


def met(ok):
    return "—" if ok is None else ("**met**" if ok else "**missed**")


def table(d):
    step = read_jmh(os.path.join(d, "step.json"))
    chain = read_jmh(os.path.join(d, "chain.json"))
    costs = json.load(open(os.path.join(d, "costs.json"))) if os.path.exists(os.path.join(d, "costs.json")) else []
    streams = [json.load(open(os.path.join(d, f))) for f in ("stream-before.json", "stream-after.json")
               if os.path.exists(os.path.join(d, f))]
    machine = json.load(open(os.path.join(d, "machine.json")))
    date, model, cores, isa = (open(os.path.join(d, "cpu.txt")).read().split("\n") + [""] * 4)[:4]
    load = " / ".join(open(os.path.join(d, f)).read().split("load average:")[-1].strip()
                      for f in ("load-before.txt", "load-after.txt") if os.path.exists(os.path.join(d, f)))
    lines = []
    ocl = [x["name"] for x in machine.get("devices", []) if x["id"] == "opencl:0"]
    lines.append(f"Run {date}: {model}, {cores} cores, {isa}; JDK {machine.get('java', '')}"
                 f"{'; opencl:0 = ' + ocl[0] if ocl else ''}; load average before / after: {load}."
                 " Medians of JMH iterations, each row's peer measured in the same run.")
    lines.append("")
    lines.append("| MLP step 784→256→10 | device | batch | plain eager | hand-fused eager | plain as a function |"
                 " function ÷ hand-fused | target | launches plain / hand-fused / function |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    cost = {(c["device"], c["batch"]): c for c in costs}
    for dev in ("cpu", "opencl:0"):
        for batch in ("16", "128"):
            p = (("batch", batch), ("device", dev))
            plain = step.get(("FunctionStepBench", "plainEager", p))
            fused = step.get(("FunctionStepBench", "handFusedEager", p))
            fn = step.get(("FunctionStepBench", "plainFunction", p))
            if fused is None or fn is None:
                continue
            ratio = fn / fused
            target = 1.0 if dev == "cpu" or batch == "128" else 0.5
            if dev == "cpu" and batch == "16":
                target = None
            c = cost.get((dev, int(batch)), {})
            launches = (f"{c.get('launchesPlainEager')} / {c.get('launchesHandFusedEager')} / "
                        f"{c.get('launchesFunction')}" if dev != "cpu" and c else "—")
            tgt = "—" if target is None else f"≤ {target}× {met(ratio <= target)}"
            lines.append(f"| | {dev} | {batch} | {ms(plain)} | {ms(fused)} | {ms(fn)} | {ratio:.2f}× | {tgt} |"
                         f" {launches} |")
    lines.append("")
    lines.append("| chain | device | eager (ops) | as a function | peer | function ÷ peer | target |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- |")
    stream = max((s["medianGBs"] for s in streams), default=None)
    for dev in ("cpu", "opencl:0"):
        def get(v):
            return chain.get(("FunctionChainBench", "run", (("device", dev), ("size", "4194304"), ("variant", v))))
        tanh, ge, gf = get("tanh"), get("geluEager"), get("geluFunction")
        if gf is not None and tanh is not None:
            r = gf / tanh
            lines.append(f"| GELU (tanh form, 8 ops), 4M floats | {dev} | {ms(ge)} | {ms(gf)} | one `tanh`: {ms(tanh)}"
                         f" | {r:.2f}× | ≤ 1.3× {met(r <= 1.3)} |")
        ce, cf = get("chainEager"), get("chainFunction")
        if cf is not None and stream is not None:
            gbs = 2 * 4 * (16 << 20) / cf / 1e9
            r = gbs / stream
            lines.append(f"| (x·1.5 + 0.25)·x − 1, 16M floats | {dev} | {ms(ce)} | {ms(cf)} ({gbs:.1f} GB/s read + write)"
                         f" | C STREAM add: {stream:.1f} GB/s | {r:.2f}× bandwidth | ≥ 0.8× {met(r >= 0.8)} |")
    lines.append("")
    if costs:
        lines.append("| trace and build (MLP step) | device | batch | trace (first call) | first replay, first"
                     " function in the JVM | first replay, later functions | nodes traced → per call |"
                     " planned bytes |")
        lines.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for c in costs:
            target = f" (≤ 100 ms {met(c['traceMs'] <= 100)})" if c["device"] == "cpu" else ""
            lines.append(f"| | {c['device']} | {c['batch']} | {c['traceMs']:.1f} ms{target} |"
                         f" {c['coldFirstReplayMs']:.1f} ms | {c['firstReplayMs']:.1f} ms | {c['tracedNodes']} →"
                         f" {c['nodes']} | {c['plannedBytes']} |")
    return "\n".join(lines)


def main():
    d = sys.argv[1]
    t = table(d)
    print(t)
    if len(sys.argv) > 2:
        doc = sys.argv[2]
        text = open(doc).read()
        start, end = "<!-- generated:functions -->", "<!-- /generated:functions -->"
        if start not in text:
            raise SystemExit(f"{doc} has no {start} marker")
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda m: start + "\n" + t + "\n" + end, text,
                      flags=re.S)
        open(doc, "w").write(text)


if __name__ == "__main__":
    main()
