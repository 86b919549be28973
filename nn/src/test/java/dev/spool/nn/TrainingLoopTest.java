package dev.spool.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import dev.spool.nn.layers.BatchNormalization;
import dev.spool.nn.layers.Conv2D;
import dev.spool.nn.layers.Dense;
import dev.spool.nn.layers.Dropout;
import dev.spool.nn.layers.Flatten;
import dev.spool.nn.layers.MaxPooling2D;
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

    /** 8x8 images: horizontal stripes (class 0) or vertical ones (class 1), at every phase. */
    static float[] stripes(int[] labels) {
        float[] images = new float[labels.length * 64];
        for (int k = 0; k < labels.length; k++) {
            labels[k] = k % 2;
            int phase = k / 2 % 4;
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    int along = labels[k] == 0 ? y : x;
                    images[k * 64 + y * 8 + x] = (along + phase) % 4 < 2 ? 1 : 0;
                }
            }
        }
        return images;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void aCnnBuiltInItsFirstStepLearnsAndKeepsDeviceMemoryFlat(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope outer = new TensorScope()) {
            int[] labels = new int[16];
            Tensor x = Spool.constant(stripes(labels)).reshape(16, 8, 8, 1);
            Tensor y = Spool.constant(labels);
            Dataset data = Dataset.fromTensors(x, y).shuffle(1).batch(8).repeat();
            Sequential model = new Sequential(new Conv2D(4, 3, Activation.RELU, 1), new BatchNormalization(),
                    new MaxPooling2D(), new Flatten(), new Dense(2, Activation.LINEAR, 2));
            Optimizer opt = new Adam(0.02);
            Mean firstLosses = new Mean();
            Mean lastLosses = new Mean();
            DeviceStats afterWarmUp = null;
            int step = 0;
            for (List<Tensor> batch : data) {
                if (step == 80) {
                    break;
                }
                try (TensorScope scope = new TensorScope()) {
                    GradientTape tape = new GradientTape();
                    Tensor loss;
                    try (tape) {
                        loss = Losses.sparseSoftmaxCrossEntropy(batch.get(1), model.call(batch.get(0), true), Reduction.MEAN);
                    }
                    List<Variable> params = model.trainableVariables(); // built by the call above, in this scope
                    opt.apply(tape.gradient(loss, params), params);
                    (step < 10 ? firstLosses : lastLosses).update(loss);
                }
                if (step == 10) {
                    afterWarmUp = device.stats();
                }
                step++;
            }
            DeviceStats end = device.stats();
            assertTrue(end.liveBuffers() <= afterWarmUp.liveBuffers(),
                    "no buffer outlives its step: " + afterWarmUp.liveBuffers() + " -> " + end.liveBuffers());
            assertTrue(end.liveBytes() <= afterWarmUp.liveBytes(),
                    "no byte outlives its step: " + afterWarmUp.liveBytes() + " -> " + end.liveBytes());
            assertTrue(lastLosses.result() < 0.3 * firstLosses.result(),
                    "loss falls: " + firstLosses.result() + " -> " + lastLosses.result());
            int[] predicted = model.call(x).argMax(1).toIntArray();
            assertArrayEquals(labels, predicted, "inference, with the moving statistics, classifies every image");
            firstLosses.close();
            lastLosses.close();
        }
    }
}
