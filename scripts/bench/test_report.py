#!/usr/bin/env python3
"""Checks report.py on a hand-made results folder: python3 scripts/bench/test_report.py

The SGEMM rows of the `cpu` table, the convolution rows and the CNN step's rows come from run.sh's
rounds, and their ratios are paired: the median of each round's own ratio, not the ratio of the
medians. The figures below are chosen so that the two differ (where they can), so the test fails
if report.py ever pairs the wrong values.
"""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402


def jmh_result(bench, params, ms):
    return {"benchmark": f"dev.spool.bench.{bench}", "params": params,
            "primaryMetric": {"score": ms, "scoreUnit": "ms/op", "rawData": [[ms, ms, ms]]}}


# per round at n = 1024: Spool plain, Spool transposed, numpy plain, DJL plain (ms)
ROUNDS = [(20.0, 21.0, 16.0, 25.0), (30.0, 27.0, 24.0, 30.0), (22.0, 23.0, 14.0, 20.0)]

DOC = """# Performance
<!-- generated:run -->
old
<!-- /generated:run -->
<!-- generated:cpu -->
old
<!-- /generated:cpu -->
<!-- generated:opencl -->
old
<!-- /generated:opencl -->
<!-- generated:conv -->
old
<!-- /generated:conv -->
<!-- generated:cnn -->
old
<!-- /generated:cnn -->
<!-- generated:attention -->
old
<!-- /generated:attention -->
<!-- generated:transformer -->
old
<!-- /generated:transformer -->
hand-written prose stays
"""

# per round: Spool forward, input gradient, filter gradient; DJL forward, input gradient by
# autograd, as a conv, filter gradient (ms)
CONV_ROUNDS = [(30.0, 30.0, 30.0, 20.0, 25.0, 22.0, 40.0),
               (45.0, 33.0, 20.0, 25.0, 20.0, 30.0, 20.0),
               (31.0, 29.0, 40.0, 28.0, 30.0, 18.0, 10.0)]

# per round: the CNN step on Spool cpu, Spool opencl:0, DJL (ms)
CNN_ROUNDS = [(40.0, 900.0, 30.0), (60.0, 1200.0, 40.0), (35.0, 1000.0, 30.0)]

