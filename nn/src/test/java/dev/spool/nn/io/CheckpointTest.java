package dev.spool.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.Shape;
import dev.spool.UsageException;
import dev.spool.Device;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.nn.layers.Activation;
import dev.spool.nn.layers.BatchNormalization;
import dev.spool.nn.layers.Conv2D;
import dev.spool.nn.layers.Dense;
import dev.spool.nn.layers.Flatten;
import dev.spool.nn.layers.LayerNormalization;
import dev.spool.nn.layers.MaxPooling2D;
import dev.spool.nn.layers.Sequential;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class CheckpointTest {

    static Sequential model(long seed) {
        return new Sequential(new Dense(3, 4, Activation.RELU, seed), new LayerNormalization(4),
                new Dense(4, 2, Activation.LINEAR, seed + 10));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void savedVariablesRestoreIntoAFreshModel(Device device, @TempDir Path dir) {
        Path file = dir.resolve("model.npz");
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Sequential trained = model(1);
            Tensor x = Spool.constant(new float[][] {{1, 2, 3}, {-1, 0, 0.5f}});
            float[] before = trained.call(x).toFloatArray();
            Checkpoint.save(file, trained);
            Map<String, NpyArray> stored = Npz.read(file);
            assertTrue(stored.keySet().containsAll(List.of("dense/kernel", "dense/bias", "layer_normalization/gamma",
                    "dense_1/kernel")), stored.keySet().toString());
            assertArrayEquals(trained.variables().get("dense/kernel").value().toFloatArray(),
                    (float[]) stored.get("dense/kernel").data());

            Sequential fresh = model(2);
            assertFalse(java.util.Arrays.equals(before, fresh.call(x).toFloatArray()));
            Checkpoint.restore(file, fresh);
            assertArrayEquals(before, fresh.call(x).toFloatArray());
            assertSame(device, fresh.variables().get("dense/kernel").device());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void mismatchedCheckpointsAreRefusedByName(Device device, @TempDir Path dir) throws Exception {
        Path file = dir.resolve("model.npz");
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Checkpoint.save(file, model(1));
            Sequential wider = new Sequential(new Dense(3, 5, Activation.RELU, 1), new LayerNormalization(5),
                    new Dense(5, 2, Activation.LINEAR, 11));
            ShapeException e = assertThrows(ShapeException.class, () -> Checkpoint.restore(file, wider));
            assertTrue(e.getMessage().contains("dense/kernel"), e.getMessage());
            Sequential shorter = new Sequential(new Dense(3, 4, Activation.RELU, 1));
            CheckpointMismatchException e2 = assertThrows(CheckpointMismatchException.class, () -> Checkpoint.restore(file, shorter));
            assertTrue(e2.getMessage().contains("unexpected [dense_1/bias, dense_1/kernel"), e2.getMessage());
            Path ints = dir.resolve("ints.npz");
            Npz.writeArrays(ints, Map.of("dense/kernel", new NpyArray(DType.INT32, new int[] {3, 4}, new int[12]),
                    "dense/bias", new NpyArray(DType.FLOAT32, new int[] {4}, new float[4])));
            dev.spool.DTypeException e3 = assertThrows(dev.spool.DTypeException.class, () -> Checkpoint.restore(ints, shorter));
            assertTrue(e3.getMessage().contains("'dense/kernel' is int32 in the checkpoint and float32"), e3.getMessage());
            assertTrue(Files.size(ints) > 0);
        }
    }

    static Sequential cnn(long seed) {
        return new Sequential(new Conv2D(3, 3, Activation.RELU, seed), new BatchNormalization(), new MaxPooling2D(),
                new Flatten(), new Dense(2, Activation.LINEAR, seed + 1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void convolutionalModelsKeepTheirMovingStatistics(Device device, @TempDir Path dir) {
        Path file = dir.resolve("cnn.npz");
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Tensor x = Spool.randomUniform(Shape.of(4, 6, 6, 2), 3, -1, 1, DType.FLOAT32);
            Sequential trained = cnn(1);
            trained.call(x, true); // builds, and moves the statistics away from 0 and 1
            trained.call(x.mul(2).add(1), true);
            float[] before = trained.call(x).toFloatArray();
            Checkpoint.save(file, trained);
            Map<String, NpyArray> stored = Npz.read(file);
            assertEquals(List.of("batch_normalization/beta", "batch_normalization/gamma",
                    "batch_normalization/moving_mean", "batch_normalization/moving_variance", "conv2d/bias",
                    "conv2d/kernel", "dense/bias", "dense/kernel"), new TreeSet<>(stored.keySet()).stream().toList());
            float[] movingVariance = trained.variables().get("batch_normalization/moving_variance").value().toFloatArray();
            assertFalse(movingVariance[0] == 1f, "training moved the variance");
            assertArrayEquals(movingVariance, (float[]) stored.get("batch_normalization/moving_variance").data());

            Sequential fresh = cnn(2);
            UsageException unbuilt = assertThrows(UsageException.class, () -> Checkpoint.restore(file, fresh));
            assertTrue(unbuilt.getMessage().contains("has no variables yet"), unbuilt.getMessage());
            fresh.build(Shape.of(1, 6, 6, 2), DType.FLOAT32);
            assertFalse(java.util.Arrays.equals(before, fresh.call(x).toFloatArray()));
            Checkpoint.restore(file, fresh);
            assertArrayEquals(before, fresh.call(x).toFloatArray(), "inference reads the restored moving statistics");
            assertArrayEquals(movingVariance,
                    fresh.variables().get("batch_normalization/moving_variance").value().toFloatArray());
        }
    }
}
