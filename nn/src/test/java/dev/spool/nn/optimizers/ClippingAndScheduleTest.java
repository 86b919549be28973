package dev.spool.nn.optimizers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.spool.Device;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.nn.HyperparameterException;
import dev.spool.testing.TensorAssert;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ClippingAndScheduleTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void globalNormClippingScalesAllGradientsTogether(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope();
                Variable a = new Variable(Spool.constant(new float[] {0, 0}));
                Variable b = new Variable(Spool.constant(new float[] {0}))) {
            // Global norm sqrt(3² + 4² + 12²) = 13; clipped to 2.6, every gradient scales by 0.2.
            Optimizer sgd = new SGD(1.0).withGlobalClipNorm(2.6);
            sgd.apply(List.of(Spool.constant(new float[] {3, 4}), Spool.constant(new float[] {12})), List.of(a, b));
            TensorAssert.assertClose(new double[] {-0.6, -0.8}, a.value().toDoubleArray(), 1e-6, 1e-6, "a");
            TensorAssert.assertClose(new double[] {-2.4}, b.value().toDoubleArray(), 1e-6, 1e-6, "b");
            // Under the norm: unchanged (norm 0.5 < 2.6).
            sgd.apply(List.of(Spool.constant(new float[] {0.3f, 0.4f}), Spool.constant(new float[] {0})), List.of(a, b));
            TensorAssert.assertClose(new double[] {-0.9, -1.2}, a.value().toDoubleArray(), 1e-6, 1e-6, "a, not clipped");
        }
    }

    /** Float64 variables: the global norm is computed in float64, so three clipped steps match host float64 to 1e-12. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void globalNormClippingKeepsFloat64(Device device) {
        org.junit.jupiter.api.Assumptions.assumeTrue(device.supportsFloat64(), device + " has no float64");
        java.util.Random r = new java.util.Random(23);
        double[][] w = {r.doubles(37, -1, 1).toArray(), r.doubles(5, -1, 1).toArray()};
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope();
                Variable a = new Variable(Spool.constant(w[0].clone()));
                Variable b = new Variable(Spool.constant(w[1].clone()))) {
            double lr = 0.1;
            double clipNorm = 0.7310000000000001; // not a float: a float32 clip constant would be off by 3e-8
            Optimizer sgd = new SGD(lr).withGlobalClipNorm(clipNorm);
            for (int step = 0; step < 3; step++) {
                double[][] g = {r.doubles(37, -3, 3).toArray(), r.doubles(5, -3, 3).toArray()};
                double sq = 0;
                for (double[] gi : g) {
                    for (double v : gi) {
                        sq += v * v;
                    }
                }
                double scale = clipNorm / Math.max(Math.sqrt(sq), clipNorm);
                for (int k = 0; k < 2; k++) {
                    for (int i = 0; i < w[k].length; i++) {
                        w[k][i] -= lr * (g[k][i] * scale);
                    }
                }
                sgd.apply(List.of(Spool.constant(g[0]), Spool.constant(g[1])), List.of(a, b));
                assertEquals(dev.spool.DType.FLOAT64, a.value().dtype());
                TensorAssert.assertClose(w[0], a.value().toDoubleArray(), 1e-12, 1e-15, "a, step " + step);
                TensorAssert.assertClose(w[1], b.value().toDoubleArray(), 1e-12, 1e-15, "b, step " + step);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void aMissingGradientLeavesItsVariableAlone(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope();
                Variable a = new Variable(Spool.constant(new float[] {1, 2}));
                Variable b = new Variable(Spool.constant(new float[] {5}))) {
            new SGD(0.5).apply(Arrays.asList(Spool.constant(new float[] {2, 2}), null), List.of(a, b));
            TensorAssert.assertClose(new double[] {0, 1}, a.value().toDoubleArray(), 0, 0, "a");
            TensorAssert.assertClose(new double[] {5}, b.value().toDoubleArray(), 0, 0, "b");
        }
    }

    @Test
    void schedulesFollowTheirFormulas() {
        LearningRateSchedule step = LearningRateSchedule.stepDecay(1.0, 0.5, 10);
        assertEquals(1.0, step.at(0));
        assertEquals(1.0, step.at(9));
        assertEquals(0.5, step.at(10));
        assertEquals(0.25, step.at(25));
        LearningRateSchedule cos = LearningRateSchedule.cosineDecay(2.0, 100, 0.0);
        assertEquals(2.0, cos.at(0), 1e-15);
        assertEquals(1.0, cos.at(50), 1e-12); // half way: cos(π/2) = 0, so half the rate
        assertEquals(0.0, cos.at(100), 1e-15);
        assertEquals(0.0, cos.at(500), 1e-15); // stays at the floor
        assertEquals(0.2, LearningRateSchedule.cosineDecay(2.0, 100, 0.1).at(100), 1e-15);
    }

    /** Keras's CosineDecay(0, 100, alpha=0.1, warmup_target=2, warmup_steps=10), worked out by hand. */
    @Test
    void cosineDecayAfterAWarmUpFollowsKeras() {
        LearningRateSchedule s = LearningRateSchedule.cosineDecay(0.0, 100, 0.1, 2.0, 10);
        assertEquals(0.0, s.at(0), 0); // the warm-up starts at the initial rate
        assertEquals(0.6, s.at(3), 1e-15); // 2 · 3/10
        assertEquals(2.0, s.at(10), 1e-15); // the target, where the decay starts
        assertEquals(2.0 * (0.9 * 0.5 + 0.1), s.at(60), 1e-12); // half way through the decay: 1.1
        assertEquals(0.2, s.at(110), 1e-15); // alpha · target at the end
        assertEquals(0.2, s.at(1000), 1e-15); // and after it
        LearningRateSchedule from = LearningRateSchedule.cosineDecay(1.0, 50, 0.0, 3.0, 4);
        assertEquals(1.5, from.at(1), 1e-15); // 1 + (3 - 1) · 1/4
        assertThrows(HyperparameterException.class, () -> LearningRateSchedule.cosineDecay(0, 100, 0, 2, 0));
        assertThrows(HyperparameterException.class, () -> LearningRateSchedule.cosineDecay(0, 100, 0, -1, 10));
        assertThrows(HyperparameterException.class, () -> LearningRateSchedule.cosineDecay(0, 0, 0, 2, 10));
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(HyperparameterException.class, () -> new SGD(0.1).withGlobalClipNorm(0));
        assertThrows(HyperparameterException.class, () -> new Adam(LearningRateSchedule.constant(0.1), 1.0, 0.9, 1e-7));
        assertThrows(HyperparameterException.class, () -> LearningRateSchedule.stepDecay(1, 0.5, 0));
        try (TensorScope scope = new TensorScope(); Device.Scope on = Device.use(Device.cpu());
                Variable a = new Variable(Spool.constant(new float[] {1, 2}))) {
            Tensor wrong = Spool.constant(new float[] {1, 2, 3});
            assertThrows(dev.spool.ShapeException.class, () -> new SGD().apply(List.of(wrong), List.of(a)));
            assertThrows(dev.spool.ShapeException.class, () -> new SGD().apply(List.of(), List.of(a)));
        }
    }
}
