package dev.spool.cpu;

import dev.spool.spi.View;

/**
 * The optimizer updates of the SPI (ApplyGradientDescent, ApplyMomentum, ApplyAdam) over dense
 * arrays, split across threads. Each formula is written exactly as the SPI states it, in the
 * dtype's arithmetic and without fused multiply-adds, so that it gives the same bits as the
 * same update written with elementwise primitives. With the Vector API, {@link
 * SimdTrainingUpdates} does the float32 updates first and the loops here take the tail.
 *
 * <p>Every loop runs to an {@code int} bound: a loop whose index is compared with a {@code long}
 * is not a counted loop to C2, which then neither unrolls nor vectorises it (float32 gradient
 * descent on 784 × 256 took 400 µs, an {@code add} of the same size 70 µs; with an int bound 122
 * µs, on the Vector API 70 µs).
 */
final class TrainingUpdates {
    private TrainingUpdates() {
    }

    static void gradientDescent(Parallel par, View var, View grad, double lr, CpuBuffer varOut) {
        Object w = CpuBuffer.data(var);
        Object g = CpuBuffer.data(grad);
        int wo = (int) var.offset();
        int go = (int) grad.offset();
        if (w instanceof float[] wf) {
            float[] gf = (float[]) g;
            float[] out = (float[]) varOut.data();
            float a = (float) lr;
            par.forRange(out.length, Parallel.GRAIN, (lo, hi) -> {
                int end = (int) hi;
                int from = VectorSupport.ENABLED
                        ? SimdTrainingUpdates.gradientDescent(wf, wo, gf, go, a, out, (int) lo, end) : (int) lo;
                for (int i = from; i < end; i++) {
                    out[i] = wf[wo + i] - a * gf[go + i];
                }
            });
        } else {
            double[] wd = (double[]) w;
            double[] gd = (double[]) g;
            double[] out = (double[]) varOut.data();
            par.forRange(out.length, Parallel.GRAIN, (lo, hi) -> {
                int end = (int) hi;
                for (int i = (int) lo; i < end; i++) {
                    out[i] = wd[wo + i] - lr * gd[go + i];
                }
            });
        }
    }

    static void momentum(Parallel par, View var, View accum, View grad, double lr, double momentum,
                         boolean nesterov, boolean keras, CpuBuffer varOut, CpuBuffer accumOut) {
        int wo = (int) var.offset();
        int ao = (int) accum.offset();
        int go = (int) grad.offset();
        if (CpuBuffer.data(var) instanceof float[] w) {
            float[] a = (float[]) CpuBuffer.data(accum);
            float[] g = (float[]) CpuBuffer.data(grad);
            float[] wOut = (float[]) varOut.data();
            float[] aOut = (float[]) accumOut.data();
            float l = (float) lr;
            float mu = (float) momentum;
            par.forRange(wOut.length, Parallel.GRAIN, (lo, hi) -> {
                int end = (int) hi;
                int from = VectorSupport.ENABLED ? SimdTrainingUpdates.momentum(w, wo, a, ao, g, go, l, mu,
                        nesterov, keras, wOut, aOut, (int) lo, end) : (int) lo;
                for (int i = from; i < end; i++) {
                    float gi = g[go + i];
                    if (keras) {
                        float acc = a[ao + i] * mu - gi * l;
                        aOut[i] = acc;
                        wOut[i] = w[wo + i] + (nesterov ? acc * mu - gi * l : acc);
                    } else {
                        float acc = a[ao + i] * mu + gi;
                        aOut[i] = acc;
                        wOut[i] = w[wo + i] - (nesterov ? gi * l + acc * mu * l : l * acc);
                    }
                }
            });
        } else {
            double[] w = (double[]) CpuBuffer.data(var);
            double[] a = (double[]) CpuBuffer.data(accum);
            double[] g = (double[]) CpuBuffer.data(grad);
            double[] wOut = (double[]) varOut.data();
            double[] aOut = (double[]) accumOut.data();
            par.forRange(wOut.length, Parallel.GRAIN, (lo, hi) -> {
                int end = (int) hi;
                for (int i = (int) lo; i < end; i++) {
                    double gi = g[go + i];
                    if (keras) {
                        double acc = a[ao + i] * momentum - gi * lr;
                        aOut[i] = acc;
                        wOut[i] = w[wo + i] + (nesterov ? acc * momentum - gi * lr : acc);
                    } else {
                        double acc = a[ao + i] * momentum + gi;
                        aOut[i] = acc;
                        wOut[i] = w[wo + i] - (nesterov ? gi * lr + acc * momentum * lr : lr * acc);
                    }
                }
            });
        }
    }

    static void adam(Parallel par, View var, View m, View v, View grad, double alpha, double beta1, double beta2,
                     double epsilon, CpuBuffer varOut, CpuBuffer mOut, CpuBuffer vOut) {
        int wo = (int) var.offset();
        int mo = (int) m.offset();
        int vo = (int) v.offset();
        int go = (int) grad.offset();
        double c1 = 1 - beta1;
        double c2 = 1 - beta2;
        if (CpuBuffer.data(var) instanceof float[] w) {
            float[] mi = (float[]) CpuBuffer.data(m);
            float[] vi = (float[]) CpuBuffer.data(v);
            float[] g = (float[]) CpuBuffer.data(grad);
            float[] wOut = (float[]) varOut.data();
            float[] mOutA = (float[]) mOut.data();
            float[] vOutA = (float[]) vOut.data();
            float a = (float) alpha;
            float e = (float) epsilon;
            float f1 = (float) c1;
            float f2 = (float) c2;
            par.forRange(wOut.length, Parallel.GRAIN, (lo, hi) -> {
                int end = (int) hi;
                int from = VectorSupport.ENABLED ? SimdTrainingUpdates.adam(w, wo, mi, mo, vi, vo, g, go, a, f1, f2, e,
                        wOut, mOutA, vOutA, (int) lo, end) : (int) lo;
                for (int i = from; i < end; i++) {
                    float gi = g[go + i];
                    float mn = mi[mo + i] + (gi - mi[mo + i]) * f1;
                    float vn = vi[vo + i] + (gi * gi - vi[vo + i]) * f2;
                    mOutA[i] = mn;
                    vOutA[i] = vn;
                    wOut[i] = w[wo + i] - mn * a / ((float) Math.sqrt(vn) + e);
                }
            });
        } else {
            double[] w = (double[]) CpuBuffer.data(var);
            double[] mi = (double[]) CpuBuffer.data(m);
            double[] vi = (double[]) CpuBuffer.data(v);
            double[] g = (double[]) CpuBuffer.data(grad);
            double[] wOut = (double[]) varOut.data();
            double[] mOutA = (double[]) mOut.data();
            double[] vOutA = (double[]) vOut.data();
            par.forRange(wOut.length, Parallel.GRAIN, (lo, hi) -> {
                int end = (int) hi;
                for (int i = (int) lo; i < end; i++) {
                    double gi = g[go + i];
                    double mn = mi[mo + i] + (gi - mi[mo + i]) * c1;
                    double vn = vi[vo + i] + (gi * gi - vi[vo + i]) * c2;
                    mOutA[i] = mn;
                    vOutA[i] = vn;
                    wOut[i] = w[wo + i] - mn * alpha / (Math.sqrt(vn) + epsilon);
                }
            });
        }
    }
}
