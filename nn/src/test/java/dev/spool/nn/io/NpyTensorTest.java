package dev.spool.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Tensors of every dtype and of odd shapes through .npy files and back, on every device. */
class NpyTensorTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void tensorsRoundTripThroughFiles(Device device, @TempDir Path dir) {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Tensor[] tensors = {
                    Spool.constant(new float[][] {{1.5f, -2}, {0, 3}}),
                    Spool.constant(new int[] {7, -8, 9}),
                    Spool.constant(new long[][] {{1L << 40}, {-3}}),
                    Spool.constant(new boolean[] {true, false, true}),
                    Spool.constant(2.5f),
                    Spool.zeros(Shape.of(0, 3), DType.FLOAT32),
                    Spool.constant(new float[][] {{1, 2, 3}, {4, 5, 6}}).transpose()}; // a strided view
            for (int i = 0; i < tensors.length; i++) {
                Tensor t = tensors[i];
                Path file = dir.resolve("t" + i + ".npy");
                Npy.write(file, t);
                Tensor back = Npy.readTensor(file);
                assertSame(device, back.device());
                assertEquals(t.shape(), back.shape(), "tensor " + i);
                assertEquals(t.dtype(), back.dtype(), "tensor " + i);
                assertArrayEquals(t.toDoubleArray(), back.toDoubleArray(), "tensor " + i);
            }
            if (device.supportsFloat64()) {
                Tensor d = Spool.constant(new double[] {Math.PI, -1e300});
                Npy.write(dir.resolve("d.npy"), d);
                assertArrayEquals(d.toDoubleArray(), Npy.readTensor(dir.resolve("d.npy")).toDoubleArray());
            }
            try (Variable v = new Variable(Spool.constant(new float[] {4, 5}), "v")) {
                Npy.write(dir.resolve("v.npy"), v);
                assertArrayEquals(new float[] {4, 5}, (float[]) Npy.read(dir.resolve("v.npy")).data());
            }
        }
    }
}
