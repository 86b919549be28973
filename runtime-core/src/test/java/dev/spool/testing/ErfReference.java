package dev.spool.testing;

import java.math.BigDecimal;
import java.math.MathContext;

/**
 * erf, erfc and GELU to better than float64, for accuracy tests, in decimal arithmetic (34
 * digits): below |x| = 3 the Maclaurin series {@code erf(x) = (2/√π) Σ (-1)ⁿ x²ⁿ⁺¹ / (n! (2n+1))}
 * (its cancellation costs at most 4 of the 34 digits there) and {@code erfc = 1 - erf}; from 3 on
 * erfc from its continued fraction {@code exp(-x²)/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …))))},
 * 100 levels deep, with exp(-x²) as {@code exp(-hi)·(1 - lo)} for x² = hi + lo split at a double.
 * Independent of the backends' code: other algorithms (the series with alternating signs, the
 * fraction far deeper) in another arithmetic. Checked against mpmath at 40 digits when written.
 */
public final class ErfReference {
    private static final MathContext MC = new MathContext(34);
    private static final double SQRT_PI = 1.7724538509055160273;
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
        if (Math.abs(x) >= 3) {
            return Math.copySign(1 - fractionErfc(Math.abs(x)), x);
        }
        return erfExact(x).doubleValue();
    }

    public static double erfc(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        if (x >= 3) {
            return x > 27 ? 0 : fractionErfc(x);
        }
        if (x <= -3) {
            return x < -27 ? 2 : 2 - fractionErfc(-x);
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
        BigDecimal eps = new BigDecimal("1e-45");
        for (int n = 1; n < 500; n++) {
            power = power.multiply(x2, MC).negate().divide(BigDecimal.valueOf(n), MC);
            BigDecimal term = power.divide(BigDecimal.valueOf(2L * n + 1), MC);
            sum = sum.add(term, MC);
            if (term.abs().compareTo(eps) < 0 && n > x2.doubleValue()) {
                break;
            }
        }
        return sum.multiply(TWO_OVER_SQRT_PI, MC);
    }

    /** x >= 3. */
    private static double fractionErfc(double xd) {
        if (xd > 27) { // exp(-x²) is below the smallest double
            return 0;
        }
        BigDecimal x = new BigDecimal(xd);
        BigDecimal f = x;
        BigDecimal half = new BigDecimal("0.5");
        for (int n = 100; n >= 1; n--) {
            f = x.add(half.multiply(BigDecimal.valueOf(n)).divide(f, MC), MC);
        }
        BigDecimal x2 = x.multiply(x, MC);
        double hi = x2.doubleValue();
        double lo = x2.subtract(new BigDecimal(hi), MC).doubleValue();
        double e = Math.exp(-hi) * (1 - lo);
        return e / (SQRT_PI * f.doubleValue());
    }
}
