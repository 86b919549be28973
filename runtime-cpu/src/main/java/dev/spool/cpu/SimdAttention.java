package dev.spool.cpu;

import dev.spool.spi.View;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * float32 fused attention on the Vector API, FlashAttention-2's tiling: a tile of {@link #BQ}
 * query rows meets the keys {@link #BK} at a time, its scores held in a BQ × BK scratch block
 * (never Tq × Tk). Each product of tiles is one small GEMM ({@link #gemmAcc}: four rows at a
 * time, two vectors of columns, the other operand's values broadcast), with the key tile packed
 * transposed so that scores are vectorised along the keys. The forward keeps a running max and sum
 * per row (online softmax) and rescales its output rows when the max grows; exponentials come from
 * {@link SimdMath#exp}. The backward computes D = rowsum(dOut ∘ out) first, then dk and dv
 * with one task per key tile (visiting the query tiles) and dq with one task per query tile
 * (visiting the key tiles), recomputing p from lse in both: two passes instead of atomics, so
 * every sum has a fixed order. Tasks are split over threads by (batch, head, tile).
 *
 * <p>Masking follows {@link Attention} (exactly -1e9; causal keys past the tile skipped unless a
 * row saw only masked keys; such rows take p = 1/Tk in the backward).
 *
 * <p>Only loaded when {@link VectorSupport#ENABLED}.
 */
final class SimdAttention {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int FL = FS.length();
    /** Query rows per tile. */
    static final int BQ = 32;
    /** Keys per tile, a whole number of vectors. */
    static final int BK = Math.max(64, FL);
    private static final float MASKED = (float) Attention.MASKED;
    private static final float LOW = (float) (Attention.MASKED + Attention.SKIP_MARGIN);

    private SimdAttention() {
    }

    /** One (batch, head) of q, k, v and its geometry. */
    private static final class Geo {
        final int bn;
        final int hn;
        final int tq;
        final int tk;
        final int d;
        final int dv;
        final float[] qa;
        final float[] ka;
        final float[] va;
        final View q;
        final View k;
        final View v;
        final Attention.V4 mask;
        final boolean causal;
        final float scale;

        Geo(View q, View k, View v, View mask, boolean causal, float scale) {
            this.bn = q.shape()[0];
            this.hn = q.shape()[1];
            this.tq = q.shape()[2];
            this.d = q.shape()[3];
            this.tk = k.shape()[2];
            this.dv = v.shape()[3];
            this.qa = (float[]) CpuBuffer.data(q);
            this.ka = (float[]) CpuBuffer.data(k);
            this.va = (float[]) CpuBuffer.data(v);
            this.q = q;
            this.k = k;
            this.v = v;
            this.mask = mask == null ? null : Attention.V4.of(mask);
            this.causal = causal;
            this.scale = scale;
        }

        static int row(View x, int b, int h, int t) {
            long[] s = x.strides();
            return (int) (x.offset() + b * s[0] + h * s[1] + t * s[2]);
        }

        boolean masked(int b, int h, int i, int j) {
            return causal && j > i || mask != null && !mask.bool(mask.at(b, h, i, j));
        }

        /** Whether some key of [j0, j0 + nk) is masked for some query of [i0, i0 + nq). */
        boolean anyMasked(int i0, int nq, int j0, int nk) {
            return mask != null || causal && j0 + nk - 1 > i0;
        }
    }

    /** Per-thread scratch of one task. */
    private static final class Scratch {
        /** One key tile packed, BK to a row (the dk/dv pass); null in the others, which use ktAll. */
        final float[] kt;
        final float[] vt;
        final float[] s;
        final float[] dp;
        final float[] acc;
        final float[] acc2;
        final float[] m = new float[BQ];
        final float[] l = new float[BQ];
        /** Every key of one (batch, head) packed as kt and vt are, rows of {@link #keysPadded}; or null. */
        float[] ktAll;
        float[] vtAll;
        int keysPadded;
        /** The (batch, head) in ktAll and vtAll, -1 for none. */
        int packedBh = -1;

        /**
         * K (and V, with {@code withV}) of (b, h) transposed into ktAll (vtAll), unless they hold it
         * already: a query tile's tasks of one (b, h) follow each other in a thread's range, so
         * each is packed once per range and not once per pair of tiles (where packing cost as much
         * as the scores' GEMM).
         */
        void packAll(Geo g, int b, int h, boolean withV) {
            int bh = b * g.hn + h;
            if (bh == packedBh) {
                return;
            }
            keysPadded = roundUp(g.tk);
            if (ktAll == null) {
                ktAll = new float[g.d * keysPadded];
            }
            if (withV && vtAll == null) {
                vtAll = new float[g.dv * keysPadded];
            }
            pack(g.ka, Geo.row(g.k, b, h, 0), (int) g.k.strides()[2], g.tk, g.d, ktAll, keysPadded);
            if (withV) {
                pack(g.va, Geo.row(g.v, b, h, 0), (int) g.v.strides()[2], g.tk, g.dv, vtAll, keysPadded);
            }
            packedBh = bh;
        }

        Scratch(Geo g, int accRows, int accCols, int acc2Cols, boolean tilePacks) {
            kt = tilePacks ? new float[g.d * BK] : null;
            vt = tilePacks ? new float[g.dv * BK] : null;
            s = new float[BQ * BK];
            dp = new float[BQ * BK];
            acc = new float[accRows * accCols];
            acc2 = new float[accRows * acc2Cols];
        }
    }

    // ---- forward -------------------------------------------------------------------------------------

    static void forward(Parallel par, View q, View k, View v, View mask, boolean causal, float scale, CpuBuffer out,
                        CpuBuffer lse) {
        Geo g = new Geo(q, k, v, mask, causal, scale);
        float[] oa = (float[]) out.data();
        float[] la = (float[]) lse.data();
        int qTiles = (g.tq + BQ - 1) / BQ;
        par.forRange((long) g.bn * g.hn * qTiles, 1, (lo, hi) -> {
            Scratch sc = new Scratch(g, BQ, g.dv, 0, false);
            for (long task = lo; task < hi; task++) {
                int bh = (int) (task / qTiles);
                int b = bh / g.hn;
                int h = bh % g.hn;
                int i0 = (int) (task % qTiles) * BQ;
                int nq = Math.min(BQ, g.tq - i0);
                Arrays.fill(sc.acc, 0);
                Arrays.fill(sc.m, Float.NEGATIVE_INFINITY);
                Arrays.fill(sc.l, 0);
                sc.packAll(g, b, h, false);
                int kEnd = g.causal ? Math.min(g.tk, i0 + nq) : g.tk;
                for (int j0 = 0; j0 < kEnd; j0 += BK) {
                    forwardTile(g, sc, b, h, i0, nq, j0, Math.min(BK, kEnd - j0));
                }
                if (kEnd < g.tk && anyLow(sc.m, nq)) {
                    for (int j0 = kEnd; j0 < g.tk; j0 += BK) {
                        forwardTile(g, sc, b, h, i0, nq, j0, Math.min(BK, g.tk - j0));
                    }
                }
                for (int r = 0; r < nq; r++) {
                    int row = bh * g.tq + i0 + r;
                    float inv = 1 / sc.l[r];
                    for (int c = 0; c < g.dv; c++) {
                        oa[row * g.dv + c] = sc.acc[r * g.dv + c] * inv;
                    }
                    la[row] = (float) (sc.m[r] + Math.log(sc.l[r]));
                }
            }
        });
    }

    private static boolean anyLow(float[] m, int n) {
        for (int r = 0; r < n; r++) {
            if (m[r] < LOW) {
                return true;
            }
        }
        return false;
    }

    /** One key tile of a query tile's online softmax; sc.ktAll holds (b, h)'s keys ({@link Scratch#packAll}). */
    private static void forwardTile(Geo g, Scratch sc, int b, int h, int i0, int nq, int j0, int nk) {
        int nkp = roundUp(nk);
        float[] s = sc.s;
        Arrays.fill(s, 0, nq * BK, 0);
        // the packed columns past nk (up to nkp) are keys past a causal end or zeros: their scores are dropped
        gemmAcc(g.qa, Geo.row(g.q, b, h, i0), (int) g.q.strides()[2], 1, nq, g.d, sc.ktAll, j0, sc.keysPadded, nkp, s,
                0, BK);
        boolean masking = g.anyMasked(i0, nq, j0, nk);
        for (int r = 0; r < nq; r++) {
            int so = r * BK;
            scaleScores(g, s, so, nkp, b, h, i0 + r, j0, nk, masking);
            float mx = Float.NEGATIVE_INFINITY;
            for (int jj = 0; jj < nk; jj++) {
                mx = Math.max(mx, s[so + jj]);
            }
            float mOld = sc.m[r];
            float mNew = Math.max(mOld, mx);
            float corr = mOld == Float.NEGATIVE_INFINITY ? 0 : (float) Math.exp(mOld - mNew);
            FloatVector shift = FloatVector.broadcast(FS, mNew);
            for (int jj = 0; jj < nkp; jj += FL) {
                FloatVector.fromArray(FS, s, so + jj).sub(shift).intoArray(s, so + jj);
            }
            SimdMath.exp(s, so, s, so, nkp);
            Arrays.fill(s, so + nk, so + nkp, 0);
            FloatVector sum = FloatVector.zero(FS);
            for (int jj = 0; jj < nkp; jj += FL) {
                sum = sum.add(FloatVector.fromArray(FS, s, so + jj));
            }
            sc.l[r] = sc.l[r] * corr + sum.reduceLanes(VectorOperators.ADD);
            sc.m[r] = mNew;
            if (corr != 1) {
                scaleRow(sc.acc, r * g.dv, g.dv, corr);
            }
        }
        gemmAcc(s, 0, BK, 1, nq, nk, g.va, Geo.row(g.v, b, h, j0), (int) g.v.strides()[2], g.dv, sc.acc, 0, g.dv);
    }

    /** Raw dot products to scores: times scale, masked ones MASKED; the padding past nk is left alone. */
    private static void scaleScores(Geo g, float[] s, int so, int nkp, int b, int h, int i, int j0, int nk,
                                    boolean masking) {
        FloatVector sv = FloatVector.broadcast(FS, g.scale);
        for (int jj = 0; jj < nkp; jj += FL) {
            FloatVector.fromArray(FS, s, so + jj).mul(sv).intoArray(s, so + jj);
        }
        if (masking) {
            for (int jj = 0; jj < nk; jj++) {
                if (g.masked(b, h, i, j0 + jj)) {
                    s[so + jj] = MASKED;
                }
            }
        }
    }

    private static void scaleRow(float[] a, int off, int n, float f) {
        int nv = n / FL * FL;
        FloatVector fv = FloatVector.broadcast(FS, f);
        int c = 0;
        for (; c < nv; c += FL) {
            FloatVector.fromArray(FS, a, off + c).mul(fv).intoArray(a, off + c);
        }
        for (; c < n; c++) {
            a[off + c] *= f;
        }
    }

    /** {@code t[c * tRow + jj] = x[off + jj * rowStride + c]} for jj < nk, c < n; zeros to the vector's end. */
    private static void pack(float[] x, int off, int rowStride, int nk, int n, float[] t, int tRow) {
        int nkp = roundUp(nk);
        for (int c = 0; c < n; c++) {
            int to = c * tRow;
            for (int jj = 0; jj < nk; jj++) {
                t[to + jj] = x[off + jj * rowStride + c];
            }
            for (int jj = nk; jj < nkp; jj++) {
                t[to + jj] = 0;
            }
        }
    }

    private static int roundUp(int n) {
        return (n + FL - 1) / FL * FL;
    }

    // ---- backward ------------------------------------------------------------------------------------

    static void backward(Parallel par, View q, View k, View v, View mask, boolean causal, float scale, View out,
                         View dOut, View lse, CpuBuffer dq, CpuBuffer dk, CpuBuffer dv) {
        Geo g = new Geo(q, k, v, mask, causal, scale);
        float[] oa = (float[]) CpuBuffer.data(out);
        float[] ga = (float[]) CpuBuffer.data(dOut);
        float[] la = (float[]) CpuBuffer.data(lse);
        long[] lst = lse.strides();
        int rows = g.bn * g.hn * g.tq;
        // lse and D per query row, contiguous
        float[] ls = new float[rows];
        float[] dd = new float[rows];
        par.forRange(rows, Math.max(1, Parallel.GRAIN / Math.max(1, g.dv)), (lo, hi) -> {
            for (int row = (int) lo; row < hi; row++) {
                int i = row % g.tq;
                int h = row / g.tq % g.hn;
                int b = row / g.tq / g.hn;
                ls[row] = la[(int) (lse.offset() + b * lst[0] + h * lst[1] + i * lst[2])];
                int op = Geo.row(out, b, h, i);
                int gp = Geo.row(dOut, b, h, i);
                double s = 0;
                for (int c = 0; c < g.dv; c++) {
                    s += (double) oa[op + c] * ga[gp + c];
                }
                dd[row] = (float) s;
            }
        });
        float[] dka = (float[]) dk.data();
        float[] dva = (float[]) dv.data();
        int kTiles = (g.tk + BK - 1) / BK;
        par.forRange((long) g.bn * g.hn * kTiles, 1, (lo, hi) -> {
            Scratch sc = new Scratch(g, BK, g.d, g.dv, true);
            for (long task = lo; task < hi; task++) {
                int bh = (int) (task / kTiles);
                int b = bh / g.hn;
                int h = bh % g.hn;
                int j0 = (int) (task % kTiles) * BK;
                int nk = Math.min(BK, g.tk - j0);
                Arrays.fill(sc.acc, 0);
                Arrays.fill(sc.acc2, 0);
                pack(g.ka, Geo.row(g.k, b, h, j0), (int) g.k.strides()[2], nk, g.d, sc.kt, BK);
                pack(g.va, Geo.row(g.v, b, h, j0), (int) g.v.strides()[2], nk, g.dv, sc.vt, BK);
                int start = 0;
                if (g.causal) { // queries before j0 see none of these keys, unless every key of theirs is masked
                    start = Math.min(j0, g.tq);
                    for (int i = 0; i < start; i++) {
                        if (ls[bh * g.tq + i] < LOW) {
                            start = i;
                            break;
                        }
                    }
                }
                for (int i0 = start; i0 < g.tq; i0 += BQ) {
                    int nq = Math.min(BQ, g.tq - i0);
                    probabilities(g, sc, sc.kt, sc.vt, 0, BK, ls, dd, ga, dOut, b, h, i0, nq, j0, nk);
                    int qp = Geo.row(g.q, b, h, i0);
                    int gp = Geo.row(dOut, b, h, i0);
                    // dv += pᵀ dOut, dk += dsᵀ q
                    gemmAcc(sc.s, 0, 1, BK, nk, nq, ga, gp, (int) dOut.strides()[2], g.dv, sc.acc2, 0, g.dv);
                    gemmAcc(sc.dp, 0, 1, BK, nk, nq, g.qa, qp, (int) g.q.strides()[2], g.d, sc.acc, 0, g.d);
                }
                for (int jj = 0; jj < nk; jj++) {
                    int row = bh * g.tk + j0 + jj;
                    for (int c = 0; c < g.d; c++) {
                        dka[row * g.d + c] = sc.acc[jj * g.d + c] * scale;
                    }
                    System.arraycopy(sc.acc2, jj * g.dv, dva, row * g.dv, g.dv);
                }
            }
        });
        float[] dqa = (float[]) dq.data();
        int qTiles = (g.tq + BQ - 1) / BQ;
        par.forRange((long) g.bn * g.hn * qTiles, 1, (lo, hi) -> {
            Scratch sc = new Scratch(g, BQ, g.d, 0, false);
            for (long task = lo; task < hi; task++) {
                int bh = (int) (task / qTiles);
                int b = bh / g.hn;
                int h = bh % g.hn;
                int i0 = (int) (task % qTiles) * BQ;
                int nq = Math.min(BQ, g.tq - i0);
                Arrays.fill(sc.acc, 0);
                sc.packAll(g, b, h, true);
                int kEnd = g.causal ? Math.min(g.tk, i0 + nq) : g.tk; // ds = 0 where masked
                for (int j0 = 0; j0 < kEnd; j0 += BK) {
                    int nk = Math.min(BK, kEnd - j0);
                    probabilities(g, sc, sc.ktAll, sc.vtAll, j0, sc.keysPadded, ls, dd, ga, dOut, b, h, i0, nq, j0,
                            nk);
                    // dq += ds k
                    gemmAcc(sc.dp, 0, BK, 1, nq, nk, g.ka, Geo.row(g.k, b, h, j0), (int) g.k.strides()[2], g.d,
                            sc.acc, 0, g.d);
                }
                for (int r = 0; r < nq; r++) {
                    int row = bh * g.tq + i0 + r;
                    for (int c = 0; c < g.d; c++) {
                        dqa[row * g.d + c] = sc.acc[r * g.d + c] * scale;
                    }
                }
            }
        });
    }

    /**
     * For the query tile [i0, i0 + nq) and the key tile at j0, packed in kt and vt from column
     * {@code col} with rows of {@code tRow}: p into s and ds into dp, both [nq, BK] with zeros past
     * nk. p = exp(score - lse), or 1/Tk in a row whose keys are all masked; ds = p (dOut·v - D), 0
     * where masked. The packed columns past nk (to the vector's end) may hold keys: their p and ds
     * are set to 0.
     */
    private static void probabilities(Geo g, Scratch sc, float[] kt, float[] vt, int col, int tRow, float[] ls,
                                      float[] dd, float[] ga, View dOut, int b, int h, int i0, int nq, int j0,
                                      int nk) {
        int nkp = roundUp(nk);
        float[] s = sc.s;
        float[] dp = sc.dp;
        Arrays.fill(s, 0, nq * BK, 0);
        Arrays.fill(dp, 0, nq * BK, 0);
        int qp = Geo.row(g.q, b, h, i0);
        int gp = Geo.row(dOut, b, h, i0);
        int gRow = (int) dOut.strides()[2];
        gemmAcc(g.qa, qp, (int) g.q.strides()[2], 1, nq, g.d, kt, col, tRow, nkp, s, 0, BK);
        gemmAcc(ga, gp, gRow, 1, nq, g.dv, vt, col, tRow, nkp, dp, 0, BK);
        boolean masking = g.anyMasked(i0, nq, j0, nk);
        int bh = b * g.hn + h;
        for (int r = 0; r < nq; r++) {
            int so = r * BK;
            int row = bh * g.tq + i0 + r;
            float l = ls[row];
            if (l < LOW) {
                Arrays.fill(s, so, so + nk, 1f / g.tk);
                Arrays.fill(s, so + nk, so + nkp, 0);
                Arrays.fill(dp, so, so + nkp, 0);
                continue;
            }
            scaleScores(g, s, so, nkp, b, h, i0 + r, j0, nk, masking);
            FloatVector lv = FloatVector.broadcast(FS, l);
            for (int jj = 0; jj < nkp; jj += FL) {
                FloatVector.fromArray(FS, s, so + jj).sub(lv).intoArray(s, so + jj);
            }
            SimdMath.exp(s, so, s, so, nkp);
            Arrays.fill(s, so + nk, so + nkp, 0);
            FloatVector dv = FloatVector.broadcast(FS, dd[row]);
            for (int jj = 0; jj < nkp; jj += FL) {
                FloatVector p = FloatVector.fromArray(FS, s, so + jj);
                p.mul(FloatVector.fromArray(FS, dp, so + jj).sub(dv)).intoArray(dp, so + jj);
            }
            if (masking) {
                for (int jj = 0; jj < nk; jj++) {
                    if (g.masked(b, h, i0 + r, j0 + jj)) {
                        dp[so + jj] = 0;
                    }
                }
            }
        }
    }

    // ---- the small GEMM ------------------------------------------------------------------------------

    /**
     * {@code c[cOff + r * cRow + col] += sum over t < kd of a[aOff + r * aRow + t * aCol] * b[bOff + t * bRow
     * + col]} for r < rows, col < n: four rows at a time, columns two vectors at a time, the a values
     * broadcast. The sum over t runs in order.
     */
    static void gemmAcc(float[] a, int aOff, int aRow, int aCol, int rows, int kd, float[] b, int bOff, int bRow,
                        int n, float[] c, int cOff, int cRow) {
        int nv = n / FL * FL;
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            int a0 = aOff + r * aRow;
            int a1 = a0 + aRow;
            int a2 = a1 + aRow;
            int a3 = a2 + aRow;
            int c0 = cOff + r * cRow;
            int c1 = c0 + cRow;
            int c2 = c1 + cRow;
            int c3 = c2 + cRow;
            int col = 0;
            for (; col + 2 * FL <= nv; col += 2 * FL) {
                FloatVector x00 = FloatVector.fromArray(FS, c, c0 + col);
                FloatVector x01 = FloatVector.fromArray(FS, c, c0 + col + FL);
                FloatVector x10 = FloatVector.fromArray(FS, c, c1 + col);
                FloatVector x11 = FloatVector.fromArray(FS, c, c1 + col + FL);
                FloatVector x20 = FloatVector.fromArray(FS, c, c2 + col);
                FloatVector x21 = FloatVector.fromArray(FS, c, c2 + col + FL);
                FloatVector x30 = FloatVector.fromArray(FS, c, c3 + col);
                FloatVector x31 = FloatVector.fromArray(FS, c, c3 + col + FL);
                for (int t = 0; t < kd; t++) {
                    int bp = bOff + t * bRow + col;
                    FloatVector b0 = FloatVector.fromArray(FS, b, bp);
                    FloatVector b1 = FloatVector.fromArray(FS, b, bp + FL);
                    int at = t * aCol;
                    FloatVector s0 = FloatVector.broadcast(FS, a[a0 + at]);
                    FloatVector s1 = FloatVector.broadcast(FS, a[a1 + at]);
                    FloatVector s2 = FloatVector.broadcast(FS, a[a2 + at]);
                    FloatVector s3 = FloatVector.broadcast(FS, a[a3 + at]);
                    x00 = s0.fma(b0, x00);
                    x01 = s0.fma(b1, x01);
                    x10 = s1.fma(b0, x10);
                    x11 = s1.fma(b1, x11);
                    x20 = s2.fma(b0, x20);
                    x21 = s2.fma(b1, x21);
                    x30 = s3.fma(b0, x30);
                    x31 = s3.fma(b1, x31);
                }
                x00.intoArray(c, c0 + col);
                x01.intoArray(c, c0 + col + FL);
                x10.intoArray(c, c1 + col);
                x11.intoArray(c, c1 + col + FL);
                x20.intoArray(c, c2 + col);
                x21.intoArray(c, c2 + col + FL);
                x30.intoArray(c, c3 + col);
                x31.intoArray(c, c3 + col + FL);
            }
            for (; col < nv; col += FL) {
                FloatVector x0 = FloatVector.fromArray(FS, c, c0 + col);
                FloatVector x1 = FloatVector.fromArray(FS, c, c1 + col);
                FloatVector x2 = FloatVector.fromArray(FS, c, c2 + col);
                FloatVector x3 = FloatVector.fromArray(FS, c, c3 + col);
                for (int t = 0; t < kd; t++) {
                    FloatVector bv = FloatVector.fromArray(FS, b, bOff + t * bRow + col);
                    int at = t * aCol;
                    x0 = FloatVector.broadcast(FS, a[a0 + at]).fma(bv, x0);
                    x1 = FloatVector.broadcast(FS, a[a1 + at]).fma(bv, x1);
                    x2 = FloatVector.broadcast(FS, a[a2 + at]).fma(bv, x2);
                    x3 = FloatVector.broadcast(FS, a[a3 + at]).fma(bv, x3);
                }
                x0.intoArray(c, c0 + col);
                x1.intoArray(c, c1 + col);
                x2.intoArray(c, c2 + col);
                x3.intoArray(c, c3 + col);
            }
            for (; col < n; col++) {
                for (int rr = 0; rr < 4; rr++) {
                    int ar = a0 + rr * aRow;
                    float x = c[c0 + rr * cRow + col];
                    for (int t = 0; t < kd; t++) {
                        x = Math.fma(a[ar + t * aCol], b[bOff + t * bRow + col], x);
                    }
                    c[c0 + rr * cRow + col] = x;
                }
            }
        }
        for (; r < rows; r++) {
            int ar = aOff + r * aRow;
            int cr = cOff + r * cRow;
            int col = 0;
            for (; col < nv; col += FL) {
                FloatVector x = FloatVector.fromArray(FS, c, cr + col);
                for (int t = 0; t < kd; t++) {
                    x = FloatVector.broadcast(FS, a[ar + t * aCol]).fma(FloatVector.fromArray(FS, b, bOff + t * bRow + col), x);
                }
                x.intoArray(c, cr + col);
            }
            for (; col < n; col++) {
                float x = c[cr + col];
                for (int t = 0; t < kd; t++) {
                    x = Math.fma(a[ar + t * aCol], b[bOff + t * bRow + col], x);
                }
                c[cr + col] = x;
            }
        }
    }
}
