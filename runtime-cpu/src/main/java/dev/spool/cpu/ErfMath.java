package dev.spool.cpu;

/**
 * erf, erfc and GELU in float64, for the lane path (float64, and float32 widened to float64 and
 * rounded once). Java has no {@code Math.erf}: erf comes from the series
 * {@code erf(x) = (2/√π)·exp(-x²)·Σ 2ⁿx²ⁿ⁺¹/(1·3·…·(2n+1))} below |x| = 1, whose terms are all of
 * one sign (no cancellation; at most 19 terms there), and erfc from its continued fraction
 * {@code erfc(x) = exp(-x²)/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …))))} from 1 on, evaluated
 * backwards (200 levels below 2, 60 beyond: converged to an ulp), so that erfc keeps its relative
 * accuracy in the tail. Within 1e-14 relative of a decimal reference (GeluAccuracyTest).
 */
final class ErfMath {
    static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
    static final double SQRT_PI = 1.7724538509055160;
    static final double INV_SQRT2 = 0.7071067811865476;
    static final double INV_SQRT_2PI = 0.3989422804014327;
    static final double GELU_C = 0.7978845608028654;
    static final double GELU_A = 0.044715;
    private static final double SPLIT = 1;

    private ErfMath() {
    }

    static double erf(double x) {
        double a = Math.abs(x);
        if (!(a >= SPLIT)) { // NaN too
            return series(x);
        }
        double r = 1 - erfcTail(a);
        return x < 0 ? -r : r;
    }

    static double erfc(double x) {
        if (x >= SPLIT) {
            return erfcTail(x);
        }
        if (x <= -SPLIT) {
            return 2 - erfcTail(-x);
        }
        return 1 - series(x); // NaN gives NaN
    }

    /** |x| < 1. */
    private static double series(double x) {
        double x2 = x * x;
        double term = x;
        double sum = x;
        for (int n = 1; n < 64 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
        }
        return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
    }

    /** x >= 1 (or +inf): 200 levels below 2 (converged to 1 ulp from x = 1), 60 from 2 on. */
    private static double erfcTail(double x) {
        if (x > 27) { // exp(-x²) underflows below the smallest double
            return 0;
        }
        double f = x;
        for (int n = x < 2 ? 200 : 60; n >= 1; n--) {
            f = x + 0.5 * n / f;
        }
        // exp(-x²) with x² = hi + lo exactly: exp(-hi) alone would carry x² times hi's rounding error
        double hi = x * x;
        double lo = Math.fma(x, x, -hi);
        return Math.exp(-hi) * (1 - lo) / (SQRT_PI * f);
    }

    /** x·Φ(x) = ½·x·erfc(-x/√2): erfc keeps its relative accuracy where Φ is tiny (x << 0). */
    static double gelu(double x) {
        return 0.5 * x * erfc(-x * INV_SQRT2);
    }

    /** g·(Φ(x) + x·φ(x)). */
    static double geluGrad(double g, double x) {
        double cdf = 0.5 * erfc(-x * INV_SQRT2);
        double pdf = INV_SQRT_2PI * Math.exp(-0.5 * x * x);
        return g * (cdf + x * pdf);
    }

    /** ½·x·(1 + tanh(u)) = x·σ(2u), u = c·(x + a·x³): the sigmoid form does not cancel for x << 0. */
    static double geluTanh(double x) {
        double u = GELU_C * (x + GELU_A * x * x * x);
        return x * sigmoid(2 * u);
    }

    /** With s = σ(2u): 1 + t = 2s and 1 - t² = 4s(1 - s), so gelu' = s + 2x·s·(1 - s)·u'. */
    static double geluTanhGrad(double g, double x) {
        double x2 = x * x;
        double s = sigmoid(2 * GELU_C * (x + GELU_A * x2 * x));
        double du = GELU_C * (1 + 3 * GELU_A * x2);
        double w = 2 * (s * (1 - s)) * x;
        return g * (s + (w == 0 ? 0 : w * du)); // w is 0 once s saturates, before x² overflows
    }

    static double erfGrad(double g, double x) {
        return g * TWO_OVER_SQRT_PI * Math.exp(-x * x);
    }

    private static double sigmoid(double x) {
        if (x >= 0) {
            return 1 / (1 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1 + e);
    }
}
