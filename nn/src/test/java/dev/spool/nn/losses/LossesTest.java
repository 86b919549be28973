package dev.spool.nn.losses;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DTypeException;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.ShapeException;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.testing.TensorAssert;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every loss against its textbook formula evaluated on the host, and at ±1000 logits. */
class LossesTest {
    static final double RTOL = 1e-5;
    static final double ATOL = 1e-5;

    static final float[][] Y_TRUE = {{1, 0, 2}, {-1, 3, 0.5f}};
    static final float[][] Y_PRED = {{1.5f, -0.5f, 2}, {0, 1, 1}};

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void meanSquaredErrorWithEachReduction(Device device) {
        double[] perSample = new double[2];
        for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 3; c++) {
                double d = Y_PRED[r][c] - Y_TRUE[r][c];
                perSample[r] += d * d / 3;
            }
        }
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Tensor t = Spool.constant(Y_TRUE);
            Tensor p = Spool.constant(Y_PRED);
            TensorAssert.assertClose(perSample, Losses.meanSquaredError(t, p, Reduction.NONE).toDoubleArray(), RTOL, ATOL, "none");
            assertEquals(perSample[0] + perSample[1], Losses.meanSquaredError(t, p, Reduction.SUM).doubleValue(), 1e-5);
            assertEquals((perSample[0] + perSample[1]) / 2, Losses.meanSquaredError(t, p, Reduction.MEAN).doubleValue(), 1e-5);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void binaryCrossEntropyFromLogitsMatchesTheLogLoss(Device device) {
        float[][] labels = {{1, 0}, {0.25f, 1}};
        float[][] logits = {{2, -1}, {0.5f, -3}};
        double[] perSample = new double[2];
        for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 2; c++) {
                double p = 1 / (1 + Math.exp(-logits[r][c]));
                double z = labels[r][c];
                perSample[r] += -(z * Math.log(p) + (1 - z) * Math.log(1 - p)) / 2;
            }
        }
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Tensor l = Spool.constant(labels);
            Tensor x = Spool.constant(logits);
            TensorAssert.assertClose(perSample, Losses.binaryCrossEntropyFromLogits(l, x, Reduction.NONE).toDoubleArray(),
                    RTOL, ATOL, "none");
            assertEquals((perSample[0] + perSample[1]) / 2,
                    Losses.binaryCrossEntropyFromLogits(l, x, Reduction.MEAN).doubleValue(), 1e-5);
        }
    }

    static double[] softmaxCrossEntropyByHand(float[][] labels, float[][] logits) {
        double[] out = new double[labels.length];
        for (int r = 0; r < labels.length; r++) {
            double z = 0;
            for (float v : logits[r]) {
                z += Math.exp(v);
            }
            for (int c = 0; c < labels[r].length; c++) {
                out[r] -= labels[r][c] * Math.log(Math.exp(logits[r][c]) / z);
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void softmaxCrossEntropyDenseAndSparseAgreeWithTheFormula(Device device) {
        float[][] logits = {{1, 2, 0.5f}, {-1, 0, 3}, {0.2f, 0.2f, 0.2f}};
        int[] classes = {1, 2, 0};
        float[][] oneHot = {{0, 1, 0}, {0, 0, 1}, {1, 0, 0}};
        float[][] soft = {{0.2f, 0.5f, 0.3f}, {0, 0.5f, 0.5f}, {1, 0, 0}};
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Tensor x = Spool.constant(logits);
            double[] expected = softmaxCrossEntropyByHand(oneHot, logits);
            TensorAssert.assertClose(expected, Losses.softmaxCrossEntropy(Spool.constant(oneHot), x, Reduction.NONE)
                    .toDoubleArray(), RTOL, ATOL, "dense");
            TensorAssert.assertClose(expected, Losses.sparseSoftmaxCrossEntropy(Spool.constant(classes), x, Reduction.NONE)
                    .toDoubleArray(), RTOL, ATOL, "sparse int32");
            TensorAssert.assertClose(expected, Losses.sparseSoftmaxCrossEntropy(
                    Spool.constant(new long[] {1, 2, 0}), x, Reduction.NONE).toDoubleArray(), RTOL, ATOL, "sparse int64");
            double sum = expected[0] + expected[1] + expected[2];
            assertEquals(sum, Losses.sparseSoftmaxCrossEntropy(Spool.constant(classes), x, Reduction.SUM).doubleValue(), 1e-5);
            assertEquals(sum / 3, Losses.sparseSoftmaxCrossEntropy(Spool.constant(classes), x, Reduction.MEAN).doubleValue(), 1e-5);
            TensorAssert.assertClose(softmaxCrossEntropyByHand(soft, logits),
                    Losses.softmaxCrossEntropy(Spool.constant(soft), x, Reduction.NONE).toDoubleArray(), RTOL, ATOL, "soft labels");
        }
    }

    /** A label outside [0, classes): a loss of zero unchecked (TF's GPU kernels); with checked indices, an error naming it. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void sparseLabelsOutOfRangeAreCheckedOnRequest(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Tensor x = Spool.constant(new float[][] {{1, 2, 3}, {0, 0, 0}, {3, 2, 1}});
            Tensor labels = Spool.constant(new int[] {2, 3, 0});
            double[] loss = Losses.sparseSoftmaxCrossEntropy(labels, x, Reduction.NONE).toDoubleArray();
            assertEquals(0, loss[1], 0, "unchecked: the out-of-range label's loss is zero");
            Spool.enableCheckIndices();
            try {
                dev.spool.IndexOutOfRangeException e = assertThrows(dev.spool.IndexOutOfRangeException.class,
                        () -> Losses.sparseSoftmaxCrossEntropy(labels, x, Reduction.MEAN));
                assertEquals("sparseSoftmaxCrossEntropy: labels[1] = 3 is not in [0, 3)", e.getMessage());
            } finally {
                Spool.disableCheckIndices();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void crossEntropiesAreExactAtPlusMinus1000(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            // Softmax: log-sum-exp of (1000, -1000, 0) is 1000 to double precision.
            Tensor x = Spool.constant(new float[][] {{1000, -1000, 0}, {1000, -1000, 0}, {1000, -1000, 0}});
            Tensor labels = Spool.constant(new int[] {0, 1, 2});
            GradientTape tape = new GradientTape();
            Tensor loss;
            try (tape) {
                tape.watch(x);
                loss = Losses.sparseSoftmaxCrossEntropy(labels, x, Reduction.NONE);
            }
            TensorAssert.assertClose(new double[] {0, 2000, 1000}, loss.toDoubleArray(), 1e-6, 1e-6, "softmax CE");
            // d/dlogits = softmax - onehot, softmax = (1, 0, 0) in every row
            TensorAssert.assertClose(new double[] {0, 0, 0, 1, -1, 0, 1, 0, -1},
                    tape.gradient(loss, x).toDoubleArray(), 1e-6, 1e-6, "softmax CE gradient");

            // Binary: softplus(x) - x z; at x = ±1000 the loss is 1000·|z - [x > 0]|.
            Tensor bx = Spool.constant(new float[] {1000, 1000, -1000, -1000, 1000});
            Tensor bz = Spool.constant(new float[] {0, 1, 1, 0, 0.5f});
            GradientTape t2 = new GradientTape();
            Tensor bce;
            try (t2) {
                t2.watch(bx);
                bce = Losses.binaryCrossEntropyFromLogits(bz, bx, Reduction.NONE);
            }
            TensorAssert.assertClose(new double[] {1000, 0, 1000, 0, 500}, bce.toDoubleArray(), 1e-6, 1e-6, "BCE");
            // d/dx = sigmoid(x) - z
            TensorAssert.assertClose(new double[] {1, 0, -1, 0, 0.5},
                    t2.gradient(bce, bx).toDoubleArray(), 1e-6, 1e-6, "BCE gradient");
            for (double v : Losses.softmaxCrossEntropy(Spool.constant(new float[][] {{0, 1, 0}}),
                    Spool.constant(new float[][] {{-1000, -1000, 1000}}), Reduction.NONE).toDoubleArray()) {
                assertTrue(Double.isFinite(v) && Math.abs(v - 2000) < 1e-3, "dense CE at ±1000: " + v);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void badInputsAreNamed(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Tensor x = Spool.zeros(2, 3);
            ShapeException e = assertThrows(ShapeException.class,
                    () -> Losses.meanSquaredError(Spool.zeros(2, 2), x, Reduction.MEAN));
            assertTrue(e.getMessage().contains("(2, 2)") || e.getMessage().contains("[2, 2]"), e.getMessage());
            assertThrows(DTypeException.class,
                    () -> Losses.sparseSoftmaxCrossEntropy(Spool.zeros(2), x, Reduction.MEAN));
            assertThrows(ShapeException.class,
                    () -> Losses.sparseSoftmaxCrossEntropy(Spool.constant(new int[] {0, 1, 2}), x, Reduction.MEAN));
            assertThrows(ShapeException.class,
                    () -> Losses.softmaxCrossEntropy(Spool.zeros(Shape.of(6), dev.spool.DType.FLOAT32),
                            Spool.zeros(Shape.of(6), dev.spool.DType.FLOAT32), Reduction.MEAN));
        }
    }
}
