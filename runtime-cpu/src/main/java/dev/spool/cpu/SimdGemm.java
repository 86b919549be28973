package dev.spool.cpu;

import java.lang.ref.SoftReference;
import java.util.HashMap;
import java.util.Map;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batched matrix product on the Vector API, in the structure of GotoBLAS/BLIS: both operands are
 * first packed ({@link GemmPacking}) into micro-panels, {@link #MR} rows of A and {@code NR}
 * columns of B (two vectors) per panel, in blocks of {@link #KC} values of k; then an
 * {@code MR × NR} micro-kernel keeps its tile of C in twelve vector registers and streams k
 * through FMAs. A task owns an {@code MC × NC} block of C: its {@code MC × KC} block of packed A
 * stays in L2 while the {@code KC × NR} panels of B (in L1) sweep across it. With AVX2's 16
 * registers, 6 × 2 vectors (12 accumulators, 2 of B, 1 broadcast of A) is the classic Haswell/Zen
 * shape (BLIS uses 6 × 16 floats, 6 × 8 doubles, KC = 256). The species is the preferred one,
 * so NR follows the machine's vector width.
 *
 * <p>Each element of C is summed in an order fixed by the shape alone: k in {@code KC} blocks in
 * order, each block accumulated from zero in a register by FMAs in k order and then added to C.
 * Threads only choose which tiles they compute, so the result does not depend on the number of
 * threads. Only reached when {@link VectorSupport#ENABLED}; {@link Matmul} holds the plain loops
 * and chooses.
 */
final class SimdGemm {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final int FL = FS.length();
    private static final int DL = DS.length();
    /** Rows per micro-tile. */
    static final int MR = 6;
    /** Depth of a block of k: a KC × NR panel of B (16 KB of float32 on AVX2) fits in L1. */
    static final int KC = 256;
    /** Bytes of packed A per block of rows: 144 float32 rows × KC, about 150 KB of L2. */
    private static final int MC_BYTES = 144 * KC * 4;
    /**
     * Widest block of columns a task sweeps with one block of A: its MC × NC block of C, read
     * and written once per k block, then stays in L2 beside the block of A.
     */
    private static final int NC_MAX = 256;
    /** Rows (of A) or columns (of B) per packing unit: long enough runs to stream reads. */
    private static final int PACK_RUN = 256;
    /** Multiply-adds below which a task is not worth handing to another thread. */
    private static final long MIN_TASK_MACS = 1L << 20;
    /** Packing buffers up to this many elements are kept per calling thread for the next call. */
    private static final int KEEP_MAX = 1 << 22;

    private static final ThreadLocal<SoftReference<float[]>> FLOAT_BUF = new ThreadLocal<>();
    private static final ThreadLocal<SoftReference<double[]>> DOUBLE_BUF = new ThreadLocal<>();

    private SimdGemm() {
    }

    /**
     * {@code C[bi] = A[bi] B[bi]} for each batch element; element (i, k) of {@code A[bi]} at
     * {@code aBase[bi] + i * sam + k * sak}, (k, j) of {@code B[bi]} at
     * {@code bBase[bi] + k * sbk + j * sbn}; C contiguous. {@code k >= 1}, {@code m, n >= 1}.
     * Returns false, computing nothing, when the packed operands would not fit in one array.
     */
    static boolean run(Parallel par, Object aData, int[] aBase, int sam, int sak,
                       Object bData, int[] bBase, int sbk, int sbn, Object c, int m, int k, int n) {
        boolean f32 = c instanceof float[];
        int nr = 2 * (f32 ? FL : DL);
        int batch = aBase.length;
        int[] aSlot = new int[batch];
        int[] bSlot = new int[batch];
        int[] aSlices = distinct(aBase, aSlot); // broadcast batches share one packed copy
        int[] bSlices = distinct(bBase, bSlot);
        int mPanels = (m + MR - 1) / MR;
        int nPanels = (n + nr - 1) / nr;
        long aSize = (long) aSlices.length * mPanels * MR * k;
        long bSize = (long) bSlices.length * nPanels * nr * k;
        if (aSize + bSize > Integer.MAX_VALUE - 8) {
            return false;
        }
        int size = (int) (aSize + bSize);
        Object packed = f32 ? floats(size) : doubles(size);
        Layout lay = new Layout(m, k, n, nr, (int) aSize);

        // Pack: a unit is a group of micro-panels (about PACK_RUN rows or columns) of one k
        // block of one distinct slice, so that a row-major source is read in long runs.
        int kBlocks = (k + KC - 1) / KC;
        int aRun = Math.max(1, PACK_RUN / MR) * MR;
        int bRun = Math.max(1, PACK_RUN / nr) * nr;
        int aGroups = (m + aRun - 1) / aRun;
        int bGroups = (n + bRun - 1) / bRun;
        long unitsA = (long) aSlices.length * kBlocks * aGroups;
        long unitsB = (long) bSlices.length * kBlocks * bGroups;
        long unitSize = (long) Math.min(PACK_RUN, Math.max(m, n)) * Math.min(k, KC);
        par.forRange(unitsA + unitsB, Math.max(1, 2 * Parallel.GRAIN / unitSize),
                (lo, hi) -> {
                    for (long u = lo; u < hi; u++) {
                        boolean isA = u < unitsA;
                        long v = isA ? u : u - unitsA;
                        int groups = isA ? aGroups : bGroups;
                        int run = isA ? aRun : bRun;
                        int s = (int) (v / ((long) kBlocks * groups));
                        int rest = (int) (v % ((long) kBlocks * groups));
                        int pc = rest / groups * KC;
                        int p = rest % groups * run;
                        int kcb = Math.min(KC, k - pc);
                        if (isA) {
                            packInto(aData, aSlices[s], sam, sak, p, Math.min(run, m - p), pc, kcb,
                                    MR, packed, lay.a(s, pc, p));
                        } else {
                            packInto(bData, bSlices[s], sbn, sbk, p, Math.min(run, n - p), pc, kcb,
                                    nr, packed, lay.b(s, pc, p));
                        }
                    }
                });

        // Compute: tasks are MC × NC blocks of C; enough of them for the threads to balance.
        int mcMax = Math.max(MR, MC_BYTES / (KC * (f32 ? 4 : 8)) / MR * MR);
        int mBlocks = (m + mcMax - 1) / mcMax;
        int mc = roundUp((m + mBlocks - 1) / mBlocks, MR);
        mBlocks = (m + mc - 1) / mc;
        long wanted = 4L * par.threads();
        int nBlocks = (int) Math.max((n + NC_MAX - 1) / NC_MAX,
                Math.min(nPanels, (wanted + (long) batch * mBlocks - 1)
                        / ((long) batch * mBlocks)));
        int nc = roundUp((n + nBlocks - 1) / nBlocks, nr);
        int nBlocksFinal = (n + nc - 1) / nc;
        int mBlocksFinal = mBlocks;
        long tasks = (long) batch * mBlocks * nBlocksFinal;
        long grain = Math.max(1, MIN_TASK_MACS / ((long) mc * nc * k));
        par.forRange(tasks, grain, (lo, hi) -> {
            // Scratch for partial tiles (only when the shape has them).
            boolean partial = m % MR != 0 || n % nr != 0;
            Object edge = !partial ? null : f32 ? new float[MR * nr] : new double[MR * nr];
            for (long t = lo; t < hi; t++) {
                int bi = (int) (t / ((long) mBlocksFinal * nBlocksFinal));
                int rest = (int) (t % ((long) mBlocksFinal * nBlocksFinal));
                int i0 = rest / nBlocksFinal * mc;
                int j0 = rest % nBlocksFinal * nc;
                int i1 = Math.min(m, i0 + mc);
                int j1 = Math.min(n, j0 + nc);
                int cOff = bi * m * n;
                int aOff = lay.a(aSlot[bi], 0, 0);
                int bOff = lay.b(bSlot[bi], 0, 0);
                if (f32) {
                    block((float[]) packed, aOff, bOff, lay, (float[]) c, cOff, i0, i1, j0, j1,
                            (float[]) edge);
                } else {
                    block((double[]) packed, aOff, bOff, lay, (double[]) c, cOff, i0, i1, j0, j1,
                            (double[]) edge);
                }
            }
        });
        return true;
    }

    private static void packInto(Object src, int off, int sp, int sk, int p0, int pn, int k0,
                                 int kc, int w, Object dst, int d) {
        if (dst instanceof float[] f) {
            int full = sp == 1 && w == 2 * FL ? pn / w : 0;
            if (full > 0) {
                copyPanels((float[]) src, off + p0 + k0 * sk, sk, full, kc, f, d);
            }
            if (full * w < pn) {
                GemmPacking.pack((float[]) src, off, sp, sk, p0 + full * w, pn - full * w, k0, kc,
                        w, f, d + full * w * kc);
            }
        } else {
            double[] dd = (double[]) dst;
            int full = sp == 1 && w == 2 * DL ? pn / w : 0;
            if (full > 0) {
                copyPanels((double[]) src, off + p0 + k0 * sk, sk, full, kc, dd, d);
            }
            if (full * w < pn) {
                GemmPacking.pack((double[]) src, off, sp, sk, p0 + full * w, pn - full * w, k0, kc,
                        w, dd, d + full * w * kc);
            }
        }
    }

    /**
     * Whole B panels from unit-stride rows (a row-major B): one copy of NR values per k, without
     * the zero fill of {@link GemmPacking}'s runs. System.arraycopy rather than vector loads and
     * stores: in a 12 s MLP training loop, JFR put 19 % of the samples, to the end, in the Java
     * fallback of the vector store (FloatVector.stOp) under this method, reached through a
     * compiled form of intoArray that C2 could not intrinsify; arraycopy is intrinsic in every
     * compiler tier.
     */
    private static void copyPanels(float[] src, int base, int sk, int panels, int kc, float[] dst,
                                   int d) {
        for (int q = 0; q < kc; q++) {
            int s = base + q * sk;
            int o = d + q * 2 * FL;
            for (int t = 0; t < panels; t++, s += 2 * FL, o += 2 * FL * kc) {
                System.arraycopy(src, s, dst, o, 2 * FL);
            }
        }
    }

    private static void copyPanels(double[] src, int base, int sk, int panels, int kc,
                                   double[] dst, int d) {
        for (int q = 0; q < kc; q++) {
            int s = base + q * sk;
            int o = d + q * 2 * DL;
            for (int t = 0; t < panels; t++, s += 2 * DL, o += 2 * DL * kc) {
                System.arraycopy(src, s, dst, o, 2 * DL);
            }
        }
    }

    /** Where each micro-panel lives in the packed array: A's slices first, then B's. */
    private record Layout(int m, int k, int n, int nr, int bStart) {
        /** Slice {@code s}, the k block from {@code pc}, the panel from row {@code i}. */
        int a(int s, int pc, int i) {
            int mPad = roundUp(m, MR);
            return s * mPad * k + pc * mPad + i * Math.min(KC, k - pc);
        }

        int b(int s, int pc, int j) {
            int nPad = roundUp(n, nr);
            return bStart + s * nPad * k + pc * nPad + j * Math.min(KC, k - pc);
        }
    }

    // The float and double versions below are the same code: Java has no generics over
    // primitives, and computing float32 in double would halve the vector width.

    /** Rows [i0, i1) × columns [j0, j1) of one C; aOff and bOff: the slices' packed starts. */
    private static void block(float[] p, int aOff, int bOff, Layout lay, float[] c, int cOff,
                              int i0, int i1, int j0, int j1, float[] edge) {
        int k = lay.k();
        int n = lay.n();
        int nr = lay.nr();
        int mPad = roundUp(lay.m(), MR);
        int nPad = roundUp(n, nr);
        for (int pc = 0; pc < k; pc += KC) {
            int kcb = Math.min(KC, k - pc);
            boolean add = pc > 0;
            for (int j = j0; j < j1; j += nr) {
                int bp = bOff + pc * nPad + j * kcb;
                int nv = Math.min(nr, j1 - j);
                for (int i = i0; i < i1; i += MR) {
                    int mv = Math.min(MR, i1 - i);
                    int at = cOff + i * n + j;
                    int ap = aOff + pc * mPad + i * kcb;
                    if (mv == MR && nv == nr) {
                        kernel(p, ap, bp, kcb, c, at, n, add);
                    } else {
                        // A partial tile: computed whole into a scratch tile (the packed
                        // panels are zero-padded), then its valid part is merged.
                        kernel(p, ap, bp, kcb, edge, 0, nr, false);
                        for (int r = 0; r < mv; r++) {
                            for (int q = 0; q < nv; q++) {
                                float v = edge[r * nr + q];
                                c[at + r * n + q] = add ? c[at + r * n + q] + v : v;
                            }
                        }
                    }
                }
            }
        }
    }

    private static void block(double[] p, int aOff, int bOff, Layout lay, double[] c, int cOff,
                              int i0, int i1, int j0, int j1, double[] edge) {
        int k = lay.k();
        int n = lay.n();
        int nr = lay.nr();
        int mPad = roundUp(lay.m(), MR);
        int nPad = roundUp(n, nr);
        for (int pc = 0; pc < k; pc += KC) {
            int kcb = Math.min(KC, k - pc);
            boolean add = pc > 0;
            for (int j = j0; j < j1; j += nr) {
                int bp = bOff + pc * nPad + j * kcb;
                int nv = Math.min(nr, j1 - j);
                for (int i = i0; i < i1; i += MR) {
                    int mv = Math.min(MR, i1 - i);
                    int at = cOff + i * n + j;
                    int ap = aOff + pc * mPad + i * kcb;
                    if (mv == MR && nv == nr) {
                        kernel(p, ap, bp, kcb, c, at, n, add);
                    } else {
                        kernel(p, ap, bp, kcb, edge, 0, nr, false);
                        for (int r = 0; r < mv; r++) {
                            for (int q = 0; q < nv; q++) {
                                double v = edge[r * nr + q];
                                c[at + r * n + q] = add ? c[at + r * n + q] + v : v;
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * The micro-kernel: a 6 × 2-vector tile, {@code sum over q < kc of A[:, q] B[q, :]} from
     * panels at {@code ai} and {@code bi} of {@code p}, stored to (or, with {@code add}, added
     * to) {@code c} at {@code ci}, rows {@code ldc} apart. Twelve named accumulators, not an
     * array, so that the JIT keeps every one in a register. One loop form only: with a second
     * one (A read in place, for products with few panels of B) one JMH fork of the MLP step ran
     * at 50 ms a step instead of 4, as when C2 falls back to boxed vectors; the cause was not
     * pinned down, and a method this size is what C2 has compiled reliably.
     */
    private static void kernel(float[] p, int ai, int bi, int kc,
                               float[] c, int ci, int ldc, boolean add) {
        FloatVector c00 = FloatVector.zero(FS);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        // A packed panel of A holds the MR values of one k together, and the loop counts
        // through it: C2 then drops the range checks of A's six loads, which it kept when the
        // index was ai + q * MR (it turns q * 6 into two shifts, a form its range-check
        // elimination does not see). B's index is a second counter. 31 instructions per k
        // instead of 41; alternated in one JVM, 1024³ ran 8-19 % faster on two threads. (A
        // variable stride for A, as when A was also read in place, was 15-20 % slower.)
        int b = bi;
        for (int q = ai, end = ai + kc * MR; q < end; q += MR, b += 2 * FL) {
            FloatVector b0 = FloatVector.fromArray(FS, p, b);
            FloatVector b1 = FloatVector.fromArray(FS, p, b + FL);
            FloatVector x = FloatVector.broadcast(FS, p[q]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(FS, p[q + 1]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(FS, p[q + 2]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(FS, p[q + 3]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(FS, p[q + 4]);
            c40 = b0.fma(x, c40);
            c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(FS, p[q + 5]);
            c50 = b0.fma(x, c50);
            c51 = b1.fma(x, c51);
        }
        // Stored here, not through a helper: a vector passed to a method the JIT does not
        // inline is boxed (measured: 64-192 bytes per call).
        if (add) {
            c00.add(FloatVector.fromArray(FS, c, ci)).intoArray(c, ci);
            c01.add(FloatVector.fromArray(FS, c, ci + FL)).intoArray(c, ci + FL);
            c10.add(FloatVector.fromArray(FS, c, ci + ldc)).intoArray(c, ci + ldc);
            c11.add(FloatVector.fromArray(FS, c, ci + ldc + FL)).intoArray(c, ci + ldc + FL);
            c20.add(FloatVector.fromArray(FS, c, ci + 2 * ldc)).intoArray(c, ci + 2 * ldc);
            c21.add(FloatVector.fromArray(FS, c, ci + 2 * ldc + FL)).intoArray(c, ci + 2 * ldc + FL);
            c30.add(FloatVector.fromArray(FS, c, ci + 3 * ldc)).intoArray(c, ci + 3 * ldc);
            c31.add(FloatVector.fromArray(FS, c, ci + 3 * ldc + FL)).intoArray(c, ci + 3 * ldc + FL);
            c40.add(FloatVector.fromArray(FS, c, ci + 4 * ldc)).intoArray(c, ci + 4 * ldc);
            c41.add(FloatVector.fromArray(FS, c, ci + 4 * ldc + FL)).intoArray(c, ci + 4 * ldc + FL);
            c50.add(FloatVector.fromArray(FS, c, ci + 5 * ldc)).intoArray(c, ci + 5 * ldc);
            c51.add(FloatVector.fromArray(FS, c, ci + 5 * ldc + FL)).intoArray(c, ci + 5 * ldc + FL);
        } else {
            c00.intoArray(c, ci);
            c01.intoArray(c, ci + FL);
            c10.intoArray(c, ci + ldc);
            c11.intoArray(c, ci + ldc + FL);
            c20.intoArray(c, ci + 2 * ldc);
            c21.intoArray(c, ci + 2 * ldc + FL);
            c30.intoArray(c, ci + 3 * ldc);
            c31.intoArray(c, ci + 3 * ldc + FL);
            c40.intoArray(c, ci + 4 * ldc);
            c41.intoArray(c, ci + 4 * ldc + FL);
            c50.intoArray(c, ci + 5 * ldc);
            c51.intoArray(c, ci + 5 * ldc + FL);
        }
    }


    private static void kernel(double[] p, int ai, int bi, int kc,
                               double[] c, int ci, int ldc, boolean add) {
        DoubleVector c00 = DoubleVector.zero(DS);
        DoubleVector c01 = c00;
        DoubleVector c10 = c00;
        DoubleVector c11 = c00;
        DoubleVector c20 = c00;
        DoubleVector c21 = c00;
        DoubleVector c30 = c00;
        DoubleVector c31 = c00;
        DoubleVector c40 = c00;
        DoubleVector c41 = c00;
        DoubleVector c50 = c00;
        DoubleVector c51 = c00;
        // The loop form of the float kernel above, for the same reason.
        int b = bi;
        for (int q = ai, end = ai + kc * MR; q < end; q += MR, b += 2 * DL) {
            DoubleVector b0 = DoubleVector.fromArray(DS, p, b);
            DoubleVector b1 = DoubleVector.fromArray(DS, p, b + DL);
            DoubleVector x = DoubleVector.broadcast(DS, p[q]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = DoubleVector.broadcast(DS, p[q + 1]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = DoubleVector.broadcast(DS, p[q + 2]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = DoubleVector.broadcast(DS, p[q + 3]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            x = DoubleVector.broadcast(DS, p[q + 4]);
            c40 = b0.fma(x, c40);
            c41 = b1.fma(x, c41);
            x = DoubleVector.broadcast(DS, p[q + 5]);
            c50 = b0.fma(x, c50);
            c51 = b1.fma(x, c51);
        }
        // Stored here, not through a helper: a vector passed to a method the JIT does not
        // inline is boxed (measured: 64-192 bytes per call).
        if (add) {
            c00.add(DoubleVector.fromArray(DS, c, ci)).intoArray(c, ci);
            c01.add(DoubleVector.fromArray(DS, c, ci + DL)).intoArray(c, ci + DL);
            c10.add(DoubleVector.fromArray(DS, c, ci + ldc)).intoArray(c, ci + ldc);
            c11.add(DoubleVector.fromArray(DS, c, ci + ldc + DL)).intoArray(c, ci + ldc + DL);
            c20.add(DoubleVector.fromArray(DS, c, ci + 2 * ldc)).intoArray(c, ci + 2 * ldc);
            c21.add(DoubleVector.fromArray(DS, c, ci + 2 * ldc + DL)).intoArray(c, ci + 2 * ldc + DL);
            c30.add(DoubleVector.fromArray(DS, c, ci + 3 * ldc)).intoArray(c, ci + 3 * ldc);
            c31.add(DoubleVector.fromArray(DS, c, ci + 3 * ldc + DL)).intoArray(c, ci + 3 * ldc + DL);
            c40.add(DoubleVector.fromArray(DS, c, ci + 4 * ldc)).intoArray(c, ci + 4 * ldc);
            c41.add(DoubleVector.fromArray(DS, c, ci + 4 * ldc + DL)).intoArray(c, ci + 4 * ldc + DL);
            c50.add(DoubleVector.fromArray(DS, c, ci + 5 * ldc)).intoArray(c, ci + 5 * ldc);
            c51.add(DoubleVector.fromArray(DS, c, ci + 5 * ldc + DL)).intoArray(c, ci + 5 * ldc + DL);
        } else {
            c00.intoArray(c, ci);
            c01.intoArray(c, ci + DL);
            c10.intoArray(c, ci + ldc);
            c11.intoArray(c, ci + ldc + DL);
            c20.intoArray(c, ci + 2 * ldc);
            c21.intoArray(c, ci + 2 * ldc + DL);
            c30.intoArray(c, ci + 3 * ldc);
            c31.intoArray(c, ci + 3 * ldc + DL);
            c40.intoArray(c, ci + 4 * ldc);
            c41.intoArray(c, ci + 4 * ldc + DL);
            c50.intoArray(c, ci + 5 * ldc);
            c51.intoArray(c, ci + 5 * ldc + DL);
        }
    }


    private static int roundUp(int x, int to) {
        return (x + to - 1) / to * to;
    }

    /** The distinct values of {@code base}; {@code slot[i]} is the index of {@code base[i]}. */
    private static int[] distinct(int[] base, int[] slot) {
        if (base.length == 1) {
            return base;
        }
        Map<Integer, Integer> seen = new HashMap<>();
        int[] values = new int[base.length];
        for (int i = 0; i < base.length; i++) {
            Integer s = seen.putIfAbsent(base[i], seen.size());
            slot[i] = s == null ? seen.size() - 1 : s;
            values[slot[i]] = base[i];
        }
        return java.util.Arrays.copyOf(values, seen.size());
    }

    /**
     * A packing buffer of at least {@code size} elements, reused by the calling thread's next
     * call (the contents are always fully overwritten). Large buffers are not kept, and kept
     * ones are softly held, so an idle thread pins no more than {@link #KEEP_MAX} elements.
     */
    private static float[] floats(int size) {
        SoftReference<float[]> ref = FLOAT_BUF.get();
        float[] buf = ref == null ? null : ref.get();
        if (buf == null || buf.length < size) {
            buf = new float[size];
            if (size <= KEEP_MAX) {
                FLOAT_BUF.set(new SoftReference<>(buf));
            }
        }
        return buf;
    }

    private static double[] doubles(int size) {
        SoftReference<double[]> ref = DOUBLE_BUF.get();
        double[] buf = ref == null ? null : ref.get();
        if (buf == null || buf.length < size) {
            buf = new double[size];
            if (size <= KEEP_MAX) {
                DOUBLE_BUF.set(new SoftReference<>(buf));
            }
        }
        return buf;
    }
}