# per round: the transformer step on Spool cpu, Spool opencl:0, DJL (ms)
TRANSFORMER_ROUNDS = [(20.0, 50.0, 40.0), (32.0, 40.0, 40.0), (25.0, 100.0, 20.0)]


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.make(ROUNDS)

    def make(self, rounds):
        os.makedirs(os.path.join(self.dir.name, "sgemm-rounds"), exist_ok=True)
        for i, (plain, trans, npy, djl) in enumerate(rounds, start=1):
            p = {"device": "cpu", "n": "1024"}
            self.write(f"sgemm-rounds/{i}-1024-spool.json", [jmh_result("MatmulBench.matmul", p, plain)])
            self.write(f"sgemm-rounds/{i}-1024-spoolT.json",
                       [jmh_result("MatmulBench.matmulTransposedB", p, trans)])
            self.write(f"sgemm-rounds/{i}-1024-djl.json",
                       [jmh_result("peers.DjlMatmulBench.matmul", {"n": "1024"}, djl)])
            self.write(f"sgemm-rounds/{i}-1024-numpy.json",
                       {"seconds": {"sgemm:1024": npy * 1e-3, "sgemmT:1024": npy * 1e-3}})
        self.write("jmh.json", [jmh_result("DispatchBench.add", {"device": "cpu"}, 0.0003),
                                jmh_result("peers.DjlMatmulBench.matmulTransposedB", {"n": "1024"}, 40.0)])
        self.write("jmh-opencl-sgemm.json",
                   [jmh_result("MatmulBench.matmul", {"device": "opencl:0", "n": "1024"}, 100.0)])
        self.write("numpy.json", {"numpy": "2.4", "python": "3.11", "seconds": {"dispatch": 5e-7}})

    def make_conv(self, rounds):
        os.makedirs(os.path.join(self.dir.name, "conv-rounds"), exist_ok=True)
        p = {"device": "cpu", "batch": "16", "size": "56"}
        q = {"batch": "16", "size": "56"}
        for i, (fw, ig, fg, dfw, dig, digc, dfg) in enumerate(rounds, start=1):
            self.write(f"conv-rounds/{i}-spool.json", [
                jmh_result("ConvBench.forward", p, fw), jmh_result("ConvBench.inputGradient", p, ig),
                jmh_result("ConvBench.filterGradient", p, fg)])
            self.write(f"conv-rounds/{i}-djl.json", [
                jmh_result("peers.DjlConvBench.forward", q, dfw),
                jmh_result("peers.DjlConvBench.inputGradient", q, dig),
                jmh_result("peers.DjlConvBench.inputGradientAsConv", q, digc),
                jmh_result("peers.DjlConvBench.filterGradient", q, dfg)])

    def make_cnn(self, rounds, opencl=True):
        os.makedirs(os.path.join(self.dir.name, "cnn-rounds"), exist_ok=True)
        for i, (cpu, ocl, djl) in enumerate(rounds, start=1):
            self.write(f"cnn-rounds/{i}-spool-cpu.json",
                       [jmh_result("CnnStepBench.step", {"device": "cpu", "batch": "128"}, cpu)])
            if opencl:
                self.write(f"cnn-rounds/{i}-spool-opencl.json",
                           [jmh_result("CnnStepBench.step", {"device": "opencl:0", "batch": "128"}, ocl)])
            self.write(f"cnn-rounds/{i}-djl.json",
                       [jmh_result("peers.DjlCnnStepBench.step", {"batch": "128"}, djl)])

    def make_transformer(self, rounds, opencl=True):
        os.makedirs(os.path.join(self.dir.name, "transformer-rounds"), exist_ok=True)
        for i, (cpu, ocl, djl) in enumerate(rounds, start=1):
            self.write(f"transformer-rounds/{i}-spool-cpu.json",
                       [jmh_result("TransformerStepBench.step", {"device": "cpu", "batch": "64"}, cpu)])
            if opencl:
                self.write(f"transformer-rounds/{i}-spool-opencl.json",
                           [jmh_result("TransformerStepBench.step", {"device": "opencl:0", "batch": "64"}, ocl)])
            self.write(f"transformer-rounds/{i}-djl.json",
                       [jmh_result("peers.DjlTransformerStepBench.step", {"batch": "64"}, djl)])

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, value):
        with open(os.path.join(self.dir.name, name), "w") as f:
            json.dump(value, f)

    def test_times_are_medians_over_rounds(self):
        r = report.read_results(self.dir.name)
        self.assertAlmostEqual(r["cpu"]["sgemm:1024"], 22e-3)
        self.assertAlmostEqual(r["cpu"]["sgemmT:1024"], 23e-3)
        self.assertAlmostEqual(r["numpy"]["sgemm:1024"], 16e-3)
        self.assertAlmostEqual(r["djl"]["sgemm:1024"], 25e-3)
        self.assertAlmostEqual(r["djl"]["sgemmT:1024"], 40e-3)  # from the main run
        self.assertAlmostEqual(r["opencl:0"]["sgemm:1024"], 100e-3)
        self.assertAlmostEqual(r["numpy"]["dispatch"], 5e-7)  # the main numpy run is kept too

    def test_ratios_are_paired_within_rounds(self):
        r = report.read_results(self.dir.name)
        vs_np, np_range = report.paired(r, 1024, ("numpy", "sgemm:1024"), ("cpu", "sgemm:1024"))
        self.assertAlmostEqual(vs_np, 0.8)  # 0.8, 0.8, 0.636; the ratio of the medians is 0.727
        self.assertAlmostEqual(np_range[0], 14 / 22)
        self.assertAlmostEqual(np_range[1], 0.8)
        rel, _ = report.paired(r, 1024, ("cpu", "sgemmT:1024"), ("cpu", "sgemm:1024"))
        self.assertAlmostEqual(rel, 23 / 22)  # 1.05, 0.9, 1.045; the ratio of the medians is too
        missing, none = report.paired(r, 512, ("numpy", "sgemm:512"), ("cpu", "sgemm:512"))
        self.assertIsNone(missing)
        self.assertIsNone(none)

    def test_table_states_the_paired_ratio_and_the_verdict(self):
        doc = os.path.join(self.dir.name, "PERFORMANCE.md")
        with open(doc, "w") as f:
            f.write(DOC)
        sys.argv = ["report.py", "--results", self.dir.name, "--doc", doc]
        report.main()
        with open(doc) as f:
            text = f.read()
        line = next(x for x in text.splitlines() if x.startswith("| SGEMM 1024³ |"))
        self.assertIn("speed 0.80× numpy (0.64–0.80), 1.00× DJL (0.91–1.25)", line)
        self.assertTrue(line.endswith("| yes |"), line)
        line = next(x for x in text.splitlines() if x.startswith("| SGEMM 1024³, b transposed |"))
        self.assertIn("time 1.05× plain (0.90–1.05)", line)
        self.assertTrue(line.endswith("| yes |"), line)
        self.assertIn("SGEMM on `cpu` in 3 rounds", text)
        self.assertIn("hand-written prose stays", text)

    def test_a_missed_target_says_no(self):
        # one slow round cannot sink the paired median, but two do
        self.make([(30.0, 40.0, 16.0, 25.0), (30.0, 40.0, 16.0, 25.0), (22.0, 23.0, 14.0, 20.0)])
        lines = report.cpu_table(report.read_results(self.dir.name), [1024])
        plain = next(x for x in lines if x.startswith("| SGEMM 1024³ |"))
        trans = next(x for x in lines if x.startswith("| SGEMM 1024³, b transposed |"))
        self.assertTrue(plain.endswith("| **no** |"), plain)  # 16/30 = 0.53× numpy
        self.assertTrue(trans.endswith("| **no** |"), trans)  # 1.33× plain

    def test_conv_rows_pair_rounds_and_take_the_faster_input_gradient_peer(self):
        self.make_conv(CONV_ROUNDS)
        r = report.read_results(self.dir.name)
        self.assertAlmostEqual(r["cpu"]["conv:forward"], 31e-3)
        self.assertAlmostEqual(r["djl"]["conv:inputGradientPeer"], 20e-3)  # min per round: 22, 20, 18
        rel, low_high = report.conv_paired(r, "conv:forward", "conv:forward")
        self.assertAlmostEqual(rel, 1.5)  # 1.5, 1.8, 1.107; the ratio of the medians is 1.24
        self.assertAlmostEqual(low_high[0], 31 / 28)
        rel, _ = report.conv_paired(r, "conv:inputGradient", "conv:inputGradientPeer")
        self.assertAlmostEqual(rel, 29 / 18)  # 1.364, 1.65, 1.611 (the faster peer each round)
        lines = report.conv_table(r, self.dir.name, False)
        forward = next(x for x in lines if "forward |" in x)
        self.assertIn("time 1.50× DJL (1.11–1.80)", forward)
        self.assertTrue(forward.endswith("| yes |"), forward)
        inputs = next(x for x in lines if "input gradient |" in x)
        self.assertIn("(autograd)", inputs)
        self.assertTrue(inputs.endswith("| **no** |"), inputs)  # 1.61× DJL
        filters = next(x for x in lines if "filter gradient |" in x)
        self.assertIn("time 1.00× DJL (0.75–4.00)", filters)  # 0.75, 1.0, 4.0
        self.assertTrue(filters.endswith("| yes |"), filters)
        self.assertIn("3 rounds", lines[0])

    def test_only_the_conv_block_is_rewritten_on_request(self):
        self.make_conv(CONV_ROUNDS)
        doc = os.path.join(self.dir.name, "PERFORMANCE.md")
        with open(doc, "w") as f:
            f.write(DOC)
        sys.argv = ["report.py", "--results", self.dir.name, "--doc", doc, "--blocks", "conv"]
        report.main()
        with open(doc) as f:
            text = f.read()
        self.assertIn("<!-- generated:cpu -->\nold\n<!-- /generated:cpu -->", text)
        self.assertIn("conv2d 3×3, 64→64 channels, 56×56, batch 16, forward", text)

    def test_cnn_rows_pair_rounds_against_djl_and_cpu(self):
        self.make_cnn(CNN_ROUNDS)
        self.write("machine.json", {"devices": [{"id": "opencl:0", "name": "pthread-EPYC"}]})
        r = report.read_results(self.dir.name)
        self.assertAlmostEqual(r["cpu"]["cnn"], 40e-3)
        self.assertAlmostEqual(r["opencl:0"]["cnn"], 1000e-3)
        self.assertAlmostEqual(r["djl"]["cnn"], 30e-3)
        rel, low_high = report.cnn_paired(r, "cpu", "djl")
        self.assertAlmostEqual(rel, 4 / 3)  # 1.333, 1.5, 1.167; the ratio of the medians is too
        self.assertAlmostEqual(low_high[0], 35 / 30)
        lines = report.cnn_table(r, self.dir.name, False)
        cpu = next(x for x in lines if "batch 128, `cpu` |" in x)
        self.assertIn("40 ms (3,200 images/s)", cpu)
        self.assertIn("time 1.33× DJL (1.17–1.50)", cpu)
        self.assertTrue(cpu.endswith("| **no** |"), cpu)  # above 1.3x
        ocl = next(x for x in lines if "`opencl:0` (pthread-EPYC)" in x)
        self.assertIn("time 22.50× cpu (20.00–28.57)", ocl)  # 22.5, 20, 28.57; the ratio of the medians is 25
        self.assertTrue(ocl.endswith("| **no** |"), ocl)
        self.assertIn("3 rounds", lines[0])

    def test_cnn_targets_met_and_no_opencl_row_without_opencl(self):
        self.make_cnn([(36.0, 30.0, 30.0), (30.0, 29.0, 25.0), (40.0, 39.0, 35.0)])
        lines = report.cnn_table(report.read_results(self.dir.name), self.dir.name, False)
        cpu = next(x for x in lines if "batch 128, `cpu` |" in x)
        self.assertIn("time 1.20× DJL", cpu)  # 1.2, 1.2, 1.143
        self.assertTrue(cpu.endswith("| yes |"), cpu)
        ocl = next(x for x in lines if "`opencl:0`" in x)
        self.assertTrue(ocl.endswith("| yes |"), ocl)  # 0.83, 0.97, 0.975 of cpu's time
        self.dir.cleanup()
        self.dir = tempfile.TemporaryDirectory()
        self.make_cnn(CNN_ROUNDS, opencl=False)
        lines = report.cnn_table(report.read_results(self.dir.name), self.dir.name, False)
        self.assertFalse(any("opencl" in x for x in lines), lines)
        self.assertIn("two threads for `cpu` and PyTorch:", lines[0])

    def test_only_the_cnn_block_is_rewritten_on_request(self):
        self.make_cnn(CNN_ROUNDS)
        doc = os.path.join(self.dir.name, "PERFORMANCE.md")
        with open(doc, "w") as f:
            f.write(DOC)
        sys.argv = ["report.py", "--results", self.dir.name, "--doc", doc, "--blocks", "cnn"]
        report.main()
        with open(doc) as f:
            text = f.read()
        self.assertIn("<!-- generated:conv -->\nold\n<!-- /generated:conv -->", text)
        self.assertIn("<!-- generated:run -->\nold\n<!-- /generated:run -->", text)
        self.assertIn("Fashion-MNIST CNN training step, batch 128, `cpu`", text)
        self.assertIn("hand-written prose stays", text)


    def test_transformer_rows_pair_rounds_and_have_no_target(self):
        self.make_transformer(TRANSFORMER_ROUNDS)
        self.write("machine.json", {"devices": [{"id": "opencl:0", "name": "pthread-EPYC"}]})
        r = report.read_results(self.dir.name)
        self.assertAlmostEqual(r["cpu"]["transformer"], 25e-3)
        self.assertAlmostEqual(r["opencl:0"]["transformer"], 50e-3)
        self.assertAlmostEqual(r["djl"]["transformer"], 40e-3)
        self.assertNotIn("cnn", r["cpu"])  # the rounds of one work do not leak into another's rows
        rel, low_high = report.cnn_paired(r, "cpu", "djl", "transformer")
        self.assertAlmostEqual(rel, 0.8)  # 0.5, 0.8, 1.25; the ratio of the medians is 0.625
        self.assertEqual(low_high, (0.5, 1.25))
        lines = report.transformer_table(r, self.dir.name, False)
        cpu = next(x for x in lines if "17, `cpu` |" in x)
        self.assertIn("25 ms (2,560 words/s)", cpu)
        self.assertIn("DJL-PyTorch 40 ms (1,600 words/s)", cpu)
        self.assertIn("time 0.80× DJL (0.50–1.25)", cpu)
        self.assertTrue(cpu.endswith("| reported (no target) | — |"), cpu)
        ocl = next(x for x in lines if "`opencl:0` (pthread-EPYC)" in x)
        self.assertIn("time 2.50× cpu (1.25–4.00)", ocl)  # 2.5, 1.25, 4; the ratio of the medians is 2
        self.assertTrue(ocl.endswith("| reported (no target) | — |"), ocl)
        self.assertIn("3 rounds", lines[0])

    def test_no_transformer_rounds_say_so_and_no_opencl_row_without_opencl(self):
        self.assertEqual(report.transformer_table(report.read_results(self.dir.name), self.dir.name, False),
                         ["No transformer step rounds in this run."])
        self.make_transformer(TRANSFORMER_ROUNDS, opencl=False)
        lines = report.transformer_table(report.read_results(self.dir.name), self.dir.name, False)
        self.assertFalse(any("opencl" in x for x in lines), lines)
        self.assertIn("two threads for `cpu` and PyTorch:", lines[0])

    def test_only_the_transformer_block_is_rewritten_on_request(self):
        self.make_transformer(TRANSFORMER_ROUNDS)
        doc = os.path.join(self.dir.name, "PERFORMANCE.md")
        with open(doc, "w") as f:
            f.write(DOC)
        sys.argv = ["report.py", "--results", self.dir.name, "--doc", doc, "--blocks", "transformer"]
        report.main()
        with open(doc) as f:
            text = f.read()
        self.assertIn("<!-- generated:cnn -->\nold\n<!-- /generated:cnn -->", text)
        self.assertIn("<!-- generated:attention -->\nold\n<!-- /generated:attention -->", text)
        self.assertIn("character transformer training step (4 blocks, width 64), batch 64 words × 17, `cpu`", text)
        self.assertIn("hand-written prose stays", text)


if __name__ == "__main__":
    unittest.main()
