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
import dev.spool.DeviceException;
import dev.spool.DeviceStats;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.conformance.ElementwiseTable.Domain;
import dev.spool.testing.TensorAssert;
import dev.spool.testing.TestDevices;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused optimizer updates ({@code Spool.applyGradientDescent}, {@code applyMomentum},
 * {@code applyKerasMomentum}, {@code applyAdam}) on every device: against the same update
 * written with elementwise ops (what Spool's nn optimizers did before), step by step from
 * t = 1; against TensorFlow's documented formulas in host float64; their semantics (earlier
 * reads keep the old value, nothing recorded on tapes, one launch) and their errors.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try") // scopes are opened for their effect
class TrainingOpsTest {
    private static final Shape SHAPE = Shape.of(67, 61);
    private static final int STEPS = 5;
    /** Float32: a few units in the last place; both paths compute the same formula in float. */
    private static final double F32_RTOL = 5e-7;
    private static final double F32_ATOL = 1e-9;

    private static double[] sample(String name, Domain d) {
        return TensorAssert.f32(d.sample(new Random(ElementwiseTable.seed("training/" + name)), (int) SHAPE.size()));
    }

    private static Tensor tensor(double[] v, DType dtype) {
        return Spool.constant(v, SHAPE, dtype);
    }

    /** The gradient of step t: a fixed random tensor scaled by a step-dependent factor. */
    private static double gradScale(int t) {
        return (t % 2 == 0 ? -1 : 1) * (0.5 + t);
    }

