package dev.spool.cpu;

import dev.spool.spi.View;

/**
 * Fused scaled dot-product attention ({@link dev.spool.spi.Backend#attention} and its VJP). The
 * plain path here works in double for both dtypes on any strides, one query row (forward, dq) or
 * one key row (dk, dv) at a time with an online softmax: it never holds more than a row of
 * scores, and it is the reference the {@link SimdAttention} tiles (float32, rows dense along the
 * depth, Vector API) are tested against.
 *
 * <p>Masked scores are exactly {@link #MASKED}. Causal keys past a query are skipped rather than
 * visited, which is exact while the row's max stays above {@code MASKED + }{@link #SKIP_MARGIN}
 * (their exp(-1e9 - max) is then 0 in double); a row every visited key of which was masked visits
 * the rest too, so that it attends uniformly to every key as the definition does. In the backward
 * such a row (its lse below {@code MASKED + SKIP_MARGIN}) takes p = 1/Tk for every key rather than
 * exp(s - lse): a float32 lse of -1e9 + log(Tk) has lost its log(Tk) (float spacing there is 64),
 * and every score of the row is exactly MASKED, so 1/Tk is what the softmax gives.
 */
final class Attention {
    static final double MASKED = -1e9;
    /** exp(-SKIP_MARGIN) is 0 in double (and float): a skipped masked key adds nothing. */
    static final double SKIP_MARGIN = 800;

    private Attention() {
    }

    /** A rank-4 view's array and strides. */
    record V4(Object data, int[] shape, long off, long s0, long s1, long s2, long s3) {
        static V4 of(View v) {
            long[] s = v.strides();
            return new V4(CpuBuffer.data(v), v.shape(), v.offset(), s[0], s[1], s[2], s[3]);
        }

        static V4 contiguous(CpuBuffer b, int... shape) {
            long[] s = View.rowMajorStrides(shape);
            return new V4(b.data(), shape, 0, s[0], s[1], s[2], s[3]);
        }

        long at(int b, int h, int t, int c) {
            return off + b * s0 + h * s1 + t * s2 + c * s3;
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

        boolean bool(long p) {
            return ((byte[]) data)[(int) p] != 0;
        }
    }

    static boolean fast(View... views) {
        if (!VectorSupport.ENABLED) {
            return false;
        }
        for (View v : views) {
            if (!(CpuBuffer.data(v) instanceof float[]) || (v.shape()[3] > 1 && v.strides()[3] != 1)) {
                return false;
            }
        }
        return true;
    }

    static void forward(Parallel par, View q, View k, View v, View mask, boolean causal, double scale,
                        CpuBuffer out, CpuBuffer lse) {
        if (fast(q, k, v)) {
            SimdAttention.forward(par, q, k, v, mask, causal, (float) scale, out, lse);
            return;
        }
        int bn = q.shape()[0];
        int hn = q.shape()[1];
        int tq = q.shape()[2];
        int d = q.shape()[3];
        int tk = k.shape()[2];
        int dv = v.shape()[3];
        V4 qs = V4.of(q);
        V4 ks = V4.of(k);
        V4 vs = V4.of(v);
        V4 ms = mask == null ? null : V4.of(mask);
        V4 os = V4.contiguous(out, bn, hn, tq, dv);
        Object ls = lse.data();
        long rows = (long) bn * hn * tq;
        par.forRange(rows, Math.max(1, Parallel.GRAIN / Math.max(1, (long) tk * (d + dv))), (lo, hi) -> {
            double[] acc = new double[dv];
            for (long row = lo; row < hi; row++) {
                int i = (int) (row % tq);
                int h = (int) (row / tq % hn);
                int b = (int) (row / tq / hn);
                java.util.Arrays.fill(acc, 0);
                double m = Double.NEGATIVE_INFINITY;
                double l = 0;
                int end = causal ? Math.min(tk, i + 1) : tk;
                for (int j = 0; j < tk; j++) {
                    if (j == end && m >= MASKED + SKIP_MARGIN) {
                        break;
                    }
                    double s = score(qs, ks, ms, causal, scale, b, h, i, j, d);
                    double mNew = Math.max(m, s);
                    double corr = Math.exp(m - mNew); // 0 at the first key (m = -inf)
                    double p = Math.exp(s - mNew);
                    l = l * corr + p;
                    for (int c = 0; c < dv; c++) {
                        acc[c] = acc[c] * corr + p * vs.get(vs.at(b, h, j, c));
                    }
                    m = mNew;
                }
                for (int c = 0; c < dv; c++) {
                    os.set(os.at(b, h, i, c), acc[c] / l);
                }
                setFlat(ls, row, m + Math.log(l));
            }
        });
    }

