package dev.spool;

import java.util.Arrays;

/**
 * An index outside its range, found by checked indices ({@link Spool#enableCheckIndices()}): the
 * message gives the op, the first bad index, its position in the indices tensor and the range,
 * as TensorFlow's CPU kernels ({@code indices[1, 0] = 7 is not in [0, 5)}).
 */
public class IndexOutOfRangeException extends SpoolException {
    private final long index;
    private final int[] position;
    private final long bound;

    public IndexOutOfRangeException(String op, String what, long index, int[] position, long bound) {
        super(op + ": " + what + position(position) + " = " + index + " is not in [0, " + bound + ")");
        this.index = index;
        this.position = position.clone();
        this.bound = bound;
    }

    private static String position(int[] p) {
        return Arrays.toString(p);
    }

    /** The first index out of range. */
    public long index() {
        return index;
    }

    /** Its position in the indices tensor (one coordinate per dimension; empty for a scalar). */
    public int[] position() {
        return position.clone();
    }

    /** The exclusive upper bound of the valid range {@code [0, bound)}. */
    public long bound() {
        return bound;
    }
}
