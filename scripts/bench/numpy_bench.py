#!/usr/bin/env python3
"""numpy peer for the benchmarks module: the same work as the Spool JMH benchmarks, timed
timeit-style (each sample runs the op enough times for >= 0.1 s; the median of the samples,
per call), printed as JSON on stdout. Row keys match scripts/bench/report.py.

usage: numpy_bench.py [--quick] [--no-sgemm | --sgemm N]
  --no-sgemm  everything but SGEMM (run.sh times SGEMM in rounds beside Spool and DJL)
  --sgemm N   SGEMM n×n×n only, plain and with b transposed
"""
import json
import platform
import statistics
import sys
import timeit

import numpy as np

ARGS = sys.argv[1:]
QUICK = "--quick" in ARGS
REPEAT = 3 if QUICK else 7
SIZES = [256, 512, 1024, 2048]
if "--no-sgemm" in ARGS:
    SIZES = []
elif "--sgemm" in ARGS:
    SIZES = [int(ARGS[ARGS.index("--sgemm") + 1])]
    # ~2.5 s of samples per product, closer to a JMH fork's 5 × 1 s than the 0.7 s above: the
    # machine has slow stretches that last seconds, and a short window can fall inside one
    REPEAT = 3 if QUICK else 25
N_ELEM = 4 * 1024 * 1024
N_SUM = 16 * 1024 * 1024


def median_seconds(fn, check=None):
    """Median time of one call of fn, in seconds; check(result) runs once first."""
    if check is not None:
        check(fn())
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()  # enough calls for >= 0.2 s
    number = max(1, number // 2)
    samples = timer.repeat(repeat=REPEAT, number=number)
    return statistics.median(samples) / number


def close(what, expected, actual, rtol=1e-5, atol=1e-6):
    if not np.allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True):
        raise SystemExit(f"numpy_bench: {what} is wrong")


def main():
    rng = np.random.default_rng(1)
    out = {}

    for n in SIZES:
        a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        ref = a[:8].astype(np.float64) @ b.astype(np.float64)
        out[f"sgemm:{n}"] = median_seconds(
            lambda: a @ b, lambda c: close(f"sgemm {n}", ref, c[:8], 1e-4, 1e-4))
        ref_t = a[:8].astype(np.float64) @ b.T.astype(np.float64)
        out[f"sgemmT:{n}"] = median_seconds(
            lambda: a @ b.T, lambda c: close(f"sgemm bT {n}", ref_t, c[:8], 1e-4, 1e-4))

    if "--sgemm" in ARGS:
        return emit(out)

    x = rng.uniform(-3, 3, N_ELEM).astype(np.float32)
    y = rng.uniform(-3, 3, N_ELEM).astype(np.float32)
    xd = x.astype(np.float64)
    yp = (np.abs(y) + np.float32(0.25)).astype(np.float32)  # inside log/sqrt's domain, as the JMH bench
    ypd = yp.astype(np.float64)
    ops = {
        "add": (lambda: np.add(x, y), xd + y),
        "mul": (lambda: np.multiply(x, y), xd * y),
        "exp": (lambda: np.exp(x), np.exp(xd)),
        "tanh": (lambda: np.tanh(x), np.tanh(xd)),
        # numpy has no sigmoid: the expression a numpy user writes (four passes)
        "sigmoid": (lambda: 1 / (1 + np.exp(-x)), 1 / (1 + np.exp(-xd))),
        "relu": (lambda: np.maximum(x, 0), np.maximum(xd, 0)),
        "logAbs": (lambda: np.log(np.abs(x)), np.log(np.abs(xd))),
        "addScalar": (lambda: x + np.float32(0.5), xd + 0.5),
        "log": (lambda: np.log(yp), np.log(ypd)),
        "log1p": (lambda: np.log1p(yp), np.log1p(ypd)),
        "sqrt": (lambda: np.sqrt(yp), np.sqrt(ypd)),
        # numpy has no rsqrt: the expression a numpy user writes (two passes)
        "rsqrt": (lambda: 1 / np.sqrt(yp), 1 / np.sqrt(ypd)),
        "sin": (lambda: np.sin(x), np.sin(xd)),
        "cos": (lambda: np.cos(x), np.cos(xd)),
    }
    for name, (fn, ref) in ops.items():
        out[f"elementwise:{name}"] = median_seconds(fn, lambda r, name=name, ref=ref: close(name, ref, r))

    s = rng.uniform(0, 1, N_SUM).astype(np.float32)
    out["sum"] = median_seconds(lambda: s.sum(), lambda r: close("sum", s.astype(np.float64).sum(), r, 1e-5, 0))
    m = rng.uniform(0, 1, (4096, 1024)).astype(np.float32)
    out["colsum"] = median_seconds(lambda: m.sum(axis=0),
                                   lambda r: close("column sum", m.astype(np.float64).sum(axis=0), r, 1e-5, 0))

    one_x = np.array([1.5], dtype=np.float32)
    one_y = np.array([2.25], dtype=np.float32)
    out["dispatch"] = median_seconds(lambda: np.add(one_x, one_y), lambda r: close("1-element add", [3.75], r))

    emit(out)


def emit(seconds):
    """Prints the results as JSON: numpy's and python's versions, seconds per call by row key."""
    print(json.dumps({
        "numpy": np.__version__,
        "python": platform.python_version(),
        "seconds": seconds,
    }, indent=1))


if __name__ == "__main__":
    main()
