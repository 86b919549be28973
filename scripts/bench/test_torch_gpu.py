#!/usr/bin/env python3
"""Checks torch_gpu.py's plumbing where no PyTorch is installed: python3 scripts/bench/test_torch_gpu.py

torch_gpu.py runs once on the GPU machine, where a slip in its Python (a misnamed row, a
closure over the wrong variable, a JSON field summary.py does not read) would cost the run.
Here it runs against a stand-in `torch` module that does the arithmetic in plain Python on
small sizes and records which calls were made; the test checks the control flow, the rows and
their units, and that summary.py reads them. It says nothing about PyTorch itself or the GPU.
"""
import importlib
import json
import os
import sys
import tempfile
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "gpu-check"))


class FakeTensor:
    """Just enough of torch.Tensor for torch_gpu.py: shape, arithmetic, autograd hooks."""

    def __init__(self, log, shape, requires_grad=False):
        self.log, self.shape, self.requires_grad = log, tuple(shape), requires_grad

    def _op(self, name, shape=None):
        self.log.append(name)
        return FakeTensor(self.log, self.shape if shape is None else shape)

    def __matmul__(self, other):
        assert self.shape[-1] == other.shape[0], (self.shape, other.shape)
        return self._op("matmul", self.shape[:-1] + other.shape[1:])

    def __add__(self, other):
        return self._op("add")

    def __mul__(self, other):
        return self._op("mul")

    __rmul__ = __mul__

    def __mod__(self, other):
        return self._op("mod")

    def sum(self):
        return self._op("sum", ())

    def copy_(self, other):
        assert self.shape == other.shape
        self.log.append("copy_")
        return self

    def sub_(self, other):
        self.log.append("sub_")
        return self

    def requires_grad_(self):
        self.requires_grad = True
        return self


def fake_torch(log, cuda=True):
    t = types.ModuleType("torch")
    t.__version__ = "0.0-fake"
    t.float32 = "float32"
    t.version = types.SimpleNamespace(cuda="13.0-fake")
    t.backends = types.SimpleNamespace(cuda=types.SimpleNamespace(matmul=types.SimpleNamespace(allow_tf32=True)),
                                       cudnn=types.SimpleNamespace(allow_tf32=True))
    t.set_float32_matmul_precision = lambda p: log.append("precision " + p)
    t.device = lambda name: name

    class Generator:
        def __init__(self, device=None):
            pass

        def manual_seed(self, s):
            return self

    t.Generator = Generator

    def make(*shape, **kw):
        if len(shape) == 1 and isinstance(shape[0], tuple):
            shape = shape[0]
        return FakeTensor(log, shape, kw.get("requires_grad", False))

    t.rand = t.randn = t.zeros = t.ones = make
    t.full = lambda shape, value, **kw: FakeTensor(log, shape)
    t.arange = lambda n, **kw: FakeTensor(log, (n,))
    t.relu = lambda x: x._op("relu")

    def cross_entropy(logits, labels):
        assert logits.shape[0] == labels.shape[0]
        return logits._op("cross_entropy", ())

    t.nn = types.SimpleNamespace(functional=types.SimpleNamespace(cross_entropy=cross_entropy))

    def grad(loss, params):
        assert loss.shape == () and all(p.requires_grad for p in params)
        log.append("grad")
        return [FakeTensor(log, p.shape) for p in params]

    t.autograd = types.SimpleNamespace(grad=grad)

    class NoGrad:
        def __enter__(self):
            log.append("no_grad")

        def __exit__(self, *a):
            return False

    t.no_grad = NoGrad
    t.cuda = types.SimpleNamespace(is_available=lambda: cuda, synchronize=lambda: log.append("sync"),
                                   get_device_name=lambda i: "Fake GPU")
    return t


class TorchGpuPlumbingTest(unittest.TestCase):
    def run_script(self, torch_module):
        import torch_gpu
        importlib.reload(torch_gpu)
        # small sizes and few runs: the stand-in does no arithmetic, but the loops still run
        torch_gpu.LENGTH, torch_gpu.DISPATCH_OPS, torch_gpu.MIN_SECONDS = 1024, 50, 0.0
        out = os.path.join(self.tmp.name, "torch-gpu.json")
        saved_argv, saved_torch = sys.argv, sys.modules.get("torch")
        sys.argv = ["torch_gpu.py", "--out", out]
        if torch_module is None:
            sys.modules["torch"] = None  # import torch raises ImportError
        else:
            sys.modules["torch"] = torch_module
        try:
            rc = torch_gpu.main()
        finally:
            sys.argv = saved_argv
            if saved_torch is None:
                sys.modules.pop("torch", None)
            else:
                sys.modules["torch"] = saved_torch
        with open(out) as f:
            return rc, json.load(f)

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def test_every_row_measured_and_read_by_the_summary(self):
        log = []
        rc, result = self.run_script(fake_torch(log))
        self.assertEqual(rc, 0)
        self.assertTrue(result["available"])
        names = [(r["name"], r["size"]) for r in result["results"]]
        self.assertEqual(names, [("sgemm", 1024), ("sgemm", 4096), ("add", 1024), ("sum", 1024),
                                 ("copy", 1024), ("add1", 50), ("mlp_step", 128)])
        for r in result["results"]:
            self.assertGreaterEqual(r["runs"], 10)
            self.assertGreater(r["median_ms"], 0)
        self.assertIn("precision highest", log)
        # the last timed run is an MLP step: forward, gradients, four updates, between two syncs
        last, before = len(log) - 1 - log[::-1].index("sync"), None
        before = last - 1 - log[last - 1::-1].index("sync")
        self.assertEqual(log[before + 1:last],
                         ["matmul", "add", "relu", "matmul", "add", "cross_entropy", "grad", "no_grad"]
                         + ["mul", "sub_"] * 4)
        import summary
        with open(os.path.join(self.tmp.name, "torch-gpu.json")) as f:
            self.assertTrue(json.load(f)["available"])
        text = summary.summary(self.tmp.name)
        self.assertIn("PyTorch 0.0-fake (CUDA 13.0-fake) on Fake GPU", text)
        self.assertNotIn("| SGEMM 4096³ float32 | — GFLOP/s | — GFLOP/s", text)

    def test_tf32_is_switched_off(self):
        t = fake_torch([])
        self.run_script(t)
        self.assertFalse(t.backends.cuda.matmul.allow_tf32)
        self.assertFalse(t.backends.cudnn.allow_tf32)

    def test_without_torch(self):
        rc, result = self.run_script(None)
        self.assertEqual(rc, 0)
        self.assertFalse(result["available"])
        self.assertIn("not installed", result["reason"])

    def test_without_cuda(self):
        rc, result = self.run_script(fake_torch([], cuda=False))
        self.assertEqual(rc, 0)
        self.assertFalse(result["available"])
        self.assertIn("no CUDA device", result["reason"])


if __name__ == "__main__":
    unittest.main()
