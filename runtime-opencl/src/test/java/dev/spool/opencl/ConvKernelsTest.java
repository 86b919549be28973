package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.spool.DType;
import dev.spool.spi.Conv2dGeometry;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fast convolution kernels against conv.cl's plain ones, which the conformance suite checks
 * against a reference: every configuration of the implicit GEMMs that the tuner may choose
 * (forced one at a time, as {@link GemmCandidatesTest} does for matmul) and the depthwise
 * kernels, for both kernel styles and both float types, over geometries that reach every path:
 * strides, dilations, asymmetric pads, groups, one channel and many, partial tiles in every
 * dimension, window depths past one slice, filter gradients split into several parts.
 * Differences are measured against the sum of the terms' magnitudes (the plain kernel run on
 * absolute values), so that only the rounding of another summation order passes.
 */
@ExtendWith(TestDevices.class)
class ConvKernelsTest {

    /** batch, in (h, w, c), window (h, w), out channels, groups, strides, dilations, pads t/b/l/r. */
    static Conv2dGeometry geometry(int n, int h, int w, int c, int kh, int kw, int o, int groups, int sh, int sw,
                                   int dh, int dw, int pt, int pb, int pl, int pr) {
        int oh = (h + pt + pb - ((kh - 1) * dh + 1)) / sh + 1;
        int ow = (w + pl + pr - ((kw - 1) * dw + 1)) / sw + 1;
        return new Conv2dGeometry(n, h, w, c, kh, kw, o, groups, oh, ow, sh, sw, dh, dw, pt, pl);
    }

    static List<Conv2dGeometry> geometries() {
        List<Conv2dGeometry> out = new ArrayList<>();
        out.add(geometry(2, 9, 8, 20, 3, 3, 17, 1, 1, 1, 1, 1, 1, 1, 1, 1));  // SAME 3x3, channel tails
        out.add(geometry(1, 7, 9, 3, 3, 2, 5, 1, 2, 1, 1, 2, 0, 2, 1, 0));    // strided, dilated, asymmetric pads
        out.add(geometry(3, 6, 5, 1, 3, 3, 4, 1, 1, 1, 1, 1, 0, 0, 0, 0));    // one input channel (K = 9)
        out.add(geometry(1, 8, 8, 6, 2, 2, 9, 3, 1, 2, 2, 1, 1, 0, 0, 1));    // groups of 2 -> 3 channels
        out.add(geometry(2, 6, 7, 40, 3, 3, 70, 2, 1, 1, 1, 1, 1, 1, 1, 1));  // K = 180 per group, 35 columns
        out.add(geometry(1, 5, 6, 40, 3, 3, 36, 1, 1, 1, 1, 1, 2, 1, 0, 2));  // K = 360: two slices of 256
        out.add(geometry(2, 11, 10, 16, 1, 1, 33, 1, 1, 1, 1, 1, 0, 0, 0, 0)); // 1x1, VW-wide channel runs
        out.add(geometry(1, 4, 4, 8, 5, 5, 3, 1, 1, 1, 1, 1, 2, 2, 2, 2));    // every window reaches padding
        out.add(geometry(2, 40, 40, 8, 3, 3, 6, 1, 1, 1, 1, 1, 1, 1, 1, 1));  // 3200 pixels: a split filter gradient
        out.add(geometry(1, 13, 3, 17, 2, 3, 19, 1, 3, 1, 2, 1, 1, 0, 1, 1)); // stride 3, dilation 2
        Random r = new Random(20);
        for (int i = 0; i < 6; i++) {
            int groups = new int[] {1, 2, 3}[r.nextInt(3)];
            int c = groups * (1 + r.nextInt(12));
            int o = groups * (1 + r.nextInt(12));
            int kh = 1 + r.nextInt(3);
            int kw = 1 + r.nextInt(3);
            int s = 1 + r.nextInt(2);
            int d = 1 + r.nextInt(2);
            out.add(geometry(1 + r.nextInt(2), (kh - 1) * d + 1 + r.nextInt(8), (kw - 1) * d + 1 + r.nextInt(8), c, kh,
                    kw, o, groups, s, 1 + r.nextInt(2), d, 1, r.nextInt(3), r.nextInt(3), r.nextInt(3), r.nextInt(3)));
        }
        return out;
    }

