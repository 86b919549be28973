package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.spool.DType;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import java.util.Random;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Batch normalization's one-launch kernels (bn_fused, bn_grad_fused) against its three-launch
 * ones (partials per chunk of rows, their combination, the apply), which the conformance suite
 * checks against TensorFlow's formulas: both kernel styles, both float types, channel counts
 * below, at and past a work-group's channel block (with a partial last block), rows fewer than a
 * group's lanes and many more, operands at offsets into their buffers. The two sum in different
 * orders: they must agree to rounding. And the launches: one each way, three where a work-item
 * of the single launch would pass the device's loop limit.
 */
@ExtendWith(TestDevices.class)
class NormKernelsTest {

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void oneLaunchMatchesTheChunkedKernels(OpenClBackend be) {
        int[][] shapes = {{3, 2}, {1, 5}, {300, 8}, {1000, 20}, {4096, 3}, {2 * 13 * 13, 64}};
        Random r = new Random(11);
        for (DType t : KernelCatalog.types(KernelCatalog.FLOATING, be.info().fp64())) {
            for (int[] s : shapes) {
                int rows = s[0];
                int c = s[1];
                double[] x = new double[rows * c];
                double[] dy = new double[rows * c];
                for (int i = 0; i < x.length; i++) {
                    x[i] = 3 + 2 * r.nextGaussian(); // a mean away from 0, as activations have
                    dy[i] = r.nextGaussian();
                }
                double[] scale = new double[c];
                double[] offset = new double[c];
                for (int i = 0; i < c; i++) {
                    scale[i] = 0.5 + r.nextDouble();
                    offset[i] = r.nextGaussian();
                }
                double[][] one = run(be, t, rows, c, x, dy, scale, offset, false);
                double[][] three = run(be, t, rows, c, x, dy, scale, offset, true);
                String[] names = {"y", "mean", "variance", "dx", "dscale", "doffset"};
                double rel = t == DType.FLOAT32 ? 2e-5 : 1e-12;
                for (int k = 0; k < names.length; k++) {
                    for (int i = 0; i < one[k].length; i++) {
                        // |y| and |dx| are O(1) and O(rows * |dy|) terms meet in the sums
                        double scaleOf = k == 4 || k == 5 ? Math.sqrt(rows) * 4 : k == 1 || k == 2 ? 10 : 4;
                        if (!(Math.abs(one[k][i] - three[k][i]) <= rel * scaleOf)) {
                            fail(names[k] + "[" + i + "] " + t + " [" + rows + ", " + c + "] on " + be + ": one launch "
                                    + one[k][i] + ", three " + three[k][i]);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void oneLaunchEachWayUnlessAWorkItemWouldPassTheLoopLimit(OpenClBackend be) {
        int rows = 2 * 13 * 13;
        int c = 20;
        double[] x = new double[rows * c];
        java.util.Arrays.fill(x, 1);
        x[0] = 2;
        double[] scale = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
        long[] one = new long[2];
        long[] three = new long[2];
        run(be, DType.FLOAT32, rows, c, x, x, scale, new double[c], false, one);
        run(be, DType.FLOAT32, rows, c, x, x, scale, new double[c], true, three);
        assertEquals(1, one[0], "forward");
        assertEquals(1, one[1], "backward");
        assertEquals(3, three[0], "forward, chunked");
        assertEquals(3, three[1], "backward, chunked");
        // a work-item of a 256-item group over one channel loops about 2 * rows / 256 times:
        // past llvmpipe's 65,535 at ten million rows, not before; unbounded elsewhere
        boolean limited = be.device().loopLimit == OpenClDevice.LLVMPIPE_LOOP_LIMIT;
        assertTrue(be.norms().oneLaunch(1_000_000, 1, NormKernels.GROUP));
        assertEquals(!limited, be.norms().oneLaunch(10_000_000, 1, NormKernels.GROUP));
    }

    private static double[][] run(OpenClBackend be, DType t, int rows, int c, double[] x, double[] dy, double[] scale,
                                  double[] offset, boolean chunked) {
        return run(be, t, rows, c, x, dy, scale, offset, chunked, new long[2]);
    }

    /** y, mean, variance, dx, dscale, doffset; launches forward and backward into {@code launches}. */
    private static double[][] run(OpenClBackend be, DType t, int rows, int c, double[] x, double[] dy, double[] scale,
                                  double[] offset, boolean chunked, long[] launches) {
        DeviceBuffer xb = Host.upload(be, t, withOffset(x, 3));
        DeviceBuffer gb = Host.upload(be, t, withOffset(dy, 1));
        DeviceBuffer sb = Host.upload(be, t, withOffset(scale, 2));
        DeviceBuffer ob = Host.upload(be, t, offset);
        OpenClBuffer y = (OpenClBuffer) be.allocate(t, (long) rows * c);
        OpenClBuffer mean = (OpenClBuffer) be.allocate(t, c);
        OpenClBuffer var = (OpenClBuffer) be.allocate(t, c);
        OpenClBuffer dx = (OpenClBuffer) be.allocate(t, (long) rows * c);
        OpenClBuffer dscale = (OpenClBuffer) be.allocate(t, c);
        OpenClBuffer doffset = (OpenClBuffer) be.allocate(t, c);
        try {
            View xv = new View(xb, new int[] {rows, c}, new long[] {c, 1}, 3);
            View sv = new View(sb, new int[] {c}, new long[] {1}, 2);
            be.synchronize();
            long before = be.device().launches;
            be.norms().forward(xv, sv, View.contiguous(ob, c), 1e-3, y, mean, var, chunked);
            be.synchronize();
            launches[0] = be.device().launches - before;
            before = be.device().launches;
            be.norms().backward(new View(gb, new int[] {rows, c}, new long[] {c, 1}, 1), xv, sv,
                    View.contiguous(mean, c), View.contiguous(var, c), 1e-3, dx, dscale, doffset, chunked);
            be.synchronize();
            launches[1] = be.device().launches - before;
            return new double[][] {Host.read(be, y), Host.read(be, mean), Host.read(be, var), Host.read(be, dx),
                Host.read(be, dscale), Host.read(be, doffset)};
        } finally {
            for (DeviceBuffer b : new DeviceBuffer[] {xb, gb, sb, ob, y, mean, var, dx, dscale, doffset}) {
                be.release(b);
            }
        }
    }

    private static double[] withOffset(double[] v, int offset) {
        double[] out = new double[v.length + offset];
        System.arraycopy(v, 0, out, offset, v.length);
        return out;
    }
}
