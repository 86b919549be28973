package dev.spool.cpu;

import dev.spool.spi.View;
import java.util.Arrays;

/**
 * The fused softmax primitives (softmax, logSoftmax, their VJP, softmax cross-entropy and its
 * VJP in the logits), row by row along the last dimension, rows in parallel. The plain path
 * works in double for both dtypes on any strides and is the reference. Float32 rows that are
 * dense in every operand take {@link #fast} paths in float arithmetic whose exponentials come
 * from {@link SimdMath#exp} in blocks (where {@link VectorSupport#ENABLED}); sums accumulate in
 * double on both paths.
 */
final class Softmax {
    /** Elements exponentiated per block on the fast path: the scratch stays in L1. */
    private static final int BLOCK = 512;

    private Softmax() {
    }

    /** The rows of a view: row r starts at {@link #start(long)} and steps by {@link #stride}. */
    private static final class Rows {
        final Object data;
        final StridedLoop outer;
        final long stride;

        Rows(View v) {
            int rank = v.rank();
            this.data = CpuBuffer.data(v);
            this.outer = new StridedLoop(Arrays.copyOf(v.shape(), rank - 1), new long[] {v.offset()},
                    Arrays.copyOf(v.strides(), rank - 1));
            this.stride = v.strides()[rank - 1];
        }

        /** A contiguous output of {@code rows} rows of {@code n}. */
        Rows(CpuBuffer out, long rows, int n) {
            this.data = out.data();
            this.outer = new StridedLoop(new int[] {(int) rows}, new long[] {0}, new long[] {n});
            this.stride = 1;
        }

        long start(long r) {
            return outer.position(0, r);
        }

        double get(long p) {
            return data instanceof float[] f ? f[(int) p] : ((double[]) data)[(int) p];
        }

        void set(long p, double v) {
            if (data instanceof float[] f) {
                f[(int) p] = (float) v;
            } else {
                ((double[]) data)[(int) p] = v;
            }
        }
    }

    private interface RowBody {
        void row(long r);
    }

    private static void forRows(Parallel par, long rows, int n, RowBody body) {
        par.forRange(rows, Math.max(1, Parallel.GRAIN / Math.max(1, 4L * n)), (lo, hi) -> {
            for (long r = lo; r < hi; r++) {
                body.row(r);
            }
        });
    }

    private static boolean fast(View... views) {
        if (!VectorSupport.ENABLED) {
            return false;
        }
        for (View v : views) {
            if (!(CpuBuffer.data(v) instanceof float[]) || (v.shape()[v.rank() - 1] > 1 && v.strides()[v.rank() - 1] != 1)) {
                return false;
            }
        }
        return true;
    }

    // ---- softmax, logSoftmax -----------------------------------------------------------------------

    static void softmax(Parallel par, View x, CpuBuffer out, boolean log) {
        int n = x.shape()[x.rank() - 1];
        long rows = rows(x);
        if (n == 0 || rows == 0) {
            return;
        }
        Rows in = new Rows(x);
        Rows o = new Rows(out, rows, n);
        if (fast(x)) {
            float[] xs = (float[]) in.data;
            float[] os = (float[]) o.data;
            forRows(par, rows, n, r -> {
                int p = (int) in.start(r);
                int q = (int) (r * n);
                float m = maxF(xs, p, n);
                double s = expShifted(xs, p, n, m, log ? null : os, q);
                if (log) {
                    float ls = (float) Math.log(s);
                    for (int j = 0; j < n; j++) {
                        os[q + j] = (xs[p + j] - m) - ls;
                    }
                } else {
                    float inv = (float) (1 / s);
                    for (int j = 0; j < n; j++) {
                        os[q + j] *= inv;
                    }
                }
            });
            return;
        }
        forRows(par, rows, n, r -> {
            long p = in.start(r);
            long q = r * n;
            double m = max(in, p, n);
            double s = 0;
            for (int j = 0; j < n; j++) {
                s += Math.exp(in.get(p + j * in.stride) - m);
            }
            double ls = Math.log(s);
            for (int j = 0; j < n; j++) {
                double v = in.get(p + j * in.stride) - m;
                o.set(q + j, log ? v - ls : Math.exp(v) / s);
            }
        });
    }

