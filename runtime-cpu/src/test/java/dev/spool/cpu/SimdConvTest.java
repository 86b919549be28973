package dev.spool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.spool.DType;
import dev.spool.spi.Conv2dGeometry;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The float32 SIMD convolutions and poolings ({@link ConvGemm}, {@link DepthwiseConv},
 * {@link SimdPooling}) against the plain path of {@link Convolution} over many geometries:
 * strides, dilations, explicit pads (windows wholly in padding included), groups, depthwise
 * multipliers, channel counts that leave partial vectors and tiles, pixel rows that leave partial
 * tiles, operands at an offset in their buffers. The plain path sums in double and is itself
 * checked against the definitions by the conformance suite; a float32 sum of k products is
 * within about k units of roundoff of the sum of their magnitudes, so each element is compared
 * within {@code 4 * k * 2^-24} times its magnitude, the same op run on |operands|. The outputs
 * start as garbage (NaN) so that an element a path forgets to write shows.
 *
 * <p>Only in the JVM with the Vector API (the default Surefire execution): without it these
 * paths do not exist and every op is the plain path, so the scalar-fallback execution leaves
 * this class out rather than compare the plain path with itself. float64 has no SIMD
 * convolution (it stays on the plain path, which the conformance suite checks).
 */
class SimdConvTest {
    private static final Parallel PAR = new Parallel(3);
    private static final CpuBackend ONE = new CpuBackend(1);
    private static final CpuBackend TWO = new CpuBackend(2);
    private static final CpuBackend FOUR = new CpuBackend(4);
    private static final double ROUNDOFF = 0x1p-24;

    /** Reached without the Vector API only when -Dtest names this class (the scalar-fallback
     *  execution leaves it out; VectorSupportTest proves the default one has the module). */
    @BeforeAll
    static void vectorApiIsThere() {
        Assumptions.assumeTrue(VectorSupport.ENABLED, "no Vector API in this JVM: no SIMD path to compare");
    }

    @AfterAll
    static void close() {
        ONE.close();
        TWO.close();
        FOUR.close();
        PAR.shutdown();
    }

    /** A geometry from explicit pads; the output size follows from them. */
    private static Conv2dGeometry geometry(int batch, int h, int w, int c, int kh, int kw, int o, int groups,
                                           int sh, int sw, int dh, int dw, int top, int bottom, int left, int right) {
        int oh = (h + top + bottom - ((kh - 1) * dh + 1)) / sh + 1;
        int ow = (w + left + right - ((kw - 1) * dw + 1)) / sw + 1;
        return new Conv2dGeometry(batch, h, w, c, kh, kw, o, groups, oh, ow, sh, sw, dh, dw, top, left);
    }

    /** Convolutions with at least two channels per group, or one group: ConvGemm's. */
    private static final List<Conv2dGeometry> GEMM = List.of(
            geometry(1, 5, 7, 3, 3, 3, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1),         // few channels: gathered windows
            geometry(2, 9, 11, 16, 3, 3, 20, 1, 2, 2, 1, 1, 1, 0, 1, 0),      // stride 2, 20 = 16 + a partial vector
            geometry(2, 8, 8, 32, 3, 3, 64, 1, 1, 1, 1, 1, 1, 1, 1, 1),       // a full 4-vector tile
            geometry(1, 13, 10, 24, 3, 2, 40, 1, 2, 3, 2, 1, 2, 1, 1, 0),     // strides 2x3, dilation 2x1
            geometry(2, 7, 9, 48, 3, 3, 96, 2, 1, 1, 2, 2, 2, 2, 2, 2),       // groups 2, dilation 2
            geometry(1, 6, 6, 8, 1, 1, 8, 1, 1, 1, 1, 1, 0, 0, 0, 0),         // 1x1
            geometry(1, 5, 5, 64, 5, 5, 17, 1, 1, 1, 1, 1, 0, 0, 0, 0),       // VALID 5x5, one output pixel
            geometry(3, 10, 12, 4, 3, 3, 6, 2, 3, 3, 1, 1, 2, 2, 2, 2),       // groups of 2 channels, stride 3
            geometry(1, 4, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3),         // windows wholly in padding
            geometry(2, 12, 12, 130, 3, 3, 130, 1, 1, 1, 1, 1, 1, 1, 1, 1),   // 130 = 4 + 4 + 1 vectors, a tail
            geometry(1, 3, 20, 16, 1, 7, 16, 1, 1, 1, 1, 1, 0, 0, 3, 3),      // a 1x7 row filter
            geometry(1, 9, 9, 16, 2, 2, 32, 1, 3, 3, 1, 1, 0, 0, 0, 0),       // stride larger than the window
            geometry(2, 11, 7, 20, 3, 3, 18, 2, 2, 1, 1, 3, 1, 2, 0, 4),      // groups 2, 10 channels each
            geometry(1, 16, 16, 64, 3, 3, 64, 1, 1, 1, 1, 1, 1, 1, 1, 1));    // the benchmark's layer, smaller

