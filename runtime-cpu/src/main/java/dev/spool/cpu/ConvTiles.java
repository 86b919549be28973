package dev.spool.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register tiles of the float32 convolutions ({@link ConvGemm}): {@code c[r, :] (+)= sum over
 * q < kc of a[row r, q] * b[q, :]} for six rows r and {@code nv} vectors of columns, the 24, 12 or
 * 6 accumulators held in named variables so that the JIT keeps them in registers (AVX-512 has 32;
 * 24 accumulators, four of B and one broadcast fit). Row r of A starts at {@code a<r>} and is read
 * in place, wherever its values lie (a window of the input, or of dy), so nothing is packed into
 * MR-interleaved panels: with N of 32 to 128 columns, such packing is not amortised (JFR, matmul
 * [50176, 576] x [576, 64] on SimdGemm at 52 GFLOP/s: 130 samples in GemmPacking.pack, 126 in the
 * kernel). Rows may repeat (a tile past the last pixel repeats it; the caller keeps the valid rows).
 * B holds {@code nv * FL} contiguous columns per q. With {@code add} the tile is added to C, else
 * stored; C's rows are {@code ldc} apart.
 *
 * <p>Two loop forms. {@code unit*}: A's rows advance by one per q (a run of channels) and B by
 * {@code nv * FL} (a packed filter), the form C2 compiles best (q indexes A directly, so A's range
 * checks go). {@code strided*}: any steps for both (the filter gradient walks pixels: A by
 * {@code strideW * C}, B by a row of dy), about 12 % slower per multiply-add on AVX-512. Each
 * method is a single loop: with the accumulators live across an outer loop (segments of cells
 * inside one call), C2 on JDK 17 boxed the vectors and a 3x3x64x64 tile ran at 2 GFLOP/s instead
 * of 160. The sum over q runs in order, in one register per element, so the result depends on the
 * shape alone.
 */
final class ConvTiles {
    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    /** Lanes per vector. */
    static final int FL = FS.length();
    /** Rows per tile. */
    static final int MR = 6;
    /** The widest tile, in vectors. */
    static final int MAX_NV = 4;

    private ConvTiles() {
    }

    /** The unit-step tile of {@code nv} (1, 2 or 4) vectors. */
    static void unit(int nv, float[] a, int a0, int a1, int a2, int a3, int a4, int a5,
                     float[] b, int bi, int kc, float[] c, int ci, int ldc, boolean add) {
        switch (nv) {
            case 4 -> unit4(a, a0, a1, a2, a3, a4, a5, b, bi, kc, c, ci, ldc, add);
            case 2 -> unit2(a, a0, a1, a2, a3, a4, a5, b, bi, kc, c, ci, ldc, add);
            case 1 -> unit1(a, a0, a1, a2, a3, a4, a5, b, bi, kc, c, ci, ldc, add);
            default -> throw new IllegalArgumentException("tile of " + nv + " vectors");
        }
    }

    /** The strided tile of {@code nv} (1, 2 or 4) vectors. */
    static void strided(int nv, float[] a, int a0, int a1, int a2, int a3, int a4, int a5, int ak,
                        float[] b, int bi, int bk, int kc, float[] c, int ci, int ldc, boolean add) {
        switch (nv) {
            case 4 -> strided4(a, a0, a1, a2, a3, a4, a5, ak, b, bi, bk, kc, c, ci, ldc, add);
            case 2 -> strided2(a, a0, a1, a2, a3, a4, a5, ak, b, bi, bk, kc, c, ci, ldc, add);
            case 1 -> strided1(a, a0, a1, a2, a3, a4, a5, ak, b, bi, bk, kc, c, ci, ldc, add);
            default -> throw new IllegalArgumentException("tile of " + nv + " vectors");
        }
    }

