package dev.spool.conformance;

import static dev.spool.DType.FLOAT32;
import static dev.spool.DType.FLOAT64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Moments;
import dev.spool.Padding;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.testing.ConvRef;
import dev.spool.testing.HostRef;
import dev.spool.testing.HostRef.Nd;
import dev.spool.testing.TensorAssert;
import dev.spool.testing.TestDevices;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Convolution, pooling and batch normalization forward: values worked out by hand, TensorFlow's
 * padding rules, a grid of random shapes, strides, dilations, paddings and groups against
 * {@link ConvRef}, max pooling's choice among ties and NaN, and the errors for bad arguments.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try")
class ConvolutionTest {

    static Stream<Device> devices() {
        return TestDevices.underTest();
    }

    private static DType floatType(Device d) {
        return d.supportsFloat64() ? FLOAT64 : FLOAT32;
    }

    private static double tol(DType t) {
        return t == FLOAT64 ? 1e-12 : 1e-5;
    }

    private static Tensor tensor(Nd v, DType t) {
        return Spool.constant(v.data(), Shape.of(v.shape()), t);
    }

    private static Nd iota(int... shape) {
        double[] v = new double[HostRef.size(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = i + 1;
        }
        return new Nd(v, shape);
    }

    private static Nd random(Random r, int... shape) {
        double[] v = new double[HostRef.size(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextDouble() * 2 - 1;
        }
        return new Nd(v, shape);
    }

    // ---- values by hand ---------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void aThreeByThreeSumOfOneToSixteen(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(iota(1, 4, 4, 1).data(), Shape.of(1, 4, 4, 1), FLOAT32);
            Tensor ones = Spool.ones(3, 3, 1, 1);
            // VALID: the four 3x3 blocks of [[1..4], [5..8], [9..12], [13..16]]
            TensorAssert.assertExact(Spool.conv2d(x, ones, new int[] {1}, Padding.VALID), Shape.of(1, 2, 2, 1),
                    FLOAT32, 54, 63, 90, 99);
            // SAME, stride 2: out 2x2, one padding row and column at the bottom and right
            TensorAssert.assertExact(Spool.conv2d(x, ones, new int[] {2, 2}, Padding.SAME), Shape.of(1, 2, 2, 1),
                    FLOAT32, 54, 45, 72, 54);
            // explicit pads of 1 on every side: 4x4, the corner sums 1 + 2 + 5 + 6
            Tensor padded = Spool.conv2d(x, ones, new int[] {1, 1, 1, 1}, Padding.explicit(1, 1, 1, 1));
            TensorAssert.assertMeta(padded, Shape.of(1, 4, 4, 1), FLOAT32);
            assertEquals(14, padded.getFloat(0, 0, 0, 0));
            assertEquals(54, padded.getFloat(0, 1, 1, 0));
            // dilation 2: the 3x3 window spans 5 cells, so VALID on 4x4 is too small...
            assertThrows(ShapeException.class, () -> Spool.conv2d(x, ones, new int[] {1}, Padding.VALID,
                    new int[] {2}));
            // ...and a 2x2 window dilated by 3 reads the four corners
            TensorAssert.assertExact(Spool.conv2d(x, Spool.ones(2, 2, 1, 1), new int[] {1}, Padding.VALID,
                    new int[] {3, 3}), Shape.of(1, 1, 1, 1), FLOAT32, 1 + 4 + 13 + 16);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void poolingByHand(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(iota(1, 4, 4, 1).data(), Shape.of(1, 4, 4, 1), FLOAT32);
            TensorAssert.assertExact(Spool.maxPool2d(x, new int[] {2}, new int[] {2}, Padding.VALID),
                    Shape.of(1, 2, 2, 1), FLOAT32, 6, 8, 14, 16);
            TensorAssert.assertExact(Spool.avgPool2d(x, new int[] {2}, new int[] {2}, Padding.VALID),
                    Shape.of(1, 2, 2, 1), FLOAT32, 3.5, 5.5, 11.5, 13.5);
            // SAME 3x3, stride 1: the corner window holds 4 cells and divides by 4, not 9
            Tensor avg = Spool.avgPool2d(x, new int[] {3}, new int[] {1}, Padding.SAME);
            assertEquals((1 + 2 + 5 + 6) / 4.0, avg.getFloat(0, 0, 0, 0), 1e-6);
            assertEquals((1 + 2 + 3 + 5 + 6 + 7) / 6.0, avg.getFloat(0, 0, 1, 0), 1e-6);
            // and max pooling never picks padding, even where every cell is negative
            Tensor neg = x.neg();
            assertEquals(-1, Spool.maxPool2d(neg, new int[] {3}, new int[] {1}, Padding.SAME).getFloat(0, 0, 0, 0));
            TensorAssert.assertExact(Spool.globalAvgPool2d(x), Shape.of(1, 1), FLOAT32, 8.5);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void maxPoolingsGradientGoesToTheFirstMaximalCellAndNaNWins(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            // one 2x2 window per image: ties at positions 1 and 3; a NaN at 2; all equal
            Tensor x = Spool.constant(new double[] {1, 5, 0, 5, /**/ 3, 4, Double.NaN, 7, /**/ 2, 2, 2, 2},
                    Shape.of(3, 2, 2, 1), FLOAT32);
            GradientTape tape = new GradientTape();
            Tensor y;
            try (tape) {
                tape.watch(x);
                y = Spool.maxPool2d(x, new int[] {2}, new int[] {2}, Padding.VALID);
            }
            double[] v = y.toDoubleArray();
            assertEquals(5, v[0]);
            assertTrue(Double.isNaN(v[1]), "a NaN in the window is its max");
            assertEquals(2, v[2]);
            TensorAssert.assertExact(tape.gradient(y, x), Shape.of(3, 2, 2, 1), FLOAT32,
                    0, 1, 0, 0, /**/ 0, 0, 1, 0, /**/ 1, 0, 0, 0);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void sameFollowsTensorFlowsRule(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            int[][] cases = {{28, 3, 1, 1}, {28, 3, 2, 1}, {7, 3, 2, 1}, {8, 5, 3, 1}, {9, 3, 2, 2}, {5, 4, 1, 1}};
            for (int[] c : cases) {
                int[] pads = ConvRef.same(c[0], c[1], c[2], c[3]);
                Tensor x = Spool.ones(1, c[0], 3, 1);
                Tensor y = Spool.conv2d(x, Spool.ones(c[1], 1, 1, 1), new int[] {c[2], 1}, Padding.SAME,
                        new int[] {c[3], 1});
                assertEquals(Shape.of(1, pads[2], 3, 1), y.shape(), "SAME output for " + java.util.Arrays.toString(c));
                // the first output row counts the window cells above the input as padding (pads[0])
                assertEquals(c[1] - Math.min(c[1], (pads[0] + c[3] - 1) / c[3]), y.getFloat(0, 0, 0, 0), 1e-6,
                        "cells of the first window inside the input for " + java.util.Arrays.toString(c));
            }
        }
    }

    // ---- a grid against the reference ----------------------------------------------------------------

    /** One convolution: shapes, strides, dilations, padding, groups; {@code explicit} the pads of an explicit padding. */
    record Case(int n, int h, int w, int c, int kh, int kw, int out, int groups, int[] strides, int[] dilations,
                Padding padding, int[] explicit) {
        @Override
        public String toString() {
            return "x[" + n + "," + h + "," + w + "," + c + "] k" + kh + "x" + kw + " out " + out + " groups "
                    + groups + " s" + strides[0] + "x" + strides[1] + " d" + dilations[0] + "x" + dilations[1] + " "
                    + padding;
        }

        /** {top, bottom, left, right}, by the test's own reading of the padding rules. */
        int[] pads() {
            if (padding == Padding.SAME) {
                int[] r = ConvRef.same(h, kh, strides[0], dilations[0]);
                int[] c2 = ConvRef.same(w, kw, strides[1], dilations[1]);
                return new int[] {r[0], r[1], c2[0], c2[1]};
            }
            return padding == Padding.VALID ? new int[4] : explicit;
        }
    }

    static List<Case> cases() {
        Random r = new Random(20);
        List<Case> out = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            int kh = 1 + r.nextInt(3);
            int kw = 1 + r.nextInt(3);
            int groups = new int[] {1, 1, 2, 3}[r.nextInt(4)];
            int c = groups * (1 + r.nextInt(3));
            int o = groups * (1 + r.nextInt(3));
            int[] s = {1 + r.nextInt(2), 1 + r.nextInt(2)};
            int[] d = i % 3 == 0 ? new int[] {1 + r.nextInt(2), 1 + r.nextInt(2)} : new int[] {1, 1};
            int[] pads = {r.nextInt(3), r.nextInt(3), r.nextInt(3), r.nextInt(3)};
            Padding p = switch (i % 3) {
                case 0 -> Padding.VALID;
                case 1 -> Padding.SAME;
                default -> Padding.explicit(pads[0], pads[1], pads[2], pads[3]);
            };
            int h = (kh - 1) * d[0] + 1 + r.nextInt(5);
            int w = (kw - 1) * d[1] + 1 + r.nextInt(5);
            out.add(new Case(1 + r.nextInt(3), h, w, c, kh, kw, o, groups, s, d, p, pads));
        }
        return out;
    }

    static Stream<Arguments> grid() {
        return TestDevices.withEach(cases());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("grid")
    void conv2dMatchesTheReference(Device device, Case k) {
        try (TestDevices.On on = TestDevices.on(device)) {
            DType t = floatType(device);
            Random r = new Random(k.toString().hashCode());
            Nd x = random(r, k.n(), k.h(), k.w(), k.c());
            Nd f = random(r, k.kh(), k.kw(), k.c() / k.groups(), k.out());
            Nd expected = ConvRef.conv2d(x, f, k.strides(), k.dilations(), k.pads());
            Tensor y = Spool.conv2d(tensor(x, t), tensor(f, t), k.strides(), k.padding(), k.dilations());
            TensorAssert.assertClose(y, Shape.of(expected.shape()), t, expected.data(), tol(t), tol(t));
            // and a transposed (non-contiguous) view holding the same x gives the same
            double[] swapped = new double[x.data().length];
            for (int i = 0; i < swapped.length; i++) {
                int[] at = HostRef.unravel(i, x.shape()); // (b, iy, ix, ch) to (b, ix, iy, ch)
                swapped[HostRef.flat(new int[] {at[0], at[2], at[1], at[3]},
                        new int[] {k.n(), k.w(), k.h(), k.c()})] = x.data()[i];
            }
            Tensor xt = tensor(new Nd(swapped, new int[] {k.n(), k.w(), k.h(), k.c()}), t).transpose(0, 2, 1, 3);
            Tensor yt = Spool.conv2d(xt, tensor(f, t), k.strides(), k.padding(), k.dilations());
            assertArrayEquals(y.toDoubleArray(), yt.toDoubleArray());
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("grid")
    void poolingMatchesTheReference(Device device, Case k) {
        if (k.padding() != Padding.VALID && k.padding() != Padding.SAME) {
            return; // explicit pads may reach past a window: pooling refuses them (badArguments)
        }
        try (TestDevices.On on = TestDevices.on(device)) {
            DType t = floatType(device);
            Random r = new Random(k.toString().hashCode() + 1);
            Nd x = random(r, k.n(), k.h(), k.w(), k.c());
            int[] window = {k.kh(), k.kw()};
            int[] pads = k.padding() == Padding.VALID ? new int[4] : new int[] {
                    ConvRef.same(k.h(), k.kh(), k.strides()[0], 1)[0], ConvRef.same(k.h(), k.kh(), k.strides()[0], 1)[1],
                    ConvRef.same(k.w(), k.kw(), k.strides()[1], 1)[0], ConvRef.same(k.w(), k.kw(), k.strides()[1], 1)[1]};
            for (boolean max : new boolean[] {true, false}) {
                Nd expected = ConvRef.pool(x, window, k.strides(), pads, max);
                Tensor y = max ? Spool.maxPool2d(tensor(x, t), window, k.strides(), k.padding())
                        : Spool.avgPool2d(tensor(x, t), window, k.strides(), k.padding());
                TensorAssert.assertClose(y, Shape.of(expected.shape()), t, expected.data(), tol(t), tol(t));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void depthwiseIsAGroupedConvolutionWithTensorFlowsFilterLayout(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            DType t = floatType(device);
            Random r = new Random(3);
            Nd x = random(r, 2, 6, 5, 3);
            Nd f = random(r, 3, 2, 3, 2); // [kh, kw, C, multiplier]
            Tensor y = Spool.depthwiseConv2d(tensor(x, t), tensor(f, t), new int[] {2, 1}, Padding.SAME);
            assertEquals(Shape.of(2, 3, 5, 6), y.shape());
            // channel c * 2 + m is channel c alone through filter[:, :, c, m]
            int[] pads = {ConvRef.same(6, 3, 2, 1)[0], ConvRef.same(6, 3, 2, 1)[1], ConvRef.same(5, 2, 1, 1)[0],
                    ConvRef.same(5, 2, 1, 1)[1]};
            double[] yv = y.toDoubleArray();
            for (int c = 0; c < 3; c++) {
                for (int m = 0; m < 2; m++) {
                    Nd xc = channel(x, c);
                    Nd fcm = new Nd(channelOfFilter(f, c, m), new int[] {3, 2, 1, 1});
                    Nd e = ConvRef.conv2d(xc, fcm, new int[] {2, 1}, new int[] {1, 1}, pads);
                    for (int i = 0; i < e.data().length; i++) {
                        assertEquals(e.data()[i], yv[i * 6 + c * 2 + m], tol(t), "channel " + c + " multiplier " + m);
                    }
                }
            }
        }
    }

    private static Nd channel(Nd x, int c) {
        int[] s = x.shape();
        double[] v = new double[s[0] * s[1] * s[2]];
        for (int i = 0; i < v.length; i++) {
            v[i] = x.data()[i * s[3] + c];
        }
        return new Nd(v, new int[] {s[0], s[1], s[2], 1});
    }

    private static double[] channelOfFilter(Nd f, int c, int m) {
        int[] s = f.shape();
        double[] v = new double[s[0] * s[1]];
        for (int i = 0; i < v.length; i++) {
            v[i] = f.data()[(i * s[2] + c) * s[3] + m];
        }
        return v;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void conv2dTransposeIsTheInputGradientOfConv2d(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            DType t = floatType(device);
            Random r = new Random(4);
            Tensor x = tensor(random(r, 2, 7, 6, 3), t);
            Tensor f = tensor(random(r, 3, 3, 3, 4), t);
            Tensor dy = tensor(random(r, 2, 4, 3, 4), t);
            GradientTape tape = new GradientTape();
            Tensor y;
            try (tape) {
                tape.watch(x);
                y = Spool.conv2d(x, f, new int[] {2}, Padding.SAME);
            }
            assertEquals(dy.shape(), y.shape());
            Tensor expected = tape.gradient(y, List.of(x), dy, dev.spool.UnconnectedGradients.NONE).get(0);
            Tensor actual = Spool.conv2dTranspose(dy, f, new int[] {2, 7, 6, 3}, new int[] {2}, Padding.SAME);
            assertArrayEquals(expected.toDoubleArray(), actual.toDoubleArray());
            assertThrows(ShapeException.class, () -> Spool.conv2dTranspose(dy, f, new int[] {2, 9, 6, 3},
                    new int[] {2}, Padding.SAME), "9 rows do not map to 4 with stride 2");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void batchNormalizationAndMomentsAsTensorFlow(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            DType t = floatType(device);
            Nd xv = iota(2, 2, 1, 2); // channel 0: 1 3 5 7, channel 1: 2 4 6 8
            Tensor x = tensor(xv, t);
            Moments m = Spool.moments(x, new int[] {0, 1, 2}, false);
            TensorAssert.assertClose(m.mean(), Shape.of(2), t, new double[] {4, 5}, tol(t), tol(t));
            TensorAssert.assertClose(m.variance(), Shape.of(2), t, new double[] {5, 5}, tol(t), tol(t)); // biased
            Tensor y = Spool.batchNormalization(x, m.mean(), m.variance(), Spool.constant(new double[] {1, -1},
                    Shape.of(2), t), Spool.constant(new double[] {2, 3}, Shape.of(2), t), 1e-3);
            double inv = 1 / Math.sqrt(5 + 1e-3);
            double[] v = y.toDoubleArray();
            assertEquals((1 - 4) * inv * 2 + 1, v[0], 1e-5);
            assertEquals((8 - 5) * inv * 3 - 1, v[7], 1e-5);
            Moments kept = Spool.moments(x, new int[] {0, 1, 2}, true);
            assertEquals(Shape.of(1, 1, 1, 2), kept.mean().shape());
            assertEquals(Shape.of(1, 1, 1, 2), kept.variance().shape());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void fusedBatchNormIsTheCompositeInOnePrimitiveEachWay(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            DType t = floatType(device);
            Random r = new Random(5);
            for (int[] shape : new int[][] {{4, 5, 3, 6}, {300, 7}, {1, 1, 1, 3}, {2, 1000}}) {
                int c = shape[shape.length - 1];
                Tensor x = tensor(random(r, shape), t).mul(3).add(1);
                Tensor scale = tensor(random(r, c), t);
                Tensor offset = tensor(random(r, c), t);
                int[] axes = java.util.stream.IntStream.range(0, shape.length - 1).toArray();
                GradientTape tape = new GradientTape(true);
                dev.spool.FusedBatchNorm fused;
                Tensor composite;
                Moments m;
                try (tape) {
                    tape.watch(x, scale, offset);
                    fused = Spool.fusedBatchNorm(x, scale, offset, 1e-3);
                    m = Spool.moments(x, axes, false);
                    composite = Spool.batchNormalization(x, m.mean(), m.variance(), offset, scale, 1e-3);
                }
                double tol = t == FLOAT64 ? 1e-10 : 2e-4;
                String what = java.util.Arrays.toString(shape);
                TensorAssert.assertClose(m.mean().toDoubleArray(), fused.mean().toDoubleArray(), tol, tol, "mean " + what);
                TensorAssert.assertClose(m.variance().toDoubleArray(), fused.variance().toDoubleArray(), tol, tol,
                        "variance " + what);
                TensorAssert.assertClose(composite.toDoubleArray(), fused.y().toDoubleArray(), tol, tol, "y " + what);
                Tensor w = tensor(random(r, shape), t);
                List<Tensor> gf = tape.gradient(fused.y(), List.of(x, scale, offset), w,
                        dev.spool.UnconnectedGradients.NONE);
                List<Tensor> gc = tape.gradient(composite, List.of(x, scale, offset), w,
                        dev.spool.UnconnectedGradients.NONE);
                for (int i = 0; i < 3; i++) {
                    TensorAssert.assertClose(gc.get(i).toDoubleArray(), gf.get(i).toDoubleArray(), 10 * tol, 10 * tol,
                            "gradient " + i + " " + what);
                }
                tape.reset();
            }
            assertMessage(ShapeException.class, "scale and offset", () -> Spool.fusedBatchNorm(Spool.ones(2, 3),
                    Spool.ones(2), Spool.ones(3), 1e-3));
            assertMessage(ShapeException.class, "rank >= 2", () -> Spool.fusedBatchNorm(Spool.ones(3),
                    Spool.ones(3), Spool.ones(3), 1e-3));
            assertMessage(ShapeException.class, "no element", () -> Spool.fusedBatchNorm(Spool.ones(0, 3),
                    Spool.ones(3), Spool.ones(3), 1e-3));
        }
    }

    // ---- errors ---------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void badArgumentsAreClearErrors(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.ones(1, 5, 5, 4);
            Tensor f = Spool.ones(3, 3, 4, 2);
            int[] one = {1};
            assertMessage(ShapeException.class, "rank 4", () -> Spool.conv2d(Spool.ones(5, 5, 4), f, one, Padding.SAME));
            assertMessage(ShapeException.class, "filter must have rank 4",
                    () -> Spool.conv2d(x, Spool.ones(3, 3, 4), one, Padding.SAME));
            assertMessage(ShapeException.class, "must divide", () -> Spool.conv2d(x, Spool.ones(3, 3, 3, 2), one,
                    Padding.SAME));
            assertMessage(ShapeException.class, "1, 2 or 4 values", () -> Spool.conv2d(x, f, new int[] {1, 1, 1},
                    Padding.SAME));
            assertMessage(ShapeException.class, "batch and channel", () -> Spool.conv2d(x, f, new int[] {2, 1, 1, 1},
                    Padding.SAME));
            assertMessage(ShapeException.class, "positive", () -> Spool.conv2d(x, f, new int[] {0}, Padding.SAME));
            assertMessage(ShapeException.class, "window spans 7", () -> Spool.conv2d(x, Spool.ones(7, 1, 4, 2), one,
                    Padding.VALID));
            assertMessage(DTypeException.class, "float", () -> Spool.conv2d(Spool.zeros(Shape.of(1, 3, 3, 1),
                    dev.spool.DType.INT32), Spool.zeros(Shape.of(1, 1, 1, 1), dev.spool.DType.INT32), one, Padding.SAME));
            assertMessage(ShapeException.class, "smaller than the pool", () -> Spool.maxPool2d(x, new int[] {2}, one,
                    Padding.explicit(2, 0, 0, 0)));
            assertMessage(ShapeException.class, "non-negative", () -> Padding.explicit(-1, 0, 0, 0));
            assertMessage(ShapeException.class, "input channels", () -> Spool.depthwiseConv2d(x, Spool.ones(3, 3, 2, 1),
                    one, Padding.SAME));
        }
    }

    private static void assertMessage(Class<? extends Throwable> type, String part, Runnable call) {
        Throwable e = assertThrows(type, call::run);
        assertTrue(e.getMessage().contains(part), "'" + part + "' in: " + e.getMessage());
    }
}
