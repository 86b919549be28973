package dev.spool.cpu;

import dev.spool.DType;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.UnaryOp;
import java.util.Arrays;

/** The lane of float32 and float64: computes in {@code double}. */
final class DoubleLane implements Lane {
    static final DoubleLane INSTANCE = new DoubleLane();

    private DoubleLane() {
    }

    @Override
    public Object scratch(int n) {
        return new double[n];
    }

    @Override
    public void load(Object array, int p, int s, int n, Object dst) {
        double[] d = (double[]) dst;
        if (array instanceof float[] a) {
            if (s == 1) {
                for (int t = 0; t < n; t++) {
                    d[t] = a[p + t];
                }
            } else {
                for (int t = 0; t < n; t++) {
                    d[t] = a[p + t * s];
                }
            }
        } else if (s == 1) {
            System.arraycopy(array, p, d, 0, n);
        } else {
            double[] a = (double[]) array;
            for (int t = 0; t < n; t++) {
                d[t] = a[p + t * s];
            }
        }
    }

    @Override
    public void store(Object src, int n, Object array, int p, int s) {
        double[] d = (double[]) src;
        if (array instanceof float[] a) {
            if (s == 1) {
                for (int t = 0; t < n; t++) {
                    a[p + t] = (float) d[t];
                }
            } else {
                for (int t = 0; t < n; t++) {
                    a[p + t * s] = (float) d[t];
                }
            }
        } else if (array instanceof double[] a) {
            if (s == 1) {
                System.arraycopy(d, 0, a, p, n);
            } else {
                for (int t = 0; t < n; t++) {
                    a[p + t * s] = d[t];
                }
            }
        } else if (array instanceof int[] a) {
            for (int t = 0; t < n; t++) {
                a[p + t * s] = (int) d[t];
            }
        } else if (array instanceof long[] a) {
            for (int t = 0; t < n; t++) {
                a[p + t * s] = (long) d[t];
            }
        } else {
            byte[] a = (byte[]) array;
            for (int t = 0; t < n; t++) {
                a[p + t * s] = d[t] != 0 ? (byte) 1 : 0; // NaN is true, as in C and TensorFlow
            }
        }
    }

    @Override
    public void unary(UnaryOp op, Object xs, Object rs, int n) {
        double[] x = (double[]) xs;
        double[] r = (double[]) rs;
        switch (op) {
            case NEG -> { for (int t = 0; t < n; t++) r[t] = -x[t]; }
            case ABS -> { for (int t = 0; t < n; t++) r[t] = Math.abs(x[t]); }
            // signum keeps 0, -0 and NaN as they are: SIGN(0) = 0, SIGN(NaN) = NaN.
            case SIGN -> { for (int t = 0; t < n; t++) r[t] = Math.signum(x[t]); }
            case RELU -> { for (int t = 0; t < n; t++) r[t] = x[t] < 0 ? 0 : x[t]; }
            case EXP -> { for (int t = 0; t < n; t++) r[t] = Math.exp(x[t]); }
            case LOG -> { for (int t = 0; t < n; t++) r[t] = Math.log(x[t]); }
            case LOG1P -> { for (int t = 0; t < n; t++) r[t] = Math.log1p(x[t]); }
            case SQRT -> { for (int t = 0; t < n; t++) r[t] = Math.sqrt(x[t]); }
            case RSQRT -> { for (int t = 0; t < n; t++) r[t] = 1 / Math.sqrt(x[t]); }
            case SIN -> { for (int t = 0; t < n; t++) r[t] = Math.sin(x[t]); }
            case COS -> { for (int t = 0; t < n; t++) r[t] = Math.cos(x[t]); }
            case TANH -> { for (int t = 0; t < n; t++) r[t] = Math.tanh(x[t]); }
            case SIGMOID -> { for (int t = 0; t < n; t++) r[t] = sigmoid(x[t]); }
            case ERF -> { for (int t = 0; t < n; t++) r[t] = ErfMath.erf(x[t]); }
            case GELU -> { for (int t = 0; t < n; t++) r[t] = ErfMath.gelu(x[t]); }
            case GELU_TANH -> { for (int t = 0; t < n; t++) r[t] = ErfMath.geluTanh(x[t]); }
            default -> throw new IllegalArgumentException(op + " on a floating lane");
        }
    }

