package dev.spool.nn.data;

import dev.spool.DTypeException;
import dev.spool.ShapeException;
import dev.spool.internal.NullChecks;
import java.util.Arrays;

/**
 * The contents of an {@link Idx} file: its element type, its dimensions and the elements in
 * row-major order, in a Java array of the type's {@link Idx.Type#hostArrayType()} (a
 * {@code byte[]} for both byte types: read unsigned bytes through {@link #toFloatArray()} or
 * {@link #toIntArray()}, which give 0 to 255).
 */
public record IdxArray(Idx.Type type, int[] shape, Object data) {

    public IdxArray {
        NullChecks.nonNull(type, "IdxArray", "type");
        NullChecks.nonNull(shape, "IdxArray", "shape");
        NullChecks.nonNull(data, "IdxArray", "data");
        shape = shape.clone();
        if (!type.hostArrayType().isInstance(data)) {
            throw new DTypeException("IdxArray: data for " + type + " must be a " + type.hostArrayType().getSimpleName()
                    + ", got " + data.getClass().getSimpleName());
        }
        long size = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new ShapeException("IdxArray: negative dimension in shape " + Arrays.toString(shape));
            }
            size *= d;
        }
        if (size != java.lang.reflect.Array.getLength(data)) {
            throw new ShapeException("IdxArray: " + java.lang.reflect.Array.getLength(data) + " elements for shape "
                    + Arrays.toString(shape) + ", which holds " + size);
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

    /** Every element as a float (unsigned bytes as 0 to 255). */
    public float[] toFloatArray() {
        float[] out = new float[size()];
        switch (type) {
            case UNSIGNED_BYTE -> {
                byte[] b = (byte[]) data;
                for (int i = 0; i < out.length; i++) {
                    out[i] = b[i] & 0xFF;
                }
            }
            case SIGNED_BYTE -> {
                byte[] b = (byte[]) data;
                for (int i = 0; i < out.length; i++) {
                    out[i] = b[i];
                }
            }
            case SHORT -> {
                short[] s = (short[]) data;
                for (int i = 0; i < out.length; i++) {
                    out[i] = s[i];
                }
            }
            case INT -> {
                int[] v = (int[]) data;
                for (int i = 0; i < out.length; i++) {
                    out[i] = v[i];
                }
            }
            case FLOAT -> System.arraycopy((float[]) data, 0, out, 0, out.length);
            case DOUBLE -> {
                double[] d = (double[]) data;
                for (int i = 0; i < out.length; i++) {
                    out[i] = (float) d[i];
                }
            }
        }
        return out;
    }

    /** Every element as an int (unsigned bytes as 0 to 255); only for the integer types. */
    public int[] toIntArray() {
        int[] out = new int[size()];
        switch (type) {
            case UNSIGNED_BYTE -> {
                byte[] b = (byte[]) data;
                for (int i = 0; i < out.length; i++) {
                    out[i] = b[i] & 0xFF;
                }
            }
            case SIGNED_BYTE -> {
                byte[] b = (byte[]) data;
                for (int i = 0; i < out.length; i++) {
                    out[i] = b[i];
                }
            }
            case SHORT -> {
                short[] s = (short[]) data;
                for (int i = 0; i < out.length; i++) {
                    out[i] = s[i];
                }
            }
            case INT -> System.arraycopy((int[]) data, 0, out, 0, out.length);
            case FLOAT, DOUBLE -> throw new DTypeException("IdxArray.toIntArray: the elements are " + type
                    + ", not integers");
        }
        return out;
    }

    @Override
    public String toString() {
        return "IdxArray[" + type + " " + Arrays.toString(shape) + "]";
    }
}
