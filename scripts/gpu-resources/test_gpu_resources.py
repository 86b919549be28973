#!/usr/bin/env python3
"""gpu_resources.py's reading of the compiler's metadata and its occupancy rules, on hand-made
input: the numbers LLVM's AMDGPU backend and AMD's register files give."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_resources as g  # noqa: E402

ASM = """
	.text
	.amdgpu_metadata
---
amdhsa.kernels:
  - .args:
      - .offset:         0
        .size:           8
        .value_kind:     global_buffer
    .agpr_count:     0
    .group_segment_fixed_size: 8320
    .max_flat_workgroup_size: 256
    .name:           matmul_tiled
    .private_segment_fixed_size: 0
    .reqd_workgroup_size:
      - 16
      - 16
      - 1
    .sgpr_count:     84
    .sgpr_spill_count: 0
    .vgpr_count:     75
    .vgpr_spill_count: 0
    .wavefront_size: 64
  - .args:           []
    .group_segment_fixed_size: 0
    .max_flat_workgroup_size: 256
    .name:           reduce_SUM_wg
    .private_segment_fixed_size: 296
    .sgpr_count:     86
    .sgpr_spill_count: 3
    .uses_dynamic_stack: false
    .vgpr_count:     34
    .vgpr_spill_count: 0
    .wavefront_size: 32
amdhsa.version:
  - 1
  - 1
...
	.end_amdgpu_metadata
"""


class MetadataTest(unittest.TestCase):
    def test_reads_every_kernel_and_its_fields(self):
        k = g.parse_metadata(ASM)
        self.assertEqual({"matmul_tiled", "reduce_SUM_wg"}, set(k))
        self.assertEqual(75, k["matmul_tiled"]["vgpr_count"])
        self.assertEqual(8320, k["matmul_tiled"]["group_segment_fixed_size"])
        self.assertEqual([16, 16, 1], k["matmul_tiled"]["reqd_workgroup_size"])
        self.assertEqual(296, k["reduce_SUM_wg"]["private_segment_fixed_size"])
        self.assertEqual(3, k["reduce_SUM_wg"]["sgpr_spill_count"])
        self.assertIs(False, k["reduce_SUM_wg"]["uses_dynamic_stack"])
        self.assertEqual(32, k["reduce_SUM_wg"]["wavefront_size"])

    def test_no_metadata_is_an_error(self):
        with self.assertRaises(ValueError):
            g.parse_metadata("\t.text\n")


class OccupancyTest(unittest.TestCase):
    def test_gfx90a_vgprs_512_per_lane_granule_8(self):
        self.assertEqual(8, g.occupancy("gfx90a", 64, 64, 80, 0, 256)[0])
        self.assertEqual(4, g.occupancy("gfx90a", 64, 128, 80, 0, 256)[0])
        self.assertEqual(3, g.occupancy("gfx90a", 64, 129, 80, 0, 256)[0])  # 136 in granules of 8
        self.assertEqual(2, g.occupancy("gfx90a", 64, 256, 80, 0, 256)[0])
        self.assertEqual(1, g.occupancy("gfx90a", 64, 512, 80, 0, 256)[0])

    def test_gfx90a_sgprs_as_llvm_counts_them(self):
        self.assertEqual((8, "-"), g.occupancy("gfx90a", 64, 24, 100, 0, 256))
        self.assertEqual((7, "SGPRs"), g.occupancy("gfx90a", 64, 24, 101, 0, 256))

    def test_gfx1100_wave32_1536_vgprs_granule_24(self):
        # the steps llc gives for targets with the full 192 KiB VGPR file
        self.assertEqual(16, g.occupancy("gfx1100", 32, 96, 106, 0, 256)[0])
        self.assertEqual(12, g.occupancy("gfx1100", 32, 97, 106, 0, 256)[0])
        self.assertEqual(10, g.occupancy("gfx1100", 32, 121, 106, 0, 256)[0])
        self.assertEqual(5, g.occupancy("gfx1100", 32, 256, 106, 0, 256)[0])  # 264 after rounding

    def test_gfx1100_wave64_768_vgprs_granule_12(self):
        self.assertEqual(16, g.occupancy("gfx1100", 64, 48, 106, 0, 256)[0])
        self.assertEqual(8, g.occupancy("gfx1100", 64, 96, 106, 0, 256)[0])
        self.assertEqual(2, g.occupancy("gfx1100", 64, 256, 106, 0, 256)[0])  # 264 after rounding

    def test_local_memory_shares_the_cu(self):
        # gfx90a: 64 KiB per CU; 7 groups of 4 waves over 4 SIMDs
        self.assertEqual((7, "LDS"), g.occupancy("gfx90a", 64, 24, 80, 8320, 256))
        # one-wave groups of 16640 bytes: 3 groups per CU, the busiest SIMD runs one wave
        self.assertEqual((1, "LDS"), g.occupancy("gfx90a", 64, 24, 80, 16640, 64))
        # gfx1100: 128 KiB per WGP; 15 groups of 8 wave32 waves
        self.assertEqual((16, "-"), g.occupancy("gfx1100", 32, 24, 80, 8320, 256))
        self.assertEqual((8, "LDS"), g.occupancy("gfx1100", 32, 24, 80, 32768, 256))

    def test_the_lowest_limit_wins_and_is_named(self):
        self.assertEqual((2, "VGPRs"), g.occupancy("gfx90a", 64, 256, 80, 8320, 256))


class GateTest(unittest.TestCase):
    @staticmethod
    def row(gpu, family, **target):
        m = {"vgprs": 24, "sgprs": 40, "vgprSpills": 0, "sgprSpills": 0, "lds": 0, "scratch": 0,
             "dynamicStack": False, "waves": 8, "limiter": "-"}
        m.update(target)
        return {"source": "x.cl", "kernel": "k", "variant": "-DT=float", "gpuPath": gpu, "family": family,
                "targets": {"gfx90a": m}}

    def test_each_gate(self):
        report = {"rows": [
            self.row(True, "ELEMENTWISE"),
            self.row(True, "ELEMENTWISE", vgprSpills=2),
            self.row(True, "REDUCTION", scratch=16),
            self.row(True, "REDUCTION", waves=3, limiter="VGPRs"),
            self.row(True, "MATMUL", waves=1, limiter="LDS"),     # matmul: no occupancy demand
            self.row(True, "ELEMENTWISE", sgprSpills=30),         # to VGPR lanes: allowed
            self.row(False, "MATMUL", vgprSpills=900, scratch=1000),  # CPU-only: reported only
            {"source": "m.cl", "kernel": "k", "variant": "v", "gpuPath": True, "family": "MATMUL",
             "targets": {"gfx90a": {"error": "error: local memory (131072) exceeds limit (65536)"}}},
        ]}
        fails = g.failures(report)
        self.assertEqual(4, len(fails), fails)
        self.assertIn("spills 2 VGPRs", fails[0])
        self.assertIn("16 bytes of scratch", fails[1])
        self.assertIn("3 waves per SIMD (limited by VGPRs)", fails[2])
        self.assertIn("does not build", fails[3])


if __name__ == "__main__":
    unittest.main()
