package dev.spool.cpu;

import dev.spool.DType;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.UnaryOp;
import java.util.Arrays;

/**
 * The lane of int32, int64 and bool: computes in {@code long}, so int64 stays exact and int32
 * wraps exactly as Java's int does once the result is stored (truncated to 32 bits).
 *
 * <p>Integer semantics the SPI leaves to backends: division by zero gives 0 (it must not
 * throw); {@code MIN_VALUE / -1} wraps to {@code MIN_VALUE}; ABS and NEG of {@code MIN_VALUE}
 * wrap to {@code MIN_VALUE}; POW with a negative exponent gives 0 (the truncated reciprocal)
 * except for bases 1 and -1, and for base 0 (a division by zero, 0 as for DIV).
 */
final class LongLane implements Lane {
    static final LongLane INSTANCE = new LongLane();

    private LongLane() {
    }

    @Override
    public Object scratch(int n) {
        return new long[n];
    }

    @Override
    public void load(Object array, int p, int s, int n, Object dst) {
        long[] d = (long[]) dst;
        if (array instanceof int[] a) {
            for (int t = 0; t < n; t++) {
                d[t] = a[p + t * s];
            }
        } else if (array instanceof long[] a) {
            if (s == 1) {
                System.arraycopy(a, p, d, 0, n);
            } else {
                for (int t = 0; t < n; t++) {
                    d[t] = a[p + t * s];
                }
            }
        } else {
            byte[] a = (byte[]) array;
            for (int t = 0; t < n; t++) {
                d[t] = a[p + t * s] != 0 ? 1 : 0;
            }
        }
    }

    @Override
    public void store(Object src, int n, Object array, int p, int s) {
        long[] d = (long[]) src;
        if (array instanceof int[] a) {
            for (int t = 0; t < n; t++) {
                a[p + t * s] = (int) d[t];
            }
        } else if (array instanceof long[] a) {
            if (s == 1) {
                System.arraycopy(d, 0, a, p, n);
            } else {
                for (int t = 0; t < n; t++) {
                    a[p + t * s] = d[t];
                }
            }
        } else if (array instanceof byte[] a) {
            for (int t = 0; t < n; t++) {
                a[p + t * s] = d[t] != 0 ? (byte) 1 : 0;
            }
        } else if (array instanceof float[] a) {
            for (int t = 0; t < n; t++) {
                a[p + t * s] = (float) d[t]; // directly, not via double: one rounding
            }
        } else {
            double[] a = (double[]) array;
            for (int t = 0; t < n; t++) {
                a[p + t * s] = (double) d[t];
            }
        }
    }

    @Override
    public void unary(UnaryOp op, Object xs, Object rs, int n) {
        long[] x = (long[]) xs;
        long[] r = (long[]) rs;
        switch (op) {
            case NEG -> { for (int t = 0; t < n; t++) r[t] = -x[t]; }
            case ABS -> { for (int t = 0; t < n; t++) r[t] = Math.abs(x[t]); }
            case SIGN -> { for (int t = 0; t < n; t++) r[t] = Long.signum(x[t]); }
            case RELU -> { for (int t = 0; t < n; t++) r[t] = x[t] < 0 ? 0 : x[t]; }
            case NOT -> { for (int t = 0; t < n; t++) r[t] = x[t] == 0 ? 1 : 0; }
            default -> throw new IllegalArgumentException(op + " on an integer lane");
        }
    }

    @Override
    public void binary(BinaryOp op, Object xs, Object ys, Object rs, int n) {
        long[] x = (long[]) xs;
        long[] y = (long[]) ys;
        long[] r = (long[]) rs;
        switch (op) {
            case ADD -> { for (int t = 0; t < n; t++) r[t] = x[t] + y[t]; }
            case SUB -> { for (int t = 0; t < n; t++) r[t] = x[t] - y[t]; }
            case MUL -> { for (int t = 0; t < n; t++) r[t] = x[t] * y[t]; }
            // Truncates toward zero; division by zero gives 0 rather than throwing.
            case DIV -> { for (int t = 0; t < n; t++) r[t] = y[t] == 0 ? 0 : x[t] / y[t]; }
            case POW -> { for (int t = 0; t < n; t++) r[t] = pow(x[t], y[t]); }
            case MAX -> { for (int t = 0; t < n; t++) r[t] = Math.max(x[t], y[t]); }
            case MIN -> { for (int t = 0; t < n; t++) r[t] = Math.min(x[t], y[t]); }
            case RELU_GRAD -> { for (int t = 0; t < n; t++) r[t] = y[t] > 0 ? x[t] : 0; }
            default -> throw new IllegalArgumentException(op + " is not arithmetic");
        }
    }

