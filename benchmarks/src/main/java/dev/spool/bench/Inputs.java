package dev.spool.bench;

import java.util.SplittableRandom;

/** Seeded host inputs, so that each benchmark can check its result against a Java reference. */
public final class Inputs {
    private Inputs() {
    }

    /** {@code n} floats uniform in [lo, hi). */
    public static float[] uniform(int n, long seed, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return x;
    }
}