    static void backward(Parallel par, View q, View k, View v, View mask, boolean causal, double scale, View out,
                         View dOut, View lse, CpuBuffer dq, CpuBuffer dk, CpuBuffer dv) {
        if (fast(q, k, v, out, dOut) && (lse.strides()[2] == 1 || lse.shape()[2] == 1)) {
            SimdAttention.backward(par, q, k, v, mask, causal, (float) scale, out, dOut, lse, dq, dk, dv);
            return;
        }
        int bn = q.shape()[0];
        int hn = q.shape()[1];
        int tq = q.shape()[2];
        int d = q.shape()[3];
        int tk = k.shape()[2];
        int dvn = v.shape()[3];
        V4 qs = V4.of(q);
        V4 ks = V4.of(k);
        V4 vs = V4.of(v);
        V4 os = V4.of(out);
        V4 gs = V4.of(dOut);
        V4 ms = mask == null ? null : V4.of(mask);
        long[] lst = lse.strides();
        V4 ls = new V4(CpuBuffer.data(lse), lse.shape(), lse.offset(), lst[0], lst[1], lst[2], 0);
        V4 dqs = V4.contiguous(dq, bn, hn, tq, d);
        V4 dks = V4.contiguous(dk, bn, hn, tk, d);
        V4 dvs = V4.contiguous(dv, bn, hn, tk, dvn);
        long qRows = (long) bn * hn * tq;
        // D[i] = dot(dOut[i], out[i]), once per query row
        double[] dd = new double[(int) qRows];
        par.forRange(qRows, Math.max(1, Parallel.GRAIN / Math.max(1, dvn)), (lo, hi) -> {
            for (long row = lo; row < hi; row++) {
                int i = (int) (row % tq);
                int h = (int) (row / tq % hn);
                int b = (int) (row / tq / hn);
                double s = 0;
                for (int c = 0; c < dvn; c++) {
                    s += gs.get(gs.at(b, h, i, c)) * os.get(os.at(b, h, i, c));
                }
                dd[(int) row] = s;
            }
        });
        long grain = Math.max(1, Parallel.GRAIN / Math.max(1, (long) tk * (d + dvn)));
        // dq, one query row at a time; masked keys have ds = 0, so causal keys past i are skipped
        par.forRange(qRows, grain, (lo, hi) -> {
            double[] acc = new double[d];
            for (long row = lo; row < hi; row++) {
                int i = (int) (row % tq);
                int h = (int) (row / tq % hn);
                int b = (int) (row / tq / hn);
                java.util.Arrays.fill(acc, 0);
                double l = ls.get(ls.at(b, h, i, 0));
                int end = causal ? Math.min(tk, i + 1) : tk;
                for (int j = 0; j < end; j++) {
                    if (masked(ms, causal, b, h, i, j)) {
                        continue;
                    }
                    double p = Math.exp(score(qs, ks, null, false, scale, b, h, i, j, d) - l);
                    double dp = 0;
                    for (int c = 0; c < dvn; c++) {
                        dp += gs.get(gs.at(b, h, i, c)) * vs.get(vs.at(b, h, j, c));
                    }
                    double ds = p * (dp - dd[(int) row]);
                    for (int c = 0; c < d; c++) {
                        acc[c] += ds * ks.get(ks.at(b, h, j, c));
                    }
                }
                for (int c = 0; c < d; c++) {
                    dqs.set(dqs.at(b, h, i, c), acc[c] * scale);
                }
            }
        });
        // dk and dv, one key row at a time
        long kRows = (long) bn * hn * tk;
        par.forRange(kRows, Math.max(1, Parallel.GRAIN / Math.max(1, (long) tq * (d + dvn))), (lo, hi) -> {
            double[] ak = new double[d];
            double[] av = new double[dvn];
            for (long row = lo; row < hi; row++) {
                int j = (int) (row % tk);
                int h = (int) (row / tk % hn);
                int b = (int) (row / tk / hn);
                java.util.Arrays.fill(ak, 0);
                java.util.Arrays.fill(av, 0);
                for (int i = 0; i < tq; i++) {
                    double l = ls.get(ls.at(b, h, i, 0));
                    boolean off = masked(ms, causal, b, h, i, j);
                    if (off && l >= MASKED + SKIP_MARGIN) {
                        continue; // p = exp(-1e9 - l) = 0 and ds = 0
                    }
                    double p = l < MASKED + SKIP_MARGIN ? 1.0 / tk // every key masked: uniform (see lowRowP)
                            : Math.exp((off ? MASKED : score(qs, ks, null, false, scale, b, h, i, j, d)) - l);
                    for (int c = 0; c < dvn; c++) {
                        av[c] += p * gs.get(gs.at(b, h, i, c));
                    }
                    if (off) {
                        continue;
                    }
                    double dp = 0;
                    for (int c = 0; c < dvn; c++) {
                        dp += gs.get(gs.at(b, h, i, c)) * vs.get(vs.at(b, h, j, c));
                    }
                    double ds = p * (dp - dd[(int) (((long) b * hn + h) * tq + i)]);
                    for (int c = 0; c < d; c++) {
                        ak[c] += ds * qs.get(qs.at(b, h, i, c));
                    }
                }
                for (int c = 0; c < d; c++) {
                    dks.set(dks.at(b, h, j, c), ak[c] * scale);
                }
                for (int c = 0; c < dvn; c++) {
                    dvs.set(dvs.at(b, h, j, c), av[c]);
                }
            }
        });
    }

    private static boolean masked(V4 ms, boolean causal, int b, int h, int i, int j) {
        return causal && j > i || ms != null && !ms.bool(ms.at(b, h, i, j));
    }

    private static double score(V4 qs, V4 ks, V4 ms, boolean causal, double scale, int b, int h, int i, int j,
                                int d) {
        if (masked(ms, causal, b, h, i, j)) {
            return MASKED;
        }
        double s = 0;
        for (int c = 0; c < d; c++) {
            s += qs.get(qs.at(b, h, i, c)) * ks.get(ks.at(b, h, j, c));
        }
        return s * scale;
    }

    private static void setFlat(Object data, long p, double v) {
        if (data instanceof float[] f) {
            f[(int) p] = (float) v;
        } else {
            ((double[]) data)[(int) p] = v;
        }
    }
}