    /** Exact (wrapping) power by repeated squaring; see the class comment for negative exponents. */
    static long pow(long base, long exp) {
        if (exp < 0) {
            if (base == 1) {
                return 1;
            }
            if (base == -1) {
                return (exp & 1) == 0 ? 1 : -1;
            }
            return 0;
        }
        long r = 1;
        while (exp != 0) {
            if ((exp & 1) != 0) {
                r *= base;
            }
            base *= base;
            exp >>>= 1;
        }
        return r;
    }

    @Override
    public void compare(BinaryOp op, Object xs, Object ys, long[] r, int n) {
        long[] x = (long[]) xs;
        long[] y = (long[]) ys;
        switch (op) {
            case EQUAL -> { for (int t = 0; t < n; t++) r[t] = x[t] == y[t] ? 1 : 0; }
            case NOT_EQUAL -> { for (int t = 0; t < n; t++) r[t] = x[t] != y[t] ? 1 : 0; }
            case LESS -> { for (int t = 0; t < n; t++) r[t] = x[t] < y[t] ? 1 : 0; }
            case LESS_EQUAL -> { for (int t = 0; t < n; t++) r[t] = x[t] <= y[t] ? 1 : 0; }
            case GREATER -> { for (int t = 0; t < n; t++) r[t] = x[t] > y[t] ? 1 : 0; }
            case GREATER_EQUAL -> { for (int t = 0; t < n; t++) r[t] = x[t] >= y[t] ? 1 : 0; }
            default -> throw new IllegalArgumentException(op + " is not a comparison");
        }
    }

    @Override
    public void select(long[] cond, Object xs, Object ys, Object rs, int n) {
        long[] x = (long[]) xs;
        long[] y = (long[]) ys;
        long[] r = (long[]) rs;
        for (int t = 0; t < n; t++) {
            r[t] = cond[t] != 0 ? x[t] : y[t];
        }
    }

    @Override
    public void identity(ReduceOp op, DType dtype, Object acc, int from, int n) {
        boolean int32 = dtype == DType.INT32;
        long v = switch (op) {
            case SUM -> 0;
            case PROD -> 1;
            case MAX -> int32 ? Integer.MIN_VALUE : Long.MIN_VALUE;
            case MIN -> int32 ? Integer.MAX_VALUE : Long.MAX_VALUE;
            case ARGMAX, ARGMIN -> 0; // unused: the first element seeds an arg fold
        };
        Arrays.fill((long[]) acc, from, from + n, v);
    }

    @Override
    public void fold(ReduceOp op, Object vs, int from, int n, Object accs, long[] index, int slot,
                     long first) {
        long[] v = (long[]) vs;
        long[] acc = (long[]) accs;
        long a = acc[slot];
        int end = from + n;
        switch (op) {
            case SUM -> { for (int t = from; t < end; t++) a += v[t]; }
            case PROD -> { for (int t = from; t < end; t++) a *= v[t]; }
            case MAX -> { for (int t = from; t < end; t++) a = Math.max(a, v[t]); }
            case MIN -> { for (int t = from; t < end; t++) a = Math.min(a, v[t]); }
            case ARGMAX, ARGMIN -> {
                boolean max = op == ReduceOp.ARGMAX;
                long best = index[slot];
                for (int t = from; t < end; t++) {
                    long x = v[t];
                    if (best < 0 || (max ? x > a : x < a)) {
                        a = x;
                        best = first + t - from;
                    }
                }
                index[slot] = best;
            }
        }
        acc[slot] = a;
    }
}