    /** One input channel per group. */
    private static final List<Conv2dGeometry> DEPTHWISE = List.of(
            geometry(2, 9, 11, 16, 3, 3, 16, 16, 1, 1, 1, 1, 1, 1, 1, 1),
            geometry(1, 8, 7, 5, 3, 3, 15, 5, 2, 2, 1, 1, 1, 1, 1, 1),        // multiplier 3, 15 lanes
            geometry(1, 10, 10, 32, 3, 3, 64, 32, 2, 2, 2, 2, 2, 1, 2, 1),    // multiplier 2, dilation 2
            geometry(1, 6, 6, 20, 5, 5, 20, 20, 1, 1, 1, 1, 2, 2, 2, 2),      // 20 = a vector and 4 lanes
            geometry(2, 7, 13, 48, 3, 5, 48, 48, 2, 3, 1, 1, 0, 1, 2, 0));

    /** Pooling geometries: {@code outChannels == inChannels == groups}. */
    private static final List<Conv2dGeometry> POOL = List.of(
            geometry(2, 8, 8, 16, 2, 2, 16, 16, 2, 2, 1, 1, 0, 0, 0, 0),      // Keras's 2x2 default
            geometry(1, 7, 9, 33, 3, 3, 33, 33, 2, 2, 1, 1, 1, 1, 1, 1),      // SAME-like, a 1-lane tail
            geometry(2, 6, 6, 64, 3, 3, 64, 64, 1, 1, 1, 1, 1, 1, 1, 1),      // overlapping windows
            geometry(1, 5, 11, 1, 2, 3, 1, 1, 1, 2, 1, 1, 0, 1, 1, 1),        // one channel: lanes only
            geometry(3, 9, 7, 20, 3, 2, 20, 20, 3, 1, 1, 1, 1, 1, 0, 1));

    // ---- convolutions ----------------------------------------------------------------------

    @Test
    void implicitGemmMatchesThePlainPath() {
        for (Conv2dGeometry g : GEMM) {
            assertTrue(ConvGemm.handles(g), g::toString);
            checkConvolution(g);
        }
    }

    @Test
    void depthwiseMatchesThePlainPath() {
        for (Conv2dGeometry g : DEPTHWISE) {
            assertTrue(DepthwiseConv.handles(g) && !ConvGemm.handles(g), g::toString);
            checkConvolution(g);
        }
    }

    private static void checkConvolution(Conv2dGeometry g) {
        Random r = new Random(g.hashCode());
        float[] x = random(r, (int) g.inputSize());
        float[] f = random(r, (int) g.filterSize());
        float[] dy = random(r, (int) g.outputSize());
        int k = g.filterHeight() * g.filterWidth() * g.inChannelsPerGroup();
        int kt = g.filterHeight() * g.filterWidth() * g.outChannelsPerGroup();
        long pixels = (long) g.batch() * g.outHeight() * g.outWidth();

        compare("conv2d " + g, k, g.outputSize(), x, f,
                (a, b) -> run(TWO, g.outputSize(), out -> TWO.conv2d(a, b, g, out)),
                (a, b) -> plain(g.outputSize(), out -> Convolution.conv2dPlain(PAR, a, b, g, out)));
        compare("conv2dBackpropInput " + g, kt, g.inputSize(), dy, f,
                (a, b) -> run(TWO, g.inputSize(), out -> TWO.conv2dBackpropInput(a, b, g, out)),
                (a, b) -> plain(g.inputSize(), out -> Convolution.backpropInputPlain(PAR, a, b, g, out)));
        compare("conv2dBackpropFilter " + g, (int) Math.min(pixels, Integer.MAX_VALUE), g.filterSize(), x, dy,
                (a, b) -> run(TWO, g.filterSize(), out -> TWO.conv2dBackpropFilter(a, b, g, out)),
                (a, b) -> plain(g.filterSize(), out -> Convolution.backpropFilterPlain(PAR, a, b, g, out)));
    }

