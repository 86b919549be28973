package dev.spool.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD form of the floating SUM's partial sums ({@link DoubleLane#sumByIndex}): the same
 * sixteen sums by element index, held in two 8-double or four 4-double vectors, so every sum
 * receives the same elements in the same order and the results are bit for bit those of the
 * scalar loop (and so still independent of layout and threads). float32 is widened to double as it is loaded.
 *
 * <p>Also the floating MAX and MIN of contiguous runs ({@link #extreme}).
 *
 * <p>Only loaded when {@link VectorSupport#ENABLED}.
 */
final class SimdReduction {
    /*
     * One species per element type, the preferred ones, as every other kernel uses: on JDK 17 a
     * second float shape anywhere in the process (this class once loaded 4-float vectors) makes
     * the type profiles inside FloatVector's shared methods bimorphic, after which C2 cannot
     * intrinsify loads and stores in other kernels' loops and runs the Java fallback (measured:
     * the attention forward at [64, 4, 17, 16] went from 0.41 to 1.5 ms once a sum had run).
     */
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final int LANES = DoubleLane.SUM_LANES;
    /**
     * 4- or 8-double vectors (AVX, AVX-512), which tile the sixteen sums; elsewhere (narrower
     * vectors, or wider than sixteen floats) the scalar loop.
     */
    private static final boolean NATIVE = (D.length() == 4 || D.length() == 8) && F.length() == 2 * D.length();

    private SimdReduction() {
    }

    /** Lanes {@code [part * D.length(), (part + 1) * D.length())} of {@code x}, widened to double. */
    static DoubleVector widen(FloatVector x, int part) {
        return (DoubleVector) x.convertShape(VectorOperators.F2D, D, part);
    }

    /** {@link DoubleLane#sumByIndex(float[], int, int, long, double[])}, vectorised. */
    static void sumByIndex(float[] a, int p, int n, long first, double[] sums) {
        int head = NATIVE ? (int) Math.min(n, (-first) & (LANES - 1)) : n;
        DoubleLane.sumByIndex(a, p, head, first, sums); // up to an element index that is 0 mod 16
        int body = (n - head) - (n - head) % LANES;
        if (body > 0 && D.length() == 8) { // sums 0-7 and 8-15 from one 16-float load
            DoubleVector s0 = DoubleVector.fromArray(D, sums, 0);
            DoubleVector s1 = DoubleVector.fromArray(D, sums, 8);
            for (int t = p + head, end = p + head + body; t < end; t += LANES) {
                FloatVector x = FloatVector.fromArray(F, a, t);
                s0 = s0.add(widen(x, 0));
                s1 = s1.add(widen(x, 1));
            }
            s0.intoArray(sums, 0);
            s1.intoArray(sums, 8);
        } else if (body > 0) { // four sums of 4 from two 8-float loads
            DoubleVector s0 = DoubleVector.fromArray(D, sums, 0);
            DoubleVector s1 = DoubleVector.fromArray(D, sums, 4);
            DoubleVector s2 = DoubleVector.fromArray(D, sums, 8);
            DoubleVector s3 = DoubleVector.fromArray(D, sums, 12);
            for (int t = p + head, end = p + head + body; t < end; t += LANES) {
                FloatVector x = FloatVector.fromArray(F, a, t);
                FloatVector y = FloatVector.fromArray(F, a, t + 8);
                s0 = s0.add(widen(x, 0));
                s1 = s1.add(widen(x, 1));
                s2 = s2.add(widen(y, 0));
                s3 = s3.add(widen(y, 1));
            }
            s0.intoArray(sums, 0);
            s1.intoArray(sums, 4);
            s2.intoArray(sums, 8);
            s3.intoArray(sums, 12);
        }
        DoubleLane.sumByIndex(a, p + head + body, n - head - body, first + head + body, sums);
    }

    /** {@link DoubleLane#sumByIndex(double[], int, int, long, double[])}, vectorised. */
    static void sumByIndex(double[] a, int p, int n, long first, double[] sums) {
        int head = NATIVE ? (int) Math.min(n, (-first) & (LANES - 1)) : n;
        DoubleLane.sumByIndex(a, p, head, first, sums);
        int body = (n - head) - (n - head) % LANES;
        if (body > 0 && D.length() == 8) {
            DoubleVector s0 = DoubleVector.fromArray(D, sums, 0);
            DoubleVector s1 = DoubleVector.fromArray(D, sums, 8);
            for (int t = p + head, end = p + head + body; t < end; t += LANES) {
                s0 = s0.add(DoubleVector.fromArray(D, a, t));
                s1 = s1.add(DoubleVector.fromArray(D, a, t + 8));
            }
            s0.intoArray(sums, 0);
            s1.intoArray(sums, 8);
        } else if (body > 0) {
            DoubleVector s0 = DoubleVector.fromArray(D, sums, 0);
            DoubleVector s1 = DoubleVector.fromArray(D, sums, 4);
            DoubleVector s2 = DoubleVector.fromArray(D, sums, 8);
            DoubleVector s3 = DoubleVector.fromArray(D, sums, 12);
            for (int t = p + head, end = p + head + body; t < end; t += LANES) {
                s0 = s0.add(DoubleVector.fromArray(D, a, t));
                s1 = s1.add(DoubleVector.fromArray(D, a, t + 4));
                s2 = s2.add(DoubleVector.fromArray(D, a, t + 8));
                s3 = s3.add(DoubleVector.fromArray(D, a, t + 12));
            }
            s0.intoArray(sums, 0);
            s1.intoArray(sums, 4);
            s2.intoArray(sums, 8);
            s3.intoArray(sums, 12);
        }
        DoubleLane.sumByIndex(a, p + head + body, n - head - body, first + head + body, sums);
    }

    /** {@code s[q + t] += a[p + t]} for {@code t < n}, widening to double (a column sum's row). */
    static void addInto(double[] s, int q, float[] a, int p, int n) {
        int t = 0;
        if (NATIVE) {
            int dl = D.length();
            for (; t + 2 * dl <= n; t += 2 * dl) {
                FloatVector x = FloatVector.fromArray(F, a, p + t);
                DoubleVector.fromArray(D, s, q + t).add(widen(x, 0)).intoArray(s, q + t);
                DoubleVector.fromArray(D, s, q + t + dl).add(widen(x, 1)).intoArray(s, q + t + dl);
            }
        }
        for (; t < n; t++) {
            s[q + t] += a[p + t];
        }
    }

    /**
     * The largest (or smallest) of {@code n >= 0} contiguous float32 or float64 elements of
     * {@code array} from {@code p}, with {@link Math#max}/{@link Math#min} semantics (NaN if any
     * is NaN; +0 above -0); -Inf (+Inf) when n is 0.
     */
    static double extreme(boolean max, Object array, int p, int n) {
        return array instanceof float[] a ? extreme(max, a, p, n) : extreme(max, (double[]) array, p, n);
    }

    private static double extreme(boolean max, float[] a, int p, int n) {
        float init = max ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
        FloatVector acc = FloatVector.broadcast(F, init);
        int t = 0;
        for (; t <= n - F.length(); t += F.length()) {
            FloatVector v = FloatVector.fromArray(F, a, p + t);
            acc = max ? acc.max(v) : acc.min(v);
        }
        float m = acc.reduceLanes(max ? VectorOperators.MAX : VectorOperators.MIN);
        for (; t < n; t++) {
            m = max ? Math.max(m, a[p + t]) : Math.min(m, a[p + t]);
        }
        return m;
    }

    private static double extreme(boolean max, double[] a, int p, int n) {
        double init = max ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        DoubleVector acc = DoubleVector.broadcast(D, init);
        int t = 0;
        for (; t <= n - D.length(); t += D.length()) {
            DoubleVector v = DoubleVector.fromArray(D, a, p + t);
            acc = max ? acc.max(v) : acc.min(v);
        }
        double m = acc.reduceLanes(max ? VectorOperators.MAX : VectorOperators.MIN);
        for (; t < n; t++) {
            m = max ? Math.max(m, a[p + t]) : Math.min(m, a[p + t]);
        }
        return m;
    }
}
