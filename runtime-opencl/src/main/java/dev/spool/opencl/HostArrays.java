package dev.spool.opencl;

import dev.spool.DType;
import org.jocl.Pointer;

/** Java primitive arrays as they cross to and from the device. */
final class HostArrays {
    private HostArrays() {
    }

    /** The length of {@code array}, checked to be {@code dtype}'s host array type. */
    static int length(Object array, DType dtype) {
        if (array == null || array.getClass() != dtype.hostArrayType()) {
            throw new IllegalArgumentException("expected a " + dtype.hostArrayType().getSimpleName() + " for "
                    + dtype + ", got " + (array == null ? "null" : array.getClass().getSimpleName()));
        }
        return java.lang.reflect.Array.getLength(array);
    }

    static Pointer pointer(Object array) {
        if (array instanceof float[] a) {
            return Pointer.to(a);
        }
        if (array instanceof double[] a) {
            return Pointer.to(a);
        }
        if (array instanceof int[] a) {
            return Pointer.to(a);
        }
        if (array instanceof long[] a) {
            return Pointer.to(a);
        }
        return Pointer.to((byte[]) array);
    }

    /** A copy of bool bytes as 0 or 1: kernels compare bools as numbers. */
    static byte[] normalised(byte[] bools) {
        byte[] out = new byte[bools.length];
        for (int i = 0; i < bools.length; i++) {
            out[i] = bools[i] != 0 ? (byte) 1 : (byte) 0;
        }
        return out;
    }
}
