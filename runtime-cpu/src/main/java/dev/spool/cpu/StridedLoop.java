package dev.spool.cpu;

/**
 * Walks several same-shaped strided operands in row-major order, handing out runs of elements
 * ("segments") that the kernels process with plain loops.
 *
 * <p>Dimensions of size 1 are dropped and adjacent dimensions that every operand lays out
 * densely are merged, so contiguous operands become one long run with stride 1 and the common
 * broadcast cases become two-level loops. A segment is at most {@link #CHUNK} elements and never
 * crosses a row, so each operand's elements in it are {@code start + t * innerStride(op)}.
 */
final class StridedLoop {
    /** Longest segment: the kernels' scratch arrays have this length (fits in L1). */
    static final int CHUNK = 1024;

    /** Length of the scratch arrays a kernel needs: {@link #CHUNK}, or less for small
     *  operands, so that a one-element op does not allocate and zero 8 KiB per operand. */
    int chunk() {
        return (int) Math.min(CHUNK, Math.max(size, 1));
    }

    /** Receives one segment: {@code starts[op]} is operand op's first element. */
    @FunctionalInterface
    interface Body {
        void segment(int[] starts, int n);
    }

    private final int[] shape;
    private final long[][] strides;
    private final long[] offsets;
    private final long size;

    /**
     * @param shape   the common shape
     * @param offsets each operand's offset (element index of position zero)
     * @param strides each operand's strides, in elements
     */
    StridedLoop(int[] shape, long[] offsets, long[]... strides) {
        int ops = offsets.length;
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        size = n;
        int[] dims = new int[Math.max(shape.length, 1)];
        long[][] st = new long[ops][dims.length];
        int r = 0;
        // Innermost first: dims[0] is the innermost kept dimension until we reverse below.
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 1) {
                continue;
            }
            if (r > 0 && mergeable(strides, st, i, r - 1, dims[r - 1])) {
                dims[r - 1] *= shape[i];
                continue;
            }
            dims[r] = shape[i];
            for (int op = 0; op < ops; op++) {
                st[op][r] = strides[op][i];
            }
            r++;
        }
        if (r == 0) {
            dims[0] = n == 0 ? 0 : 1;
            r = 1;
        }
        this.shape = new int[r];
        this.strides = new long[ops][r];
        for (int d = 0; d < r; d++) {
            this.shape[d] = dims[r - 1 - d];
            for (int op = 0; op < ops; op++) {
                this.strides[op][d] = st[op][r - 1 - d];
            }
        }
        this.offsets = offsets.clone();
    }

    private static boolean mergeable(long[][] strides, long[][] st, int i, int inner, int innerSize) {
        for (int op = 0; op < strides.length; op++) {
            if (strides[op][i] != st[op][inner] * innerSize) {
                return false;
            }
        }
        return true;
    }

    /** Number of elements. */
    long size() {
        return size;
    }

    /** True when every element lies in one row, so segments are {@code start + t * innerStride}. */
    boolean isSingleRow() {
        return shape.length == 1;
    }

    /** Position of element {@code index} (row-major linear index) of operand {@code op}. */
    long position(int op, long index) {
        long pos = offsets[op];
        for (int d = shape.length - 1; d >= 0; d--) {
            pos += (index % shape[d]) * strides[op][d];
            index /= shape[d];
        }
        return pos;
    }

    /** Stride of operand {@code op} within a segment. */
    int innerStride(int op) {
        return (int) strides[op][shape.length - 1];
    }

    /** Visits elements {@code [lo, hi)} (row-major linear indices). */
    void forEach(long lo, long hi, Body body) {
        forEach(lo, hi, 0, body);
    }

    /** As {@link #forEach(long, long, Body)}, with {@code shift} added to every operand's offset. */
    void forEach(long lo, long hi, long shift, Body body) {
        if (lo >= hi) {
            return;
        }
        int r = shape.length;
        int ops = offsets.length;
        int rowLen = shape[r - 1];
        long row = lo / rowLen;
        int col = (int) (lo % rowLen);
        int[] idx = new int[r];
        long[] pos = new long[ops];
        for (int op = 0; op < ops; op++) {
            pos[op] = offsets[op] + shift;
        }
        for (int d = r - 2; d >= 0; d--) {
            idx[d] = (int) (row % shape[d]);
            row /= shape[d];
            for (int op = 0; op < ops; op++) {
                pos[op] += idx[d] * strides[op][d];
            }
        }
        int[] starts = new int[ops];
        long done = lo;
        while (true) {
            int n = (int) Math.min(Math.min(rowLen - col, hi - done), CHUNK);
            for (int op = 0; op < ops; op++) {
                starts[op] = (int) (pos[op] + col * strides[op][r - 1]);
            }
            body.segment(starts, n);
            done += n;
            if (done >= hi) {
                return;
            }
            col += n;
            if (col == rowLen) {
                col = 0;
                for (int d = r - 2; d >= 0; d--) {
                    for (int op = 0; op < ops; op++) {
                        pos[op] += strides[op][d];
                    }
                    if (++idx[d] < shape[d]) {
                        break;
                    }
                    for (int op = 0; op < ops; op++) {
                        pos[op] -= strides[op][d] * shape[d];
                    }
                    idx[d] = 0;
                }
            }
        }
    }
}