    static void softmaxGrad(Parallel par, View y, View g, CpuBuffer out, boolean log) {
        int n = y.shape()[y.rank() - 1];
        long rows = rows(y);
        if (n == 0 || rows == 0) {
            return;
        }
        Rows ys = new Rows(y);
        Rows gs = new Rows(g);
        Rows o = new Rows(out, rows, n);
        if (fast(y, g)) {
            float[] yd = (float[]) ys.data;
            float[] gd = (float[]) gs.data;
            float[] od = (float[]) o.data;
            forRows(par, rows, n, r -> {
                int p = (int) ys.start(r);
                int pg = (int) gs.start(r);
                int q = (int) (r * n);
                double s = 0;
                if (log) {
                    for (int j = 0; j < n; j++) {
                        s += gd[pg + j];
                    }
                    float sf = (float) s;
                    expBlocks(yd, p, od, q, n);
                    for (int j = 0; j < n; j++) {
                        od[q + j] = gd[pg + j] - od[q + j] * sf;
                    }
                } else {
                    for (int j = 0; j < n; j++) {
                        s += gd[pg + j] * yd[p + j];
                    }
                    float sf = (float) s;
                    for (int j = 0; j < n; j++) {
                        od[q + j] = yd[p + j] * (gd[pg + j] - sf);
                    }
                }
            });
            return;
        }
        forRows(par, rows, n, r -> {
            long p = ys.start(r);
            long pg = gs.start(r);
            long q = r * n;
            double s = 0;
            for (int j = 0; j < n; j++) {
                double gv = gs.get(pg + j * gs.stride);
                s += log ? gv : gv * ys.get(p + j * ys.stride);
            }
            for (int j = 0; j < n; j++) {
                double yv = ys.get(p + j * ys.stride);
                double gv = gs.get(pg + j * gs.stride);
                o.set(q + j, log ? gv - Math.exp(yv) * s : yv * (gv - s));
            }
        });
    }

    // ---- cross-entropy ------------------------------------------------------------------------------

    static void crossEntropy(Parallel par, View labels, View logits, CpuBuffer loss, CpuBuffer lsm) {
        int n = logits.shape()[logits.rank() - 1];
        long rows = rows(logits);
        if (rows == 0) {
            return;
        }
        Rows ls = new Rows(labels);
        Rows xs = new Rows(logits);
        Rows o = new Rows(lsm, rows, n);
        if (n > 0 && fast(labels, logits)) {
            float[] ld = (float[]) ls.data;
            float[] xd = (float[]) xs.data;
            float[] od = (float[]) o.data;
            float[] lossd = (float[]) loss.data();
            forRows(par, rows, n, r -> {
                int pl = (int) ls.start(r);
                int p = (int) xs.start(r);
                int q = (int) (r * n);
                float m = maxF(xd, p, n);
                float lse = (float) Math.log(expShifted(xd, p, n, m, null, 0));
                for (int j = 0; j < n; j++) { // a loop on its own: the JIT vectorises it
                    od[q + j] = (xd[p + j] - m) - lse;
                }
                double acc = 0;
                for (int j = 0; j < n; j++) {
                    acc += ld[pl + j] * od[q + j];
                }
                lossd[(int) r] = (float) -acc;
            });
            return;
        }
        Rows lossRows = new Rows(loss, rows, 1);
        forRows(par, rows, n, r -> {
            long pl = ls.start(r);
            long p = xs.start(r);
            long q = r * n;
            double m = max(xs, p, n);
            double s = 0;
            for (int j = 0; j < n; j++) {
                s += Math.exp(xs.get(p + j * xs.stride) - m);
            }
            double lse = Math.log(s);
            double acc = 0;
            for (int j = 0; j < n; j++) {
                double v = xs.get(p + j * xs.stride) - m - lse;
                o.set(q + j, v);
                acc += ls.get(pl + j * ls.stride) * v;
            }
            lossRows.set(r, -acc);
        });
    }

