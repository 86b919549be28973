package dev.spool.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.spool.Device;
import dev.spool.DeviceStats;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/**
 * Runs each GPU benchmark once on the first OpenCL device with small sizes (PoCL in CI): every
 * timed operation runs, moves nothing between host and device, and leaves no buffer behind (a
 * leak would fill the GPU within one JMH iteration at 64M elements); the bare-JOCL reference
 * really copies, and the MLP step really updates its parameters.
 */
class GpuBenchmarksTest {
    private static Device device;

    @BeforeAll
    static void requireOpenCl() {
        if (Device.list().stream().noneMatch(d -> d.info().backend().equals("opencl"))) {
            if ("1".equals(System.getenv("SPOOL_REQUIRE_OPENCL"))) {
                throw new AssertionError("SPOOL_REQUIRE_OPENCL=1 but no OpenCL device was found");
            }
            throw new TestAbortedException("no OpenCL device on this machine (set SPOOL_REQUIRE_OPENCL=1 to fail)");
        }
        device = Device.get("opencl");
    }

    /** Runs op twice (the first may fill buffer pools) and checks the second's counters. */
    private static void assertDeviceOnlyAndNoLeak(String what, Runnable op) {
        op.run();
        DeviceStats before = device.stats();
        op.run();
        DeviceStats d = device.stats().minus(before);
        assertEquals(0, d.transfers(), what + ": host<->device transfers inside the timed operation");
        assertEquals(0, d.liveBuffers(), what + ": buffers left alive by one operation");
    }

    @Test
    void sgemm() {
        GpuMatmulBench b = new GpuMatmulBench();
        b.device = "opencl";
        b.n = 33;
        b.setup();
        try {
            assertDeviceOnlyAndNoLeak("sgemm", b::sgemm);
        } finally {
            b.tearDown();
        }
    }

    @Test
    void addAndSum() {
        GpuStreamBench bench = new GpuStreamBench();
        GpuStreamBench.Vectors v = new GpuStreamBench.Vectors();
        v.device = "opencl";
        v.length = 1001;
        v.setup();
        try {
            assertDeviceOnlyAndNoLeak("add", () -> bench.add(v));
            assertDeviceOnlyAndNoLeak("sum", () -> bench.sum(v));
        } finally {
            v.tearDown();
        }
    }

    @Test
    void bareJoclCopyCopiesTheWholeBuffer() {
        GpuStreamBench.Buffers b = new GpuStreamBench.Buffers();
        b.device = "opencl";
        b.length = 1001;
        b.setup();
        try {
            float[] ones = new float[1001];
            Arrays.fill(ones, 1f);
            assertFalse(Arrays.equals(ones, b.copy.destination()), "the destination starts different");
            new GpuStreamBench().copyBareJocl(b);
            assertArrayEquals(ones, b.copy.destination());
        } finally {
            b.tearDown();
        }
    }

    @Test
    void dispatch() {
        GpuDispatchBench b = new GpuDispatchBench();
        b.device = "opencl";
        b.setup();
        try {
            assertDeviceOnlyAndNoLeak("20k one-element adds", b::add1);
        } finally {
            b.tearDown();
        }
    }

    @Test
    void mlpStepUpdatesEveryParameter() {
        GpuMlpBench b = new GpuMlpBench();
        b.device = "opencl";
        b.setup();
        try {
            float[][] before = b.params.stream().map(p -> p.value().toFloatArray()).toArray(float[][]::new);
            assertDeviceOnlyAndNoLeak("MLP step", b::trainStep);
            for (int i = 0; i < before.length; i++) {
                assertFalse(Arrays.equals(before[i], b.params.get(i).value().toFloatArray()),
                        b.params.get(i).name() + " did not change");
            }
        } finally {
            b.tearDown();
        }
    }
}