    // ---- fused vs the composite formulas (float32) --------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void gradientDescentMatchesTheComposite(Device device) {
        double[] w0 = sample("w", Domain.ANY);
        double[] g0 = sample("g", Domain.ANY);
        try (TestDevices.On on = TestDevices.on(device);
                Variable fused = new Variable(tensor(w0, FLOAT32));
                Variable composite = new Variable(tensor(w0, FLOAT32))) {
            for (int t = 1; t <= STEPS; t++) {
                Tensor g = tensor(g0, FLOAT32).mul(gradScale(t));
                Spool.applyGradientDescent(fused, 0.1, g);
                composite.assignSub(Spool.multiply(0.1, g));
                assertCloseF32(composite.value(), fused.value(), "applyGradientDescent step " + t);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void kerasMomentumMatchesTheComposite(Device device) {
        for (boolean nesterov : new boolean[] {false, true}) {
            double[] w0 = sample("w", Domain.ANY);
            double[] g0 = sample("g", Domain.ANY);
            try (TestDevices.On on = TestDevices.on(device);
                    Variable w = new Variable(tensor(w0, FLOAT32));
                    Variable m = new Variable(Spool.zeros(SHAPE, FLOAT32));
                    Variable cw = new Variable(tensor(w0, FLOAT32));
                    Variable cm = new Variable(Spool.zeros(SHAPE, FLOAT32))) {
                for (int t = 1; t <= STEPS; t++) {
                    double lr = 0.1 / t; // a changing rate: where the two momentum forms part
                    Tensor g = tensor(g0, FLOAT32).mul(gradScale(t));
                    Spool.applyKerasMomentum(w, m, lr, g, 0.9, nesterov);
                    // Keras's SGD as nn wrote it with ops
                    Tensor lrG = g.mul(lr);
                    cm.assign(cm.mul(0.9).sub(lrG));
                    cw.assignAdd(nesterov ? cm.mul(0.9).sub(lrG) : cm.value());
                    String what = "applyKerasMomentum nesterov=" + nesterov + " step " + t;
                    assertCloseF32(cm.value(), m.value(), what + " accum");
                    assertCloseF32(cw.value(), w.value(), what + " var");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void tfMomentumMatchesTheComposite(Device device) {
        for (boolean nesterov : new boolean[] {false, true}) {
            double[] w0 = sample("w", Domain.ANY);
            double[] a0 = sample("accum", Domain.ANY);
            double[] g0 = sample("g", Domain.ANY);
            try (TestDevices.On on = TestDevices.on(device);
                    Variable w = new Variable(tensor(w0, FLOAT32));
                    Variable a = new Variable(tensor(a0, FLOAT32));
                    Variable cw = new Variable(tensor(w0, FLOAT32));
                    Variable ca = new Variable(tensor(a0, FLOAT32))) {
                for (int t = 1; t <= STEPS; t++) {
                    double lr = 0.1 / t;
                    Tensor g = tensor(g0, FLOAT32).mul(gradScale(t));
                    Spool.applyMomentum(w, a, lr, g, 0.9, nesterov);
                    ca.assign(ca.mul(0.9).add(g));
                    cw.assignSub(nesterov ? g.mul(lr).add(ca.mul(0.9).mul(lr)) : Spool.multiply(lr, ca));
                    String what = "applyMomentum nesterov=" + nesterov + " step " + t;
                    assertCloseF32(ca.value(), a.value(), what + " accum");
                    assertCloseF32(cw.value(), w.value(), what + " var");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void adamMatchesTheComposite(Device device) {
        double b1 = 0.9;
        double b2 = 0.999;
        double eps = 1e-7;
        double[] w0 = sample("w", Domain.ANY);
        double[] g0 = sample("g", Domain.ANY);
        try (TestDevices.On on = TestDevices.on(device);
                Variable w = new Variable(tensor(w0, FLOAT32));
                Variable m = new Variable(Spool.zeros(SHAPE, FLOAT32));
                Variable v = new Variable(Spool.zeros(SHAPE, FLOAT32));
                Variable cw = new Variable(tensor(w0, FLOAT32));
                Variable cm = new Variable(Spool.zeros(SHAPE, FLOAT32));
                Variable cv = new Variable(Spool.zeros(SHAPE, FLOAT32))) {
            for (int t = 1; t <= STEPS; t++) {
                double lr = 0.01;
                Tensor g = tensor(g0, FLOAT32).mul(gradScale(t));
                Spool.applyAdam(w, m, v, Math.pow(b1, t), Math.pow(b2, t), lr, b1, b2, eps, g);
                // nn's Adam as it was written with ops (Keras's rule, epsilon hat)
                double alpha = lr * Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t));
                cm.assignAdd(g.sub(cm).mul(1 - b1));
                cv.assignAdd(g.square().sub(cv).mul(1 - b2));
                cw.assignSub(cm.mul(alpha).div(cv.sqrt().add(eps)));
                assertCloseF32(cm.value(), m.value(), "applyAdam m step " + t);
                assertCloseF32(cv.value(), v.value(), "applyAdam v step " + t);
                assertCloseF32(cw.value(), w.value(), "applyAdam var step " + t);
            }
        }
    }

    private static void assertCloseF32(Tensor expected, Tensor actual, String what) {
        TensorAssert.assertClose(expected.toDoubleArray(), actual.toDoubleArray(), F32_RTOL, F32_ATOL, what);
    }

    // ---- TensorFlow's formulas in host float64 --------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void followTensorFlowsFormulasInFloat64(Device device) {
        DType dt = device.supportsFloat64() ? FLOAT64 : FLOAT32;
        double rtol = dt == FLOAT64 ? 1e-12 : 2e-5;
        double atol = dt == FLOAT64 ? 1e-14 : 1e-6;
        double[] w0 = sample("w", Domain.ANY);
        double[] g0 = sample("g", Domain.ANY);
        int n = w0.length;
        double lr = 0.05;
        double mu = 0.8;
        try (TestDevices.On on = TestDevices.on(device);
                Variable gd = new Variable(tensor(w0, dt));
                Variable mw = new Variable(tensor(w0, dt));
                Variable ma = new Variable(Spool.zeros(SHAPE, dt));
                Variable nw = new Variable(tensor(w0, dt));
                Variable na = new Variable(Spool.zeros(SHAPE, dt));
                Variable aw = new Variable(tensor(w0, dt));
                Variable am = new Variable(Spool.zeros(SHAPE, dt));
                Variable av = new Variable(Spool.zeros(SHAPE, dt))) {
            double[] rgd = w0.clone();
            double[] rmw = w0.clone();
            double[] rma = new double[n];
            double[] rnw = w0.clone();
            double[] rna = new double[n];
            double[] raw = w0.clone();
            double[] ram = new double[n];
            double[] rav = new double[n];
            for (int t = 1; t <= STEPS; t++) {
                double s = gradScale(t);
                Tensor g = tensor(g0, dt).mul(s);
                Spool.applyGradientDescent(gd, lr, g);
                Spool.applyMomentum(mw, ma, lr, g, mu, false);
                Spool.applyMomentum(nw, na, lr, g, mu, true);
                Spool.applyAdam(aw, am, av, Math.pow(0.9, t), Math.pow(0.999, t), lr, 0.9, 0.999, 1e-7, g);
                double lrT = lr * Math.sqrt(1 - Math.pow(0.999, t)) / (1 - Math.pow(0.9, t));
                for (int i = 0; i < n; i++) {
                    double gi = g0[i] * s;
                    rgd[i] -= lr * gi; // ResourceApplyGradientDescent
                    rma[i] = rma[i] * mu + gi; // ResourceApplyMomentum
                    rmw[i] -= lr * rma[i];
                    rna[i] = rna[i] * mu + gi; // ... use_nesterov
                    rnw[i] -= gi * lr + rna[i] * mu * lr;
                    ram[i] = 0.9 * ram[i] + 0.1 * gi; // ResourceApplyAdam
                    rav[i] = 0.999 * rav[i] + 0.001 * gi * gi;
                    raw[i] -= lrT * ram[i] / (Math.sqrt(rav[i]) + 1e-7);
                }
                TensorAssert.assertClose(rgd, gd.value().toDoubleArray(), rtol, atol, "gradient descent step " + t);
                TensorAssert.assertClose(rmw, mw.value().toDoubleArray(), rtol, atol, "momentum step " + t);
                TensorAssert.assertClose(rnw, nw.value().toDoubleArray(), rtol, atol, "nesterov step " + t);
                TensorAssert.assertClose(raw, aw.value().toDoubleArray(), rtol, atol, "adam step " + t);
                TensorAssert.assertClose(rav, av.value().toDoubleArray(), rtol, atol, "adam v step " + t);
            }
        }
    }

    // ---- semantics ------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void earlierReadsKeepTheOldValueAndTapesRecordNothing(Device device) {
        try (TestDevices.On on = TestDevices.on(device);
                Variable w = new Variable(Spool.constant(new float[] {1, 2, 3}), "w");
                Variable m = new Variable(Spool.zeros(Shape.of(3), FLOAT32), "w/m");
                Variable v = new Variable(Spool.zeros(Shape.of(3), FLOAT32), "w/v")) {
            Tensor before = w.value();
            Tensor mBefore = m.value();
            Tensor g = Spool.constant(new float[] {1, 1, 1});
            try (GradientTape tape = new GradientTape()) {
                Spool.applyAdam(w, m, v, 0.9, 0.999, 0.1, 0.9, 0.999, 1e-7, g);
                assertEquals(List.of(), tape.watchedVariables(), "an update reads no variable on the tape");
            }
            assertArrayEquals(new float[] {1, 2, 3}, before.toFloatArray(), "a read before the update");
            assertArrayEquals(new float[] {0, 0, 0}, mBefore.toFloatArray(), "a slot read before the update");
            float[] after = w.value().toFloatArray();
            for (int i = 0; i < 3; i++) {
                assertEquals(i + 1 - 0.1f, after[i], 1e-5f, "first Adam step moves each weight by lr");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void anUpdateIsOneLaunchLikeOneAdd(Device device) {
        try (TestDevices.On on = TestDevices.on(device);
                Variable w = new Variable(Spool.ones(64, 32));
                Variable m = new Variable(Spool.zeros(64, 32));
                Variable v = new Variable(Spool.zeros(64, 32))) {
            Tensor g = Spool.ones(64, 32);
            long add = launches(device, () -> g.add(g));
            assertEquals(add, launches(device, () -> Spool.applyAdam(w, m, v, 0.9, 0.999, 0.1, 0.9, 0.999, 1e-7, g)));
            assertEquals(add, launches(device, () -> Spool.applyKerasMomentum(w, m, 0.1, g, 0.9, true)));
            assertEquals(add, launches(device, () -> Spool.applyGradientDescent(w, 0.1, g)));
        }
    }

    private static long launches(Device d, Runnable work) {
        d.synchronize();
        DeviceStats before = d.stats();
        work.run();
        d.synchronize();
        return d.stats().minus(before).kernelLaunches();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aVariableThatIsAViewIsUpdated(Device device) {
        try (TestDevices.On on = TestDevices.on(device);
                Variable w = new Variable(Spool.constant(new float[][] {{1, 2, 3}, {4, 5, 6}}).transpose(1, 0))) {
            Spool.applyGradientDescent(w, 0.5, Spool.ones(3, 2));
            assertArrayEquals(new float[] {0.5f, 3.5f, 1.5f, 4.5f, 2.5f, 5.5f}, w.value().toFloatArray());
        }
    }

    // ---- errors ---------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void badInputsFailNamingTheOpAndTheValues(Device device) {
        try (TestDevices.On on = TestDevices.on(device);
                Variable w = new Variable(Spool.zeros(2, 3), "w");
                Variable m = new Variable(Spool.zeros(2, 3), "w/m");
                Variable small = new Variable(Spool.zeros(3), "small");
                Variable ints = new Variable(Spool.constant(new int[] {1, 2}), "ints")) {
            ShapeException shape = assertThrows(ShapeException.class,
                    () -> Spool.applyGradientDescent(w, 0.1, Spool.zeros(3, 2)));
            assertMessage(shape, "applyGradientDescent", "grad", "(3, 2)", "'w'", "(2, 3)");
            ShapeException slot = assertThrows(ShapeException.class,
                    () -> Spool.applyMomentum(w, small, 0.1, Spool.zeros(2, 3), 0.9, false));
            assertMessage(slot, "applyMomentum", "accum", "'small'", "(3,)");
            DTypeException dtype = assertThrows(DTypeException.class,
                    () -> Spool.applyGradientDescent(w, 0.1, Spool.zeros(Shape.of(2, 3), DType.INT32)));
            assertMessage(dtype, "applyGradientDescent", "int32", "float32");
            DTypeException integer = assertThrows(DTypeException.class,
                    () -> Spool.applyGradientDescent(ints, 0.1, Spool.constant(new int[] {1, 1})));
            assertMessage(integer, "applyGradientDescent", "int32");
            dev.spool.UsageException same = assertThrows(dev.spool.UsageException.class,
                    () -> Spool.applyAdam(w, m, m, 0.9, 0.999, 0.1, 0.9, 0.999, 1e-7, Spool.zeros(2, 3)));
            assertMessage(same, "applyAdam", "m", "v", "'w/m'");
            Variable closed = new Variable(Spool.zeros(2, 3), "closed");
            closed.close();
            dev.spool.ClosedException closedError = assertThrows(dev.spool.ClosedException.class,
                    () -> Spool.applyKerasMomentum(w, closed, 0.1, Spool.zeros(2, 3), 0.9, false));
            assertMessage(closedError, "applyKerasMomentum", "'closed'", "closed");
            if (device != Device.cpu()) {
                Tensor elsewhere;
                try (Device.Scope c = Device.use(Device.cpu())) {
                    elsewhere = Spool.zeros(2, 3);
                }
                DeviceException dev = assertThrows(DeviceException.class,
                        () -> Spool.applyGradientDescent(w, 0.1, elsewhere));
                assertMessage(dev, "applyGradientDescent", "grad", "cpu");
            }
            float[] unchanged = w.value().toFloatArray();
            assertArrayEquals(new float[6], unchanged, "a failed update leaves the variable as it was");
        }
    }

    private static void assertMessage(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
        }
    }
}
