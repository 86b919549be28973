package dev.spool.cpu;

import dev.spool.DType;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.UnaryOp;

/**
 * A compute lane: the element type kernels work in. Every dtype maps to one of two lanes, so each
 * op is written twice (not five times): {@link DoubleLane} for float32 and float64, and
 * {@link LongLane} for int32, int64 and bool.
 *
 * <p>Kernels load a segment of a buffer into a scratch array of the lane ({@code double[]} or
 * {@code long[]}, {@link StridedLoop#CHUNK} long), compute on scratch arrays, and store back,
 * converting to the destination's element type. Widening is exact and so is the narrowing:
 * float32 +, -, *, / and sqrt computed in double and rounded once give the correctly rounded
 * float32 result (double has more than 2*24+2 bits), and int32 arithmetic computed in long and
 * truncated to 32 bits wraps exactly as int arithmetic does. Transcendental float32 functions
 * are the double function rounded to float.
 *
 * <p>Scratch arrays travel as {@code Object} so that drivers are written once for both lanes;
 * the cast happens once per segment, never per element.
 */
interface Lane {

    static Lane of(DType dtype) {
        return dtype.isFloating() ? DoubleLane.INSTANCE : LongLane.INSTANCE;
    }

    /** The lane of a buffer's backing array. */
    static Lane ofArray(Object array) {
        return array instanceof float[] || array instanceof double[]
                ? DoubleLane.INSTANCE : LongLane.INSTANCE;
    }

    /** A new scratch array of {@code n} elements of this lane. */
    Object scratch(int n);

    /** {@code dst[t] = array[p + t*s]} for {@code t < n}; {@code array} belongs to this lane. */
    void load(Object array, int p, int s, int n, Object dst);

    /** {@code array[p + t*s] = convert(src[t])}; {@code array} may be of any dtype: float to
     *  int truncates toward zero (saturating, NaN to 0), anything to bool is {@code != 0}. */
    void store(Object src, int n, Object array, int p, int s);

    /** {@code r[t] = op(x[t])}; r may be x. */
    void unary(UnaryOp op, Object x, Object r, int n);

    /** {@code r[t] = op(x[t], y[t])} for an arithmetic op; r may be x or y. */
    void binary(BinaryOp op, Object x, Object y, Object r, int n);

    /** {@code r[t] = op(x[t], y[t]) ? 1 : 0} for a comparison. */
    void compare(BinaryOp op, Object x, Object y, long[] r, int n);

    /** {@code r[t] = cond[t] != 0 ? x[t] : y[t]}; r may be x or y. */
    void select(long[] cond, Object x, Object y, Object r, int n);

    /** Sets {@code acc[from, from+n)} to the identity of {@code op} for {@code dtype}. */
    void identity(ReduceOp op, DType dtype, Object acc, int from, int n);

    /**
     * Folds {@code v[from, from+n)} into {@code acc[slot]}, in order. The element at
     * {@code v[from+t]} has index {@code first + t} in the reduced set; for ARGMAX/ARGMIN the
     * index of the running best is kept in {@code index[slot]}, which is negative before the
     * first element.
     */
    void fold(ReduceOp op, Object v, int from, int n, Object acc, long[] index, int slot, long first);
}
