#!/usr/bin/env python3
"""Rewrites the generated blocks of docs/RELIABILITY.md from one run of scripts/reliability.sh.

Reads <results>/memory.txt (the Reliability example's device= lines), tests.log (the
conformance tests' output: 'bad-input sweep on', 'soak on', 'close while reading on' and
surefire's 'Tests run' lines), load-*.txt; replaces the text between <!-- generated:NAME --> and
<!-- /generated:NAME --> for NAME in run, memory, badinput, soak, threads; leaves everything else.

usage: reliability_report.py --results DIR --doc docs/RELIABILITY.md
"""
import argparse
import datetime
import glob
import os
import re
import subprocess


def read(path):
    return open(path).read() if os.path.exists(path) else ""


def kv(line):
    return dict(p.split("=", 1) for p in line.split() if "=" in p)


def mib(b):
    return f"{int(b) / 2**20:.1f} MiB"


def block_run(results):
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in read("/proc/cpuinfo").splitlines() if l.startswith("model name")), "?")
    cores = os.cpu_count()
    load = lambda f: re.sub(r".*load average: ", "", read(os.path.join(results, f)).strip())
    return (f"Run {datetime.date.today().isoformat()} at commit `{commit}` on {cores} vCPU ({cpu}), PoCL as "
            f"`opencl:0`, JDK 17. Load average at start {load('load-start.txt')}, at end {load('load-end.txt')} "
            "(other builds shared the machine: times are noisy, counts and bytes are not).\n")


def block_memory(results):
    rows = ["| device | budget | mode | steps | steps/s | peak live | reclaims | tensors freed by GC "
            "| Java heap in use | final W checksum |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for line in read(os.path.join(results, "memory.txt")).splitlines():
        if not line.startswith("device="):
            continue
        r = kv(line)
        dev = "PoCL" if r["device"].startswith("opencl") else f"cpu, -Xmx{round(float(r['max_heap_mb']) * 1e6 / 2**20)}m"
        rows.append(f"| {dev} | {mib(r['budget'])} | {'`TensorScope` per step' if r['mode'] == 'scoped' else 'no scope'} "
                    f"| {r['steps']} | {r['steps_per_s']} | {int(r['peak_live_bytes']):,} B | {r['reclaims']} "
                    f"| {int(r['freed_by_gc']):,} | {r['heap_used_mb']} MB | {r['w_checksum']} |")
    return "\n".join(rows) + "\n"


def log(results):
    return read(os.path.join(results, "tests.log"))


def tests_run(log, cls):
    """Passed test counts of one class, summed over the module's executions."""
    runs = re.findall(r"Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+).*-- in dev\.spool\.conformance\."
                      + cls + r"\b", log)
    return sum(int(r[0]) - int(r[1]) - int(r[2]) - int(r[3]) for r in runs), sum(int(r[1]) + int(r[2]) for r in runs)


def block_badinput(results):
    out, text = [], log(results)
    for line in sorted(set(re.findall(r"bad-input sweep on .*", text))):
        out.append(f"- {line}")
    for cls in ("BadInputSweepTest", "BadInputTableTest"):
        ok, bad = tests_run(text, cls)
        out.append(f"- `{cls}`: {ok} tests passed, {bad} failed (cpu with and without the Vector API, PoCL with "
                   "CPU-style and GPU-style kernels)")
    return "\n".join(out) + "\n"


def block_soak(results):
    rows = ["| device | steps | batch | time | live buffers (min..max) | live bytes (min..max) | tensors left to GC "
            "| heap after GC, first → last | growth | loss |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    pat = re.compile(r"soak on (\S+): (\d+) steps, batch (\d+), ([\d.]+) s \(([\d.]+) ms/step\); live buffers (\d+)\.\.(\d+), "
                     r"live bytes (\d+)\.\.(\d+) .*?tensors left to the GC (\d+); heap after GC ([\d.]+) MB -> ([\d.]+) MB "
                     r"\(growth (-?[\d.]+) MB, bound (\d+) MB\); loss ([\d.]+) -> ([\d.]+)")
    for path in sorted(glob.glob(os.path.join(results, "soak-*.txt"))):
        m = pat.search(read(path))
        if m:
            g = m.groups()
            rows.append(f"| {g[0]} | {int(g[1]):,} | {g[2]} | {float(g[3]):.0f} s ({g[4]} ms/step) | {g[5]}..{g[6]} "
                        f"| {int(g[7]):,}..{int(g[8]):,} | {g[9]} | {g[10]} → {g[11]} MB | {g[12]} MB (bound {g[13]} MB) "
                        f"| {g[14]} → {g[15]} |")
    return "\n".join(rows) + "\n"


def block_threads(results):
    text = log(results)
    ok, bad = tests_run(text, "ThreadsTest")
    out = [f"- `ThreadsTest`: {ok} tests passed, {bad} failed (cpu with and without the Vector API, PoCL with "
           "CPU-style and GPU-style kernels)"]
    for line in sorted(set(re.findall(r"close while reading on .*", text))):
        out.append(f"- {line}")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--doc", required=True)
    a = ap.parse_args()
    doc = read(a.doc)
    blocks = {"run": block_run, "memory": block_memory, "badinput": block_badinput, "soak": block_soak,
              "threads": block_threads}
    for name, make in blocks.items():
        pat = re.compile(r"(<!-- generated:" + name + r" -->\n).*?(<!-- /generated:" + name + r" -->)", re.S)
        if not pat.search(doc):
            raise SystemExit(f"{a.doc}: no generated:{name} block")
        text = make(a.results)
        doc = pat.sub(lambda m: m.group(1) + text + m.group(2), doc)
    open(a.doc, "w").write(doc)


if __name__ == "__main__":
    main()
