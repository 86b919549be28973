package dev.spool.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.nn.layers.Activation;
import dev.spool.nn.layers.Dense;
import dev.spool.nn.layers.LayerNormalization;
import dev.spool.nn.layers.Sequential;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
}
