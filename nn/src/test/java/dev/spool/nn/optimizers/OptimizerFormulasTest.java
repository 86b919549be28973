package dev.spool.nn.optimizers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

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
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each optimizer against its documented update rule (Keras's), worked out step by step in plain
 * Java double arithmetic below, independently of the code under test, for six steps of fixed
 * gradients; checked after every step, on every device (float64 where the device has it).
 */
class OptimizerFormulasTest {
    static final double[] W0 = {0.5, -1.5, 2.0};
    static final double[][] GRADS = {
            {0.1, -0.2, 0.3}, {-0.4, 0.5, 0.05}, {0.2, 0.2, -0.1},
            {1.0, -1.0, 0.5}, {-0.3, 0.0, 0.25}, {0.05, 0.6, -0.7}};

    /** The reference: updates {@code w} in place with gradient {@code g} at step {@code t} (from 1). */
    interface Rule {
        void step(double[] w, double[] g, int t);
    }

    record Case(String name, Supplier<Optimizer> optimizer, Supplier<Rule> rule) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Rule sgd(double lr, double momentum, boolean nesterov) {
        double[] m = new double[W0.length];
        return (w, g, t) -> {
            for (int i = 0; i < w.length; i++) {
                if (momentum == 0) {
                    w[i] -= lr * g[i];
                } else {
                    m[i] = momentum * m[i] - lr * g[i];
                    w[i] += nesterov ? momentum * m[i] - lr * g[i] : m[i];
                }
            }
        };
    }

    static Rule adam(double lr, double b1, double b2, double eps, double weightDecay) {
        double[] m = new double[W0.length];
        double[] v = new double[W0.length];
        return (w, g, t) -> {
            double alpha = lr * Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t));
            for (int i = 0; i < w.length; i++) {
                w[i] -= w[i] * weightDecay * lr;
                m[i] = m[i] + (g[i] - m[i]) * (1 - b1);
                v[i] = v[i] + (g[i] * g[i] - v[i]) * (1 - b2);
                w[i] -= alpha * m[i] / (Math.sqrt(v[i]) + eps);
            }
        };
    }

    static Rule rmsprop(double lr, double rho, double momentum, double eps, boolean centered) {
        double[] s = new double[W0.length];
        double[] avg = new double[W0.length];
        double[] p = new double[W0.length];
        return (w, g, t) -> {
            for (int i = 0; i < w.length; i++) {
                s[i] = rho * s[i] + (1 - rho) * g[i] * g[i];
                double d = s[i] + eps;
                if (centered) {
                    avg[i] = rho * avg[i] + (1 - rho) * g[i];
                    d = s[i] - avg[i] * avg[i] + eps;
                }
                double inc = lr * g[i] / Math.sqrt(d);
                if (momentum > 0) {
                    p[i] = momentum * p[i] + inc;
                    w[i] -= p[i];
                } else {
                    w[i] -= inc;
                }
            }
        };
    }

    /** Plain SGD whose learning rate at step t (from 1) is {@code lr.apply(t - 1)}. */
    static Rule scheduledSgd(java.util.function.LongToDoubleFunction lr) {
        return (w, g, t) -> {
            for (int i = 0; i < w.length; i++) {
                w[i] -= lr.applyAsDouble(t - 1) * g[i];
            }
        };
    }

    static List<Case> cases() {
        return List.of(
                new Case("SGD", () -> new SGD(0.1), () -> sgd(0.1, 0, false)),
                new Case("SGD default lr", SGD::new, () -> sgd(0.01, 0, false)),
                new Case("SGD momentum", () -> new SGD(0.1, 0.9, false), () -> sgd(0.1, 0.9, false)),
                new Case("SGD Nesterov", () -> new SGD(0.1, 0.9, true), () -> sgd(0.1, 0.9, true)),
                new Case("Adam defaults", Adam::new, () -> adam(0.001, 0.9, 0.999, 1e-7, 0)),
                new Case("Adam lr 0.1", () -> new Adam(0.1), () -> adam(0.1, 0.9, 0.999, 1e-7, 0)),
                new Case("AdamW defaults", AdamW::new, () -> adam(0.001, 0.9, 0.999, 1e-7, 0.004)),
                new Case("AdamW wd 0.5", () -> new AdamW(0.1, 0.5), () -> adam(0.1, 0.9, 0.999, 1e-7, 0.5)),
                new Case("RMSprop defaults", RMSprop::new, () -> rmsprop(0.001, 0.9, 0, 1e-7, false)),
                new Case("RMSprop centered momentum", () -> new RMSprop(
                        LearningRateSchedule.constant(0.05), 0.8, 0.5, 1e-7, true), () -> rmsprop(0.05, 0.8, 0.5, 1e-7, true)),
                new Case("SGD step decay", () -> new SGD(LearningRateSchedule.stepDecay(0.5, 0.1, 2), 0, false),
                        () -> scheduledSgd(step -> 0.5 * Math.pow(0.1, step / 2))),
                new Case("SGD cosine decay", () -> new SGD(LearningRateSchedule.cosineDecay(0.5, 4, 0.1), 0, false),
                        () -> scheduledSgd(step -> 0.5 * ((1 - 0.1) * 0.5 * (1 + Math.cos(Math.PI * Math.min(step, 4) / 4.0)) + 0.1))));
    }

    static Stream<Arguments> deviceAndCase() {
        return NnDevices.devices().flatMap(d -> cases().stream().map(c -> Arguments.of(d, c)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("deviceAndCase")
    void followsTheDocumentedRule(Device device, Case c) {
        DType dtype = device.supportsFloat64() ? DType.FLOAT64 : DType.FLOAT32;
        double rtol = dtype == DType.FLOAT64 ? 1e-12 : 2e-5;
        double atol = dtype == DType.FLOAT64 ? 1e-14 : 1e-6;
        Optimizer opt = c.optimizer().get();
        Rule rule = c.rule().get();
        double[] expected = W0.clone();
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope();
                Variable w = new Variable(Spool.constant(W0, Shape.of(3), dtype), "w")) {
            for (int t = 1; t <= GRADS.length; t++) {
                Tensor g = Spool.constant(GRADS[t - 1], Shape.of(3), dtype);
                DeviceStats before = device.stats();
                opt.apply(List.of(g), List.of(w));
                assertEquals(0, device.stats().minus(before).deviceToHostCalls(),
                        "an optimizer step reads nothing back from the device");
                rule.step(expected, GRADS[t - 1], t);
                TensorAssert.assertClose(expected, w.value().toDoubleArray(), rtol, atol, c + " after step " + t);
            }
            assertEquals(GRADS.length, opt.iterations());
            for (Variable slot : opt.slots(w).values()) {
                assertSame(device, slot.device(), "optimizer state lives on the variable's device");
                assertEquals(w.shape(), slot.shape());
            }
        }
    }
}
