package dev.spool.bench;

import java.util.Locale;

/**
 * The one-time result checks every benchmark runs in its setup, so that a broken benchmark
 * fails instead of reporting the speed of wrong work.
 */
final class Checks {
    private Checks() {
    }

    /** Fails unless {@code actual} is within {@code rtol·|expected| + atol} of {@code expected}
     *  (equal infinities and NaN with NaN pass). */
    static void close(String what, double expected, double actual, double rtol, double atol) {
        if (Double.isNaN(expected) && Double.isNaN(actual) || expected == actual) {
            return;
        }
        if (!(Math.abs(actual - expected) <= rtol * Math.abs(expected) + atol)) {
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "benchmark result is wrong: %s = %s, expected %s", what, actual, expected));
        }
    }

    static void that(boolean ok, String message) {
        if (!ok) {
            throw new IllegalStateException("benchmark result is wrong: " + message);
        }
    }
}
