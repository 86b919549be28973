package dev.spool.cpu;

/**
 * erf, exact GELU and its gradient for float32 results, in double arithmetic accurate to about
 * 1e-7 relative instead of {@link ErfMath}'s 1e-15, at the price of one {@code exp} an element
 * (ErfMath's continued fraction costs up to 200 divisions, which made GELU the slowest op of a
 * transformer step). erfc is Numerical Recipes' Chebyshev fit ({@code erfcc}: fractional error
 * below 1.2e-7 for every x, 1.05e-7 measured), erf below |x| = 0.5 its Maclaurin series to x¹³.
 * Rounded to float32 that is within 2.5 ulp (GeluAccuracyTest). Used by the float32 paths
 * without the Vector API ({@link Float32Direct}'s gradients); with it {@link SimdErf} runs the
 * same formulas in double lanes. float64 keeps ErfMath.
 */
final class Float32Erf {
    private Float32Erf() {
    }

    static double erfc(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        double r = t * Math.exp(-z * z + p);
        return x >= 0 ? r : 2 - r; // NaN: 2 - NaN
    }

    static double erf(double x) {
        if (Math.abs(x) < 0.5) {
            double x2 = x * x;
            double s = 1 + x2 * (-1.0 / 3 + x2 * (1.0 / 10 + x2 * (-1.0 / 42 + x2 * (1.0 / 216
                    + x2 * (-1.0 / 1320 + x2 * (1.0 / 9360))))));
            return ErfMath.TWO_OVER_SQRT_PI * x * s;
        }
        double r = 1 - erfc(Math.abs(x));
        return x < 0 ? -r : r;
    }

    static double gelu(double x) {
        return 0.5 * x * erfc(-x * ErfMath.INV_SQRT2);
    }

    static double geluGrad(double g, double x) {
        return g * (0.5 * erfc(-x * ErfMath.INV_SQRT2) + x * ErfMath.INV_SQRT_2PI * Math.exp(-0.5 * x * x));
    }

    static void erf(float[] x, int px, float[] r, int pr, int n) {
        for (int t = 0; t < n; t++) {
            r[pr + t] = (float) erf(x[px + t]);
        }
    }

    static void gelu(float[] x, int px, float[] r, int pr, int n) {
        for (int t = 0; t < n; t++) {
            r[pr + t] = (float) gelu(x[px + t]);
        }
    }

    static void geluTanh(float[] x, int px, float[] r, int pr, int n) {
        for (int t = 0; t < n; t++) {
            r[pr + t] = (float) ErfMath.geluTanh(x[px + t]);
        }
    }
}
