package dev.spool.nn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Padding;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UsageException;
import dev.spool.Variable;
import dev.spool.testing.GradCheck;
import dev.spool.testing.TensorAssert;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The convolutional layers against Keras's formulas, worked out in plain Java doubles here: conv
 * and depthwise conv (TensorFlow's VALID and SAME rules, strides, dilation), pooling, flatten,
 * Glorot bounds with a kernel's receptive field, building from the first call.
 */
class ConvLayersTest {

    /** Random values in [-1, 1) from {@code seed}. */
    static double[] values(int n, long seed) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = 2 * r.nextDouble() - 1;
        }
        return v;
    }

    /** TensorFlow's padding before, and the output size, along one axis. */
    static int[] axis(int in, int k, int stride, int dilation, boolean same) {
        int window = (k - 1) * dilation + 1;
        if (!same) {
            return new int[] {0, (in - window) / stride + 1};
        }
        int out = (in + stride - 1) / stride;
        int total = Math.max((out - 1) * stride + window - in, 0);
        return new int[] {total / 2, out};
    }

    /**
     * The direct formula of a grouped 2-D convolution, NHWC and HWIO: {@code groups == c} with
     * a [kh, kw, 1, c·m] filter is the depthwise one.
     */
    static double[] conv(double[] x, int n, int h, int w, int c, double[] k, int kh, int kw, int f, int groups,
            int stride, int dilation, boolean same, int[] outShape) {
        int[] rows = axis(h, kh, stride, dilation, same);
        int[] cols = axis(w, kw, stride, dilation, same);
        int oh = rows[1];
        int ow = cols[1];
        int cpg = c / groups;
        int fpg = f / groups;
        double[] y = new double[n * oh * ow * f];
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int o = 0; o < f; o++) {
                        int g = o / fpg;
                        double s = 0;
                        for (int ky = 0; ky < kh; ky++) {
                            for (int kx = 0; kx < kw; kx++) {
                                int iy = oy * stride + ky * dilation - rows[0];
                                int ix = ox * stride + kx * dilation - cols[0];
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                                    continue;
                                }
                                for (int i = 0; i < cpg; i++) {
                                    s += x[((b * h + iy) * w + ix) * c + g * cpg + i] * k[((ky * kw + kx) * cpg + i) * f + o];
                                }
                            }
                        }
                        y[((b * oh + oy) * ow + ox) * f + o] = s;
                    }
                }
            }
        }
        outShape[0] = n;
        outShape[1] = oh;
        outShape[2] = ow;
        outShape[3] = f;
        return y;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void conv2dWorkedByHandWithBiasAndFusedRelu(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Conv2D conv = new Conv2D(1, 2, Activation.RELU, 1);
            assertFalse(conv.built());
            // x = 1..9 in a 3x3 image; kernel [[1, 2], [3, 4]]; bias -50.
            Tensor x = Spool.constant(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}).reshape(1, 3, 3, 1);
            conv.call(x); // builds: [2, 2, 1, 1] kernel and [1] bias
            assertTrue(conv.built());
            assertEquals(Shape.of(2, 2, 1, 1), conv.kernel().shape());
            assertSame(device, conv.kernel().device());
            conv.kernel().assign(Spool.constant(new float[] {1, 2, 3, 4}).reshape(2, 2, 1, 1));
            conv.bias().assign(Spool.constant(new float[] {-50}));
            // windows: 1+4+12+20 = 37, 2+6+15+24 = 47, 4+10+21+32 = 67, 5+12+24+36 = 77; minus 50, relu
            Tensor y = conv.call(x);
            assertEquals(Shape.of(1, 2, 2, 1), y.shape());
            assertArrayEquals(new float[] {0, 0, 17, 27}, y.toFloatArray());
        }
    }

    /** {kh, kw, stride, dilation, same}: TF's rules on a 2x7x6x3 batch to 4 filters. */
    static final int[][] CONV_CASES = {{3, 3, 1, 1, 0}, {3, 3, 1, 1, 1}, {3, 2, 2, 1, 1}, {2, 3, 2, 1, 0},
        {3, 3, 1, 2, 1}, {1, 1, 3, 1, 1}};

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void conv2dMatchesTheDirectFormula(Device device) {
        int n = 2;
        int h = 7;
        int w = 6;
        int c = 3;
        int f = 4;
        double[] xv = values(n * h * w * c, 1);
        for (int[] k : CONV_CASES) {
            boolean same = k[4] == 1;
            String what = "kernel " + k[0] + "x" + k[1] + " stride " + k[2] + " dilation " + k[3] + (same ? " SAME" : " VALID");
            try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
                Conv2D conv = new Conv2D("conv2d", c, f, new int[] {k[0], k[1]}, new int[] {k[2]},
                        same ? Padding.SAME : Padding.VALID, new int[] {k[3]}, Activation.TANH, true,
                        Initializer.GLOROT_UNIFORM, Initializer.uniform(-1, 1), DType.FLOAT32, 5);
                assertTrue(conv.built(), "channels given up front: built at construction");
                double[] kv = conv.kernel().value().toDoubleArray();
                double[] bv = conv.bias().value().toDoubleArray();
                int[] shape = new int[4];
                double[] expected = conv(xv, n, h, w, c, kv, k[0], k[1], f, 1, k[2], k[3], same, shape);
                for (int i = 0; i < expected.length; i++) {
                    expected[i] = Math.tanh(expected[i] + bv[i % f]);
                }
                Tensor y = conv.call(Spool.constant(xv, Shape.of(n, h, w, c), DType.FLOAT32));
                assertEquals(Shape.of(shape), y.shape(), what);
                TensorAssert.assertClose(expected, y.toDoubleArray(), 1e-5, 1e-5, what);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void depthwiseConv2dMatchesTheDirectFormula(Device device) {
        int n = 2;
        int h = 6;
        int w = 5;
        int c = 3;
        int m = 2;
        double[] xv = values(n * h * w * c, 2);
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            DepthwiseConv2D dw = new DepthwiseConv2D(3, 2, Padding.SAME, m, Activation.LINEAR, 9);
            Tensor y = dw.call(Spool.constant(xv, Shape.of(n, h, w, c), DType.FLOAT32));
            assertEquals(List.of("depthwise_kernel", "bias"), List.copyOf(dw.variables().keySet()));
            assertEquals(Shape.of(3, 3, c, m), dw.depthwiseKernel().shape());
            assertEquals(Shape.of(c * m), dw.bias().shape());
            // [3, 3, c, m] is the grouped filter [3, 3, 1, c·m] in the same memory order
            double[] kv = dw.depthwiseKernel().value().toDoubleArray();
            int[] shape = new int[4];
            double[] expected = conv(xv, n, h, w, c, kv, 3, 3, c * m, c, 2, 1, true, shape);
            assertEquals(Shape.of(n, 3, 3, c * m), Shape.of(shape));
            assertEquals(Shape.of(shape), y.shape());
            TensorAssert.assertClose(expected, y.toDoubleArray(), 1e-5, 1e-5, "depthwise, bias zero");
        }
    }

    @Test
    void kernelsAreGlorotUniformOverTheReceptiveField() {
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope s = new TensorScope()) {
            // Keras: fanIn = 3·3·32, fanOut = 3·3·64; limit = sqrt(6 / (fanIn + fanOut)).
            Conv2D conv = new Conv2D("conv2d", 32, 64, new int[] {3}, new int[] {1}, Padding.VALID, new int[] {1},
                    Activation.RELU, true, Initializer.GLOROT_UNIFORM, Initializer.ZEROS, DType.FLOAT32, 3);
            assertBounded(conv.kernel().value().toDoubleArray(), Math.sqrt(6.0 / (9 * 32 + 9 * 64)));
            assertArrayEquals(new double[64], conv.bias().value().toDoubleArray(), "zero bias");
            // Depthwise [5, 5, 40, 2]: fanIn = 5·5·40, fanOut = 5·5·2.
            DepthwiseConv2D dw = new DepthwiseConv2D("depthwise_conv2d", 40, new int[] {5}, new int[] {1}, Padding.SAME,
                    2, new int[] {1}, Activation.LINEAR, true, Initializer.GLOROT_UNIFORM, Initializer.ZEROS,
                    DType.FLOAT32, 4);
            assertBounded(dw.depthwiseKernel().value().toDoubleArray(), Math.sqrt(6.0 / (25 * 40 + 25 * 2)));
            assertEquals(9 * 32, Initializer.fanIn(Shape.of(3, 3, 32, 64)));
            assertEquals(9 * 64, Initializer.fanOut(Shape.of(3, 3, 32, 64)));
            assertEquals(7, Initializer.fanIn(Shape.of(7, 5)));
            assertEquals(5, Initializer.fanOut(Shape.of(7, 5)));
        }
    }

    /** Every value within ±limit, the range filled, the variance of U(-limit, limit). */
    static void assertBounded(double[] v, double limit) {
        double max = 0;
        double sq = 0;
        for (double x : v) {
            max = Math.max(max, Math.abs(x));
            sq += x * x;
        }
        assertTrue(max <= limit, "within ±" + limit + ": " + max);
        assertTrue(max > 0.98 * limit, "fills the range: " + max + " of " + limit);
        assertEquals(limit * limit / 3, sq / v.length, 0.06 * limit * limit / 3, "variance of U(-limit, limit)");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void poolingFlattenAndGlobalAverage(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            // one 5x5 channel of 0..24 and a second of 100 - that
            float[] v = new float[50];
            for (int i = 0; i < 25; i++) {
                v[2 * i] = i;
                v[2 * i + 1] = 100 - i;
            }
            Tensor x = Spool.constant(v).reshape(1, 5, 5, 2);
            // Keras's default: 2x2, stride 2, VALID: a 5x5 map gives 2x2, the last row and column unused
            Tensor max = new MaxPooling2D().call(x);
            assertEquals(Shape.of(1, 2, 2, 2), max.shape());
            assertArrayEquals(new float[] {6, 100, 8, 98, 16, 90, 18, 88}, max.toFloatArray());
            Tensor avg = new AveragePooling2D().call(x);
            assertArrayEquals(new float[] {3, 97, 5, 95, 13, 87, 15, 85}, avg.toFloatArray());
            // SAME: 3x3; the last window covers one row and column only, and averages only them
            Tensor avgSame = new AveragePooling2D(new int[] {2}, new int[] {2}, Padding.SAME).call(x);
            assertEquals(Shape.of(1, 3, 3, 2), avgSame.shape());
            assertEquals(24f, avgSame.toFloatArray()[16], "the corner window holds only cell 24");
            assertEquals(20.5f, avgSame.toFloatArray()[12], "cells 20 and 21 (padding not counted)");
            Tensor maxSame = new MaxPooling2D(new int[] {3, 2}, new int[] {1, 2}, Padding.SAME).call(x);
            assertEquals(Shape.of(1, 5, 3, 2), maxSame.shape());
            Tensor gap = new GlobalAveragePooling2D().call(x);
            assertEquals(Shape.of(1, 2), gap.shape());
            assertArrayEquals(new float[] {12, 88}, gap.toFloatArray());
            // Flatten keeps row-major (channels-last) order
            Tensor flat = new Flatten().call(max);
            assertEquals(Shape.of(1, 8), flat.shape());
            assertArrayEquals(max.toFloatArray(), flat.toFloatArray());
            assertEquals(Shape.of(3, 1), new Flatten().call(Spool.zeros(3)).shape());
            assertThrows(ShapeException.class, () -> new MaxPooling2D().call(Spool.zeros(4, 4)));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void layersBuildFromTheirFirstCallAndKeepThatSize(Device device) {
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope s = new TensorScope()) {
            Sequential model = new Sequential(new Conv2D(4, 3, Activation.RELU, 1), new MaxPooling2D(),
                    new BatchNormalization(), new Flatten(), new Dense(5, Activation.LINEAR, 2));
            assertFalse(model.built());
            UsageException e = assertThrows(UsageException.class, model::trainableVariables);
            assertTrue(e.getMessage().startsWith("Conv2D 'conv2d' takes its input channels from its first call"),
                    e.getMessage());
            try (Device.Scope there = Device.use(device)) {
                model.build(Shape.of(1, 8, 8, 3), DType.FLOAT32); // variables on the device of the input
            }
            assertTrue(model.built());
            assertArrayEquals(new float[4], model.variables().get("batch_normalization/moving_mean").value().toFloatArray(),
                    "build calls in inference mode: the statistics do not move");
            assertEquals(List.of("conv2d/kernel", "conv2d/bias", "batch_normalization/gamma", "batch_normalization/beta",
                    "batch_normalization/moving_mean", "batch_normalization/moving_variance", "dense/kernel", "dense/bias"),
                    List.copyOf(model.variables().keySet()));
            assertEquals(6, model.trainableVariables().size(), "moving statistics are not trainable");
            // 8x8 -> conv 3x3 VALID 6x6x4 -> pool 3x3x4 -> flatten 36
            assertEquals(Shape.of(36, 5), model.variables().get("dense/kernel").shape());
            for (Variable v : model.variables().values()) {
                assertSame(device, v.device(), v.name());
            }
            try (Device.Scope there = Device.use(device)) {
                ShapeException wrong = assertThrows(ShapeException.class, () -> model.call(Spool.zeros(2, 8, 8, 2)));
                assertEquals("Conv2D 'conv2d': input shape (2, 8, 8, 2) has 2 input channels where the layer was "
                        + "built for 3", wrong.getMessage());
                assertEquals(Shape.of(2, 5), model.call(Spool.zeros(2, 8, 8, 3), true).shape());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void conv2dGradientsMatchFiniteDifferences(Device device) {
        DType dtype = device.supportsFloat64() ? DType.FLOAT64 : DType.FLOAT32;
        Conv2D conv;
        try (Device.Scope on = Device.use(device)) {
            conv = new Conv2D("conv2d", 2, 3, new int[] {2, 3}, new int[] {2, 1}, Padding.SAME, new int[] {1},
                    Activation.TANH, true, Initializer.GLOROT_UNIFORM, Initializer.uniform(-0.5, 0.5), dtype, 8);
        }
        // in the input (the layer's kernel and bias fixed)
        GradCheck.check(device, in -> conv.call(in[0]), GradCheck.Input.random(Shape.of(2, 5, 4, 2), 3, -1, 1));
        // in the kernel and bias: the tape's gradients against central differences of the loss
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Tensor x = Spool.constant(values(2 * 5 * 4 * 2, 4), Shape.of(2, 5, 4, 2), dtype);
            Tensor weights = Spool.constant(values(2 * 3 * 4 * 3, 5), Shape.of(2, 3, 4, 3), dtype);
            GradientTape tape = new GradientTape();
            Tensor loss;
            try (tape) {
                loss = conv.call(x).mul(weights).sum();
            }
            List<Tensor> grads = tape.gradient(loss, List.of(conv.kernel(), conv.bias()));
            assertFiniteDifferences(conv.kernel(), grads.get(0), () -> conv.call(x).mul(weights).sum().doubleValue(), dtype);
            assertFiniteDifferences(conv.bias(), grads.get(1), () -> conv.call(x).mul(weights).sum().doubleValue(), dtype);
        }
    }

    /** Each element of {@code v} moved by ±eps: the loss's slope against the tape's gradient. */
    static void assertFiniteDifferences(Variable v, Tensor gradient, java.util.function.DoubleSupplier loss, DType dtype) {
        double eps = dtype == DType.FLOAT64 ? 1e-6 : 1e-2;
        double tol = dtype == DType.FLOAT64 ? 1e-6 : 2e-2;
        double[] base = v.value().toDoubleArray();
        double[] numeric = new double[base.length];
        for (int i = 0; i < base.length; i++) {
            double[] moved = base.clone();
            moved[i] = base[i] + eps;
            v.assign(Spool.constant(moved, v.shape(), dtype));
            double plus = loss.getAsDouble();
            moved[i] = base[i] - eps;
            v.assign(Spool.constant(moved, v.shape(), dtype));
            numeric[i] = (plus - loss.getAsDouble()) / (2 * eps);
        }
        v.assign(Spool.constant(base, v.shape(), dtype));
        TensorAssert.assertClose(numeric, gradient.toDoubleArray(), tol, tol, "d loss / d " + v.name());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void aLayerWithoutBiasHasNone(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Conv2D conv = new Conv2D("conv2d", 2, 3, new int[] {1}, new int[] {1}, Padding.VALID, new int[] {1},
                    Activation.LINEAR, false, Initializer.GLOROT_UNIFORM, Initializer.ZEROS, DType.FLOAT32, 1);
            assertNull(conv.bias());
            assertEquals(List.of("kernel"), List.copyOf(conv.variables().keySet()));
            Tensor x = Spool.constant(values(12, 3), Shape.of(1, 2, 3, 2), DType.FLOAT32);
            // a 1x1 convolution is a matmul over the channels
            TensorAssert.assertClose(x.reshape(6, 2).matmul(conv.kernel().value().reshape(2, 3)).toDoubleArray(),
                    conv.call(x).toDoubleArray(), 1e-6, 1e-6, "1x1 conv");
            GradientTape tape = new GradientTape();
            Tensor y;
            try (tape) {
                y = conv.call(x).sum();
            }
            assertEquals(Shape.of(1, 1, 2, 3), tape.gradient(y, conv.kernel()).shape());
        }
    }

    @Test
    void badArgumentsAreNamed() {
        assertEquals("Conv2D: filters must be > 0, got 0",
                assertThrows(ShapeException.class, () -> new Conv2D(0, 3, Activation.RELU, 1)).getMessage());
        assertEquals("Conv2D: kernelSize must be one size > 0 or two ({h, w}), got [3, 0]",
                assertThrows(ShapeException.class, () -> new Conv2D("c", 0, 2, new int[] {3, 0}, new int[] {1},
                        Padding.VALID, new int[] {1}, Activation.RELU, true, Initializer.ZEROS, Initializer.ZEROS,
                        DType.FLOAT32, 1)).getMessage());
        assertEquals("Conv2D: input channels must be > 0, or 0 to take it from the first call, got -1",
                assertThrows(ShapeException.class, () -> new Conv2D("c", -1, 2, new int[] {3}, new int[] {1},
                        Padding.VALID, new int[] {1}, Activation.RELU, true, Initializer.ZEROS, Initializer.ZEROS,
                        DType.FLOAT32, 1)).getMessage());
        assertEquals("MaxPooling2D: strides must be one size > 0 or two ({h, w}), got [1, 2, 3]",
                assertThrows(ShapeException.class, () -> new MaxPooling2D(new int[] {2}, new int[] {1, 2, 3},
                        Padding.VALID)).getMessage());
        assertEquals("DepthwiseConv2D: depthMultiplier must be > 0, got 0",
                assertThrows(ShapeException.class, () -> new DepthwiseConv2D(3, 1, Padding.SAME, 0, Activation.RELU, 1))
                        .getMessage());
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope s = new TensorScope()) {
            assertEquals("Conv2D 'conv2d': input shape (2, 3) must be [batch, height, width, channels]",
                    assertThrows(ShapeException.class, () -> new Conv2D(2, 1, Activation.RELU, 1).call(Spool.zeros(2, 3)))
                            .getMessage());
        }
    }
}
