package dev.spool.spi;

import dev.spool.DType;
import java.util.Arrays;

/**
 * A strided view of a {@link DeviceBuffer}: element {@code (i0, i1, ...)} lives at
 * {@code offset + i0*strides[0] + i1*strides[1] + ...} (in elements, not bytes).
 * A stride of 0 broadcasts a dimension; permuted strides are a transpose; an offset and a
 * smaller shape are a slice. Primitives accept views for their inputs so that none of these
 * needs a copy. Arrays are owned by the view: callers must not mutate them.
 */
public record View(DeviceBuffer buffer, int[] shape, long[] strides, long offset) {

    public View {
        if (shape.length != strides.length) {
            throw new IllegalArgumentException("shape and strides differ in rank: "
                    + Arrays.toString(shape) + " vs " + Arrays.toString(strides));
        }
    }

    /** A contiguous, row-major view of a whole buffer with the given shape. */
    public static View contiguous(DeviceBuffer buffer, int... shape) {
        return new View(buffer, shape, rowMajorStrides(shape), 0);
    }

    /** Row-major (C order) strides for a shape. */
    public static long[] rowMajorStrides(int[] shape) {
        long[] strides = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= shape[i];
        }
        return strides;
    }

    public DType dtype() {
        return buffer.dtype();
    }

    public int rank() {
        return shape.length;
    }

    /** Number of elements the view addresses. */
    public long size() {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** True when the elements are laid out row-major and densely from {@link #offset()}. */
    public boolean isContiguous() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    @Override
    public String toString() {
        return "View" + Arrays.toString(shape) + " strides=" + Arrays.toString(strides)
                + " offset=" + offset + " " + buffer.dtype();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof View v && v.buffer == buffer && v.offset == offset
                && Arrays.equals(v.shape, shape) && Arrays.equals(v.strides, strides);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(strides) + Long.hashCode(offset);
    }
}
