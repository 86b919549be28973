package dev.spool.nn.optimizers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.Device;
import dev.spool.Spool;
import dev.spool.TensorScope;
import dev.spool.UsageException;
import dev.spool.Variable;
import dev.spool.nn.HyperparameterException;
import dev.spool.testing.TensorAssert;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The moving average of the weights ({@link Optimizer#withEma}) against Keras 3's
 * {@code _update_model_variables_moving_average}: after each step's update,
 * {@code average = m·average + (1 - m)·variable}, with {@code m = 0} at the first step
 * ({@code iterations == 0}), worked out by hand below.
 */
class EmaTest {

    /**
     * SGD(0.1) with momentum 0.9 on w = [1, 2]:
     * <pre>
     * step 1: g = [1, -1]  w = [0.9, 2.1]  average = w (first step)         = [0.9, 2.1]
     * step 2: g = [2, 0]   w = [0.7, 2.1]  average = 0.9·[0.9, 2.1] + 0.1·w = [0.88, 2.1]
     * step 3: g = [0, 4]   w = [0.7, 1.7]  average = 0.9·[0.88, 2.1] + 0.1·w = [0.862, 2.06]
     * </pre>
     * The model's variable keeps its own values until finalizeVariableValues assigns the average.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void threeStepsFollowKerasFormulaAndFinalizeAssignsTheAverage(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope();
                Variable w = new Variable(Spool.constant(new float[] {1, 2}), "w")) {
            Optimizer sgd = new SGD(0.1).withEma(0.9);
            assertTrue(sgd.usesEma());
            float[][] grads = {{1, -1}, {2, 0}, {0, 4}};
            double[][] own = {{0.9, 2.1}, {0.7, 2.1}, {0.7, 1.7}};
            double[][] average = {{0.9, 2.1}, {0.88, 2.1}, {0.862, 2.06}};
            for (int step = 0; step < 3; step++) {
                sgd.apply(List.of(Spool.constant(grads[step])), List.of(w));
                TensorAssert.assertClose(own[step], w.value().toDoubleArray(), 1e-6, 1e-6, "w after step " + (step + 1));
                TensorAssert.assertClose(average[step], sgd.slots(w).get("average").value().toDoubleArray(), 1e-6,
                        1e-6, "average after step " + (step + 1));
            }
            sgd.finalizeVariableValues(List.of(w));
            TensorAssert.assertClose(average[2], w.value().toDoubleArray(), 1e-6, 1e-6, "w after finalize");
        }
    }

    /** Adam's update, then the average: float64 against the formulas on the host, to 1e-12, over 4 steps. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void adamWithEmaMatchesTheFormulasInFloat64(Device device) {
        org.junit.jupiter.api.Assumptions.assumeTrue(device.supportsFloat64(), device + " has no float64");
        java.util.Random r = new java.util.Random(5);
        double[] w = r.doubles(7, -1, 1).toArray();
        double[] m = new double[7];
        double[] v = new double[7];
        double[] avg = new double[7];
        double lr = 0.01;
        double b1 = 0.9;
        double b2 = 0.999;
        double eps = 1e-7;
        double momentum = 0.99;
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope();
                Variable x = new Variable(Spool.constant(w.clone()), "x")) {
            Optimizer adam = new Adam(lr).withEma(momentum);
            for (int t = 1; t <= 4; t++) {
                double[] g = r.doubles(7, -2, 2).toArray();
                double alpha = lr * Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t));
                double mom = t == 1 ? 0 : momentum; // Keras: cast(iterations != 0) * ema_momentum
                for (int i = 0; i < 7; i++) {
                    m[i] += (g[i] - m[i]) * (1 - b1);
                    v[i] += (g[i] * g[i] - v[i]) * (1 - b2);
                    w[i] -= alpha * m[i] / (Math.sqrt(v[i]) + eps);
                    avg[i] = mom * avg[i] + (1 - mom) * w[i];
                }
                adam.apply(List.of(Spool.constant(g)), List.of(x));
                TensorAssert.assertClose(w, x.value().toDoubleArray(), 1e-12, 1e-15, "x after step " + t);
                TensorAssert.assertClose(avg, adam.slots(x).get("average").value().toDoubleArray(), 1e-12, 1e-15,
                        "average after step " + t);
            }
            // the average differs from the weights after step 1 (else the test could not tell them apart)
            assertTrue(Math.abs(avg[0] - w[0]) > 1e-4, avg[0] + " vs " + w[0]);
        }
    }

    /** Swapping twice restores both; a variable without a gradient in a step is averaged too (Keras averages all). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void swapExchangesWeightsAndAveragesAndVariablesWithoutGradientAreAveraged(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope();
                Variable a = new Variable(Spool.constant(new float[] {0}), "a");
                Variable b = new Variable(Spool.constant(new float[] {10}), "b")) {
            Optimizer sgd = new SGD(1.0).withEma(0.5);
            sgd.apply(List.of(Spool.constant(new float[] {-4}), Spool.constant(new float[] {2})), List.of(a, b));
            // a = 4, b = 8; averages = the variables (first step)
            sgd.apply(Arrays.asList(Spool.constant(new float[] {-2}), null), List.of(a, b));
            // a = 6, average 0.5·4 + 0.5·6 = 5; b has no gradient: stays 8, average 0.5·8 + 0.5·8 = 8
            sgd.apply(Arrays.asList(null, Spool.constant(new float[] {4})), List.of(a, b));
            // a stays 6, average 0.5·5 + 0.5·6 = 5.5; b = 4, average 0.5·8 + 0.5·4 = 6
            assertEquals(6f, a.value().floatValue(), 1e-6f);
            assertEquals(4f, b.value().floatValue(), 1e-6f);
            sgd.swapEmaWeights(List.of(a, b));
            assertEquals(5.5f, a.value().floatValue(), 1e-6f);
            assertEquals(6f, b.value().floatValue(), 1e-6f);
            assertEquals(6f, sgd.slots(a).get("average").value().floatValue(), 1e-6f);
            sgd.swapEmaWeights(List.of(a, b));
            assertEquals(6f, a.value().floatValue(), 1e-6f);
            assertEquals(4f, b.value().floatValue(), 1e-6f);
            assertEquals(5.5f, sgd.slots(a).get("average").value().floatValue(), 1e-6f);
            assertEquals(6f, sgd.slots(b).get("average").value().floatValue(), 1e-6f);
        }
    }

    @Test
    void misuseIsReportedAndChangesNothing() {
        try (TensorScope scope = new TensorScope();
                Variable a = new Variable(Spool.constant(new float[] {1}), "a");
                Variable stranger = new Variable(Spool.constant(new float[] {3}), "stranger")) {
            assertThrows(HyperparameterException.class, () -> new SGD(0.1).withEma(1.5));
            assertThrows(HyperparameterException.class, () -> new SGD(0.1).withEma(-0.1));
            assertThrows(HyperparameterException.class, () -> new SGD(0.1).withEma(Double.NaN));

            Optimizer plain = new SGD(0.1);
            assertFalse(plain.usesEma());
            plain.apply(List.of(Spool.constant(new float[] {1})), List.of(a)); // a = 0.9
            assertFalse(plain.slots(a).containsKey("average"), "no average without withEma");
            plain.finalizeVariableValues(List.of(a)); // Keras: nothing to do
            assertEquals(0.9f, a.value().floatValue(), 1e-6f);
            UsageException late = assertThrows(UsageException.class, () -> plain.withEma(0.99));
            assertTrue(late.getMessage().contains("first step"), late.getMessage());
            UsageException noEma = assertThrows(UsageException.class, () -> plain.swapEmaWeights(List.of(a)));
            assertTrue(noEma.getMessage().contains("withEma"), noEma.getMessage());

            Optimizer ema = new SGD(0.1).withEma(0.99);
            ema.apply(List.of(Spool.constant(new float[] {1})), List.of(a)); // a = 0.8, average 0.8
            UsageException unknown = assertThrows(UsageException.class,
                    () -> ema.finalizeVariableValues(List.of(a, stranger)));
            assertTrue(unknown.getMessage().contains("'stranger'"), unknown.getMessage());
            assertEquals(3f, stranger.value().floatValue(), 0f);
            assertThrows(UsageException.class, () -> ema.swapEmaWeights(List.of(stranger, a)));
            assertEquals(0.8f, a.value().floatValue(), 1e-6f, "nothing swapped");
        }
    }
}