    /**
     * Every candidate in float32 on each device's own style (a CPU style lists the tiled ones
     * too), and in float64 the style's default; on the other style its default in both types.
     * On PoCL each configuration is a program build of about a second: all of them in both
     * types and both styles took a minute.
     */
    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void everyCandidateMatchesThePlainKernels(OpenClBackend be) {
        ConvGemmKernels gemms = be.convs().gemms();
        boolean nativeStyle = TestDevices.all().contains(be);
        List<Conv2dGeometry> geometries = geometries();
        for (ConvKernels.Kind kind : List.of(ConvKernels.Kind.CONV2D, ConvKernels.Kind.BACKPROP_INPUT,
                ConvKernels.Kind.BACKPROP_FILTER)) {
            GemmTuner tuner = gemms.tuner(kind.gemm());
            assertNotNull(tuner, kind + " has no implicit-GEMM configuration on " + be.info().name());
            assertFalse(tuner.candidates().isEmpty());
            for (DType t : KernelCatalog.types(KernelCatalog.FLOATING, be.info().fp64())) {
                List<GemmConfig> configs = nativeStyle && t == DType.FLOAT32 ? tuner.candidates()
                        : List.of(tuner.candidates().get(0));
                int covered = 0;
                for (Conv2dGeometry g : geometries) {
                    if (gemms.covers(kind.gemm(), g)) {
                        Inputs in = new Inputs(be, kind, g, t);
                        for (GemmConfig c : configs) {
                            in.check(c);
                        }
                        covered++;
                    }
                }
                assertTrue(covered >= 6, kind + ": only " + covered + " geometries covered");
            }
        }
    }

    /** The depthwise kernels (one input channel per group), with multipliers 1 and 3, against the plain ones. */
    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void depthwiseKernelsMatchThePlainKernels(OpenClBackend be) {
        List<Conv2dGeometry> geometries = List.of(
                geometry(2, 9, 8, 8, 3, 3, 8, 8, 1, 1, 1, 1, 1, 1, 1, 1),
                geometry(1, 7, 9, 6, 3, 2, 18, 6, 2, 1, 1, 2, 0, 2, 1, 0),
                geometry(2, 30, 20, 5, 3, 3, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1),
                geometry(1, 6, 6, 3, 5, 5, 3, 3, 2, 2, 1, 1, 2, 2, 2, 2));
        // A strategy of several elements per work-item on a device with a loop limit (llvmpipe's
        // CPU strategy, which it does not run: 1024 channel vectors per work-item) passes the
        // limit on the larger geometries; there only those within it run.
        int perItem = be.tuning().elementwiseChunk();
        for (DType t : KernelCatalog.types(KernelCatalog.FLOATING, be.info().fp64())) {
            int ran = 0;
            for (Conv2dGeometry g : geometries) {
                long pixels = (long) g.batch() * Math.max(g.inHeight() * g.inWidth(), g.outHeight() * g.outWidth());
                long vectors = pixels * ((g.outChannels() + ConvKernels.DEPTHWISE_VECTOR - 1)
                        / ConvKernels.DEPTHWISE_VECTOR);
                long iterations = Math.min(vectors, perItem) * ((long) g.filterHeight() * g.filterWidth()
                        * (2 * ConvKernels.DEPTHWISE_VECTOR + 3) * (g.outChannels() / g.inChannels())
                        + g.filterHeight() + 2);
                if (perItem > 1 && iterations > be.device().loopLimit) {
                    continue;
                }
                ran++;
                assertTrue(ConvGemmKernels.depthwise(g) && !be.convs().gemms().covers(ConvGemmKernels.Op.FORWARD, g));
                for (ConvKernels.Kind kind : List.of(ConvKernels.Kind.CONV2D, ConvKernels.Kind.BACKPROP_INPUT,
                        ConvKernels.Kind.BACKPROP_FILTER)) {
                    new Inputs(be, kind, g, t).check(null);
                }
            }
            assertTrue(ran >= 2, "depthwise geometries within the loop limit: " + ran);
        }
    }

