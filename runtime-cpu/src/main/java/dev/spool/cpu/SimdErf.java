package dev.spool.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Float32Erf}'s erf, exact GELU and GELU gradient on the Vector API: the same formulas in
 * double lanes, with an exp of its own (JDK 17's {@code VectorOperators.EXP} calls the scalar library per lane). The
 * exp is Cody–Waite reduction by ln 2 and a degree-11 Taylor polynomial, relative error below
 * 1e-13, far inside erfcc's 1.2e-7; its argument is clamped to [-700, 700], where every result
 * that survives the rounding to float32 lies. So a result differs from the scalar loop's by at
 * most one float32 rounding step, and stays within GeluAccuracyTest's bounds.
 *
 * <p>Every element goes through the same vector code (the last partial vector padded with
 * zeros), so a result never depends on where a parallel split or a segment boundary falls.
 *
 * <p>A chunk at a time: widen the floats into double scratch arrays, then passes that are each
 * one short loop over whole double vectors, then narrow back. No vector crosses a method call,
 * and the conversions (float/double, and double/long bits for 2^k) are scalar loops: written as
 * functions of vectors (exp inside erfc inside the loop) and with the API's conversions, JDK 17's
 * C2 passed vectors boxed and ran some ops in the API's Java fallback, 28% of a transformer
 * step (JFR).
 *
 * <p>Only loaded when {@link VectorSupport#ENABLED}.
 */
final class SimdErf {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final int DL = D.length();

    private static final double LOG2E = 1.4426950408889634;
    private static final double LN2_HI = 6.93147180369123816490e-01; // trailing zeros: n * LN2_HI exact
    private static final double LN2_LO = 1.90821492927058770002e-10;
    /** 1.5 * 2^52: adding and subtracting it rounds a double below 2^51 in magnitude to an integer. */
    private static final double SHIFTER = 0x1.8p52;

    private SimdErf() {
    }

    /** Floats per chunk: the scratch arrays of doubles stay in L1. */
    private static final int CHUNK = 512;

    /** Scratch for one call: the arguments widened and the passes' intermediates. */
    private static final class Scratch {
        final double[] a;
        final double[] b;
        final double[] c;
        final double[] d;
        final double[] e;

        Scratch(int n) {
            int len = Math.min(CHUNK, roundUp(n));
            a = new double[len];
            b = new double[len];
            c = new double[len];
            d = new double[len];
            e = new double[len];
        }
    }

    private static int roundUp(int m) {
        return (m + DL - 1) / DL * DL;
    }

    // ---- the float32 loops ------------------------------------------------------------------------

    static void erf(float[] x, int px, float[] r, int pr, int n) {
        Scratch s = new Scratch(n);
        for (int c = 0; c < n; c += CHUNK) {
            int m = Math.min(CHUNK, n - c);
            int mp = widen(x, px + c, m, s.a);
            abs(s.a, s.b, mp);
            erfc(s.b, s.c, s.d, s.e, mp); // c = erfc(|x|)
            erfFinish(s.a, s.c, mp);
            narrow(s.c, m, r, pr + c);
        }
    }

    static void gelu(float[] x, int px, float[] r, int pr, int n) {
        Scratch s = new Scratch(n);
        for (int c = 0; c < n; c += CHUNK) {
            int m = Math.min(CHUNK, n - c);
            int mp = widen(x, px + c, m, s.a);
            scale(s.a, -ErfMath.INV_SQRT2, s.b, mp);
            erfc(s.b, s.c, s.d, s.e, mp); // c = erfc(-x/√2)
            halfTimes(s.a, s.c, mp); // c = (0.5 x) c
            narrow(s.c, m, r, pr + c);
        }
    }

    /**
     * {@code r = g * gelu'(x)} as {@link Float32Erf#geluGrad}: {@code g * (Φ(x) + x φ(x))}, with
     * Φ(x) = erfc(-x/√2)/2 and x φ(x) = x/√(2π) e^(-x²/2).
     */
    static void geluGrad(float[] g, int pg, float[] x, int px, float[] r, int pr, int n) {
        Scratch s = new Scratch(n);
        for (int c = 0; c < n; c += CHUNK) {
            int m = Math.min(CHUNK, n - c);
            int mp = widen(x, px + c, m, s.a);
            scale(s.a, -ErfMath.INV_SQRT2, s.b, mp);
            erfc(s.b, s.c, s.d, s.e, mp); // c = erfc(-x/√2)
            halfSquare(s.a, s.b, mp); // b = (-0.5 x) x
            exp(s.b, s.e, mp);
            widen(g, pg + c, m, s.d);
            geluGradFinish(s.a, s.b, s.c, s.d, mp); // d = g (0.5 c + (x/√(2π)) b)
            narrow(s.d, m, r, pr + c);
        }
    }

    /**
     * {@code a[0..m)} = x[p..p+m) widened, then zeros to a whole number of vectors; that
     * count. Scalar: JDK 17 compiles the Vector API's float/double conversions to its Java
     * fallback, and a scalar conversion costs a cycle.
     */
    private static int widen(float[] x, int p, int m, double[] a) {
        for (int t = 0; t < m; t++) {
            a[t] = x[p + t];
        }
        int mp = roundUp(m);
        java.util.Arrays.fill(a, m, mp, 0);
        return mp;
    }

    /** {@code r[p..p+m)} = a[0..m) rounded to float. */
    private static void narrow(double[] a, int m, float[] r, int p) {
        for (int t = 0; t < m; t++) {
            r[p + t] = (float) a[t];
        }
    }

    // ---- the passes, each over whole double vectors -----------------------------------------------

    /**
     * {@code y[i] = e^y[i]} in place, relative error below 1e-13 for y in [-700, 700]; y is clamped
     * to that range (NaN stays NaN). Cody–Waite reduction by ln 2, a degree-11 Taylor polynomial,
     * 2^k put together from bits. {@code n} is scratch.
     */
    static void exp(double[] y, double[] n, int m) {
        DoubleVector shifter = DoubleVector.broadcast(D, SHIFTER);
        for (int i = 0; i < m; i += D.length()) {
            DoubleVector yc = DoubleVector.fromArray(D, y, i).max(-700.0).min(700.0);
            DoubleVector k = yc.mul(LOG2E).add(shifter).sub(shifter); // round(y / ln 2)
            DoubleVector r = k.mul(-LN2_HI).add(yc).sub(k.mul(LN2_LO)); // y - k ln 2, |r| <= 0.35
            // 1 + r + r^2/2! + ... + r^11/11!: the next term is below 1.1e-13 of the sum
            r.mul(1.0 / 39916800).add(1.0 / 3628800)
                    .mul(r).add(1.0 / 362880)
                    .mul(r).add(1.0 / 40320)
                    .mul(r).add(1.0 / 5040)
                    .mul(r).add(1.0 / 720)
                    .mul(r).add(1.0 / 120)
                    .mul(r).add(1.0 / 24)
                    .mul(r).add(1.0 / 6)
                    .mul(r).add(0.5)
                    .mul(r).add(1.0)
                    .mul(r).add(1.0)
                    .intoArray(y, i);
            k.intoArray(n, i);
        }
        // times 2^k, a normal double for |k| <= 1010, from its bits (scalar: JDK 17 does not
        // compile the API's reinterpretations between double and long lanes)
        for (int i = 0; i < m; i++) {
            y[i] *= Double.longBitsToDouble(((long) n[i] + 1023) << 52);
        }
    }

    /** {@code out = erfc(x)} as {@link Float32Erf#erfc}; {@code t} and {@code n} are scratch. */
    static void erfc(double[] x, double[] out, double[] t, double[] n, int m) {
        erfcArgument(x, t, out, m); // t = 1/(1 + |x|/2), out = -x² + poly(t)
        exp(out, n, m);
        erfcFinish(x, t, out, m);
    }

    private static void erfcArgument(double[] x, double[] tOut, double[] yOut, int m) {
        DoubleVector one = DoubleVector.broadcast(D, 1.0);
        for (int i = 0; i < m; i += D.length()) {
            DoubleVector z = DoubleVector.fromArray(D, x, i).abs();
            DoubleVector t = one.div(z.mul(0.5).add(1.0));
            DoubleVector p = t.mul(0.17087277).add(-0.82215223)
                    .mul(t).add(1.48851587)
                    .mul(t).add(-1.13520398)
                    .mul(t).add(0.27886807)
                    .mul(t).add(-0.18628806)
                    .mul(t).add(0.09678418)
                    .mul(t).add(0.37409196)
                    .mul(t).add(1.00002368)
                    .mul(t).add(-1.26551223);
            t.intoArray(tOut, i);
            z.neg().mul(z).add(p).intoArray(yOut, i);
        }
    }

    /** {@code out = r} for x >= 0, else {@code 2 - r}, with {@code r = t * out}. */
    private static void erfcFinish(double[] x, double[] t, double[] out, int m) {
        DoubleVector two = DoubleVector.broadcast(D, 2.0);
        for (int i = 0; i < m; i += D.length()) {
            DoubleVector r = DoubleVector.fromArray(D, t, i).mul(DoubleVector.fromArray(D, out, i));
            DoubleVector nonNegative = DoubleVector.fromArray(D, x, i);
            two.sub(r).blend(r, nonNegative.compare(VectorOperators.GE, 0.0)).intoArray(out, i);
        }
    }

    private static void abs(double[] x, double[] out, int m) {
        for (int i = 0; i < m; i += D.length()) {
            DoubleVector.fromArray(D, x, i).abs().intoArray(out, i);
        }
    }

    private static void scale(double[] x, double f, double[] out, int m) {
        for (int i = 0; i < m; i += D.length()) {
            DoubleVector.fromArray(D, x, i).mul(f).intoArray(out, i);
        }
    }

    /** {@code e = erf(x)} from {@code e = erfc(|x|)}: the Maclaurin series below |x| = 0.5. */
    private static void erfFinish(double[] x, double[] e, int m) {
        for (int i = 0; i < m; i += D.length()) {
            DoubleVector v = DoubleVector.fromArray(D, x, i);
            DoubleVector x2 = v.mul(v);
            DoubleVector s = x2.mul(1.0 / 9360).add(-1.0 / 1320)
                    .mul(x2).add(1.0 / 216)
                    .mul(x2).add(-1.0 / 42)
                    .mul(x2).add(1.0 / 10)
                    .mul(x2).add(-1.0 / 3)
                    .mul(x2).add(1.0);
            DoubleVector series = v.mul(ErfMath.TWO_OVER_SQRT_PI).mul(s);
            DoubleVector r = DoubleVector.broadcast(D, 1.0).sub(DoubleVector.fromArray(D, e, i));
            DoubleVector far = r.blend(r.neg(), v.compare(VectorOperators.LT, 0.0));
            far.blend(series, v.abs().compare(VectorOperators.LT, 0.5)).intoArray(e, i);
        }
    }

    /** {@code c = (0.5 x) c}. */
    private static void halfTimes(double[] x, double[] c, int m) {
        for (int i = 0; i < m; i += D.length()) {
            DoubleVector.fromArray(D, x, i).mul(0.5).mul(DoubleVector.fromArray(D, c, i)).intoArray(c, i);
        }
    }

    /** {@code out = (-0.5 x) x}. */
    private static void halfSquare(double[] x, double[] out, int m) {
        for (int i = 0; i < m; i += D.length()) {
            DoubleVector v = DoubleVector.fromArray(D, x, i);
            v.mul(-0.5).mul(v).intoArray(out, i);
        }
    }

    /** {@code g = g (0.5 c + (x/√(2π)) e)}: c = erfc(-x/√2), e = e^(-x²/2). */
    private static void geluGradFinish(double[] x, double[] e, double[] c, double[] g, int m) {
        for (int i = 0; i < m; i += D.length()) {
            DoubleVector cdf = DoubleVector.fromArray(D, c, i).mul(0.5);
            DoubleVector pdf = DoubleVector.fromArray(D, x, i).mul(ErfMath.INV_SQRT_2PI)
                    .mul(DoubleVector.fromArray(D, e, i));
            DoubleVector.fromArray(D, g, i).mul(cdf.add(pdf)).intoArray(g, i);
        }
    }
}
