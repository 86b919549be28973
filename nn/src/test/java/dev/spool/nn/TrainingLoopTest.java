package dev.spool.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.Device;
import dev.spool.DeviceStats;
import dev.spool.GradientTape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.nn.data.Dataset;
import dev.spool.nn.layers.Activation;
import dev.spool.nn.layers.Dense;
import dev.spool.nn.layers.Dropout;
import dev.spool.nn.layers.Sequential;
import dev.spool.nn.losses.Losses;
import dev.spool.nn.losses.Reduction;
import dev.spool.nn.metrics.Mean;
import dev.spool.nn.optimizers.Adam;
import dev.spool.nn.optimizers.Optimizer;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The pieces together: a shuffled dataset, a model, a loss, Adam, a metric, one scope per step. */
class TrainingLoopTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void trainingLearnsXorAndKeepsDeviceMemoryFlat(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope outer = new TensorScope()) {
            Tensor x = Spool.constant(new float[][] {{0, 0}, {0, 1}, {1, 0}, {1, 1}});
            Tensor y = Spool.constant(new int[] {0, 1, 1, 0});
            Dataset data = Dataset.fromTensors(x, y).shuffle(1).batch(4).repeat();
            Sequential model = new Sequential(new Dense(2, 16, Activation.TANH, 1), new Dropout(0.1, 2),
                    new Dense(16, 2, Activation.LINEAR, 3));
            List<Variable> params = model.trainableVariables();
            Optimizer opt = new Adam(0.05).withGlobalClipNorm(5);
            Mean firstLosses = new Mean();
            Mean lastLosses = new Mean();
            DeviceStats afterWarmUp = null;
            int step = 0;
            for (List<Tensor> batch : data) {
                if (step == 300) {
                    break;
                }
                try (TensorScope scope = new TensorScope()) {
                    GradientTape tape = new GradientTape();
                    Tensor loss;
                    try (tape) {
                        loss = Losses.sparseSoftmaxCrossEntropy(batch.get(1), model.call(batch.get(0), true), Reduction.MEAN);
                    }
                    opt.apply(tape.gradient(loss, params), params);
                    (step < 20 ? firstLosses : lastLosses).update(loss);
                }
                if (step == 20) {
                    afterWarmUp = device.stats();
                }
                step++;
            }
            DeviceStats end = device.stats();
            // The device's counters are shared with every other test in this JVM, whose garbage the
            // collector may free meanwhile (only ever lowering them); a tensor left behind by a
            // step stays reachable from the outer scope, so a leak can only show as growth.
            assertTrue(end.liveBuffers() <= afterWarmUp.liveBuffers(),
                    "no buffer outlives its step: " + afterWarmUp.liveBuffers() + " -> " + end.liveBuffers());
            assertTrue(end.liveBytes() <= afterWarmUp.liveBytes(),
                    "no byte outlives its step: " + afterWarmUp.liveBytes() + " -> " + end.liveBytes());
            assertTrue(lastLosses.result() < 0.2 * firstLosses.result(),
                    "loss falls: " + firstLosses.result() + " -> " + lastLosses.result());
            float[] predicted = model.call(x).argMax(1).toFloatArray();
            assertEquals(List.of(0f, 1f, 1f, 0f), List.of(predicted[0], predicted[1], predicted[2], predicted[3]));
            firstLosses.close();
            lastLosses.close();
        }
    }
}