    /**
     * The channel-vectorised max pooling kernels: the forward pass against a selection written
     * here, the gradient over disjoint windows against the plain kernel (a work-item per input
     * cell), both exactly (nothing is summed). Values with ties and NaNs, so that the first
     * maximal cell and a NaN's win are exercised lane by lane; channel counts below, at and past
     * the vector width with a tail; VALID and SAME, dilated and overlapping windows (the forward
     * pass); the forward pass also with values other than x, as the gradient of the gradient
     * uses it.
     */
    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void vectorisedMaxPoolingSelectsTheFirstMaximalCell(OpenClBackend be) {
        int v = ConvKernels.POOL_VECTOR;
        List<Conv2dGeometry> geometries = List.of(
                geometry(2, 6, 6, v, 2, 2, v, v, 2, 2, 1, 1, 0, 0, 0, 0),                       // Keras's 2x2
                geometry(2, 7, 5, 2 * v + 4, 2, 2, 2 * v + 4, 2 * v + 4, 2, 2, 1, 1, 0, 1, 0, 1), // SAME, a tail
                geometry(1, 5, 6, 3, 2, 3, 3, 3, 2, 3, 1, 1, 0, 1, 0, 0),                       // all tail
                geometry(2, 7, 7, 2 * v, 3, 3, 2 * v, 2 * v, 3, 3, 1, 1, 1, 1, 1, 1),           // SAME 3x3 / 3
                geometry(1, 8, 7, v, 3, 3, v, v, 2, 1, 1, 1, 1, 1, 1, 1),                       // overlapping
                geometry(2, 9, 9, v + 1, 2, 2, v + 1, v + 1, 1, 2, 2, 1, 0, 0, 0, 0));          // dilated
        Random r = new Random(8);
        for (DType t : KernelCatalog.types(KernelCatalog.FLOATING, be.info().fp64())) {
            for (Conv2dGeometry g : geometries) {
                double[] x = new double[(int) g.inputSize()];
                double[] other = new double[x.length];
                double[] dy = new double[(int) g.outputSize()];
                for (int i = 0; i < x.length; i++) {
                    x[i] = r.nextInt(20) == 0 ? Double.NaN : r.nextInt(3) - 1; // ties in most windows
                    other[i] = r.nextDouble();
                }
                for (int i = 0; i < dy.length; i++) {
                    dy[i] = 1 + r.nextDouble();
                }
                for (double[] values : List.of(x, other)) {
                    double[] expected = new double[dy.length];
                    for (int e = 0; e < expected.length; e++) {
                        double pick = values[selectedCell(x, g, e)];
                        expected[e] = t == DType.FLOAT32 ? (float) pick : pick; // as uploaded
                    }
                    assertSame(expected, run(be, ConvKernels.Kind.MAX_POOL, g, t, null, ConvKernels.Path.CHOSEN, x,
                            values, g.outputSize()), "maxPool2d " + t + " " + g + (values == x ? "" : " (other values)"));
                }
                ConvKernels.Kind kind = ConvKernels.Kind.MAX_POOL_GRAD;
                assertSame(run(be, kind, g, t, null, ConvKernels.Path.PLAIN, x, dy, g.inputSize()),
                        run(be, kind, g, t, null, ConvKernels.Path.CHOSEN, x, dy, g.inputSize()), kind + " " + t
                                + " " + g + (ConvKernels.disjointWindows(g) ? "" : " (the plain kernel both ways)"));
            }
        }
        // x lies at offset 3 of its buffer, values and dy at 5 (run()); most geometries take the
        // vectorised gradient (max pooling of x by x itself, one buffer, is the conformance suite's)
        assertTrue(geometries.stream().filter(ConvKernels::disjointWindows).count() >= 3);
    }