    /**
     * Runs {@code fast} and {@code plain} on (a, b), stored at offsets in larger buffers, and
     * compares within {@code 4 k u} of the magnitudes (plain on |a|, |b|).
     */
    private static void compare(String what, int k, long size, float[] a, float[] b, Op fast, Op plain) {
        compare(what, k, size, a, b, fast, plain, true);
    }

    /** {@code absA}: false where a selects (max pooling's x), so |a| would select other cells. */
    private static void compare(String what, int k, long size, float[] a, float[] b, Op fast, Op plain,
                                boolean absA) {
        double[] got = fast.run(view(TWO, a, 5), view(TWO, b, 3));
        double[] want = plain.run(view(TWO, a, 0), view(TWO, b, 0));
        double[] mag = plain.run(view(TWO, absA ? abs(a) : a, 0), view(TWO, abs(b), 0));
        assertEquals(size, got.length);
        double tol = 4 * Math.max(k, 1) * ROUNDOFF;
        for (int i = 0; i < got.length; i++) {
            if (!(Math.abs(got[i] - want[i]) <= tol * mag[i])) {
                fail(what + ": element " + i + " is " + got[i] + ", the plain path gives " + want[i]
                        + " (magnitude " + mag[i] + ")");
            }
        }
    }

    @FunctionalInterface
    private interface Op {
        double[] run(View a, View b);
    }

    /** Geometries large enough for every op to split across threads. */
    @Test
    void resultsDoNotDependOnTheNumberOfThreads() {
        for (Conv2dGeometry g : List.of(GEMM.get(2), GEMM.get(12), GEMM.get(13), DEPTHWISE.get(0), DEPTHWISE.get(4))) {
            Random r = new Random(7);
            float[] x = random(r, (int) g.inputSize());
            float[] f = random(r, (int) g.filterSize());
            float[] dy = random(r, (int) g.outputSize());
            List<double[]> results = new ArrayList<>();
            for (CpuBackend be : new CpuBackend[] {ONE, TWO, FOUR}) {
                double[] y = run(be, g.outputSize(), out -> be.conv2d(view(be, x, 0), view(be, f, 0), g, out));
                double[] dx = run(be, g.inputSize(),
                        out -> be.conv2dBackpropInput(view(be, dy, 0), view(be, f, 0), g, out));
                double[] df = run(be, g.filterSize(),
                        out -> be.conv2dBackpropFilter(view(be, x, 0), view(be, dy, 0), g, out));
                results.add(concat(y, dx, df));
            }
            for (int t = 1; t < results.size(); t++) {
                assertArrayEquals(results.get(0), results.get(t), g.toString());
            }
        }
    }

    /** A NaN or infinity in x reaches exactly the outputs whose windows hold it, as on the plain path. */
    @Test
    void nonFiniteInputsReachTheirWindowsOnly() {
        for (Conv2dGeometry g : List.of(GEMM.get(1), GEMM.get(2), GEMM.get(9), DEPTHWISE.get(1))) {
            Random r = new Random(11);
            float[] x = random(r, (int) g.inputSize());
            float[] f = random(r, (int) g.filterSize());
            x[x.length / 3] = Float.NaN;
            x[x.length / 2] = Float.POSITIVE_INFINITY;
            double[] got = run(TWO, g.outputSize(), out -> TWO.conv2d(view(TWO, x, 0), view(TWO, f, 0), g, out));
            double[] want = plain(g.outputSize(),
                    out -> Convolution.conv2dPlain(PAR, view(TWO, x, 0), view(TWO, f, 0), g, out));
            for (int i = 0; i < got.length; i++) {
                assertEquals(Double.isFinite(want[i]), Double.isFinite(got[i]), g + " element " + i);
                assertEquals(Double.isNaN(want[i]), Double.isNaN(got[i]), g + " element " + i);
            }
        }
    }

    // ---- pooling -------------------------------------------------------------------------------

