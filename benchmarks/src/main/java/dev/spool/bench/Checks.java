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

    /**
     * A training benchmark's check at setup: {@code steps} steps of {@code optimizer} lowered the
     * check batch's loss by at least 10 %.
     */
    public static void lossFell(int steps, String optimizer, double lossBefore, double lossAfter) {
        that(lossAfter < 0.9 * lossBefore, steps + " " + optimizer + " steps took batch 0's loss from " + lossBefore
                + " to " + lossAfter);
    }

    /**
     * A training benchmark's check at teardown: after the timed steps (at least {@code minSteps}
     * of them, else only that the loss is finite), batch 0's loss is below its value when timing
     * began, so the steps that were timed trained the model.
     */
    public static void timedStepsTrained(long steps, long minSteps, double lossBefore, double lossAfter) {
        that(Double.isFinite(lossAfter), "the loss after " + steps + " timed steps is " + lossAfter);
        if (steps >= minSteps) {
            that(lossAfter < lossBefore, steps + " timed steps took batch 0's loss from " + lossBefore + " to "
                    + lossAfter);
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
