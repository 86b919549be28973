package dev.spool.nn.io;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.Device;
import dev.spool.Operand;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.internal.NullChecks;
import java.util.Arrays;

/**
 * An array on the host as a {@code .npy} file holds it: a dtype, a shape and the elements in C
 * (row-major) order, in a Java array of {@link DType#hostArrayType()} ({@code byte[]} of 0/1
 * for bool). The bridge between tensors and {@link Npy} files.
 */
public record NpyArray(DType dtype, int[] shape, Object data) {

    public NpyArray {
        NullChecks.nonNull(dtype, "NpyArray", "dtype");
        NullChecks.nonNull(shape, "NpyArray", "shape");
        NullChecks.nonNull(data, "NpyArray", "data");
        shape = shape.clone();
        if (!dtype.hostArrayType().isInstance(data)) {
            throw new DTypeException("NpyArray: data for " + dtype + " must be a "
                    + dtype.hostArrayType().getSimpleName() + ", got " + data.getClass().getSimpleName());
        }
        long size = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new ShapeException("NpyArray: negative dimension in shape " + Arrays.toString(shape));
            }
            size *= d;
        }
        if (size != java.lang.reflect.Array.getLength(data)) {
            throw new ShapeException("NpyArray: " + java.lang.reflect.Array.getLength(data)
                    + " elements for shape " + Arrays.toString(shape) + ", which holds " + size);
        }
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public int size() {
        return java.lang.reflect.Array.getLength(data);
    }

    /** Reads a tensor's (or variable's) values from its device. */
    public static NpyArray of(Operand x) {
        Tensor t = NullChecks.nonNull(x, "NpyArray.of", "x").value();
        Object data = switch (t.dtype()) {
            case FLOAT32 -> t.toFloatArray();
            case FLOAT64 -> t.toDoubleArray();
            case INT32 -> t.toIntArray();
            case INT64 -> t.toLongArray();
            case BOOL -> {
                boolean[] b = t.toBooleanArray();
                byte[] bytes = new byte[b.length];
                for (int i = 0; i < b.length; i++) {
                    bytes[i] = (byte) (b[i] ? 1 : 0);
                }
                yield bytes;
            }
        };
        return new NpyArray(t.dtype(), t.shape().toArray(), data);
    }

    /** A tensor of these values on {@code device}. */
    public Tensor toTensor(Device device) {
        NullChecks.nonNull(device, "NpyArray.toTensor", "device");
        Tensor flat;
        try (Device.Scope on = Device.use(device)) {
            flat = switch (dtype) {
                case FLOAT32, FLOAT64, INT32, INT64 -> Spool.constant(data);
                case BOOL -> {
                    byte[] bytes = (byte[]) data;
                    boolean[] b = new boolean[bytes.length];
                    for (int i = 0; i < b.length; i++) {
                        b[i] = bytes[i] != 0;
                    }
                    yield Spool.constant(b);
                }
            };
        }
        return Shape.of(shape).equals(flat.shape()) ? flat : flat.reshape(shape);
    }

    /** A tensor of these values on {@link Device#current()}. */
    public Tensor toTensor() {
        return toTensor(Device.current());
    }
}
