package dev.spool.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 updates of {@link TrainingUpdates} on the Vector API. The JIT vectorises none of
 * the plain loops whole: Adam's sqrt and division ran one lane at a time (9x the time of an add
 * over the same elements, where the memory traffic is 2.3x), and gradient descent with an int
 * bound still took 1.7x an add. Same operations in the same order, each correctly rounded and
 * none fused, so the same bits as the plain loops. Each method does elements [lo, hi) in whole
 * vectors and returns the first element it did not do, for the plain loop to finish. Loaded only
 * when {@link VectorSupport#ENABLED}.
 */
final class SimdTrainingUpdates {
    private static final VectorSpecies<Float> F = SimdMath.F;

    private SimdTrainingUpdates() {
    }

    /** {@code wOut = w - lr * g}. */
    static int gradientDescent(float[] w, int wo, float[] g, int go, float lr, float[] wOut, int lo, int hi) {
        int i = lo;
        for (int end = lo + F.loopBound(hi - lo); i < end; i += F.length()) {
            FloatVector gi = FloatVector.fromArray(F, g, go + i);
            FloatVector.fromArray(F, w, wo + i).sub(gi.mul(lr)).intoArray(wOut, i);
        }
        return i;
    }

    /** Both momentum forms of {@link TrainingUpdates#momentum}, a loop each (no test per lane). */
    static int momentum(float[] w, int wo, float[] a, int ao, float[] g, int go, float lr, float mu,
                        boolean nesterov, boolean keras, float[] wOut, float[] aOut, int lo, int hi) {
        int i = lo;
        int end = lo + F.loopBound(hi - lo);
        if (keras) {
            for (; i < end; i += F.length()) {
                FloatVector lrG = FloatVector.fromArray(F, g, go + i).mul(lr);
                FloatVector acc = FloatVector.fromArray(F, a, ao + i).mul(mu).sub(lrG);
                acc.intoArray(aOut, i);
                FloatVector step = nesterov ? acc.mul(mu).sub(lrG) : acc;
                FloatVector.fromArray(F, w, wo + i).add(step).intoArray(wOut, i);
            }
        } else {
            for (; i < end; i += F.length()) {
                FloatVector gi = FloatVector.fromArray(F, g, go + i);
                FloatVector acc = FloatVector.fromArray(F, a, ao + i).mul(mu).add(gi);
                acc.intoArray(aOut, i);
                FloatVector step = nesterov ? gi.mul(lr).add(acc.mul(mu).mul(lr)) : acc.mul(lr);
                FloatVector.fromArray(F, w, wo + i).sub(step).intoArray(wOut, i);
            }
        }
        return i;
    }

    /** Adam: {@code m} and {@code v} move toward {@code g} and {@code g²}, then {@code w} by
     *  {@code alpha m / (sqrt(v) + eps)}. */
    static int adam(float[] w, int wo, float[] m, int mo, float[] v, int vo, float[] g, int go,
                    float alpha, float c1, float c2, float eps, float[] wOut, float[] mOut, float[] vOut, int lo, int hi) {
        int i = lo;
        for (int end = lo + F.loopBound(hi - lo); i < end; i += F.length()) {
            FloatVector gi = FloatVector.fromArray(F, g, go + i);
            FloatVector mi = FloatVector.fromArray(F, m, mo + i);
            FloatVector vi = FloatVector.fromArray(F, v, vo + i);
            FloatVector mn = mi.add(gi.sub(mi).mul(c1));
            FloatVector vn = vi.add(gi.mul(gi).sub(vi).mul(c2));
            mn.intoArray(mOut, i);
            vn.intoArray(vOut, i);
            FloatVector.fromArray(F, w, wo + i).sub(mn.mul(alpha).div(vn.sqrt().add(eps))).intoArray(wOut, i);
        }
        return i;
    }
}
