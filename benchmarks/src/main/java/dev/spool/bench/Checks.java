package dev.spool.bench;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The one-time result checks every benchmark runs in its setup, so that a broken benchmark
 * fails instead of reporting the speed of wrong work.
 */
public final class Checks {
    private Checks() {
    }

    /** Fails unless {@code actual} is within {@code rtol·|expected| + atol} of {@code expected}
     *  (equal infinities and NaN with NaN pass). */
    public static void close(String what, double expected, double actual, double rtol, double atol) {
        if (Double.isNaN(expected) && Double.isNaN(actual) || expected == actual) {
            return;
        }
        if (!(Math.abs(actual - expected) <= rtol * Math.abs(expected) + atol)) {
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "benchmark result is wrong: %s = %s, expected %s", what, actual, expected));
        }
    }

    public static void that(boolean ok, String message) {
        if (!ok) {
            throw new IllegalStateException("benchmark result is wrong: " + message);
        }
    }

    /** Compares 64 sampled entries of the n×n product {@code c} of a and b (or bᵀ) with float64
     *  dot products; the tolerance scales with the sum of |products|. */
    public static void matmulSamples(String what, int n, float[] a, float[] b, boolean transposeB, float[] c) {
        that(c.length == n * n, what + " has " + c.length + " elements");
        SplittableRandom r = new SplittableRandom(3);
        for (int s = 0; s < 64; s++) {
            int i = r.nextInt(n);
            int j = r.nextInt(n);
            double ref = 0;
            double mag = 0;
            for (int k = 0; k < n; k++) {
                double p = (double) a[i * n + k] * b[transposeB ? j * n + k : k * n + j];
                ref += p;
                mag += Math.abs(p);
            }
            close(what + "[" + i + "," + j + "]", ref, c[i * n + j], 0, 1e-5 * mag + 1e-6);
        }
    }
}
