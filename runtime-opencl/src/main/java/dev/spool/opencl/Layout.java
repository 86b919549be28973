package dev.spool.opencl;

import dev.spool.BackendException;
import dev.spool.spi.View;
import java.util.Arrays;

/**
 * The host side of the kernels' {@code layout_t}: the shape, strides and offset (in elements) of
 * a strided view, passed to kernels by value as 18 longs ({@code rank, offset, shape[8],
 * strides[8]}), so host and device agree on the layout whatever the device's alignment rules.
 */
final class Layout {
    /** The largest rank a layout_t holds. */
    static final int MAX_RANK = 8;
    /** Longs of a layout_t. */
    static final int LONGS = 2 + 2 * MAX_RANK;
    /** Bytes of a layout_t. */
    static final long BYTES = LONGS * 8L;

    final long offset;
    final long[] shape;
    final long[] strides;

    Layout(long offset, long[] shape, long[] strides) {
        if (shape.length > MAX_RANK) {
            throw new BackendException("the OpenCL backend handles views of rank up to " + MAX_RANK
                    + " (after merging dims that are contiguous), got rank " + shape.length + ": shape "
                    + Arrays.toString(shape) + " strides " + Arrays.toString(strides));
        }
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
    }

    int rank() {
        return shape.length;
    }

    /** Elements in row-major order from the offset, without gaps. */
    boolean isDense() {
        return rank() == 0 || (rank() == 1 && strides[0] == 1);
    }

    /** Writes the argument value of a layout_t into {@code a} (of {@link #LONGS}). */
    void writeArgs(long[] a) {
        a[0] = rank();
        a[1] = offset;
        System.arraycopy(shape, 0, a, 2, rank());
        System.arraycopy(strides, 0, a, 2 + MAX_RANK, rank());
        for (int d = rank(); d < MAX_RANK; d++) {
            a[2 + d] = 1; // unused dims: harmless values
            a[2 + MAX_RANK + d] = 0;
        }
    }

    /**
     * Layouts of views that share one shape, simplified together: size-1 dims dropped and
     * neighbouring dims merged where every view steps through them as one dim. Element i in
     * row-major order of the shape stays element i of each result.
     */
    static Layout[] collapse(int[] shape, View... views) {
        long[] dims = new long[shape.length];
        for (int d = 0; d < shape.length; d++) {
            dims[d] = shape[d];
        }
        long[][] strides = new long[views.length][];
        long[] offsets = new long[views.length];
        for (int v = 0; v < views.length; v++) {
            strides[v] = views[v].strides();
            offsets[v] = views[v].offset();
        }
        return collapse(dims, strides, offsets, 0, shape.length);
    }

    /** {@link #collapse(int[], View...)} on dims {@code [from, to)} of raw arrays. */
    static Layout[] collapse(long[] shape, long[][] strides, long[] offsets, int from, int to) {
        int n = strides.length;
        long[] outShape = new long[to - from];
        long[][] outStrides = new long[n][to - from];
        int rank = 0;
        for (int d = from; d < to; d++) {
            if (shape[d] == 1) {
                continue;
            }
            if (rank > 0 && mergeable(outStrides, rank - 1, strides, d, shape[d])) {
                // previous (outer) dim and d step as one: grow it, take d's stride
                outShape[rank - 1] *= shape[d];
                for (int v = 0; v < n; v++) {
                    outStrides[v][rank - 1] = strides[v][d];
                }
                continue;
            }
            outShape[rank] = shape[d];
            for (int v = 0; v < n; v++) {
                outStrides[v][rank] = strides[v][d];
            }
            rank++;
        }
        Layout[] out = new Layout[n];
        for (int v = 0; v < n; v++) {
            out[v] = new Layout(offsets[v], Arrays.copyOf(outShape, rank), Arrays.copyOf(outStrides[v], rank));
        }
        return out;
    }

    /** Whether dim {@code outer} of the result and dim {@code d} (of size {@code size}) are one
     *  dim for every view: stepping the outer one is stepping {@code size} times the inner one. */
    private static boolean mergeable(long[][] outStrides, int outer, long[][] strides, int d, long size) {
        for (int v = 0; v < strides.length; v++) {
            if (outStrides[v][outer] != strides[v][d] * size) {
                return false;
            }
        }
        return true;
    }

    static boolean allDense(Layout... layouts) {
        for (Layout l : layouts) {
            if (!l.isDense()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "Layout" + Arrays.toString(shape) + " strides=" + Arrays.toString(strides) + " offset=" + offset;
    }
}