    /** Index in x of output element e's selected cell: the first maximal in row-major window order, NaN the greatest. */
    private static int selectedCell(double[] x, Conv2dGeometry g, int e) {
        int c = g.outChannels();
        int ch = e % c;
        int ox = e / c % g.outWidth();
        int oy = e / c / g.outWidth() % g.outHeight();
        int n = e / c / g.outWidth() / g.outHeight();
        int best = -1;
        for (int ky = 0; ky < g.filterHeight(); ky++) {
            int iy = oy * g.strideH() - g.padTop() + ky * g.dilationH();
            for (int kx = 0; kx < g.filterWidth(); kx++) {
                int ix = ox * g.strideW() - g.padLeft() + kx * g.dilationW();
                if (iy < 0 || iy >= g.inHeight() || ix < 0 || ix >= g.inWidth()) {
                    continue;
                }
                int at = ((n * g.inHeight() + iy) * g.inWidth() + ix) * c + ch;
                if (best < 0 || !Double.isNaN(x[best]) && (Double.isNaN(x[at]) || x[at] > x[best])) {
                    best = at;
                }
            }
        }
        return best;
    }

    private static void assertSame(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            if (Double.doubleToLongBits(expected[i]) != Double.doubleToLongBits(actual[i])) {
                fail(what + ": element " + i + " is " + actual[i] + ", the plain kernel's " + expected[i]);
            }
        }
    }

    /** What takes which kernels: depthwise, strided input gradients and empty geometries do not take the GEMMs. */
    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void theImplicitGemmsCoverAllButDepthwiseAndStridedInputGradients(OpenClBackend be) {
        ConvGemmKernels gemms = be.convs().gemms();
        Conv2dGeometry plain = geometry(2, 9, 8, 20, 3, 3, 17, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        Conv2dGeometry strided = geometry(1, 7, 9, 3, 3, 2, 5, 1, 2, 1, 1, 2, 0, 2, 1, 0);
        Conv2dGeometry depthwise = geometry(2, 9, 8, 8, 3, 3, 8, 8, 1, 1, 1, 1, 1, 1, 1, 1);
        Conv2dGeometry empty = geometry(0, 9, 8, 20, 3, 3, 17, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        for (ConvGemmKernels.Op op : ConvGemmKernels.Op.values()) {
            assertTrue(gemms.covers(op, plain), op + " " + plain);
            assertEquals(op != ConvGemmKernels.Op.INPUT_GRADIENT, gemms.covers(op, strided), op + " " + strided);
            assertFalse(gemms.covers(op, depthwise), op + " " + depthwise);
            assertFalse(gemms.covers(op, empty), op + " " + empty);
        }
    }

    /**
     * Each product has a tuner of its own, keyed apart from matmul's and from the others' in the
     * shared cache; its candidates are the members conv_gemm.cl runs, the style's default first,
     * which is what it gives with tuning off (as the tests run).
     */
    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void eachProductHasItsOwnTunerKeyAndTheStylesDefault(OpenClBackend be) {
        // the style's default where it fits the device, else the first of its family that does,
        // else any that does (llvmpipe's 32 KiB of local memory fits no packed block in float64)
        boolean cpu = be.tuning().style() == Tuning.Style.CPU;
        GemmConfig styleDefault = cpu ? GemmConfig.PACKED_DEFAULT : GemmConfig.TILED_DEFAULT;
        OpenClDevice d = be.device();
        List<GemmConfig> fit = GemmTuner.candidates(be.tuning().style()).stream()
                .filter(c -> c.runsConvolutions() && c.fitsConvolutions(d.maxWorkGroupSize, d.localMemBytes)).toList();
        GemmConfig preferred = fit.contains(styleDefault) ? styleDefault
                : fit.stream().filter(c -> c.tiled() != cpu).findFirst().orElse(fit.get(0));
        java.util.Set<String> keys = new java.util.HashSet<>();
        keys.add(be.gemmTuner().deviceKey());
        for (ConvGemmKernels.Op op : ConvGemmKernels.Op.values()) {
            GemmTuner tuner = be.convs().gemms().tuner(op);
            assertTrue(keys.add(tuner.deviceKey()), "a key of its own: " + tuner.deviceKey());
            assertTrue(tuner.deviceKey().contains(KernelSources.CONV_GEMM) && tuner.deviceKey().endsWith(op.primitive),
                    tuner.deviceKey());
            assertEquals(preferred, tuner.candidates().get(0));
            assertTrue(tuner.candidates().stream().allMatch(GemmConfig::runsConvolutions), tuner.candidates().toString());
            assertTrue(GemmTuner.candidates(be.tuning().style()).containsAll(tuner.candidates()));
            assertEquals(preferred, tuner.configFor(DType.FLOAT32, 50176, 64, 576,
                    (c, t, m, n, k) -> fail("timed " + c + " with tuning off")));
        }
    }

    /**
     * Random inputs of {@code kind} on {@code g}, and what the plain kernel makes of them: the
     * result and the magnitude of its terms (the plain kernel on absolute values).
     */
    private static final class Inputs {
        final OpenClBackend be;
        final ConvKernels.Kind kind;
        final Conv2dGeometry g;
        final DType t;
        final double[] a;
        final double[] b;
        final long outSize;
        final double[] plain;
        final double[] magnitude;

        Inputs(OpenClBackend be, ConvKernels.Kind kind, Conv2dGeometry g, DType t) {
            this.be = be;
            this.kind = kind;
            this.g = g;
            this.t = t;
            long[] sizes = switch (kind) { // the two inputs and the output
                case CONV2D, DEPTHWISE -> new long[] {g.inputSize(), g.filterSize(), g.outputSize()};
                case BACKPROP_INPUT, DEPTHWISE_INPUT -> new long[] {g.outputSize(), g.filterSize(), g.inputSize()};
                default -> new long[] {g.inputSize(), g.outputSize(), g.filterSize()};
            };
            Random r = new Random(g.hashCode() + kind.ordinal());
            a = new double[(int) sizes[0]];
            b = new double[(int) sizes[1]];
            for (int i = 0; i < a.length; i++) {
                a[i] = r.nextDouble() * 2 - 1;
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = r.nextDouble() * 2 - 1;
            }
            outSize = sizes[2];
            // the plain kernels on the device's own strategy: on another one they may pass its
            // loop limit (llvmpipe's CPU strategy: 1024 elements of ~200 iterations per work-item)
            OpenClBackend own = TestDevices.all().stream().filter(n -> n.device() == be.device()).findFirst()
                    .orElse(be);
            plain = run(own, kind, g, t, null, ConvKernels.Path.PLAIN, a, b, outSize);
            magnitude = run(own, kind, g, t, null, ConvKernels.Path.PLAIN, abs(a), abs(b), outSize);
        }

        /** The implicit GEMM with {@code c} (the backend's choice when null) against the plain kernel. */
        void check(GemmConfig c) {
            double[] fast = run(be, kind, g, t, c, ConvKernels.Path.CHOSEN, a, b, outSize);
            double rel = t == DType.FLOAT32 ? 1e-5 : 1e-13;
            for (int i = 0; i < plain.length; i++) {
                if (!(Math.abs(fast[i] - plain[i]) <= rel * magnitude[i])) {
                    fail(kind + " " + (c == null ? "chosen" : c) + " " + t + " " + g + ": element " + i + " is "
                            + fast[i] + ", the plain kernel's " + plain[i] + " (terms of magnitude " + magnitude[i]
                            + ")");
                }
            }
        }
    }

    /** The inputs go in at an offset into their buffers, as views of larger tensors do. */
    private static double[] run(OpenClBackend be, ConvKernels.Kind kind, Conv2dGeometry g, DType t, GemmConfig c,
                                ConvKernels.Path path, double[] a, double[] b, long outSize) {
        DeviceBuffer ab = Host.upload(be, t, withOffset(a, 3));
        DeviceBuffer bb = Host.upload(be, t, withOffset(b, 5));
        DeviceBuffer out = be.allocate(t, outSize);
        try {
            be.conv(kind, g, out, outSize, path, c, new View(ab, new int[] {a.length}, new long[] {1}, 3),
                    new View(bb, new int[] {b.length}, new long[] {1}, 5));
            return Host.read(be, out);
        } finally {
            be.release(ab);
            be.release(bb);
            be.release(out);
        }
    }

    private static double[] withOffset(double[] v, int offset) {
        double[] out = new double[v.length + offset];
        System.arraycopy(v, 0, out, offset, v.length);
        return out;
    }

    private static double[] abs(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.abs(v[i]);
        }
        return out;
    }
}
