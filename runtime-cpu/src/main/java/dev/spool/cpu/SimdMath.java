package dev.spool.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * float32 transcendental functions on the Vector API, written with arithmetic, FMAs and bit
 * operations only: on JDK 17 the API's own {@code VectorOperators.EXP}/{@code TANH} are not
 * compiled to vector code (they call the scalar library per lane), while these are. The
 * reductions and polynomials follow Cephes' single-precision functions ({@code expf},
 * {@code logf}, {@code tanhf}, {@code sinf}), as do SLEEF's and numpy's float32 SIMD loops, with
 * Cody–Waite range reduction on FMAs.
 *
 * <p>Errors against {@link StrictMath} in double, in units in the last place of the float32
 * result (MathAccuracyTest sweeps each function's range densely, points next to multiples of
 * pi/2, a quarter million random bit patterns and the special values, and asserts the bound; the
 * worst seen over 8M further inputs in brackets): exp ≤ 1.5 (0.99), log ≤ 1.5 (0.80), log1p ≤ 2
 * (1.44), tanh ≤ 2 (1.91, every float in [1e-5, 9.2] checked), sigmoid ≤ 2.5 (2.23), sin and cos ≤ 2 (1.55). The scalar path is
 * within 0.5 ulp. Special values are those of the
 * scalar path: NaN in gives NaN, exp(+Inf) = +Inf and exp(-Inf) = +0, exp overflows to +Inf
 * above ln(FLT_MAX) and underflows through the subnormals to +0, log(±0) = -Inf, log(x &lt; 0) =
 * NaN, log(+Inf) = +Inf (subnormal inputs are exact), log1p(-1) = -Inf, tanh saturates to ±1,
 * sigmoid never overflows (sigmoid(-Inf) = 0, sigmoid(+Inf) = 1), ±0 keep their sign where the
 * function is odd, and sin/cos of ±Inf are NaN. sin and cos reduce their argument exactly for
 * |x| ≤ {@link #TRIG_LIMIT}; lanes beyond it take the scalar path ({@link Math#sin} in double).
 *
 * <p>Only loaded when {@link VectorSupport#ENABLED}.
 */
final class SimdMath {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);

    /** |x| up to which sin/cos reduce exactly: n * (pi/2 - (P1 + P2 + P3)) stays below 2^-26 |r|. */
    static final float TRIG_LIMIT = 65536f;

    private SimdMath() {
    }

    /** A constant in every lane (the JIT hoists these out of loops). */
    private static FloatVector c(float v) {
        return FloatVector.broadcast(F, v);
    }

    /*
     * Each function is one loop over whole vectors (n a multiple of F.length()), its math
     * written out in the loop body: a vector handed to a method that C2 does not inline is boxed
     * on the heap (40 bytes an element, ten times slower), and C2 declines to inline methods
     * over 325 bytecodes or ones it already compiled on their own. tanh, sigmoid and log1p
     * reuse exp and log through a small scratch block instead of calling them per vector.
     */

    /** Scratch block of the composed functions: a few vectors, L1-resident. */
    private static final int BLOCK = 256;

    // ---- exp ---------------------------------------------------------------------------------

    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split so that n * LN2_HI is exact for |n| < 2^9 (Cephes' C1, C2). */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** Adding and subtracting 1.5 * 2^23 rounds to the nearest integer; the sum's low bits hold it. */
    private static final float ROUNDER = 12582912f;
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);
    /** exp(x) is +Inf above this (ln(FLT_MAX) = 88.7228...) and 0 below -104 (e^-104 < 2^-150). */
    private static final float EXP_HI = 88.8f;
    private static final float EXP_LO = -104f;

    /** {@code r[pr + t] = e^x[px + t]}; ≤ 1.5 ulp. */
    static void exp(float[] x, int px, float[] r, int pr, int n) {
        exp(x, px, r, pr, n, 1f, false);
    }

    /**
     * {@code r[pr + t] = e^(k * x)}, or {@code e^(k * |x|)} when {@code abs}: tanh and sigmoid
     * take their exponentials of -2|x| and -|x| from here, in their own pass over a scratch
     * block. This method is deliberately more than 325 bytecodes (C2's FreqInlineSize), so that
     * C2 compiles it on its own instead of inlining it into tanh: there the combined vector code
     * outgrows C2's inlining budget, the Vector API's intrinsics fall back to Java, and every
     * vector is boxed on the heap (measured: 43 bytes allocated per element, 10x slower).
     */
    private static void exp(float[] x, int px, float[] r, int pr, int n, float k, boolean abs) {
        for (int t = 0; t < n; t += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, px + t);
            if (abs) {
                v = v.abs();
            }
            if (k != 1f) {
                v = v.mul(k); // exact for k = -1, -2
            }
            FloatVector xc = v.max(EXP_LO).min(EXP_HI); // NaN stays NaN (max/min propagate it)
            FloatVector rounded = xc.fma(c(LOG2E), c(ROUNDER));
            FloatVector kf = rounded.sub(ROUNDER);
            IntVector ki = rounded.reinterpretAsInts().sub(ROUNDER_BITS);
            FloatVector u = kf.fma(c(-LN2_HI), xc);
            u = kf.fma(c(-LN2_LO), u); // |u| <= ln(2)/2
            // Cephes expf's minimax polynomial for e^u
            FloatVector p = u.fma(c(1.9875691500e-4f), c(1.3981999507e-3f));
            p = p.fma(u, c(8.3334519073e-3f));
            p = p.fma(u, c(4.1665795894e-2f));
            p = p.fma(u, c(1.6666665459e-1f));
            p = p.fma(u, c(5.0000001201e-1f));
            p = p.fma(u.mul(u), u).add(1f);
            // p * 2^k in two exact power-of-two steps (2^(k/2) and 2^(k - k/2) are both normal for
            // k in [-151, 129]), so the only rounding is the last, into the subnormals or to +Inf.
            IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1);
            IntVector k2 = ki.sub(k1);
            FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector s2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            p = p.mul(s1).mul(s2);
            p.blend(v, v.compare(VectorOperators.NE, v)).intoArray(r, pr + t); // NaN in, the same NaN out
        }
    }

    // ---- log, log1p ----------------------------------------------------------------------------

    private static final float SQRTHF = 0.707106781186547524f;
    private static final float TWO23 = 8388608f;

    /** {@code r[pr + t] = ln x[px + t]}; ≤ 1.5 ulp. r may be x. */
    static void log(float[] x, int px, float[] r, int pr, int n) {
        for (int t = 0; t < n; t += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, px + t);
            // Subnormals: scale by 2^23 into the normal range and take 23 off the exponent.
            VectorMask<Float> tiny = v.compare(VectorOperators.LT, Float.MIN_NORMAL);
            IntVector bits = v.blend(v.mul(TWO23), tiny).reinterpretAsInts();
            // v = m * 2^e with m in [0.5, 1)
            IntVector e = bits.lanewise(VectorOperators.LSHR, 23).and(0xff).sub(126);
            e = e.blend(e.sub(23), tiny.cast(I));
            FloatVector m = bits.and(0x807fffff).or(0x3f000000).reinterpretAsFloats();
            FloatVector ef = e.add(ROUNDER_BITS).reinterpretAsFloats().sub(ROUNDER); // exact
            // m < sqrt(1/2): 2m and e - 1, so that f = m - 1 lies in [sqrt(1/2) - 1, sqrt(2) - 1)
            VectorMask<Float> low = m.compare(VectorOperators.LT, SQRTHF);
            FloatVector f = m.blend(m.add(m), low).sub(1f);
            ef = ef.blend(ef.sub(1f), low);
            // Cephes logf: ln(1 + f) = f - f^2/2 + f^3 P(f), plus e ln 2 in two parts
            FloatVector z = f.mul(f);
            FloatVector p = f.fma(c(7.0376836292e-2f), c(-1.1514610310e-1f));
            p = p.fma(f, c(1.1676998740e-1f));
            p = p.fma(f, c(-1.2420140846e-1f));
            p = p.fma(f, c(1.4249322787e-1f));
            p = p.fma(f, c(-1.6668057665e-1f));
            p = p.fma(f, c(2.0000714765e-1f));
            p = p.fma(f, c(-2.4999993993e-1f));
            p = p.fma(f, c(3.3333331174e-1f));
            FloatVector y = p.mul(f).mul(z);
            y = ef.fma(c(LN2_LO), y);
            y = z.fma(c(-0.5f), y);
            y = f.add(y).add(ef.mul(LN2_HI));
            // Special values: v < 0 or NaN -> NaN, ±0 -> -Inf, +Inf -> +Inf.
            y = y.blend(Float.NEGATIVE_INFINITY, v.compare(VectorOperators.EQ, 0f));
            y = y.blend(Float.POSITIVE_INFINITY, v.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
            y.blend(Float.NaN, v.compare(VectorOperators.GE, 0f).not()).intoArray(r, pr + t);
        }
    }

    /**
     * {@code r[pr + t] = ln(1 + x[px + t])}; ≤ 2 ulp. ln(u) for u = 1 + x rounded, corrected by
     * (x - (u - 1)) / u, the first-order term of what rounding u lost; where u rounds to 1, x.
     */
    static void log1p(float[] x, int px, float[] r, int pr, int n) {
        float[] lu = new float[Math.min(n, BLOCK)];
        int len = F.length();
        for (int b = 0; b < n; b += BLOCK) {
            int m = Math.min(BLOCK, n - b);
            for (int t = 0; t < m; t += len) {
                FloatVector.fromArray(F, x, px + b + t).add(1f).intoArray(lu, t);
            }
            log(lu, 0, lu, 0, m);
            for (int t = 0; t < m; t += len) {
                FloatVector v = FloatVector.fromArray(F, x, px + b + t);
                FloatVector u = v.add(1f);
                FloatVector l = FloatVector.fromArray(F, lu, t);
                FloatVector y = l.add(v.sub(u.sub(1f)).div(u));
                y = y.blend(v, u.compare(VectorOperators.EQ, 1f)); // also keeps -0
                // u = 0 (x = -1) or +Inf: ln(u) is -Inf or +Inf already, the correction NaN
                VectorMask<Float> edge = u.compare(VectorOperators.EQ, 0f)
                        .or(u.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
                y.blend(l, edge).intoArray(r, pr + b + t);
            }
        }
    }

    // ---- tanh, sigmoid -------------------------------------------------------------------------

    /** tanh(x) rounds to ±1 beyond this, and e^(-2|x|) there is below 2^-26: |x| is clamped to it. */
    private static final float TANH_MAX = 9.1f;
    private static final int SIGN = 0x80000000;

    /**
     * {@code r[pr + t] = tanh x[px + t]}; ≤ 2 ulp, exactly ±1 for |x| ≥ 9.1. One pass, no
     * branch by range: tanh|x| = -m / (m + 2) with m = expm1(-2|x|), which has no cancellation
     * anywhere (m ≈ -2|x| for small x, m → -1 for large), and x's sign put back with a bit
     * operation (so tanh(-0) = -0 and NaN stays NaN). expm1 is expf's reduction and polynomial
     * without its final {@code + 1}: -2|x| = k ln 2 + u, expm1(u) = u + u^2 P(u), and
     * expm1(-2|x|) = 2^k expm1(u) + (2^k - 1) in one FMA, and m + 2 = 2^k expm1(u) + (2^k + 1)
     * in another ((2^k ± 1) are exact for k ≥ -23; below, tanh rounds to 1 anyway). |x| is clamped to 9.1, where tanh rounds
     * to 1: -2|x| ≥ -18.2, so 2^k (k ≥ -27) is normal and needs one power-of-two step.
     */
    static void tanh(float[] x, int px, float[] r, int pr, int n) {
        for (int t = 0; t < n; t += F.length()) {
            tanh(FloatVector.fromArray(F, x, px + t)).intoArray(r, pr + t);
        }
    }

    /**
     * {@link #tanh(float[], int, float[], int, int) tanh} of one vector: the loop's body, and a
     * step that a fused expression inlines ({@link FusedExpression}). 240 bytecodes, under C2's
     * 325 for a hot call; callers must be compiled with it inlined, or its vectors are boxed.
     */
    static FloatVector tanh(FloatVector v) {
        FloatVector y2 = v.abs().min(TANH_MAX).mul(-2f); // exact; NaN stays NaN
        FloatVector rounded = y2.fma(c(LOG2E), c(ROUNDER));
        FloatVector kf = rounded.sub(ROUNDER);
        FloatVector u = kf.fma(c(-LN2_HI), y2);
        u = kf.fma(c(-LN2_LO), u);
        FloatVector p = u.fma(c(1.9875691500e-4f), c(1.3981999507e-3f));
        p = p.fma(u, c(8.3334519073e-3f));
        p = p.fma(u, c(4.1665795894e-2f));
        p = p.fma(u, c(1.6666665459e-1f));
        p = p.fma(u, c(5.0000001201e-1f));
        FloatVector em = p.fma(u.mul(u), u); // expm1(u)
        // 2^k from the rounder's low bits: (k + 127) << 23, k = bits - ROUNDER_BITS
        FloatVector s = rounded.reinterpretAsInts().add(127 - ROUNDER_BITS)
                .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        // m and m + 2 each rounded once: m + 2 from the rounded m would round twice (its
        // ulp is twice m's where m is near -1), 2.5 ulp in all instead of 2
        FloatVector m = em.fma(s, s.sub(1f));
        FloatVector m2 = em.fma(s, s.add(1f));
        FloatVector th = m.div(m2).abs(); // -m / (m + 2), and +0 for x = ±0
        return th.reinterpretAsInts().or(v.reinterpretAsInts().and(SIGN)).reinterpretAsFloats();
    }

    /**
     * {@code r[pr + t] = 1 / (1 + e^-x)}; ≤ 2.5 ulp. From e = e^-|x|, which never overflows:
     * 1 / (1 + e) for x ≥ 0 and e / (1 + e) for x &lt; 0, as the scalar path does.
     */
    static void sigmoid(float[] x, int px, float[] r, int pr, int n) {
        float[] e = new float[Math.min(n, BLOCK)];
        int len = F.length();
        for (int b = 0; b < n; b += BLOCK) {
            int m = Math.min(BLOCK, n - b);
            exp(x, px + b, e, 0, m, -1f, true);
            for (int t = 0; t < m; t += len) {
                FloatVector v = FloatVector.fromArray(F, x, px + b + t);
                FloatVector ev = FloatVector.fromArray(F, e, t);
                ev.blend(1f, v.compare(VectorOperators.GE, 0f)).div(ev.add(1f)).intoArray(r, pr + b + t);
            }
        }
    }

    // ---- sin, cos ------------------------------------------------------------------------------

    private static final float TWO_OVER_PI = 0.636619772367581343f;
    /** pi/2 as P1 + P2 + P3 (each the float nearest to what is left), for Cody–Waite on FMAs. */
    private static final float PIO2_1 = 1.5707963705062866f;
    private static final float PIO2_2 = -4.371138828673793e-8f;
    private static final float PIO2_3 = -1.7151245100058819e-15f;

    /** {@code r[pr + t] = sin x[px + t]}; ≤ 2 ulp for |x| ≤ {@link #TRIG_LIMIT}, the scalar path beyond. */
    static void sin(float[] x, int px, float[] r, int pr, int n) {
        sinCos(x, px, r, pr, n, 0);
    }

    /** {@code r[pr + t] = cos x[px + t]}; ≤ 2 ulp for |x| ≤ {@link #TRIG_LIMIT}, the scalar path beyond. */
    static void cos(float[] x, int px, float[] r, int pr, int n) {
        sinCos(x, px, r, pr, n, 1);
    }

    /**
     * sin(x + quarter * pi/2): x = k pi/2 + u with |u| ≤ pi/4 (exact: x - k P1 is exact with an
     * FMA, the rest rounds once relative to u), then the sine or cosine polynomial of u by the
     * quadrant k + quarter.
     */
    private static void sinCos(float[] x, int px, float[] r, int pr, int n, int quarter) {
        for (int t = 0; t < n; t += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, px + t);
            FloatVector rounded = v.fma(c(TWO_OVER_PI), c(ROUNDER));
            FloatVector k = rounded.sub(ROUNDER);
            IntVector q = rounded.reinterpretAsInts().add(quarter);
            FloatVector u = k.fma(c(-PIO2_1), v);
            u = k.fma(c(-PIO2_2), u);
            u = k.fma(c(-PIO2_3), u);
            FloatVector z = u.mul(u);
            // Cephes sinf / cosf polynomials on [-pi/4, pi/4]
            FloatVector s = z.fma(c(-1.9515295891e-4f), c(8.3321608736e-3f));
            s = s.fma(z, c(-1.6666654611e-1f));
            s = s.mul(z).fma(u, u);
            FloatVector co = z.fma(c(2.443315711809948e-5f), c(-1.388731625493765e-3f));
            co = co.fma(z, c(4.166664568298827e-2f));
            co = co.mul(z).mul(z).add(z.fma(c(-0.5f), c(1f)));
            FloatVector y = s.blend(co, q.and(1).compare(VectorOperators.NE, 0).cast(F));
            y = y.blend(y.neg(), q.and(2).compare(VectorOperators.NE, 0).cast(F));
            if (quarter == 0) {
                y = y.blend(v, v.compare(VectorOperators.EQ, 0f)); // sin(±0) = ±0
            }
            y.intoArray(r, pr + t);
            if (v.abs().compare(VectorOperators.GT, TRIG_LIMIT).anyTrue()) {
                farLanes(v.toArray(), r, pr + t, quarter); // rare: beyond exact reduction, or ±Inf
            }
        }
    }

    /** The lanes of {@code x} beyond {@link #TRIG_LIMIT} on the scalar path (r may have overwritten x). */
    private static void farLanes(float[] x, float[] r, int pr, int quarter) {
        for (int i = 0; i < x.length; i++) {
            float v = x[i];
            if (Math.abs(v) > TRIG_LIMIT) {
                r[pr + i] = (float) (quarter == 0 ? Math.sin(v) : Math.cos(v));
            }
        }
    }
}
