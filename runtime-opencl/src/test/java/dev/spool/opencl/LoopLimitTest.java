package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.BackendException;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Padding;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * llvmpipe ends a work-item silently after 65,535 loop iterations (OpenClDevice#loopLimit). A
 * filter gradient sums, per work-item, over every output position of the batch; here 3 x 158 x 158
 * = 74,892 of them, past the limit: on Rusticl's llvmpipe (scripts/rusticl-check.sh) the kernel
 * must split the batch to get it right, elsewhere one launch does. Found by the parity suite: the
 * CPU strategy's 1024 elements per work-item stopped conv2d after ~200 of them.
 */
@ExtendWith(TestDevices.class)
@SuppressWarnings("try") // device scopes are opened for their effect
class LoopLimitTest {

    @Test
    void aFilterGradientOverMorePositionsThanTheLoopLimitMatchesTheCpuDevice() {
        TestDevices.all(); // fails under SPOOL_REQUIRE_OPENCL=1 without a device
        float[] expected = filterGradient(Device.cpu());
        float[] got = filterGradient(Device.get("opencl:0"));
        assertEquals(expected.length, got.length);
        for (int i = 0; i < expected.length; i++) {
            // sums of 74,892 products of [0, 1) values, about 18,700 each, in another order
            assertEquals(expected[i], got[i], 1e-4 * Math.abs(expected[i]),
                    "filter gradient element " + i + " on " + Device.get("opencl:0").info().name());
        }
    }

    /** K = 40,000: right everywhere but llvmpipe, refused there (K = 70,000 stopped at ~65,500). */
    @Test
    void aMatmulWithKPastTheLimitIsRightOrRefused() {
        TestDevices.all();
        Tensor a = Spool.randomUniform(Shape.of(4, 40_000), 13);
        Tensor b = Spool.randomUniform(Shape.of(40_000, 3), 14);
        float[] expected = Spool.matmul(a, b).toFloatArray();
        Device d = Device.get("opencl:0");
        if (TestDevices.all().get(0).device().loopLimit == OpenClDevice.LLVMPIPE_LOOP_LIMIT) {
            BackendException e = assertThrows(BackendException.class, () -> Spool.matmul(a.to(d), b.to(d)).toFloatArray());
            assertTrue(e.getMessage().contains("K = 40000") && e.getMessage().contains("65535"), e.getMessage());
            return;
        }
        float[] got = Spool.matmul(a.to(d), b.to(d)).toFloatArray();
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], 1e-4 * Math.abs(expected[i]), "matmul element " + i);
        }
    }

    /**
     * A convolution whose windows hold 3 x 3 x 512 = 4,608 values: the tiled implicit GEMM's
     * work-items loop over all of them, some 450 iterations per 16-deep slice, past the limit;
     * on llvmpipe it takes the plain kernel (ConvGemmKernels#withinLoopLimit), elsewhere the GEMM.
     */
    @Test
    void aConvolutionWithADeepWindowMatchesTheCpuDevice() {
        TestDevices.all();
        Tensor x = Spool.randomUniform(Shape.of(2, 5, 5, 512), 13);
        Tensor f = Spool.randomUniform(Shape.of(3, 3, 512, 3), 14);
        float[] expected = Spool.conv2d(x.to(Device.cpu()), f.to(Device.cpu()), new int[] {1}, Padding.SAME)
                .toFloatArray();
        Device d = Device.get("opencl:0");
        float[] got = Spool.conv2d(x.to(d), f.to(d), new int[] {1}, Padding.SAME).toFloatArray();
        assertEquals(expected.length, got.length);
        for (int i = 0; i < expected.length; i++) {
            // sums of up to 4,608 products of [0, 1) values, in another order
            assertEquals(expected[i], got[i], 1e-4 * Math.abs(expected[i]),
                    "conv2d element " + i + " on " + d.info().name());
        }
    }

    @Test
    void llvmpipeGetsTheGpuStrategyAndTheLimit() {
        for (OpenClBackend b : TestDevices.all()) {
            OpenClDevice d = b.device();
            boolean llvmpipe = d.info.name().startsWith("llvmpipe");
            assertEquals(llvmpipe ? OpenClDevice.LLVMPIPE_LOOP_LIMIT : Long.MAX_VALUE, d.loopLimit, d.describe());
            if (llvmpipe && System.getProperty(Tuning.STYLE_PROPERTY, "").isEmpty()) {
                assertEquals(Tuning.Style.GPU, d.tuning.style(), d.describe());
            }
        }
        assertTrue(OpenClDevice.LLVMPIPE_LOOP_LIMIT < 74_892, "the test above must pass the limit");
    }

    private static float[] filterGradient(Device d) {
        Tensor x = Spool.randomUniform(Shape.of(3, 160, 160, 1), 11).to(d);
        Tensor f = Spool.randomUniform(Shape.of(3, 3, 1, 2), 12).to(d);
        try (Device.Scope s = Device.use(d)) {
            try (GradientTape tape = new GradientTape()) {
                tape.watch(f);
                Tensor y = Spool.conv2d(x, f, new int[] {1}, Padding.VALID);
                return tape.gradient(y, f).toFloatArray();
            }
        }
    }
}
