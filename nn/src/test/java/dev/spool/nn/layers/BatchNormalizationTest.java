package dev.spool.nn.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.nn.HyperparameterException;
import dev.spool.testing.GradCheck;
import dev.spool.testing.TensorAssert;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * BatchNormalization against Keras's formulas worked out here in doubles: training normalises
 * with the batch's mean and biased variance and moves the statistics by
 * {@code moving·momentum + batch·(1 - momentum)}, the variance with Bessel's correction
 * {@code n/(n-1)} (TensorFlow's fused kernel); inference uses the moving statistics.
 */
class BatchNormalizationTest {

    static final double EPS = 1e-3;

    /** Two NHWC batches [2, 2, 2, 2]: n = 8 values per channel. */
    static final double[] STEP_1 = {1, -2, 3, 0.5, -1, 4, 2, 2, 0, 1, 5, -3, 2.5, 0, -0.5, 1};
    static final double[] STEP_2 = {-1, 1, 2, 2, 0.25, -4, 3, 0, 1, 1.5, -2, 6, 0, 2, 4, -1};
    static final double[] GAMMA = {1.5, 0.5};
    static final double[] BETA = {0.2, -1};

    /** Mean and biased variance of each channel of NHWC values with {@code c} channels. */
    static double[][] moments(double[] x, int c) {
        int n = x.length / c;
        double[] mean = new double[c];
        double[] var = new double[c];
        for (int i = 0; i < x.length; i++) {
            mean[i % c] += x[i] / n;
        }
        for (int i = 0; i < x.length; i++) {
            var[i % c] += (x[i] - mean[i % c]) * (x[i] - mean[i % c]) / n;
        }
        return new double[][] {mean, var};
    }

    /** {@code gamma · (x - mean) / sqrt(var + eps) + beta} per channel. */
    static double[] normalise(double[] x, double[] mean, double[] var, double[] gamma, double[] beta) {
        int c = mean.length;
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int k = i % c;
            y[i] = gamma[k] * (x[i] - mean[k]) / Math.sqrt(var[k] + EPS) + beta[k];
        }
        return y;
    }

    static Tensor nhwc(double[] x) {
        return Spool.constant(x, Shape.of(2, 2, 2, 2), DType.FLOAT32);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void twoTrainingStepsThenInferenceFollowKerasFormulas(Device device) {
        double momentum = 0.9; // large enough steps to see every term
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            BatchNormalization bn = new BatchNormalization("batch_normalization", -1, momentum, EPS, true, true, 0,
                    DType.FLOAT32);
            bn.call(nhwc(STEP_1), false); // builds; inference changes nothing
            assertEquals(List.of("gamma", "beta", "moving_mean", "moving_variance"), List.copyOf(bn.variables().keySet()));
            assertEquals(List.of(bn.gamma(), bn.beta()), bn.trainableVariables());
            TensorAssert.assertClose(new double[] {0, 0}, bn.movingMean().value().toDoubleArray(), 0, 0, "initial mean");
            TensorAssert.assertClose(new double[] {1, 1}, bn.movingVariance().value().toDoubleArray(), 0, 0, "initial var");
            bn.gamma().assign(Spool.constant(new float[] {1.5f, 0.5f}));
            bn.beta().assign(Spool.constant(new float[] {0.2f, -1}));

            double[] movingMean = {0, 0};
            double[] movingVar = {1, 1};
            double bessel = 8.0 / 7;
            for (double[] x : new double[][] {STEP_1, STEP_2}) {
                double[][] m = moments(x, 2);
                Tensor y = bn.call(nhwc(x), true);
                TensorAssert.assertClose(normalise(x, m[0], m[1], GAMMA, BETA), y.toDoubleArray(), 1e-5, 1e-5,
                        "training: the batch's mean and biased variance");
                for (int k = 0; k < 2; k++) {
                    movingMean[k] = movingMean[k] * momentum + m[0][k] * (1 - momentum);
                    movingVar[k] = movingVar[k] * momentum + m[1][k] * bessel * (1 - momentum);
                }
                TensorAssert.assertClose(movingMean, bn.movingMean().value().toDoubleArray(), 1e-5, 1e-6, "moving mean");
                TensorAssert.assertClose(movingVar, bn.movingVariance().value().toDoubleArray(), 1e-5, 1e-6,
                        "moving variance, with Bessel's correction");
            }
            // Step 2 by hand, channel 0 (-1, 2, 0.25, 3, 1, -2, 0, 4): mean 7.25 / 8 = 0.90625, biased variance
            // 3.5615234375 (unbiased 4.0703125); so after the two steps the moving variance of channel 0 is
            // 0.9 · (0.9 + 0.1 · var1 · 8/7) + 0.1 · 4.0703125.
            double[][] m2 = moments(STEP_2, 2);
            assertEquals(0.90625, m2[0][0], 1e-12);
            assertEquals(3.5615234375, m2[1][0], 1e-12);
            double var1 = moments(STEP_1, 2)[1][0];
            assertEquals(0.9 * (0.9 + 0.1 * var1 * 8 / 7) + 0.1 * 4.0703125, movingVar[0], 1e-12);

            // Inference: the moving statistics, and no update.
            double[] probe = {0.5, 0.5, -1, 2, 3, 0, 1, 1, 2, -2, 0, 0, 1, 3, -1, 1};
            Tensor y = bn.call(nhwc(probe), false);
            TensorAssert.assertClose(normalise(probe, movingMean, movingVar, GAMMA, BETA), y.toDoubleArray(), 1e-5, 1e-5,
                    "inference: the moving statistics");
            TensorAssert.assertClose(movingMean, bn.movingMean().value().toDoubleArray(), 1e-5, 1e-6, "unchanged");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void kerasDefaultsMoveTheStatisticsByOnePercent(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            BatchNormalization bn = new BatchNormalization();
            Tensor y = bn.call(nhwc(STEP_1), true);
            double[][] m = moments(STEP_1, 2);
            // gamma 1, beta 0, epsilon 1e-3
            TensorAssert.assertClose(normalise(STEP_1, m[0], m[1], new double[] {1, 1}, new double[] {0, 0}),
                    y.toDoubleArray(), 1e-5, 1e-5, "defaults");
            TensorAssert.assertClose(new double[] {0.01 * m[0][0], 0.01 * m[0][1]},
                    bn.movingMean().value().toDoubleArray(), 1e-5, 1e-7, "momentum 0.99");
            TensorAssert.assertClose(new double[] {0.99 + 0.01 * m[1][0] * 8 / 7, 0.99 + 0.01 * m[1][1] * 8 / 7},
                    bn.movingVariance().value().toDoubleArray(), 1e-6, 1e-7, "momentum 0.99, n/(n-1)");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void anotherAxisWithoutCenterOrScale(Device device) {
        // [batch 3, features 2, length 2] normalised over axis 1: the statistics over axes 0 and 2 (n = 6).
        double[] x = {1, 2, -1, 0, 3, 5, 2, 2, 0, 1, 4, -2};
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            BatchNormalization bn = new BatchNormalization("bn", 1, 0.5, EPS, false, false, 2, DType.FLOAT32);
            assertNull(bn.gamma());
            assertNull(bn.beta());
            assertEquals(List.of("moving_mean", "moving_variance"), List.copyOf(bn.variables().keySet()));
            Tensor y = bn.call(Spool.constant(x, Shape.of(3, 2, 2), DType.FLOAT32), true);
            double[] mean = new double[2];
            double[] var = new double[2];
            for (int i = 0; i < x.length; i++) {
                mean[i / 2 % 2] += x[i] / 6;
            }
            for (int i = 0; i < x.length; i++) {
                var[i / 2 % 2] += Math.pow(x[i] - mean[i / 2 % 2], 2) / 6;
            }
            double[] expected = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                int f = i / 2 % 2;
                expected[i] = (x[i] - mean[f]) / Math.sqrt(var[f] + EPS);
            }
            TensorAssert.assertClose(expected, y.toDoubleArray(), 1e-5, 1e-5, "axis 1");
            TensorAssert.assertClose(new double[] {0.5 + 0.5 * var[0] * 6 / 5, 0.5 + 0.5 * var[1] * 6 / 5},
                    bn.movingVariance().value().toDoubleArray(), 1e-5, 1e-6, "n = 6 over axes 0 and 2");
            ShapeException e = assertThrows(ShapeException.class, () -> bn.call(Spool.zeros(3, 4, 2), true));
            assertEquals("BatchNormalization 'bn': input shape (3, 4, 2) has 4 features where the layer was built for 2",
                    e.getMessage());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void gradientsFlowThroughTheBatchStatistics(Device device) {
        DType dtype = device.supportsFloat64() ? DType.FLOAT64 : DType.FLOAT32;
        BatchNormalization bn;
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            bn = new BatchNormalization("batch_normalization", -1, 0.99, EPS, true, true, 3, dtype);
            bn.gamma().assign(Spool.constant(new double[] {0.5, -2, 1.5}, Shape.of(3), dtype));
            bn.beta().assign(Spool.constant(new double[] {1, 0, -1}, Shape.of(3), dtype));
            // d sum(y) / d beta = n per channel; d sum(y) / d gamma = sum of the normalised x = 0
            Tensor x = Spool.constant(ConvLayersTest.values(24, 11), Shape.of(2, 2, 2, 3), dtype);
            GradientTape tape = new GradientTape();
            Tensor y;
            try (tape) {
                y = bn.call(x, true).sum();
            }
            List<Tensor> g = tape.gradient(y, List.of(bn.gamma(), bn.beta()));
            TensorAssert.assertClose(new double[] {0, 0, 0}, g.get(0).toDoubleArray(), 1e-5, 1e-5, "d/dgamma");
            TensorAssert.assertClose(new double[] {8, 8, 8}, g.get(1).toDoubleArray(), 1e-6, 1e-6, "d/dbeta");
            assertFalse(tape.watchedVariables().contains(bn.movingMean()), "the statistics are not watched");
        }
        // the input gradient in training mode, through mean and variance, against finite differences
        GradCheck.check(device, in -> bn.call(in[0], true), GradCheck.Input.random(Shape.of(2, 3, 2, 3), 12, -2, 2));
        // and in inference mode, where the statistics are constants
        GradCheck.check(device, in -> bn.call(in[0], false), GradCheck.Input.random(Shape.of(2, 1, 2, 3), 13, -2, 2));
    }

    @Test
    void badArgumentsAreNamed() {
        assertEquals("BatchNormalization: momentum must be in [0, 1], got 1.5",
                assertThrows(HyperparameterException.class, () -> new BatchNormalization("bn", -1, 1.5, EPS, true, true, 0,
                        DType.FLOAT32)).getMessage());
        assertEquals("BatchNormalization: epsilon must be a finite number >= 0, got -1.0",
                assertThrows(HyperparameterException.class, () -> new BatchNormalization("bn", -1, 0.9, -1, true, true, 0,
                        DType.FLOAT32)).getMessage());
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope s = new TensorScope()) {
            BatchNormalization batchAxis = new BatchNormalization("bn", 0, 0.9, EPS, true, true, 0, DType.FLOAT32);
            assertEquals("BatchNormalization 'bn': axis 0 of input shape (4, 2) must be a feature axis, not the batch "
                    + "axis 0 nor outside the shape",
                    assertThrows(ShapeException.class, () -> batchAxis.call(Spool.zeros(4, 2), true)).getMessage());
            assertFalse(batchAxis.built());
        }
    }
}
