package dev.spool.cpu;

import dev.spool.spi.View;

/**
 * Float data widened to double for the plain paths that compute in double (convolution,
 * batch normalization), and results rounded once back into the output's dtype.
 */
final class Widened {
    private Widened() {
    }

    /** A contiguous view's elements as doubles (a copy). */
    static double[] of(View v) {
        Object data = CpuBuffer.data(v);
        int off = (int) v.offset();
        int n = (int) v.size();
        double[] out = new double[n];
        if (data instanceof float[] f) {
            for (int i = 0; i < n; i++) {
                out[i] = f[off + i];
            }
        } else {
            System.arraycopy((double[]) data, off, out, 0, n);
        }
        return out;
    }

    /** Rounds {@code values} once into {@code out}'s dtype (float32 or float64). */
    static void store(double[] values, CpuBuffer out) {
        Object data = out.data();
        if (data instanceof float[] f) {
            for (int i = 0; i < values.length; i++) {
                f[i] = (float) values[i];
            }
        } else {
            System.arraycopy(values, 0, (double[]) data, 0, values.length);
        }
    }
}
