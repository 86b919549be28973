package dev.spool.bench;

import java.util.SplittableRandom;

/**
 * The convolution benchmarks' layer and data, shared by Spool's benchmark and its peer: a 3x3
 * convolution, {@link #IN} → {@link #OUT} channels, stride 1, SAME padding (one pixel each
 * side), no bias, on a [batch, size, size, IN] image; seeded values (Glorot-uniform filter,
 * input and output gradient uniform in [-1, 1)), held channels-last (NHWC, HWIO filter) as Spool
 * takes them, transposed for PyTorch (NCHW, OIHW) by the peer. Each benchmark checks 64 sampled
 * elements of its result against float64 sums here before it is timed.
 */
public final class ConvData {
    public static final int IN = 64;
    public static final int OUT = 64;
    public static final int K = 3;
    public static final int PAD = 1;

    public final int batch;
    public final int size;
    /** [batch, size, size, IN]. */
    public final float[] x;
    /** [K, K, IN, OUT]. */
    public final float[] f;
    /** The output gradient, [batch, size, size, OUT]. */
    public final float[] dy;

    public ConvData(int batch, int size) {
        this.batch = batch;
        this.size = size;
        double limit = Math.sqrt(6.0 / (K * K * IN + K * K * OUT));
        x = Inputs.uniform(batch * size * size * IN, 1, -1, 1);
        f = Inputs.uniform(K * K * IN * OUT, 2, -limit, limit);
        dy = Inputs.uniform(batch * size * size * OUT, 3, -1, 1);
    }

    /** Multiply-adds of one pass (forward, or either gradient): 2x this is its FLOP count. */
    public long macs() {
        return (long) batch * size * size * K * K * IN * OUT;
    }

    /** An NHWC array as NCHW. */
    public static float[] toNchw(float[] nhwc, int n, int h, int w, int c) {
        float[] out = new float[nhwc.length];
        for (int b = 0; b < n; b++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int ch = 0; ch < c; ch++) {
                        out[((b * c + ch) * h + y) * w + x] = nhwc[((b * h + y) * w + x) * c + ch];
                    }
                }
            }
        }
        return out;
    }

    /** The filter as PyTorch's [OUT, IN, K, K]. */
    public float[] filterOihw() {
        float[] out = new float[f.length];
        for (int ky = 0; ky < K; ky++) {
            for (int kx = 0; kx < K; kx++) {
                for (int i = 0; i < IN; i++) {
                    for (int o = 0; o < OUT; o++) {
                        out[((o * IN + i) * K + ky) * K + kx] = f[((ky * K + kx) * IN + i) * OUT + o];
                    }
                }
            }
        }
        return out;
    }

    /** One element of a result, by its NHWC (or, for the filter, HWIO) coordinates. */
    @FunctionalInterface
    public interface At {
        double get(int a, int b, int c, int d);
    }

    /** y[n, oy, ox, o] = sum over ky, kx, i of x[n, oy + ky - PAD, ox + kx - PAD, i] f[ky, kx, i, o]. */
    public void checkForward(String what, At y) {
        SplittableRandom r = new SplittableRandom(5);
        for (int s = 0; s < 64; s++) {
            int n = r.nextInt(batch);
            int oy = r.nextInt(size);
            int ox = r.nextInt(size);
            int o = r.nextInt(OUT);
            double ref = 0;
            double mag = 0;
            for (int ky = 0; ky < K; ky++) {
                for (int kx = 0; kx < K; kx++) {
                    int iy = oy + ky - PAD;
                    int ix = ox + kx - PAD;
                    if (iy < 0 || iy >= size || ix < 0 || ix >= size) {
                        continue;
                    }
                    for (int i = 0; i < IN; i++) {
                        double p = (double) x[((n * size + iy) * size + ix) * IN + i] * f[((ky * K + kx) * IN + i) * OUT + o];
                        ref += p;
                        mag += Math.abs(p);
                    }
                }
            }
            Checks.close(what + "[" + n + "," + oy + "," + ox + "," + o + "]", ref, y.get(n, oy, ox, o), 0,
                    1e-4 * mag + 1e-6);
        }
    }

    /** dx[n, iy, ix, i] = sum over ky, kx, o of dy[n, iy - ky + PAD, ix - kx + PAD, o] f[ky, kx, i, o]. */
    public void checkInputGradient(String what, At dx) {
        SplittableRandom r = new SplittableRandom(6);
        for (int s = 0; s < 64; s++) {
            int n = r.nextInt(batch);
            int iy = r.nextInt(size);
            int ix = r.nextInt(size);
            int i = r.nextInt(IN);
            double ref = 0;
            double mag = 0;
            for (int ky = 0; ky < K; ky++) {
                for (int kx = 0; kx < K; kx++) {
                    int oy = iy - ky + PAD;
                    int ox = ix - kx + PAD;
                    if (oy < 0 || oy >= size || ox < 0 || ox >= size) {
                        continue;
                    }
                    for (int o = 0; o < OUT; o++) {
                        double p = (double) dy[((n * size + oy) * size + ox) * OUT + o] * f[((ky * K + kx) * IN + i) * OUT + o];
                        ref += p;
                        mag += Math.abs(p);
                    }
                }
            }
            Checks.close(what + "[" + n + "," + iy + "," + ix + "," + i + "]", ref, dx.get(n, iy, ix, i), 0,
                    1e-4 * mag + 1e-6);
        }
    }

    /** df[ky, kx, i, o] = sum over n, oy, ox of x[n, oy + ky - PAD, ox + kx - PAD, i] dy[n, oy, ox, o]. */
    public void checkFilterGradient(String what, At df) {
        SplittableRandom r = new SplittableRandom(7);
        for (int s = 0; s < 64; s++) {
            int ky = r.nextInt(K);
            int kx = r.nextInt(K);
            int i = r.nextInt(IN);
            int o = r.nextInt(OUT);
            double ref = 0;
            double mag = 0;
            for (int n = 0; n < batch; n++) {
                for (int oy = 0; oy < size; oy++) {
                    for (int ox = 0; ox < size; ox++) {
                        int iy = oy + ky - PAD;
                        int ix = ox + kx - PAD;
                        if (iy < 0 || iy >= size || ix < 0 || ix >= size) {
                            continue;
                        }
                        double p = (double) x[((n * size + iy) * size + ix) * IN + i] * dy[((n * size + oy) * size + ox) * OUT + o];
                        ref += p;
                        mag += Math.abs(p);
                    }
                }
            }
            Checks.close(what + "[" + ky + "," + kx + "," + i + "," + o + "]", ref, df.get(ky, kx, i, o), 0,
                    1e-4 * mag + 1e-6);
        }
    }
}
