package dev.spool.testing;

import java.math.BigDecimal;
import java.math.MathContext;

/**
 * erf, erfc and GELU to (much) better than float64, for accuracy tests: the Maclaurin series
 * {@code erf(x) = (2/√π) Σ (-1)ⁿ x²ⁿ⁺¹ / (n! (2n+1))} summed in 110-digit decimal arithmetic, which
 * leaves more than 60 good digits after the series' cancellation up to |x| = 9 (its largest term
 * is about e^(x²)), and {@code erfc = 1 - erf} in the same arithmetic. Beyond |x| = 9 erfc is below
 * 5e-37 and is taken from the first terms of its asymptotic series. Independent of the backends'
 * code (a different algorithm in a different arithmetic).
 */
public final class ErfReference {
    private static final MathContext MC = new MathContext(110);
    /** 2/√π to 60 digits. */
    private static final BigDecimal TWO_OVER_SQRT_PI =
            new BigDecimal("1.12837916709551257389615890312154517168810125865799771368817");
    private static final double INV_SQRT2 = 0.70710678118654752440;

    private ErfReference() {
    }

    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        if (Math.abs(x) > 9) {
            return Math.copySign(1, x);
        }
        return erfExact(x).doubleValue();
    }

    public static double erfc(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        if (x > 9) {
            return asymptoticErfc(x);
        }
        if (x < -9) {
            return 2;
        }
        return BigDecimal.ONE.subtract(erfExact(x), MC).doubleValue();
    }

    /** x·Φ(x) = ½·x·erfc(-x/√2), with x/√2 taken in decimal too. */
    public static double gelu(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double z = -x * INV_SQRT2; // the argument's own rounding: relative 1e-16, far below a float32 ulp's effect
        return 0.5 * x * erfc(z);
    }

    /** Φ(x) + x·φ(x). */
    public static double geluDerivative(double x) {
        return 0.5 * erfc(-x * INV_SQRT2) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    }

    /** ½·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³), as Keras writes it, in float64 with a stable 1 + tanh. */
    public static double geluTanh(double x) {
        double u = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
        // 1 + tanh(u) = 2 / (1 + exp(-2u)), which does not cancel for u << 0
        return 0.5 * x * (2 / (1 + Math.exp(-2 * u)));
    }

    /** ½(1 + t) + ½·x·(1 - t²)·u'. */
    public static double geluTanhDerivative(double x) {
        double c = Math.sqrt(2 / Math.PI);
        double u = c * (x + 0.044715 * x * x * x);
        double onePlusT = 2 / (1 + Math.exp(-2 * u));
        double oneMinusT = 2 - onePlusT;
        return 0.5 * onePlusT + 0.5 * x * onePlusT * oneMinusT * c * (1 + 3 * 0.044715 * x * x);
    }

    /** (2/√π)·exp(-x²). */
    public static double erfDerivative(double x) {
        return 2 / Math.sqrt(Math.PI) * Math.exp(-x * x);
    }

    private static BigDecimal erfExact(double xd) {
        BigDecimal x = new BigDecimal(xd);
        BigDecimal x2 = x.multiply(x, MC);
        BigDecimal power = x; // (-1)^n x^(2n+1) / n!
        BigDecimal sum = x;
        BigDecimal eps = new BigDecimal("1e-80");
        for (int n = 1; n < 2000; n++) {
            power = power.multiply(x2, MC).negate().divide(BigDecimal.valueOf(n), MC);
            BigDecimal term = power.divide(BigDecimal.valueOf(2L * n + 1), MC);
            sum = sum.add(term, MC);
            if (term.abs().compareTo(eps) < 0 && n > x2.doubleValue()) {
                break;
            }
        }
        return sum.multiply(TWO_OVER_SQRT_PI, MC);
    }

    /** erfc(x) ~ exp(-x²)/(x√π)·(1 - 1/(2x²) + 3/(2x²)² - 15/(2x²)³ + ...), x > 9: terms fall below 1e-10 by the fifth. */
    private static double asymptoticErfc(double x) {
        double y = 1 / (2 * x * x);
        double sum = 1;
        double term = 1;
        for (int k = 1; k < 8; k++) {
            term *= -(2 * k - 1) * y;
            sum += term;
        }
        return Math.exp(-x * x) / (x * Math.sqrt(Math.PI)) * sum;
    }
}
