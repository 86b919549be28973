package dev.spool.nn.optimizers;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.DeviceStats;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.nn.NnDevices;
import dev.spool.testing.TensorAssert;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The optimizers now update each variable with one fused primitive (Spool.applyAdam, ...):
 * in float32 they must give the numbers of the update as it was written before, with ops (kept
 * below as {@link Composite}), to float32 rounding, step after step from t = 1; and an update
 * costs one kernel launch per variable, as one add does (0 where the device counts none).
 */
class FusedUpdatesTest {
    private static final Shape SHAPE = Shape.of(33, 17);
    private static final int STEPS = 6;

    /** The former update of one optimizer, written with ops; its state in the two slot variables. */
    interface Composite {
        void update(Variable w, Variable s1, Variable s2, Tensor g, double lr, long step);
    }

    record Case(String name, Supplier<Optimizer> optimizer, Composite composite) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Composite sgd(double momentum, boolean nesterov) {
        return (w, m, unused, g, lr, step) -> {
            if (momentum == 0) {
                w.assignSub(g.mul(lr));
                return;
            }
            Tensor lrG = g.mul(lr);
            m.assign(m.mul(momentum).sub(lrG));
            w.assignAdd(nesterov ? m.mul(momentum).sub(lrG) : m.value());
        };
    }

    static Composite adam(double beta1, double beta2, double epsilon, double weightDecay) {
        return (w, m, v, g, lr, step) -> {
            if (weightDecay > 0) {
                w.assignSub(w.mul(weightDecay * lr));
            }
            double alpha = lr * Math.sqrt(1 - Math.pow(beta2, step)) / (1 - Math.pow(beta1, step));
            m.assignAdd(g.sub(m).mul(1 - beta1));
            v.assignAdd(g.square().sub(v).mul(1 - beta2));
            w.assignSub(m.mul(alpha).div(v.sqrt().add(epsilon)));
        };
    }

    static List<Case> cases() {
        return List.of(
                new Case("SGD", () -> new SGD(0.1), sgd(0, false)),
                new Case("SGD momentum", () -> new SGD(0.1, 0.9, false), sgd(0.9, false)),
                new Case("SGD Nesterov", () -> new SGD(0.1, 0.9, true), sgd(0.9, true)),
                new Case("SGD momentum, step decay", () -> new SGD(LearningRateSchedule.stepDecay(0.5, 0.1, 2), 0.9,
                        true), sgd(0.9, true)),
                new Case("Adam", () -> new Adam(0.01), adam(0.9, 0.999, 1e-7, 0)),
                new Case("AdamW", () -> new AdamW(0.01, 0.004), adam(0.9, 0.999, 1e-7, 0.004)));
    }

    static Stream<Arguments> deviceAndCase() {
        return NnDevices.devices().flatMap(d -> cases().stream().map(c -> Arguments.of(d, c)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("deviceAndCase")
    void givesTheNumbersOfTheCompositeUpdate(Device device, Case c) {
        Random r = new Random(c.name().hashCode());
        double[] w0 = new double[(int) SHAPE.size()];
        double[] g0 = new double[w0.length];
        for (int i = 0; i < w0.length; i++) {
            w0[i] = r.nextDouble() * 2 - 1;
            g0[i] = r.nextDouble() * 2 - 1;
        }
        Optimizer opt = c.optimizer().get();
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope();
                Variable w = new Variable(Spool.constant(w0, SHAPE, DType.FLOAT32), "w");
                Variable cw = new Variable(Spool.constant(w0, SHAPE, DType.FLOAT32), "cw");
                Variable s1 = new Variable(Spool.zeros(SHAPE, DType.FLOAT32), "cw/1");
                Variable s2 = new Variable(Spool.zeros(SHAPE, DType.FLOAT32), "cw/2")) {
            Tensor add = Spool.ones(SHAPE, DType.FLOAT32);
            long launchesPerAdd = launches(device, () -> add.add(add));
            for (int t = 1; t <= STEPS; t++) {
                Tensor g = Spool.constant(g0, SHAPE, DType.FLOAT32).mul(t % 2 == 0 ? -0.5 * t : t);
                double lr = opt.learningRate();
                long launched = launches(device, () -> opt.apply(List.of(g), List.of(w)));
                c.composite().update(cw, s1, s2, g, lr, t);
                TensorAssert.assertClose(cw.value().toDoubleArray(), w.value().toDoubleArray(), 5e-7, 1e-9,
                        c + " after step " + t);
                // from step 2 (step 1 also fills the new slots with zeros); AdamW decays first, in one launch
                if (t > 1) {
                    long perStep = c.name().equals("AdamW") ? 2 : 1;
                    assertEquals(perStep * launchesPerAdd, launched, c + ": " + perStep
                            + " launch(es) per variable and step");
                }
            }
        }
    }

    private static long launches(Device d, Runnable work) {
        d.synchronize();
        DeviceStats before = d.stats();
        work.run();
        d.synchronize();
        return d.stats().minus(before).kernelLaunches();
    }
}
