package dev.spool.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vectorised form of {@link Reduction}'s column loop order (a row-major matrix reduced over
 * its first axis, as bias gradients are): a run of {@code n} adjacent outputs, each reduced
 * element being a contiguous row of {@code n} values, is folded a whole row at a time.
 *
 * <p>SUM keeps {@link Reduction}'s arithmetic exactly, so a column sum has the bits of the same
 * numbers summed row-wise: the {@link DoubleLane#SUM_LANES} partial sums by element index,
 * in double, combined by {@link DoubleLane#total}'s pairwise tree. What changes is the order
 * of memory accesses: the rows {@code e, e+16, e+32, e+48} all belong to the same partial sum
 * and are added to it in that order in registers, so the partial sums are loaded and stored
 * once per four rows instead of once per row (they are 16 rows of n doubles, in L1 or L2,
 * while the source streams from memory). MAX and MIN need no partial sums: any order of
 * {@link Math#max}/{@link Math#min} gives the same value (NaN wins, +0 beats -0), so they fold
 * rows straight into the output.
 *
 * <p>Only loaded when {@link VectorSupport#ENABLED}.
 */
final class ColumnReduction {
    // the preferred species only: a second shape slows every other kernel (see SimdReduction)
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Doubles per vector; a float vector holds twice as many. */
    private static final int DL = D.length();
    private static final int LANES = DoubleLane.SUM_LANES;
    /** Rows per partial sum folded in registers before the sum goes back to memory. */
    private static final int DEPTH = 4;
    private static final int TILE = LANES * DEPTH;

    private ColumnReduction() {
    }

    /**
     * Adds the rows at {@code rows[0..m)} (element indices 0..m-1 of one block) of {@code n}
     * values each into {@code sums}, partial sum {@code k} at {@code [k*n, (k+1)*n)} receiving
     * the rows whose index is k mod 16, in order; then leaves each output's block total (the
     * pairwise tree over the 16 partial sums) in {@code sums[0..n)}. {@code sums} must hold
     * {@code 16 * n} zeros. {@code src} is float[] or double[].
     */
    static void sumBlock(Object src, int[] rows, int m, int n, double[] sums) {
        int tiles = m / TILE;
        if (src instanceof float[] a) {
            for (int t = 0; t < tiles; t++) {
                for (int k = 0; k < LANES; k++) {
                    int r = t * TILE + k;
                    addRows(sums, k * n, a, rows[r], rows[r + LANES], rows[r + 2 * LANES], rows[r + 3 * LANES], n);
                }
            }
            for (int e = tiles * TILE; e < m; e++) {
                addRow(sums, (e & (LANES - 1)) * n, a, rows[e], n);
            }
        } else {
            double[] a = (double[]) src;
            for (int t = 0; t < tiles; t++) {
                for (int k = 0; k < LANES; k++) {
                    int r = t * TILE + k;
                    addRows(sums, k * n, a, rows[r], rows[r + LANES], rows[r + 2 * LANES], rows[r + 3 * LANES], n);
                }
            }
            for (int e = tiles * TILE; e < m; e++) {
                addRow(sums, (e & (LANES - 1)) * n, a, rows[e], n);
            }
        }
        // DoubleLane.total's pairwise tree, for every output at once
        for (int w = 1; w < LANES; w *= 2) {
            for (int k = 0; k < LANES; k += 2 * w) {
                addInto(sums, k * n, (k + w) * n, n);
            }
        }
    }

    /** {@code s[q + t] = (((s[q + t] + a[r0 + t]) + a[r1 + t]) + a[r2 + t]) + a[r3 + t]}, widened. */
    private static void addRows(double[] s, int q, float[] a, int r0, int r1, int r2, int r3, int n) {
        int t = 0;
        for (; t <= n - 2 * DL; t += 2 * DL) { // each column on its own: the lane layout changes no sum
            FloatVector x0 = FloatVector.fromArray(F, a, r0 + t);
            FloatVector x1 = FloatVector.fromArray(F, a, r1 + t);
            FloatVector x2 = FloatVector.fromArray(F, a, r2 + t);
            FloatVector x3 = FloatVector.fromArray(F, a, r3 + t);
            DoubleVector.fromArray(D, s, q + t)
                    .add(SimdReduction.widen(x0, 0))
                    .add(SimdReduction.widen(x1, 0))
                    .add(SimdReduction.widen(x2, 0))
                    .add(SimdReduction.widen(x3, 0))
                    .intoArray(s, q + t);
            DoubleVector.fromArray(D, s, q + t + DL)
                    .add(SimdReduction.widen(x0, 1))
                    .add(SimdReduction.widen(x1, 1))
                    .add(SimdReduction.widen(x2, 1))
                    .add(SimdReduction.widen(x3, 1))
                    .intoArray(s, q + t + DL);
        }
        for (; t < n; t++) {
            s[q + t] = (((s[q + t] + a[r0 + t]) + a[r1 + t]) + a[r2 + t]) + a[r3 + t];
        }
    }

    private static void addRows(double[] s, int q, double[] a, int r0, int r1, int r2, int r3, int n) {
        int t = 0;
        for (; t <= n - DL; t += DL) {
            DoubleVector.fromArray(D, s, q + t)
                    .add(DoubleVector.fromArray(D, a, r0 + t))
                    .add(DoubleVector.fromArray(D, a, r1 + t))
                    .add(DoubleVector.fromArray(D, a, r2 + t))
                    .add(DoubleVector.fromArray(D, a, r3 + t))
                    .intoArray(s, q + t);
        }
        for (; t < n; t++) {
            s[q + t] = (((s[q + t] + a[r0 + t]) + a[r1 + t]) + a[r2 + t]) + a[r3 + t];
        }
    }

    private static void addRow(double[] s, int q, float[] a, int r, int n) {
        SimdReduction.addInto(s, q, a, r, n);
    }

    private static void addRow(double[] s, int q, double[] a, int r, int n) {
        int t = 0;
        for (; t <= n - DL; t += DL) {
            DoubleVector.fromArray(D, s, q + t).add(DoubleVector.fromArray(D, a, r + t)).intoArray(s, q + t);
        }
        for (; t < n; t++) {
            s[q + t] += a[r + t];
        }
    }

    /** {@code s[q + t] += s[r + t]} for {@code t < n}. */
    private static void addInto(double[] s, int q, int r, int n) {
        int t = 0;
        for (; t <= n - DL; t += DL) {
            DoubleVector.fromArray(D, s, q + t).add(DoubleVector.fromArray(D, s, r + t)).intoArray(s, q + t);
        }
        for (; t < n; t++) {
            s[q + t] += s[r + t];
        }
    }

    /**
     * Folds the rows at {@code rows[0..m)}, {@code n} values each, into {@code out[at..at+n)}
     * with {@link Math#max} (or {@link Math#min}), four rows per pass over the outputs;
     * {@code src} and {@code out} are both float[] or both double[].
     */
    static void extremeRows(boolean max, Object src, int[] rows, int m, int n, Object out, int at) {
        int e = 0;
        for (; e <= m - DEPTH; e += DEPTH) {
            extreme(max, src, rows[e], rows[e + 1], rows[e + 2], rows[e + 3], n, out, at);
        }
        for (; e < m; e++) {
            extreme(max, src, rows[e], rows[e], rows[e], rows[e], n, out, at); // max(x, x) is x
        }
    }

    private static void extreme(boolean max, Object src, int r0, int r1, int r2, int r3, int n, Object out, int at) {
        if (src instanceof float[] a) {
            float[] o = (float[]) out;
            int t = 0;
            for (; t <= n - F.length(); t += F.length()) {
                FloatVector v0 = FloatVector.fromArray(F, a, r0 + t);
                FloatVector v1 = FloatVector.fromArray(F, a, r1 + t);
                FloatVector v2 = FloatVector.fromArray(F, a, r2 + t);
                FloatVector v3 = FloatVector.fromArray(F, a, r3 + t);
                FloatVector acc = FloatVector.fromArray(F, o, at + t);
                acc = max ? acc.max(v0.max(v1)).max(v2.max(v3)) : acc.min(v0.min(v1)).min(v2.min(v3));
                acc.intoArray(o, at + t);
            }
            for (; t < n; t++) {
                float m01 = max ? Math.max(a[r0 + t], a[r1 + t]) : Math.min(a[r0 + t], a[r1 + t]);
                float m23 = max ? Math.max(a[r2 + t], a[r3 + t]) : Math.min(a[r2 + t], a[r3 + t]);
                o[at + t] = max ? Math.max(o[at + t], Math.max(m01, m23)) : Math.min(o[at + t], Math.min(m01, m23));
            }
        } else {
            double[] a = (double[]) src;
            double[] o = (double[]) out;
            int t = 0;
            for (; t <= n - D.length(); t += D.length()) {
                DoubleVector v0 = DoubleVector.fromArray(D, a, r0 + t);
                DoubleVector v1 = DoubleVector.fromArray(D, a, r1 + t);
                DoubleVector v2 = DoubleVector.fromArray(D, a, r2 + t);
                DoubleVector v3 = DoubleVector.fromArray(D, a, r3 + t);
                DoubleVector acc = DoubleVector.fromArray(D, o, at + t);
                acc = max ? acc.max(v0.max(v1)).max(v2.max(v3)) : acc.min(v0.min(v1)).min(v2.min(v3));
                acc.intoArray(o, at + t);
            }
            for (; t < n; t++) {
                double m01 = max ? Math.max(a[r0 + t], a[r1 + t]) : Math.min(a[r0 + t], a[r1 + t]);
                double m23 = max ? Math.max(a[r2 + t], a[r3 + t]) : Math.min(a[r2 + t], a[r3 + t]);
                o[at + t] = max ? Math.max(o[at + t], Math.max(m01, m23)) : Math.min(o[at + t], Math.min(m01, m23));
            }
        }
    }
}
