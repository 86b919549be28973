#!/usr/bin/env python3
"""Tests summary.py on hand-made result files (no GPU needed): python3 scripts/gpu-check/test_summary.py

The expected figures are worked out by hand from the times in the fixtures, e.g. SGEMM 4096 in
a median of 20 ms: 2 * 4096**3 flop / 0.020 s = 6,871.9 GFLOP/s.
"""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import summary  # noqa: E402


def jmh(benchmark, unit, raw, n=None, length=None):
    params = {"device": "opencl"}
    if n is not None:
        params["n"] = str(n)
    if length is not None:
        params["length"] = str(length)
    return {"benchmark": "dev.spool.bench.gpu." + benchmark, "mode": "avgt", "params": params,
            "primaryMetric": {"score": sum(raw) / len(raw), "scoreUnit": unit, "rawData": [raw]}}


def torch_row(name, size, ms):
    return {"name": name, "size": size, "median_ms": ms, "runs": 10}


class SummaryTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def put(self, name, content):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))

    def full_run(self):
        self.put("devices.txt", "OpenCL: 2 platform(s)\n"
                                "  Clover (OpenCL 1.1 Mesa 22.3.6)\n"
                                "    skipped: listing its devices failed with CL_OUT_OF_HOST_MEMORY\n"
                                "  NVIDIA CUDA (OpenCL 3.0 CUDA 12.8.90)\n"
                                "    opencl:0  NVIDIA H200 (NVIDIA Corporation), GPU, 132 compute units, 143771 MiB, "
                                "largest buffer 35942 MiB, float64 yes, GPU kernels, OpenCL 3.0 CUDA, "
                                "driver 570.86.15\n"
                                "'opencl' selects opencl:0 (NVIDIA H200, GPU): GPU before accelerator before CPU\n")
        self.put("nvidia-smi.txt", "NVIDIA H200, 570.86.15, 143771 MiB\n")
        self.put("tests-per-device.txt", "  (no device)      78 passed      0 failed      0 skipped\n"
                                         "  opencl:0       1187 passed      0 failed      0 skipped\n")
        self.put("junit.txt", "[      1265 tests successful      ]\n[         0 tests failed          ]\n")
        # medians: 20 ms (not the mean, 23), 5 ms
        self.put("jmh-spool-GpuMatmulBench.json", [jmh("GpuMatmulBench.sgemm", "ms/op", [20.0, 19.0, 30.0], 4096),
                                                   jmh("GpuMatmulBench.sgemm", "ms/op", [5.0], 1024)])
        m64 = 64 << 20
        self.put("jmh-spool-GpuStreamBench.json", [jmh("GpuStreamBench.add", "ms/op", [2.9], length=m64),
                                                   jmh("GpuStreamBench.sum", "ms/op", [1.1], length=m64),
                                                   jmh("GpuStreamBench.copyBareJocl", "ms/op", [1.6], length=m64)])
        self.put("jmh-spool-GpuDispatchBench.json", [jmh("GpuDispatchBench.add1", "us/op", [5.0, 4.0, 6.0])])
        self.put("jmh-spool-GpuMlpBench.json", [jmh("GpuMlpBench.trainStep", "ms/op", [2.0])])
        self.put("torch-gpu.json", {"available": True, "torch": "2.11.0", "torch_cuda": "13.0",
                                    "device": "NVIDIA H200",
                                    "results": [torch_row("sgemm", 1024, 0.5), torch_row("sgemm", 4096, 10.0),
                                                torch_row("add", 67108864, 2.0), torch_row("sum", 67108864, 1.0),
                                                torch_row("copy", 67108864, 1.5), torch_row("add1", 20000, 100.0),
                                                torch_row("mlp_step", 128, 1.0)]})

    def test_sgemm_rates_ratio_and_target(self):
        self.full_run()
        out = summary.summary(self.dir)
        # 2*4096^3/0.020 s and /0.010 s; 0.50 < 0.7
        self.assertIn("| SGEMM 4096³ float32 | 6,871.9 GFLOP/s | 13,743.9 GFLOP/s | 0.50 | ≥ 0.7 × PyTorch | **no** |", out)
        # 2*1024^3/0.005 s = 429.5, /0.0005 s = 4,295.0
        self.assertIn("| SGEMM 1024³ float32 | 429.5 GFLOP/s | 4,295.0 GFLOP/s | 0.10 |", out)

    def test_stream_targets_against_the_copy(self):
        self.full_run()
        out = summary.summary(self.dir)
        # add: 3*256 MiB/2.9 ms = 277.7 GB/s; copy 2*256 MiB/1.6 ms = 335.5 GB/s; 0.83 >= 0.8
        self.assertIn("| `add` 64M float32 (3 × 4 bytes moved an element) | 277.7 GB/s | 402.7 GB/s | 0.69 | ≥ 0.8 × copy: 0.83 × | yes |", out)
        # sum: 256 MiB/1.1 ms = 244.0 GB/s; 244.0/335.5 = 0.73 < 0.8
        self.assertIn("| `sum` 64M float32 (4 bytes read an element) | 244.0 GB/s | 268.4 GB/s | 0.91 | ≥ 0.8 × copy: 0.73 × | **no** |", out)
        self.assertIn("| 335.5 GB/s (bare JOCL `clEnqueueCopyBuffer`) | 357.9 GB/s (`y.copy_(x)`) | 0.94 |", out)

    def test_dispatch_mlp_tests_and_driver(self):
        self.full_run()
        out = summary.summary(self.dir)
        # Spool's JMH score is per add already (median 5 us); PyTorch's 100 ms is for 20,000 adds
        self.assertIn("| 1-element `add`, 20k enqueued then one wait | 5.00 µs/op | 5.00 µs/op | 1.00 |", out)
        self.assertIn("| MLP step 784→256→10, batch 128 | 2.000 ms | 1.000 ms | 0.50 |", out)
        self.assertIn("| opencl:0 | 1187 | 0 | 0 |", out)
        self.assertIn("every test passes | yes |", out)
        self.assertIn("driver 570.86.15", out)
        self.assertIn("nvidia-smi: `NVIDIA H200, 570.86.15, 143771 MiB`", out)
        self.assertIn("PyTorch 2.11.0 (CUDA 13.0) on NVIDIA H200", out)

    def test_a_failed_test_fails_the_target(self):
        self.full_run()
        self.put("tests-per-device.txt", "  opencl:0       1186 passed      1 failed      0 skipped\n")
        self.put("junit.txt", "[      1264 tests successful      ]\n[         1 tests failed          ]\n")
        out = summary.summary(self.dir)
        self.assertIn("| opencl:0 | 1186 | 1 | 0 |", out)
        self.assertIn("every test passes | **no** |", out)

    def test_without_torch_and_with_a_lost_jmh_file(self):
        self.full_run()
        self.put("torch-gpu.json", {"available": False, "reason": "PyTorch is not installed here"})
        self.put("jmh-spool-GpuMlpBench.json", "[")  # a JMH run stopped while writing
        out = summary.summary(self.dir)
        self.assertIn("PyTorch: not measured (PyTorch is not installed here)", out)
        self.assertIn("| SGEMM 4096³ float32 | 6,871.9 GFLOP/s | — GFLOP/s | — | ≥ 0.7 × PyTorch | not measured |", out)
        self.assertIn("| MLP step 784→256→10, batch 128 | — ms | — ms | — |", out)
        # the add target needs only Spool's own figures
        self.assertIn("≥ 0.8 × copy: 0.83 × | yes |", out)

    def test_sizes_come_from_the_results(self):
        # a small PoCL run: SGEMM 256 only, 1M-element streams, no PyTorch
        self.put("jmh-spool-GpuMatmulBench.json", [jmh("GpuMatmulBench.sgemm", "ms/op", [0.5], 256)])
        self.put("jmh-spool-GpuStreamBench.json", [jmh("GpuStreamBench.add", "us/op", [200.0], length=1 << 20),
                                                   jmh("GpuStreamBench.copyBareJocl", "us/op", [100.0], length=1 << 20)])
        out = summary.summary(self.dir)
        # 2*256^3/0.5 ms = 67.1 GFLOP/s; the target stays with 4096, which has a row of its own
        self.assertIn("| SGEMM 256³ float32 | 67.1 GFLOP/s | — GFLOP/s | — | | |", out)
        self.assertIn("| SGEMM 4096³ float32 | — GFLOP/s | — GFLOP/s | — | ≥ 0.7 × PyTorch | not measured |", out)
        # add 12 bytes * 1Mi / 200 us = 62.9 GB/s; copy 8 bytes * 1Mi / 100 us = 83.9 GB/s: 0.75
        self.assertIn("| `add` 1M float32 (3 × 4 bytes moved an element) | 62.9 GB/s | — GB/s | — | ≥ 0.8 × copy: 0.75 × | **no** |", out)
        self.assertIn("| device-to-device copy 1M float32 | 83.9 GB/s", out)

    def test_a_jmh_run_stopped_before_its_json(self):
        # JMH's text output as it stood when the run was stopped: n=1024 done, n=4096 in warm-up
        self.put("jmh-spool-GpuMatmulBench.json", "")
        self.put("jmh-spool-GpuMatmulBench.txt", "\n".join([
            "# Benchmark: dev.spool.bench.gpu.GpuMatmulBench.sgemm",
            "# Parameters: (device = opencl, n = 1024)",
            "# Warmup Iteration   1: 900.000 ms/op",
            "Iteration   1: 4.000 ms/op",
            "Iteration   2: 5.000 ms/op",
            "Iteration   3: 9.000 ms/op",
            "Result \"dev.spool.bench.gpu.GpuMatmulBench.sgemm\":",
            "# Benchmark: dev.spool.bench.gpu.GpuMatmulBench.sgemm",
            "# Parameters: (device = opencl, n = 4096)",
            "# Warmup Iteration   1: 700.000 ms/op", ""]))
        out = summary.summary(self.dir)
        # the median of 4, 5, 9 ms (warm-up left out): 2*1024^3/5 ms = 429.5 GFLOP/s
        self.assertIn("| SGEMM 1024³ float32 | 429.5 GFLOP/s |", out)
        self.assertIn("| SGEMM 4096³ float32 | — GFLOP/s |", out)
        self.assertIn("Cut short", out)
        self.assertIn("GpuMatmulBench.sgemm (1024)", out)

    def test_an_empty_results_folder(self):
        out = summary.summary(self.dir)
        self.assertIn("no test results", out)
        self.assertIn("every test passes | not run |", out)
        self.assertIn("no torch-gpu.json", out)


if __name__ == "__main__":
    unittest.main()