    /**
     * Splits {@code width} columns into tiles of 4, 2 and 1 vectors: {start, vectors} pairs, the
     * last one possibly reaching past {@code width} (its extra lanes are computed and dropped).
     */
    static int[] columnBlocks(int width) {
        int vectors = (width + FL - 1) / FL;
        int[] out = new int[2 * (vectors / 4 + 2)];
        int n = 0;
        int v = 0;
        for (int nv : new int[] {4, 2, 1}) {
            while (vectors - v >= nv) {
                out[n++] = v * FL;
                out[n++] = nv;
                v += nv;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    // The six bodies differ only in nv and the loop form: Java cannot unroll over a constant,
    // and an array of accumulators would live in memory. One line per row of the tile.

    static void unit4(float[] a, int a0, int a1, int a2, int a3, int a4, int a5,
                      float[] b, int bi, int kc, float[] c, int ci, int ldc, boolean add) {
        FloatVector c00 = FloatVector.zero(FS);
        FloatVector c01 = c00;
        FloatVector c02 = c00;
        FloatVector c03 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c12 = c00;
        FloatVector c13 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c22 = c00;
        FloatVector c23 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c32 = c00;
        FloatVector c33 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c42 = c00;
        FloatVector c43 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        FloatVector c52 = c00;
        FloatVector c53 = c00;
        for (int q = 0, ib = bi; q < kc; q++, ib += 4 * FL) {
            FloatVector b0 = FloatVector.fromArray(FS, b, ib);
            FloatVector b1 = FloatVector.fromArray(FS, b, ib + FL);
            FloatVector b2 = FloatVector.fromArray(FS, b, ib + 2 * FL);
            FloatVector b3 = FloatVector.fromArray(FS, b, ib + 3 * FL);
            FloatVector x = FloatVector.broadcast(FS, a[a0 + q]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02); c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(FS, a[a1 + q]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12); c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(FS, a[a2 + q]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22); c23 = b3.fma(x, c23);
            x = FloatVector.broadcast(FS, a[a3 + q]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32); c33 = b3.fma(x, c33);
            x = FloatVector.broadcast(FS, a[a4 + q]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); c42 = b2.fma(x, c42); c43 = b3.fma(x, c43);
            x = FloatVector.broadcast(FS, a[a5 + q]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); c52 = b2.fma(x, c52); c53 = b3.fma(x, c53);
        }
        if (add) {
            c00.add(FloatVector.fromArray(FS, c, ci)).intoArray(c, ci);
            c01.add(FloatVector.fromArray(FS, c, ci + FL)).intoArray(c, ci + FL);
            c02.add(FloatVector.fromArray(FS, c, ci + 2 * FL)).intoArray(c, ci + 2 * FL);
            c03.add(FloatVector.fromArray(FS, c, ci + 3 * FL)).intoArray(c, ci + 3 * FL);
            c10.add(FloatVector.fromArray(FS, c, ci + ldc)).intoArray(c, ci + ldc);
            c11.add(FloatVector.fromArray(FS, c, ci + ldc + FL)).intoArray(c, ci + ldc + FL);
            c12.add(FloatVector.fromArray(FS, c, ci + ldc + 2 * FL)).intoArray(c, ci + ldc + 2 * FL);
            c13.add(FloatVector.fromArray(FS, c, ci + ldc + 3 * FL)).intoArray(c, ci + ldc + 3 * FL);
            c20.add(FloatVector.fromArray(FS, c, ci + 2 * ldc)).intoArray(c, ci + 2 * ldc);
            c21.add(FloatVector.fromArray(FS, c, ci + 2 * ldc + FL)).intoArray(c, ci + 2 * ldc + FL);
            c22.add(FloatVector.fromArray(FS, c, ci + 2 * ldc + 2 * FL)).intoArray(c, ci + 2 * ldc + 2 * FL);
            c23.add(FloatVector.fromArray(FS, c, ci + 2 * ldc + 3 * FL)).intoArray(c, ci + 2 * ldc + 3 * FL);
            c30.add(FloatVector.fromArray(FS, c, ci + 3 * ldc)).intoArray(c, ci + 3 * ldc);
            c31.add(FloatVector.fromArray(FS, c, ci + 3 * ldc + FL)).intoArray(c, ci + 3 * ldc + FL);
            c32.add(FloatVector.fromArray(FS, c, ci + 3 * ldc + 2 * FL)).intoArray(c, ci + 3 * ldc + 2 * FL);
            c33.add(FloatVector.fromArray(FS, c, ci + 3 * ldc + 3 * FL)).intoArray(c, ci + 3 * ldc + 3 * FL);
            c40.add(FloatVector.fromArray(FS, c, ci + 4 * ldc)).intoArray(c, ci + 4 * ldc);
            c41.add(FloatVector.fromArray(FS, c, ci + 4 * ldc + FL)).intoArray(c, ci + 4 * ldc + FL);
            c42.add(FloatVector.fromArray(FS, c, ci + 4 * ldc + 2 * FL)).intoArray(c, ci + 4 * ldc + 2 * FL);
            c43.add(FloatVector.fromArray(FS, c, ci + 4 * ldc + 3 * FL)).intoArray(c, ci + 4 * ldc + 3 * FL);
            c50.add(FloatVector.fromArray(FS, c, ci + 5 * ldc)).intoArray(c, ci + 5 * ldc);
            c51.add(FloatVector.fromArray(FS, c, ci + 5 * ldc + FL)).intoArray(c, ci + 5 * ldc + FL);
            c52.add(FloatVector.fromArray(FS, c, ci + 5 * ldc + 2 * FL)).intoArray(c, ci + 5 * ldc + 2 * FL);
            c53.add(FloatVector.fromArray(FS, c, ci + 5 * ldc + 3 * FL)).intoArray(c, ci + 5 * ldc + 3 * FL);
        } else {
            c00.intoArray(c, ci);
            c01.intoArray(c, ci + FL);
            c02.intoArray(c, ci + 2 * FL);
            c03.intoArray(c, ci + 3 * FL);
            c10.intoArray(c, ci + ldc);
            c11.intoArray(c, ci + ldc + FL);
            c12.intoArray(c, ci + ldc + 2 * FL);
            c13.intoArray(c, ci + ldc + 3 * FL);
            c20.intoArray(c, ci + 2 * ldc);
            c21.intoArray(c, ci + 2 * ldc + FL);
            c22.intoArray(c, ci + 2 * ldc + 2 * FL);
            c23.intoArray(c, ci + 2 * ldc + 3 * FL);
            c30.intoArray(c, ci + 3 * ldc);
            c31.intoArray(c, ci + 3 * ldc + FL);
            c32.intoArray(c, ci + 3 * ldc + 2 * FL);
            c33.intoArray(c, ci + 3 * ldc + 3 * FL);
            c40.intoArray(c, ci + 4 * ldc);
            c41.intoArray(c, ci + 4 * ldc + FL);
            c42.intoArray(c, ci + 4 * ldc + 2 * FL);
            c43.intoArray(c, ci + 4 * ldc + 3 * FL);
            c50.intoArray(c, ci + 5 * ldc);
            c51.intoArray(c, ci + 5 * ldc + FL);
            c52.intoArray(c, ci + 5 * ldc + 2 * FL);
            c53.intoArray(c, ci + 5 * ldc + 3 * FL);
        }
    }

    static void unit2(float[] a, int a0, int a1, int a2, int a3, int a4, int a5,
                      float[] b, int bi, int kc, float[] c, int ci, int ldc, boolean add) {
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
        for (int q = 0, ib = bi; q < kc; q++, ib += 2 * FL) {
            FloatVector b0 = FloatVector.fromArray(FS, b, ib);
            FloatVector b1 = FloatVector.fromArray(FS, b, ib + FL);
            FloatVector x = FloatVector.broadcast(FS, a[a0 + q]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(FS, a[a1 + q]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(FS, a[a2 + q]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(FS, a[a3 + q]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(FS, a[a4 + q]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(FS, a[a5 + q]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51);
        }
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

    static void unit1(float[] a, int a0, int a1, int a2, int a3, int a4, int a5,
                      float[] b, int bi, int kc, float[] c, int ci, int ldc, boolean add) {
        FloatVector c00 = FloatVector.zero(FS);
        FloatVector c10 = c00;
        FloatVector c20 = c00;
        FloatVector c30 = c00;
        FloatVector c40 = c00;
        FloatVector c50 = c00;
        for (int q = 0, ib = bi; q < kc; q++, ib += FL) {
            FloatVector b0 = FloatVector.fromArray(FS, b, ib);
            FloatVector x = FloatVector.broadcast(FS, a[a0 + q]);
            c00 = b0.fma(x, c00);
            x = FloatVector.broadcast(FS, a[a1 + q]);
            c10 = b0.fma(x, c10);
            x = FloatVector.broadcast(FS, a[a2 + q]);
            c20 = b0.fma(x, c20);
            x = FloatVector.broadcast(FS, a[a3 + q]);
            c30 = b0.fma(x, c30);
            x = FloatVector.broadcast(FS, a[a4 + q]);
            c40 = b0.fma(x, c40);
            x = FloatVector.broadcast(FS, a[a5 + q]);
            c50 = b0.fma(x, c50);
        }
        if (add) {
            c00.add(FloatVector.fromArray(FS, c, ci)).intoArray(c, ci);
            c10.add(FloatVector.fromArray(FS, c, ci + ldc)).intoArray(c, ci + ldc);
            c20.add(FloatVector.fromArray(FS, c, ci + 2 * ldc)).intoArray(c, ci + 2 * ldc);
            c30.add(FloatVector.fromArray(FS, c, ci + 3 * ldc)).intoArray(c, ci + 3 * ldc);
            c40.add(FloatVector.fromArray(FS, c, ci + 4 * ldc)).intoArray(c, ci + 4 * ldc);
            c50.add(FloatVector.fromArray(FS, c, ci + 5 * ldc)).intoArray(c, ci + 5 * ldc);
        } else {
            c00.intoArray(c, ci);
            c10.intoArray(c, ci + ldc);
            c20.intoArray(c, ci + 2 * ldc);
            c30.intoArray(c, ci + 3 * ldc);
            c40.intoArray(c, ci + 4 * ldc);
            c50.intoArray(c, ci + 5 * ldc);
        }
    }

    static void strided4(float[] a, int a0, int a1, int a2, int a3, int a4, int a5, int ak,
                        float[] b, int bi, int bk, int kc, float[] c, int ci, int ldc, boolean add) {
        FloatVector c00 = FloatVector.zero(FS);
        FloatVector c01 = c00;
        FloatVector c02 = c00;
        FloatVector c03 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c12 = c00;
        FloatVector c13 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c22 = c00;
        FloatVector c23 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c32 = c00;
        FloatVector c33 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c42 = c00;
        FloatVector c43 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        FloatVector c52 = c00;
        FloatVector c53 = c00;
        for (int q = 0, ia = 0, ib = bi; q < kc; q++, ia += ak, ib += bk) {
            FloatVector b0 = FloatVector.fromArray(FS, b, ib);
            FloatVector b1 = FloatVector.fromArray(FS, b, ib + FL);
            FloatVector b2 = FloatVector.fromArray(FS, b, ib + 2 * FL);
            FloatVector b3 = FloatVector.fromArray(FS, b, ib + 3 * FL);
            FloatVector x = FloatVector.broadcast(FS, a[a0 + ia]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02); c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(FS, a[a1 + ia]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12); c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(FS, a[a2 + ia]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22); c23 = b3.fma(x, c23);
            x = FloatVector.broadcast(FS, a[a3 + ia]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32); c33 = b3.fma(x, c33);
            x = FloatVector.broadcast(FS, a[a4 + ia]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); c42 = b2.fma(x, c42); c43 = b3.fma(x, c43);
            x = FloatVector.broadcast(FS, a[a5 + ia]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); c52 = b2.fma(x, c52); c53 = b3.fma(x, c53);
        }
        if (add) {
            c00.add(FloatVector.fromArray(FS, c, ci)).intoArray(c, ci);
            c01.add(FloatVector.fromArray(FS, c, ci + FL)).intoArray(c, ci + FL);
            c02.add(FloatVector.fromArray(FS, c, ci + 2 * FL)).intoArray(c, ci + 2 * FL);
            c03.add(FloatVector.fromArray(FS, c, ci + 3 * FL)).intoArray(c, ci + 3 * FL);
            c10.add(FloatVector.fromArray(FS, c, ci + ldc)).intoArray(c, ci + ldc);
            c11.add(FloatVector.fromArray(FS, c, ci + ldc + FL)).intoArray(c, ci + ldc + FL);
            c12.add(FloatVector.fromArray(FS, c, ci + ldc + 2 * FL)).intoArray(c, ci + ldc + 2 * FL);
            c13.add(FloatVector.fromArray(FS, c, ci + ldc + 3 * FL)).intoArray(c, ci + ldc + 3 * FL);
            c20.add(FloatVector.fromArray(FS, c, ci + 2 * ldc)).intoArray(c, ci + 2 * ldc);
            c21.add(FloatVector.fromArray(FS, c, ci + 2 * ldc + FL)).intoArray(c, ci + 2 * ldc + FL);
            c22.add(FloatVector.fromArray(FS, c, ci + 2 * ldc + 2 * FL)).intoArray(c, ci + 2 * ldc + 2 * FL);
            c23.add(FloatVector.fromArray(FS, c, ci + 2 * ldc + 3 * FL)).intoArray(c, ci + 2 * ldc + 3 * FL);
            c30.add(FloatVector.fromArray(FS, c, ci + 3 * ldc)).intoArray(c, ci + 3 * ldc);
            c31.add(FloatVector.fromArray(FS, c, ci + 3 * ldc + FL)).intoArray(c, ci + 3 * ldc + FL);
            c32.add(FloatVector.fromArray(FS, c, ci + 3 * ldc + 2 * FL)).intoArray(c, ci + 3 * ldc + 2 * FL);
            c33.add(FloatVector.fromArray(FS, c, ci + 3 * ldc + 3 * FL)).intoArray(c, ci + 3 * ldc + 3 * FL);
            c40.add(FloatVector.fromArray(FS, c, ci + 4 * ldc)).intoArray(c, ci + 4 * ldc);
            c41.add(FloatVector.fromArray(FS, c, ci + 4 * ldc + FL)).intoArray(c, ci + 4 * ldc + FL);
            c42.add(FloatVector.fromArray(FS, c, ci + 4 * ldc + 2 * FL)).intoArray(c, ci + 4 * ldc + 2 * FL);
            c43.add(FloatVector.fromArray(FS, c, ci + 4 * ldc + 3 * FL)).intoArray(c, ci + 4 * ldc + 3 * FL);
            c50.add(FloatVector.fromArray(FS, c, ci + 5 * ldc)).intoArray(c, ci + 5 * ldc);
            c51.add(FloatVector.fromArray(FS, c, ci + 5 * ldc + FL)).intoArray(c, ci + 5 * ldc + FL);
            c52.add(FloatVector.fromArray(FS, c, ci + 5 * ldc + 2 * FL)).intoArray(c, ci + 5 * ldc + 2 * FL);
            c53.add(FloatVector.fromArray(FS, c, ci + 5 * ldc + 3 * FL)).intoArray(c, ci + 5 * ldc + 3 * FL);
        } else {
            c00.intoArray(c, ci);
            c01.intoArray(c, ci + FL);
            c02.intoArray(c, ci + 2 * FL);
            c03.intoArray(c, ci + 3 * FL);
            c10.intoArray(c, ci + ldc);
            c11.intoArray(c, ci + ldc + FL);
            c12.intoArray(c, ci + ldc + 2 * FL);
            c13.intoArray(c, ci + ldc + 3 * FL);
            c20.intoArray(c, ci + 2 * ldc);
            c21.intoArray(c, ci + 2 * ldc + FL);
            c22.intoArray(c, ci + 2 * ldc + 2 * FL);
            c23.intoArray(c, ci + 2 * ldc + 3 * FL);
            c30.intoArray(c, ci + 3 * ldc);
            c31.intoArray(c, ci + 3 * ldc + FL);
            c32.intoArray(c, ci + 3 * ldc + 2 * FL);
            c33.intoArray(c, ci + 3 * ldc + 3 * FL);
            c40.intoArray(c, ci + 4 * ldc);
            c41.intoArray(c, ci + 4 * ldc + FL);
            c42.intoArray(c, ci + 4 * ldc + 2 * FL);
            c43.intoArray(c, ci + 4 * ldc + 3 * FL);
            c50.intoArray(c, ci + 5 * ldc);
            c51.intoArray(c, ci + 5 * ldc + FL);
            c52.intoArray(c, ci + 5 * ldc + 2 * FL);
            c53.intoArray(c, ci + 5 * ldc + 3 * FL);
        }
    }

    static void strided2(float[] a, int a0, int a1, int a2, int a3, int a4, int a5, int ak,
                        float[] b, int bi, int bk, int kc, float[] c, int ci, int ldc, boolean add) {
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
        for (int q = 0, ia = 0, ib = bi; q < kc; q++, ia += ak, ib += bk) {
            FloatVector b0 = FloatVector.fromArray(FS, b, ib);
            FloatVector b1 = FloatVector.fromArray(FS, b, ib + FL);
            FloatVector x = FloatVector.broadcast(FS, a[a0 + ia]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(FS, a[a1 + ia]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(FS, a[a2 + ia]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(FS, a[a3 + ia]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(FS, a[a4 + ia]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(FS, a[a5 + ia]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51);
        }
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

    static void strided1(float[] a, int a0, int a1, int a2, int a3, int a4, int a5, int ak,
                        float[] b, int bi, int bk, int kc, float[] c, int ci, int ldc, boolean add) {
        FloatVector c00 = FloatVector.zero(FS);
        FloatVector c10 = c00;
        FloatVector c20 = c00;
        FloatVector c30 = c00;
        FloatVector c40 = c00;
        FloatVector c50 = c00;
        for (int q = 0, ia = 0, ib = bi; q < kc; q++, ia += ak, ib += bk) {
            FloatVector b0 = FloatVector.fromArray(FS, b, ib);
            FloatVector x = FloatVector.broadcast(FS, a[a0 + ia]);
            c00 = b0.fma(x, c00);
            x = FloatVector.broadcast(FS, a[a1 + ia]);
            c10 = b0.fma(x, c10);
            x = FloatVector.broadcast(FS, a[a2 + ia]);
            c20 = b0.fma(x, c20);
            x = FloatVector.broadcast(FS, a[a3 + ia]);
            c30 = b0.fma(x, c30);
            x = FloatVector.broadcast(FS, a[a4 + ia]);
            c40 = b0.fma(x, c40);
            x = FloatVector.broadcast(FS, a[a5 + ia]);
            c50 = b0.fma(x, c50);
        }
        if (add) {
            c00.add(FloatVector.fromArray(FS, c, ci)).intoArray(c, ci);
            c10.add(FloatVector.fromArray(FS, c, ci + ldc)).intoArray(c, ci + ldc);
            c20.add(FloatVector.fromArray(FS, c, ci + 2 * ldc)).intoArray(c, ci + 2 * ldc);
            c30.add(FloatVector.fromArray(FS, c, ci + 3 * ldc)).intoArray(c, ci + 3 * ldc);
            c40.add(FloatVector.fromArray(FS, c, ci + 4 * ldc)).intoArray(c, ci + 4 * ldc);
            c50.add(FloatVector.fromArray(FS, c, ci + 5 * ldc)).intoArray(c, ci + 5 * ldc);
        } else {
            c00.intoArray(c, ci);
            c10.intoArray(c, ci + ldc);
            c20.intoArray(c, ci + 2 * ldc);
            c30.intoArray(c, ci + 3 * ldc);
            c40.intoArray(c, ci + 4 * ldc);
            c50.intoArray(c, ci + 5 * ldc);
        }
    }
}
