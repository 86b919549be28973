#!/usr/bin/env python3
"""PyTorch on CUDA doing the work of Spool's GPU benchmarks (dev.spool.bench.gpu), for the
side-by-side table in docs/PERFORMANCE.md. Run by scripts/gpu-check/run.sh on the GPU machine:

    python3 torch_gpu.py --out torch-gpu.json

Work (float32, each timed between two torch.cuda.synchronize() calls, median of the runs):
  sgemm n=1024, 4096   a @ b with TF32 off (true float32 SGEMM, as Spool computes)
  add   64M            x + y (a new output tensor, as Spool's add)
  sum   64M            x.sum()
  copy  64M            y.copy_(x): device-to-device copy, the bandwidth reference
  add1  20,000         one-element x + y enqueued back to back, one synchronize; time per add
  mlp_step             784 -> 256 -> 10, batch 128, relu, mean softmax cross-entropy,
                       torch.autograd.grad for the four parameters, SGD lr 0.1 in place

Without torch, or without a CUDA device, it says so, writes {"available": false, "reason": ...}
and exits 0: the GPU run goes on without the PyTorch column.
"""
import argparse
import json
import platform
import statistics
import sys
import time

WARMUP = 3
MIN_RUNS = 10
MAX_RUNS = 200
MIN_SECONDS = 1.0
LENGTH = 64 << 20
DISPATCH_OPS = 20_000


def write(path, result):
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")


def timed_median(torch, fn):
    """Median seconds of fn(), each run between two synchronizes; WARMUP runs first, then
    runs until both MIN_RUNS and MIN_SECONDS are reached (at most MAX_RUNS)."""
    for _ in range(WARMUP):
        fn()
    torch.cuda.synchronize()
    times = []
    start = time.perf_counter()
    while len(times) < MAX_RUNS and (len(times) < MIN_RUNS or time.perf_counter() - start < MIN_SECONDS):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(times)


def run(torch, result, out):
    """Measures each piece of work in turn; result["results"] and the file grow row by row, so
    that a run stopped part way keeps what it measured."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    dev = torch.device("cuda")
    gen = torch.Generator(device=dev).manual_seed(1)
    rows = result["results"]

    def record(name, size, seconds, runs, **rates):
        row = {"name": name, "size": size, "median_ms": seconds * 1e3, "runs": runs}
        row.update(rates)
        rows.append(row)
        write(out, result)
        print(f"  {name:<8} {size:>10}  {seconds * 1e3:10.4f} ms  " +
              "  ".join(f"{k} {v:.1f}" for k, v in rates.items()), flush=True)

    for n in (1024, 4096):
        a = torch.rand(n, n, device=dev, dtype=torch.float32, generator=gen)
        b = torch.rand(n, n, device=dev, dtype=torch.float32, generator=gen)
        s, runs = timed_median(torch, lambda: a @ b)
        record("sgemm", n, s, runs, gflops=2.0 * n ** 3 / s / 1e9)

    x = torch.rand(LENGTH, device=dev, dtype=torch.float32, generator=gen)
    y = torch.rand(LENGTH, device=dev, dtype=torch.float32, generator=gen)
    nbytes = 4 * LENGTH
    s, runs = timed_median(torch, lambda: x + y)
    record("add", LENGTH, s, runs, gbs=3 * nbytes / s / 1e9)
    s, runs = timed_median(torch, lambda: x.sum())
    record("sum", LENGTH, s, runs, gbs=nbytes / s / 1e9)
    s, runs = timed_median(torch, lambda: y.copy_(x))
    record("copy", LENGTH, s, runs, gbs=2 * nbytes / s / 1e9)

    one_x = torch.ones(1, device=dev, dtype=torch.float32)
    one_y = torch.full((1,), 2.0, device=dev, dtype=torch.float32)

    def dispatch():
        for _ in range(DISPATCH_OPS):
            one_x + one_y

    s, runs = timed_median(torch, dispatch)
    record("add1", DISPATCH_OPS, s, runs, us_per_op=s / DISPATCH_OPS * 1e6)

    batch, n_in, hidden, classes, lr = 128, 784, 256, 10, 0.1
    inputs = torch.rand(batch, n_in, device=dev, dtype=torch.float32, generator=gen)
    labels = torch.arange(batch, device=dev) % classes
    params = [
        (torch.randn(n_in, hidden, device=dev, generator=gen) * 0.05).requires_grad_(),
        torch.zeros(hidden, device=dev, requires_grad=True),
        (torch.randn(hidden, classes, device=dev, generator=gen) * 0.05).requires_grad_(),
        torch.zeros(classes, device=dev, requires_grad=True),
    ]

    def step():
        w1, b1, w2, b2 = params
        h = torch.relu(inputs @ w1 + b1)
        logits = h @ w2 + b2
        loss = torch.nn.functional.cross_entropy(logits, labels)  # mean softmax cross-entropy
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(lr * g)

    s, runs = timed_median(torch, step)
    record("mlp_step", batch, s, runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="torch-gpu.json", help="JSON results file")
    args = parser.parse_args()
    result = {"available": False, "python": platform.python_version()}
    try:
        import torch
    except ImportError as e:
        result["reason"] = f"PyTorch is not installed here ({e})"
        print(f"torch_gpu: {result['reason']}: no PyTorch column", flush=True)
        write(args.out, result)
        return 0
    result["torch"] = torch.__version__
    result["torch_cuda"] = torch.version.cuda
    if not torch.cuda.is_available():
        result["reason"] = f"PyTorch {torch.__version__} sees no CUDA device"
        print(f"torch_gpu: {result['reason']}: no PyTorch column", flush=True)
        write(args.out, result)
        return 0
    result["device"] = torch.cuda.get_device_name(0)
    print(f"torch_gpu: PyTorch {torch.__version__} (CUDA {torch.version.cuda}) on {result['device']}",
          flush=True)
    result["available"] = True
    result["results"] = []
    write(args.out, result)
    try:
        run(torch, result, args.out)
    except Exception as e:  # keep what was measured, say what failed
        result["error"] = f"{type(e).__name__}: {e}"
        print(f"torch_gpu: failed: {result['error']}", file=sys.stderr, flush=True)
        write(args.out, result)
        return 1
    write(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
