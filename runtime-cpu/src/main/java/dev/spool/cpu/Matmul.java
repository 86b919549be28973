package dev.spool.cpu;

import dev.spool.spi.View;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Batched matrix product: the plain path, and the choice of path. With the Vector API
 * ({@link VectorSupport#ENABLED}) all but tiny products go to {@link SimdGemm}; the loops below
 * serve the rest, and every product on a JVM without the module.
 *
 * <p>The plain path is cache-blocked. For each output row {@code i} and each {@code k}, a row
 * of B is scaled by {@code A[i,k]} and added to row {@code i} of C (i-k-j order): the inner
 * loop runs over contiguous rows of B and C, which the JIT vectorises. Four values of k are
 * done per pass ({@code c += a0*b0 + a1*b1 + a2*b2 + a3*b3}), so each element of C is loaded
 * and stored once per four multiply-adds (about 1.6x faster than one at a time). Blocks of
 * {@link #KC}×{@link #NC} of B stay in cache while a block of rows of A sweeps over them.
 *
 * <p>A is read element by element, so any strides work (a transposed A costs nothing). B needs
 * unit stride along N; otherwise (a transposed B) each distinct batch slice is first packed
 * into a contiguous array. Work is split over (batch, block of rows); each piece writes its
 * own rows of C, so the result does not depend on the split.
 */
final class Matmul {
    private static final int KC = 64;
    private static final int NC = 512;
    /** Multiply-adds below which splitting across threads costs more than it saves. */
    private static final long MIN_PARALLEL_FLOPS = 1 << 18;
    /**
     * Multiply-adds from which {@link SimdGemm} (packing, then a register-blocked SIMD kernel)
     * takes over, when the Vector API is there; below, packing costs more than it saves.
     */
    private static final long SIMD_MIN_MACS = 1 << 12;

    private Matmul() {
    }

    static void run(Parallel par, View a, View b, CpuBuffer out) {
        int rank = a.rank();
        int m = a.shape()[rank - 2];
        int k = a.shape()[rank - 1];
        int n = b.shape()[rank - 1];
        int[] batchShape = Arrays.copyOf(a.shape(), rank - 2);
        long batch = 1;
        for (int d : batchShape) {
            batch *= d;
        }
        Object c = out.data();
        if (batch * m * n == 0) {
            return;
        }
        if (k == 0) {
            fillZero(c);
            return;
        }
        int[] aBase = batchOffsets(a, batchShape, batch);
        int[] bBase = batchOffsets(b, batchShape, batch);
        Object aData = CpuBuffer.data(a);
        Object bData = CpuBuffer.data(b);
        int sam = (int) a.strides()[rank - 2];
        int sak = (int) a.strides()[rank - 1];
        int ldb = (int) b.strides()[rank - 2];
        if (VectorSupport.ENABLED && batch * m * n * k >= SIMD_MIN_MACS
                && SimdGemm.run(par, aData, aBase, sam, sak, bData, bBase, ldb,
                (int) b.strides()[rank - 1], c, m, k, n)) {
            return;
        }
        if (n > 1 && b.strides()[rank - 1] != 1) {
            bData = pack(par, b, bBase, k, n);
            ldb = n;
        }
        Object bFinal = bData;
        int ldbFinal = ldb;
        int rowsPerPiece = Math.max(1, Math.min(64, (int) ((batch * m + 4L * par.threads() - 1)
                / (4L * par.threads()))));
        long rowBlocks = (m + rowsPerPiece - 1) / rowsPerPiece;
        long flopsPerPiece = (long) rowsPerPiece * k * n;
        long grain = Math.max(1, MIN_PARALLEL_FLOPS / flopsPerPiece);
        par.forRange(batch * rowBlocks, grain, (lo, hi) -> {
            for (long piece = lo; piece < hi; piece++) {
                int bi = (int) (piece / rowBlocks);
                int i0 = (int) (piece % rowBlocks) * rowsPerPiece;
                int i1 = Math.min(m, i0 + rowsPerPiece);
                int cBase = bi * m * n;
                if (c instanceof float[] cf) {
                    gemm((float[]) aData, aBase[bi], sam, sak, (float[]) bFinal, bBase[bi], ldbFinal,
                            cf, cBase, i0, i1, k, n);
                } else {
                    gemm((double[]) aData, aBase[bi], sam, sak, (double[]) bFinal, bBase[bi], ldbFinal,
                            (double[]) c, cBase, i0, i1, k, n);
                }
            }
        });
    }

    /** Offset of each batch element's matrix in the view's buffer. */
    private static int[] batchOffsets(View v, int[] batchShape, long batch) {
        int[] base = new int[(int) batch];
        for (int bi = 0; bi < batch; bi++) {
            long pos = v.offset();
            long rest = bi;
            for (int d = batchShape.length - 1; d >= 0; d--) {
                pos += (rest % batchShape[d]) * v.strides()[d];
                rest /= batchShape[d];
            }
            base[bi] = (int) pos;
        }
        return base;
    }

    /**
     * Packs each distinct [K, N] slice of {@code b} (broadcast batches share one) row-major into
     * a new array, and rewrites {@code bBase} to point into it.
     */
    private static Object pack(Parallel par, View b, int[] bBase, int k, int n) {
        Map<Integer, Integer> slotOf = new HashMap<>();
        for (int base : bBase) {
            slotOf.putIfAbsent(base, slotOf.size());
        }
        Object src = CpuBuffer.data(b);
        int rank = b.rank();
        Object packed = b.dtype().newHostArray(Math.multiplyExact(slotOf.size(), Math.multiplyExact(k, n)));
        int[] shape = {k, n};
        long[] srcStrides = {b.strides()[rank - 2], b.strides()[rank - 1]};
        long[] dstStrides = {n, 1};
        for (Map.Entry<Integer, Integer> e : slotOf.entrySet()) {
            Elementwise.copy(par, shape, src, e.getKey(), srcStrides,
                    packed, (long) e.getValue() * k * n, dstStrides);
        }
        for (int bi = 0; bi < bBase.length; bi++) {
            bBase[bi] = slotOf.get(bBase[bi]) * k * n;
        }
        return packed;
    }

    private static void fillZero(Object c) {
        if (c instanceof float[] cf) {
            Arrays.fill(cf, 0f);
        } else {
            Arrays.fill((double[]) c, 0.0);
        }
    }

    // The two kernels below are the same code for float and double: Java has no generics over
    // primitives, and computing float32 in double would halve the vector width.

    /** Rows {@code [i0, i1)} of {@code C = A B}, C row-major with leading dimension N. */
    private static void gemm(float[] a, int aOff, int sam, int sak, float[] b, int bOff, int ldb,
                             float[] c, int cOff, int i0, int i1, int kDim, int nDim) {
        Arrays.fill(c, cOff + i0 * nDim, cOff + i1 * nDim, 0f);
        for (int jj = 0; jj < nDim; jj += NC) {
            int j1 = Math.min(nDim, jj + NC);
            for (int kk = 0; kk < kDim; kk += KC) {
                int k1 = Math.min(kDim, kk + KC);
                for (int i = i0; i < i1; i++) {
                    int ci = cOff + i * nDim;
                    int ai = aOff + i * sam;
                    int k = kk;
                    for (; k + 3 < k1; k += 4) {
                        float a0 = a[ai + k * sak];
                        float a1 = a[ai + (k + 1) * sak];
                        float a2 = a[ai + (k + 2) * sak];
                        float a3 = a[ai + (k + 3) * sak];
                        int b0 = bOff + k * ldb;
                        int b1 = b0 + ldb;
                        int b2 = b1 + ldb;
                        int b3 = b2 + ldb;
                        for (int j = jj; j < j1; j++) {
                            c[ci + j] += a0 * b[b0 + j] + a1 * b[b1 + j] + a2 * b[b2 + j] + a3 * b[b3 + j];
                        }
                    }
                    for (; k < k1; k++) {
                        float aik = a[ai + k * sak];
                        int bk = bOff + k * ldb;
                        for (int j = jj; j < j1; j++) {
                            c[ci + j] += aik * b[bk + j];
                        }
                    }
                }
            }
        }
    }

    private static void gemm(double[] a, int aOff, int sam, int sak, double[] b, int bOff, int ldb,
                             double[] c, int cOff, int i0, int i1, int kDim, int nDim) {
        Arrays.fill(c, cOff + i0 * nDim, cOff + i1 * nDim, 0.0);
        for (int jj = 0; jj < nDim; jj += NC) {
            int j1 = Math.min(nDim, jj + NC);
            for (int kk = 0; kk < kDim; kk += KC) {
                int k1 = Math.min(kDim, kk + KC);
                for (int i = i0; i < i1; i++) {
                    int ci = cOff + i * nDim;
                    int ai = aOff + i * sam;
                    int k = kk;
                    for (; k + 3 < k1; k += 4) {
                        double a0 = a[ai + k * sak];
                        double a1 = a[ai + (k + 1) * sak];
                        double a2 = a[ai + (k + 2) * sak];
                        double a3 = a[ai + (k + 3) * sak];
                        int b0 = bOff + k * ldb;
                        int b1 = b0 + ldb;
                        int b2 = b1 + ldb;
                        int b3 = b2 + ldb;
                        for (int j = jj; j < j1; j++) {
                            c[ci + j] += a0 * b[b0 + j] + a1 * b[b1 + j] + a2 * b[b2 + j] + a3 * b[b3 + j];
                        }
                    }
                    for (; k < k1; k++) {
                        double aik = a[ai + k * sak];
                        int bk = bOff + k * ldb;
                        for (int j = jj; j < j1; j++) {
                            c[ci + j] += aik * b[bk + j];
                        }
                    }
                }
            }
        }
    }
}
