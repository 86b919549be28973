package dev.spool.cpu;

import dev.spool.spi.View;

/**
 * Fused batch normalization in training mode, forward and backward, over a contiguous [rows, C]
 * view. Statistics and gradient sums accumulate in double, rows in order; the elementwise parts
 * round as the composite ops do ({@code inv = rsqrt(variance + epsilon) * scale} in the dtype,
 * then {@code x * inv + (offset - mean * inv)}), so float32 results match the composite written
 * with Spool's ops to within the statistics' rounding. Work is split over blocks of channels
 * (each sum has one owner); the rows of each channel are read with stride C.
 */
final class BatchNorm {
    /** Elements per piece below which a thread is not worth it. */
    private static final long GRAIN = 1 << 15;

    private BatchNorm() {
    }

    static void forward(Parallel par, View x, View scale, View offset, double epsilon, CpuBuffer y, CpuBuffer mean,
                        CpuBuffer variance) {
        int c = (int) scale.size();
        int rows = (int) (x.size() / c);
        double[] xs = Widened.of(x);
        double[] sc = Widened.of(scale);
        double[] of = Widened.of(offset);
        boolean f32 = y.data() instanceof float[];
        double[] ys = new double[xs.length];
        double[] ms = new double[c];
        double[] vs = new double[c];
        par.forRange(c, Math.max(1, GRAIN / Math.max(1, rows)), (lo, hi) -> {
            for (int ch = (int) lo; ch < hi; ch++) {
                double s = 0;
                for (int r = 0; r < rows; r++) {
                    s += xs[r * c + ch];
                }
                double m = round(f32, s / rows);
                double q = 0;
                for (int r = 0; r < rows; r++) {
                    double dv = xs[r * c + ch] - m;
                    q += dv * dv;
                }
                double v = round(f32, q / rows);
                ms[ch] = m;
                vs[ch] = v;
                // the composite's roundings: variance + eps, rsqrt, * scale, mean * inv, offset - that
                double inv = round(f32, round(f32, 1 / Math.sqrt(round(f32, v + round(f32, epsilon)))) * sc[ch]);
                double shift = round(f32, of[ch] - round(f32, m * inv));
                for (int r = 0; r < rows; r++) {
                    ys[r * c + ch] = round(f32, xs[r * c + ch] * inv) + shift;
                }
            }
        });
        Widened.store(ys, y);
        Widened.store(ms, mean);
        Widened.store(vs, variance);
    }

    static void backward(Parallel par, View dy, View x, View scale, View mean, View variance, double epsilon,
                         CpuBuffer dx, CpuBuffer dscale, CpuBuffer doffset) {
        int c = (int) scale.size();
        int rows = (int) (x.size() / c);
        double[] gs = Widened.of(dy);
        double[] xs = Widened.of(x);
        double[] sc = Widened.of(scale);
        double[] ms = Widened.of(mean);
        double[] vs = Widened.of(variance);
        double[] dxs = new double[xs.length];
        double[] dsc = new double[c];
        double[] dof = new double[c];
        par.forRange(c, Math.max(1, GRAIN / Math.max(1, rows)), (lo, hi) -> {
            for (int ch = (int) lo; ch < hi; ch++) {
                double r = 1 / Math.sqrt(vs[ch] + epsilon);
                double sumG = 0;
                double sumGx = 0;
                for (int i = 0; i < rows; i++) {
                    double g = gs[i * c + ch];
                    sumG += g;
                    sumGx += g * (xs[i * c + ch] - ms[ch]) * r;
                }
                dof[ch] = sumG;
                dsc[ch] = sumGx;
                double k = sc[ch] * r / rows;
                for (int i = 0; i < rows; i++) {
                    double xhat = (xs[i * c + ch] - ms[ch]) * r;
                    dxs[i * c + ch] = k * (rows * gs[i * c + ch] - sumG - xhat * sumGx);
                }
            }
        });
        Widened.store(dxs, dx);
        Widened.store(dsc, dscale);
        Widened.store(dof, doffset);
    }

    /** {@code v} rounded to float32 when the dtype is float32 (each step of the composite rounds). */
    private static double round(boolean f32, double v) {
        return f32 ? (float) v : v;
    }
}
