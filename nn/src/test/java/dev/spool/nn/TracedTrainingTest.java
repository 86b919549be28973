package dev.spool.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UsageException;
import dev.spool.Variable;
import dev.spool.function.TracedFunction;
import dev.spool.nn.layers.Activation;
import dev.spool.nn.layers.Dense;
import dev.spool.nn.layers.Sequential;
import dev.spool.nn.losses.Losses;
import dev.spool.nn.losses.Reduction;
import dev.spool.nn.optimizers.Adam;
import dev.spool.nn.optimizers.AdamW;
import dev.spool.nn.optimizers.LearningRateSchedule;
import dev.spool.nn.optimizers.Optimizer;
import dev.spool.nn.optimizers.RMSprop;
import dev.spool.nn.optimizers.SGD;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A whole Keras-style training step (layers, loss, tape, optimizer) as one traced function: the
 * same losses and weights as eager, step by step, for optimizers whose state lives in Java (the
 * step count of Adam's bias correction, a learning-rate schedule).
 */
@SuppressWarnings("try")
class TracedTrainingTest {

    private record Run(Sequential model, Optimizer opt, Tensor x, Tensor y) {
        Tensor step() {
            List<Variable> params = model.trainableVariables();
            GradientTape tape = new GradientTape();
            Tensor loss;
            try (tape) {
                loss = Losses.sparseSoftmaxCrossEntropy(y, model.call(x, true), Reduction.MEAN);
            }
            opt.apply(tape.gradient(loss, params), params);
            return loss;
        }
    }

    private static Run run(Supplier<Optimizer> opt) {
        Tensor x = Spool.randomUniform(Shape.of(12, 5), 11);
        Tensor y = Spool.cast(Spool.randomUniform(Shape.of(12), 12).mul(3), dev.spool.DType.INT32);
        return new Run(new Sequential(new Dense(5, 8, Activation.RELU, 1), new Dense(8, 3, Activation.LINEAR, 2)),
                opt.get(), x, y);
    }

    static List<Supplier<Optimizer>> optimizers() {
        return List.of(() -> new Adam(0.01), () -> new SGD(LearningRateSchedule.stepDecay(0.1, 0.5, 2), 0.9, false),
                () -> new Adam(LearningRateSchedule.cosineDecay(0.02, 5, 0.1), 0.9, 0.999, 1e-7),
                () -> new AdamW(0.01, 0.004).withGlobalClipNorm(1),
                () -> new AdamW(LearningRateSchedule.cosineDecay(0.02, 5, 0.1), 0.01, 0.9, 0.99, 1e-8)
                        .withGlobalClipNorm(1));
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> cases() {
        return NnDevices.devices().flatMap(d -> java.util.stream.IntStream.range(0, optimizers().size())
                .mapToObj(i -> org.junit.jupiter.params.provider.Arguments.of(d, i)));
    }

    @ParameterizedTest(name = "{0} optimizer {1}")
    @MethodSource("cases")
    void aTracedStepTrainsAsTheEagerStep(Device device, int optimizer) {
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope()) {
            Run eager = run(optimizers().get(optimizer));
            Run traced = run(optimizers().get(optimizer));
            TracedFunction<Tensor> step = Spool.function(traced::step);
            for (int i = 0; i < 6; i++) {
                float e = eager.step().floatValue();
                float t = step.call().floatValue();
                assertEquals(e, t, 1e-5f * Math.max(1, Math.abs(e)), "loss at step " + i);
                List<Variable> pe = eager.model().trainableVariables();
                List<Variable> pt = traced.model().trainableVariables();
                for (int k = 0; k < pe.size(); k++) {
                    assertArrayEquals(pe.get(k).value().toFloatArray(), pt.get(k).value().toFloatArray(), 1e-5f,
                            pt.get(k).name() + " after step " + i);
                }
            }
            assertEquals(6, traced.opt().iterations(), "the step count advances at every call");
            assertEquals(1, step.stats().traces());
        }
    }

    /**
     * The moving average of the weights in a traced step: its first step (average = weights) and
     * the later ones (momentum) are told apart when the function replays, so the averages follow
     * the eager ones.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void theMovingAverageOfTheWeightsAdvancesInATracedStep(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope()) {
            Run eager = run(() -> new Adam(0.01).withEma(0.9));
            Run traced = run(() -> new Adam(0.01).withEma(0.9));
            TracedFunction<Tensor> step = Spool.function(traced::step);
            for (int i = 0; i < 5; i++) {
                eager.step();
                step.call();
                List<Variable> pe = eager.model().trainableVariables();
                List<Variable> pt = traced.model().trainableVariables();
                for (int k = 0; k < pe.size(); k++) {
                    float[] ae = eager.opt().slots(pe.get(k)).get("average").value().toFloatArray();
                    float[] at = traced.opt().slots(pt.get(k)).get("average").value().toFloatArray();
                    assertArrayEquals(ae, at, 1e-5f, pt.get(k).name() + "'s average after step " + i);
                }
            }
            assertEquals(1, step.stats().traces());
            // the averages are not the weights (a replay that kept "first step" would make them equal)
            Variable w = traced.model().trainableVariables().get(0);
            float[] own = w.value().toFloatArray();
            float[] avg = traced.opt().slots(w).get("average").value().toFloatArray();
            float gap = 0;
            for (int i = 0; i < own.length; i++) {
                gap = Math.max(gap, Math.abs(own[i] - avg[i]));
            }
            assertTrue(gap > 1e-3, "largest |weight - average| " + gap);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void anOptimizerThatCannotFollowAScheduleInAFunctionSaysSo(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope()) {
            Run r = run(() -> new RMSprop(LearningRateSchedule.stepDecay(0.1, 0.5, 2), 0.9, 0.0, 1e-7, false));
            TracedFunction<Tensor> step = Spool.function(r::step);
            UsageException e = assertThrows(UsageException.class, step::call);
            assertTrue(e.getMessage().contains("schedule"), e.getMessage());
        }
    }
}