    /** exp of a non-positive argument only, so neither branch overflows. */
    private static double sigmoid(double x) {
        if (x >= 0) {
            return 1 / (1 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1 + e);
    }

    @Override
    public void binary(BinaryOp op, Object xs, Object ys, Object rs, int n) {
        double[] x = (double[]) xs;
        double[] y = (double[]) ys;
        double[] r = (double[]) rs;
        switch (op) {
            case ADD -> { for (int t = 0; t < n; t++) r[t] = x[t] + y[t]; }
            case SUB -> { for (int t = 0; t < n; t++) r[t] = x[t] - y[t]; }
            case MUL -> { for (int t = 0; t < n; t++) r[t] = x[t] * y[t]; }
            case DIV -> { for (int t = 0; t < n; t++) r[t] = x[t] / y[t]; }
            case POW -> { for (int t = 0; t < n; t++) r[t] = Math.pow(x[t], y[t]); }
            // Math.max/min return NaN if either argument is NaN, as the contract asks.
            case MAX -> { for (int t = 0; t < n; t++) r[t] = Math.max(x[t], y[t]); }
            case MIN -> { for (int t = 0; t < n; t++) r[t] = Math.min(x[t], y[t]); }
            case RELU_GRAD -> { for (int t = 0; t < n; t++) r[t] = y[t] > 0 ? x[t] : 0; }
            case ERF_GRAD -> { for (int t = 0; t < n; t++) r[t] = ErfMath.erfGrad(x[t], y[t]); }
            case GELU_GRAD -> { for (int t = 0; t < n; t++) r[t] = ErfMath.geluGrad(x[t], y[t]); }
            case GELU_TANH_GRAD -> { for (int t = 0; t < n; t++) r[t] = ErfMath.geluTanhGrad(x[t], y[t]); }
            default -> throw new IllegalArgumentException(op + " is not arithmetic");
        }
    }

    @Override
    public void compare(BinaryOp op, Object xs, Object ys, long[] r, int n) {
        double[] x = (double[]) xs;
        double[] y = (double[]) ys;
        // Java's comparisons already follow IEEE: false with NaN, except !=.
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
        double[] x = (double[]) xs;
        double[] y = (double[]) ys;
        double[] r = (double[]) rs;
        for (int t = 0; t < n; t++) {
            r[t] = cond[t] != 0 ? x[t] : y[t];
        }
    }

    @Override
    public void identity(ReduceOp op, DType dtype, Object acc, int from, int n) {
        double v = switch (op) {
            case SUM -> 0.0;
            case PROD -> 1.0;
            case MAX -> Double.NEGATIVE_INFINITY;
            case MIN -> Double.POSITIVE_INFINITY;
            case ARGMAX, ARGMIN -> Double.NaN; // unused: the first element seeds an arg fold
        };
        Arrays.fill((double[]) acc, from, from + n, v);
    }

    /**
     * Independent partial sums of one floating SUM: enough to hide the add latency, and four
     * 4-double vectors on the SIMD path ({@link SimdReduction}), which keeps the same split.
     */
    static final int SUM_LANES = 16;

    /**
     * Adds {@code v[p, p+n)} into {@code sums[SUM_LANES]}: the element with index {@code e} in
     * the reduced set goes to {@code sums[e % SUM_LANES]}, in order, where {@code first} is the
     * index of {@code v[p]}. The split depends only on element indices, never on how a
     * reduction is cut into loads, so results do not depend on layout or threads.
     */
    static void sumByIndex(double[] v, int p, int n, long first, double[] sums) {
        int t = 0;
        for (; t < n && ((first + t) & (SUM_LANES - 1)) != 0; t++) { // up to the next multiple of 16
            sums[(int) ((first + t) & (SUM_LANES - 1))] += v[p + t];
        }
        for (; t + SUM_LANES <= n; t += SUM_LANES) {
            for (int k = 0; k < SUM_LANES; k++) {
                sums[k] += v[p + t + k];
            }
        }
        for (int k = 0; t < n; t++, k++) {
            sums[k] += v[p + t];
        }
    }

    /**
     * {@link #sumByIndex(double[], int, int, long, double[])} reading float32 directly, without a
     * scratch copy: the same additions in the same order (Java has no generics over primitives).
     */
    static void sumByIndex(float[] a, int p, int n, long first, double[] sums) {
        int t = 0;
        for (; t < n && ((first + t) & (SUM_LANES - 1)) != 0; t++) {
            sums[(int) ((first + t) & (SUM_LANES - 1))] += a[p + t];
        }
        for (; t + SUM_LANES <= n; t += SUM_LANES) {
            for (int k = 0; k < SUM_LANES; k++) {
                sums[k] += a[p + t + k];
            }
        }
        for (int k = 0; t < n; t++, k++) {
            sums[k] += a[p + t];
        }
    }

    /** The total of {@link #sumByIndex}'s partial sums, combined pairwise (a fixed tree). */
    static double total(double[] sums) {
        return total(sums, 0, SUM_LANES);
    }

    private static double total(double[] sums, int from, int n) {
        return n == 1 ? sums[from] : total(sums, from, n / 2) + total(sums, from + n / 2, n / 2);
    }

    @Override
    public void fold(ReduceOp op, Object vs, int from, int n, Object accs, long[] index, int slot,
                     long first) {
        double[] v = (double[]) vs;
        double[] acc = (double[]) accs;
        double a = acc[slot];
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
                    double x = v[t];
                    // A NaN best is final (first NaN wins); a NaN x beats any number.
                    if (best < 0 || (a == a && (x != x || (max ? x > a : x < a)))) {
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