    static void crossEntropyGrad(Parallel par, View g, View lsm, View labels, CpuBuffer out) {
        int n = lsm.shape()[lsm.rank() - 1];
        long rows = rows(lsm);
        if (n == 0 || rows == 0) {
            return;
        }
        // g has the leading dims only: its rows are single elements
        Rows gs = new Rows(new View(g.buffer(), append(g.shape(), 1), append(g.strides(), 0), g.offset()));
        Rows ys = new Rows(lsm);
        Rows ls = new Rows(labels);
        Rows o = new Rows(out, rows, n);
        if (fast(lsm, labels)) {
            float[] yd = (float[]) ys.data;
            float[] ld = (float[]) ls.data;
            float[] od = (float[]) o.data;
            forRows(par, rows, n, r -> {
                int p = (int) ys.start(r);
                int pl = (int) ls.start(r);
                int q = (int) (r * n);
                float gr = (float) gs.get(gs.start(r));
                double l = 0;
                for (int j = 0; j < n; j++) {
                    l += ld[pl + j];
                }
                float lf = (float) l;
                expBlocks(yd, p, od, q, n);
                for (int j = 0; j < n; j++) {
                    od[q + j] = gr * (od[q + j] * lf - ld[pl + j]);
                }
            });
            return;
        }
        forRows(par, rows, n, r -> {
            long p = ys.start(r);
            long pl = ls.start(r);
            long q = r * n;
            double gr = gs.get(gs.start(r));
            double l = 0;
            for (int j = 0; j < n; j++) {
                l += ls.get(pl + j * ls.stride);
            }
            for (int j = 0; j < n; j++) {
                o.set(q + j, gr * (Math.exp(ys.get(p + j * ys.stride)) * l - ls.get(pl + j * ls.stride)));
            }
        });
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static long rows(View v) {
        long rows = 1;
        for (int d = 0; d < v.rank() - 1; d++) {
            rows *= v.shape()[d];
        }
        return rows;
    }

    private static int[] append(int[] a, int v) {
        int[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = v;
        return out;
    }

    private static long[] append(long[] a, long v) {
        long[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = v;
        return out;
    }

    /** The max of a row, NaN if any element is NaN (Math.max propagates it, as ReduceOp.MAX). */
    private static double max(Rows x, long p, int n) {
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            m = Math.max(m, x.get(p + j * x.stride));
        }
        return m;
    }

    /** {@link #max} of a dense float row, on vectors (the JIT does not vectorise Math.max). */
    private static float maxF(float[] x, int p, int n) {
        return (float) SimdReduction.extreme(true, x, p, n);
    }

    /**
     * The sum of {@code exp(x - m)} over a dense float row; when {@code e} is not null the
     * exponentials are also written to {@code e[q..q+n)}. Blocks of {@link #BLOCK}, padded
     * with -inf (whose exponential adds 0) to whole vectors.
     */
    private static double expShifted(float[] x, int p, int n, float m, float[] e, int q) {
        float[] t = SCRATCH.get();
        double s = 0;
        for (int b = 0; b < n; b += BLOCK) {
            int len = Math.min(BLOCK, n - b);
            for (int j = 0; j < len; j++) {
                t[j] = x[p + b + j] - m;
            }
            int padded = pad(t, len);
            SimdMath.exp(t, 0, t, 0, padded);
            float part = 0;
            for (int j = 0; j < len; j++) {
                part += t[j];
            }
            s += part;
            if (e != null) {
                System.arraycopy(t, 0, e, q + b, len);
            }
        }
        return s;
    }

    /** {@code e[q + j] = exp(y[p + j])} for a dense float row. */
    private static void expBlocks(float[] y, int p, float[] e, int q, int n) {
        float[] t = SCRATCH.get();
        for (int b = 0; b < n; b += BLOCK) {
            int len = Math.min(BLOCK, n - b);
            System.arraycopy(y, p + b, t, 0, len);
            SimdMath.exp(t, 0, t, 0, pad(t, len));
            System.arraycopy(t, 0, e, q + b, len);
        }
    }

    /** Pads {@code t[len..)} with -inf up to a whole number of vectors; returns that length. */
    private static int pad(float[] t, int len) {
        int lanes = SimdMath.F.length();
        int padded = (len + lanes - 1) / lanes * lanes;
        Arrays.fill(t, len, padded, Float.NEGATIVE_INFINITY);
        return padded;
    }

    /** Per-thread scratch of the fast path: a block and a vector's padding. */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[BLOCK + 64]);
}