    @Test
    void poolingMatchesThePlainPath() {
        for (Conv2dGeometry g : POOL) {
            Random r = new Random(g.hashCode());
            float[] x = random(r, (int) g.inputSize());
            float[] h = random(r, (int) g.inputSize());
            float[] dy = random(r, (int) g.outputSize());
            int cells = g.filterHeight() * g.filterWidth();
            compare("avgPool2d " + g, cells, g.outputSize(), x, x,
                    (a, b) -> run(TWO, g.outputSize(), out -> TWO.avgPool2d(a, g, out)),
                    (a, b) -> plain(g.outputSize(), out -> Convolution.avgPoolPlain(PAR, a, g, out)));
            compare("avgPool2dGrad " + g, cells, g.inputSize(), dy, dy,
                    (a, b) -> run(TWO, g.inputSize(), out -> TWO.avgPool2dGrad(a, g, out)),
                    (a, b) -> plain(g.inputSize(), out -> Convolution.avgPoolGradPlain(PAR, a, g, out)));
            // Selection is exact: the same cell, so the same value.
            View xv = view(TWO, x, 2);
            assertArrayEquals(plain(g.outputSize(), out -> Convolution.maxPoolPlain(PAR, xv, xv, g, out)),
                    run(TWO, g.outputSize(), out -> TWO.maxPool2d(xv, xv, g, out)), "maxPool2d " + g);
            View hv = view(TWO, h, 1);
            assertArrayEquals(plain(g.outputSize(), out -> Convolution.maxPoolPlain(PAR, xv, hv, g, out)),
                    run(TWO, g.outputSize(), out -> TWO.maxPool2d(xv, hv, g, out)), "maxPool2d(x, h) " + g);
            // Overlapping windows add in window order; the plain path adds in double.
            compare("maxPool2dGrad " + g, cells, g.inputSize(), x, dy,
                    (a, b) -> run(TWO, g.inputSize(), out -> TWO.maxPool2dGrad(a, b, g, out)),
                    (a, b) -> plain(g.inputSize(), out -> Convolution.maxPoolGradPlain(PAR, a, b, g, out)), false);
        }
    }

    /** Ties go to the first maximal cell and a NaN wins, lane by lane, in whole vectors and tails. */
    @Test
    void maxPoolingChoosesAsThePlainPathAmongTiesAndNaN() {
        for (Conv2dGeometry g : POOL) {
            Random r = new Random(3);
            float[] x = new float[(int) g.inputSize()];
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextInt(3); // many ties
                if (r.nextInt(17) == 0) {
                    x[i] = Float.NaN;
                }
            }
            float[] h = random(r, x.length);
            float[] dy = random(r, (int) g.outputSize());
            View xv = view(TWO, x, 0);
            View hv = view(TWO, h, 0);
            assertArrayEquals(plain(g.outputSize(), out -> Convolution.maxPoolPlain(PAR, xv, hv, g, out)),
                    run(TWO, g.outputSize(), out -> TWO.maxPool2d(xv, hv, g, out)), "maxPool2d " + g);
            View dyv = view(TWO, dy, 0);
            double[] want = plain(g.inputSize(), out -> Convolution.maxPoolGradPlain(PAR, xv, dyv, g, out));
            double[] got = run(TWO, g.inputSize(), out -> TWO.maxPool2dGrad(xv, dyv, g, out));
            for (int i = 0; i < want.length; i++) {
                // the same cells receive dy (zero elsewhere), up to float rounding of the sums
                assertEquals(want[i] == 0, got[i] == 0, "maxPool2dGrad " + g + " element " + i);
                assertEquals(want[i], got[i], 1e-6 * (1 + Math.abs(want[i])), "maxPool2dGrad " + g + " element " + i);
            }
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextFloat() * 2 - 1;
        }
        return v;
    }

    private static float[] abs(float[] v) {
        float[] a = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            a[i] = Math.abs(v[i]);
        }
        return a;
    }

    /** {@code values} at {@code offset} in a buffer holding NaN around them. */
    private static View view(CpuBackend be, float[] values, int offset) {
        float[] host = new float[offset + values.length + 4];
        java.util.Arrays.fill(host, Float.NaN);
        System.arraycopy(values, 0, host, offset, values.length);
        DeviceBuffer b = CpuTesting.buffer(be, DType.FLOAT32, host);
        return new View(b, new int[] {values.length}, new long[] {1}, offset);
    }

    /** Runs an op on {@code be} into a fresh output first filled with NaN; its values as doubles. */
    private static double[] run(CpuBackend be, long size, java.util.function.Consumer<DeviceBuffer> op) {
        DeviceBuffer out = be.allocate(DType.FLOAT32, size);
        be.fill(out, Float.NaN);
        op.accept(out);
        return doubles((float[]) CpuTesting.read(be, out));
    }

    /** The plain path into a NaN-filled output. */
    private static double[] plain(long size, java.util.function.Consumer<CpuBuffer> op) {
        CpuBuffer out = (CpuBuffer) TWO.allocate(DType.FLOAT32, size);
        java.util.Arrays.fill((float[]) out.data(), Float.NaN);
        op.accept(out);
        return doubles((float[]) out.data());
    }

    private static double[] doubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private static double[] concat(double[]... parts) {
        int n = 0;
        for (double[] p : parts) {
            n += p.length;
        }
        double[] out = new double[n];
        int at = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
