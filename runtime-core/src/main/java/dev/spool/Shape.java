package dev.spool;

import dev.spool.internal.NullChecks;
import dev.spool.spi.View;
import java.util.Arrays;

/** An immutable tensor shape: a list of non-negative dimension sizes. Rank 0 is a scalar. */
public final class Shape {
    private static final Shape SCALAR = new Shape(new int[0]);

    private final int[] dims;
    private final long size;
    /** Row-major strides, made on first use (a race makes equal arrays); never modified. */
    private long[] rowMajorStrides;

    private Shape(int[] dims) {
        long n = 1;
        for (int d : dims) {
            if (d < 0) {
                throw new ShapeException("negative dimension in shape " + Arrays.toString(dims));
            }
            n *= d;
        }
        this.dims = dims;
        this.size = n;
    }

    /** A shape with the given dimensions; {@code Shape.of()} is the scalar shape. */
    public static Shape of(int... dims) {
        return NullChecks.nonNull(dims, "Shape.of", "dims").length == 0 ? SCALAR : new Shape(dims.clone());
    }

    public static Shape scalar() {
        return SCALAR;
    }

    public int rank() {
        return dims.length;
    }

    /** Size of dimension {@code axis}; a negative axis counts from the end. */
    public int dim(int axis) {
        return dims[normalizeAxis(axis, dims.length, "dim")];
    }

    /** Number of elements. */
    public long size() {
        return size;
    }

    public int[] toArray() {
        return dims.clone();
    }

    /** Shape with dimension {@code axis} replaced. */
    Shape withDim(int axis, int value) {
        int[] d = dims.clone();
        d[axis] = value;
        return new Shape(d);
    }

    /** Element count as an int, or a clear error for tensors too large for a Java array. */
    int sizeAsInt(String what) {
        if (size > Integer.MAX_VALUE - 8) {
            throw new ShapeException(what + ": " + this + " has " + size
                    + " elements, more than a Java array holds");
        }
        return (int) size;
    }

    int[] dimsUnsafe() {
        return dims;
    }

    /**
     * {@link View#rowMajorStrides} of this shape, one array shared by every tensor of this
     * shape object (each op's result used to allocate its own): never to be modified.
     */
    long[] rowMajorStridesUnsafe() {
        long[] s = rowMajorStrides;
        if (s == null) {
            s = View.rowMajorStrides(dims);
            rowMajorStrides = s;
        }
        return s;
    }

    /** Maps a possibly negative axis into {@code [0, rank)}, or throws naming the op. */
    static int normalizeAxis(int axis, int rank, String op) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new ShapeException(op + ": axis " + axis + " is out of range for rank " + rank);
        }
        return a;
    }

    /**
     * NumPy broadcasting: dimensions are aligned from the right and must be equal or 1.
     *
     * @throws ShapeException naming the op and both shapes
     */
    static Shape broadcast(String op, Shape a, Shape b) {
        if (a.equals(b)) {
            return a;
        }
        int rank = Math.max(a.rank(), b.rank());
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.rank() ? 1 : a.dims[i - (rank - a.rank())];
            int db = i < rank - b.rank() ? 1 : b.dims[i - (rank - b.rank())];
            if (da != db && da != 1 && db != 1) {
                throw new ShapeException(op + ": shapes " + a + " and " + b + " are not broadcastable");
            }
            out[i] = da == 1 ? db : da;
        }
        return new Shape(out);
    }

    @Override
    public boolean equals(Object o) {
        if (o == this) {
            return true;
        }
        if (!(o instanceof Shape s) || s.dims.length != dims.length) {
            return false;
        }
        for (int i = 0; i < dims.length; i++) { // ranks are small: a plain loop beats Arrays.equals
            if (s.dims[i] != dims[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** TensorFlow's notation: {@code ()}, {@code (3,)}, {@code (2, 2)}. */
    @Override
    public String toString() {
        if (dims.length == 1) {
            return "(" + dims[0] + ",)";
        }
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(dims[i]);
        }
        return sb.append(')').toString();
    }
}
