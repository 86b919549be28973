package dev.spool.cpu;

import dev.spool.spi.Conv2dGeometry;
import dev.spool.spi.View;

/**
 * The convolution and pooling primitives: the choice of path, and the plain path, the reference
 * for every other. With the Vector API ({@link VectorSupport#ENABLED}), float32 goes to
 * {@link ConvGemm} (every convolution but the depthwise ones), {@link DepthwiseConv}
 * (one channel per group) and {@link SimdPooling}; float64, and every dtype on a JVM without the
 * module, runs the loops below ({@code *Plain}, which tests also call directly).
 *
 * <p>The plain path works in double for both float dtypes (inputs widened once into double
 * arrays, each result rounded once), one output element's sum in a fixed order: window row,
 * window column, then channel. Work is split over output pixels (or filter rows), each piece writing only its own
 * outputs, so results never depend on the split. NHWC keeps the innermost loops on contiguous
 * channels of both operands.
 */
final class Convolution {
    /** Multiply-adds below which a piece is not worth a thread. */
    private static final long GRAIN_MACS = 1 << 15;

    private Convolution() {
    }

    // ---- convolution -------------------------------------------------------------------------

    static void conv2d(Parallel par, View x, View f, Conv2dGeometry g, CpuBuffer out) {
        if (fast(x)) {
            if (ConvGemm.handles(g)) {
                ConvGemm.conv2d(par, floats(x), (int) x.offset(), floats(f), (int) f.offset(), g,
                        (float[]) out.data());
                return;
            }
            if (DepthwiseConv.handles(g)) {
                DepthwiseConv.conv2d(par, floats(x), (int) x.offset(), floats(f), (int) f.offset(), g,
                        (float[]) out.data());
                return;
            }
        }
        conv2dPlain(par, x, f, g, out);
    }

    static void backpropInput(Parallel par, View dy, View f, Conv2dGeometry g, CpuBuffer dx) {
        if (fast(dy)) {
            if (ConvGemm.handles(g)) {
                ConvGemm.backpropInput(par, floats(dy), (int) dy.offset(), floats(f), (int) f.offset(), g,
                        (float[]) dx.data());
                return;
            }
            if (DepthwiseConv.handles(g)) {
                DepthwiseConv.backpropInput(par, floats(dy), (int) dy.offset(), floats(f), (int) f.offset(), g,
                        (float[]) dx.data());
                return;
            }
        }
        backpropInputPlain(par, dy, f, g, dx);
    }

    static void backpropFilter(Parallel par, View x, View dy, Conv2dGeometry g, CpuBuffer df) {
        if (fast(x)) {
            if (ConvGemm.handles(g)) {
                ConvGemm.backpropFilter(par, floats(x), (int) x.offset(), floats(dy), (int) dy.offset(), g,
                        (float[]) df.data());
                return;
            }
            if (DepthwiseConv.handles(g)) {
                DepthwiseConv.backpropFilter(par, floats(x), (int) x.offset(), floats(dy), (int) dy.offset(), g,
                        (float[]) df.data());
                return;
            }
        }
        backpropFilterPlain(par, x, dy, g, df);
    }

    /** Whether the SIMD paths take this float32 operand. */
    private static boolean fast(View v) {
        return VectorSupport.ENABLED && CpuBuffer.data(v) instanceof float[];
    }

    private static float[] floats(View v) {
        return (float[]) CpuBuffer.data(v);
    }

    /** out[n, oy, ox, o] = sum over ky, kx, i of x[n, iy, ix, c(o, i)] * f[ky, kx, i, o]. */
    static void conv2dPlain(Parallel par, View x, View f, Conv2dGeometry g, CpuBuffer out) {
        double[] xs = Widened.of(x);
        double[] fs = Widened.of(f);
        double[] ys = new double[(int) g.outputSize()];
        int oc = g.outChannels();
        int cpg = g.inChannelsPerGroup();
        int opg = g.outChannelsPerGroup();
        long pixels = (long) g.batch() * g.outHeight() * g.outWidth();
        par.forRange(pixels, grain(g.filterHeight() * g.filterWidth() * (long) cpg * oc), (lo, hi) -> {
            for (long p = lo; p < hi; p++) {
                int ox = (int) (p % g.outWidth());
                int oy = (int) (p / g.outWidth() % g.outHeight());
                int n = (int) (p / g.outWidth() / g.outHeight());
                int yBase = (int) p * oc;
                for (int ky = 0; ky < g.filterHeight(); ky++) {
                    int iy = g.inputRow(oy, ky);
                    if (iy < 0 || iy >= g.inHeight()) {
                        continue;
                    }
                    for (int kx = 0; kx < g.filterWidth(); kx++) {
                        int ix = g.inputColumn(ox, kx);
                        if (ix < 0 || ix >= g.inWidth()) {
                            continue;
                        }
                        int xBase = ((n * g.inHeight() + iy) * g.inWidth() + ix) * g.inChannels();
                        int fBase = (ky * g.filterWidth() + kx) * cpg * oc;
                        for (int grp = 0; grp < g.groups(); grp++) {
                            for (int i = 0; i < cpg; i++) {
                                double xv = xs[xBase + grp * cpg + i];
                                int fRow = fBase + i * oc + grp * opg;
                                int yRow = yBase + grp * opg;
                                for (int o = 0; o < opg; o++) {
                                    ys[yRow + o] += xv * fs[fRow + o];
                                }
                            }
                        }
                    }
                }
            }
        });
        Widened.store(ys, out);
    }

    /** dx[n, iy, ix, c] = sum over the windows that read (iy, ix) of dy[n, oy, ox, o] * f[ky, kx, i, o]. */
    static void backpropInputPlain(Parallel par, View dy, View f, Conv2dGeometry g, CpuBuffer dx) {
        double[] dys = Widened.of(dy);
        double[] fs = Widened.of(f);
        double[] xs = new double[(int) g.inputSize()];
        int oc = g.outChannels();
        int cpg = g.inChannelsPerGroup();
        int opg = g.outChannelsPerGroup();
        long pixels = (long) g.batch() * g.inHeight() * g.inWidth();
        par.forRange(pixels, grain(g.filterHeight() * g.filterWidth() * (long) cpg * oc), (lo, hi) -> {
            for (long p = lo; p < hi; p++) {
                int ix = (int) (p % g.inWidth());
                int iy = (int) (p / g.inWidth() % g.inHeight());
                int n = (int) (p / g.inWidth() / g.inHeight());
                int xBase = (int) p * g.inChannels();
                for (int ky = 0; ky < g.filterHeight(); ky++) {
                    int oy = sourceIndex(iy + g.padTop() - ky * g.dilationH(), g.strideH(), g.outHeight());
                    if (oy < 0) {
                        continue;
                    }
                    for (int kx = 0; kx < g.filterWidth(); kx++) {
                        int ox = sourceIndex(ix + g.padLeft() - kx * g.dilationW(), g.strideW(), g.outWidth());
                        if (ox < 0) {
                            continue;
                        }
                        int yBase = ((n * g.outHeight() + oy) * g.outWidth() + ox) * oc;
                        int fBase = (ky * g.filterWidth() + kx) * cpg * oc;
                        for (int grp = 0; grp < g.groups(); grp++) {
                            for (int i = 0; i < cpg; i++) {
                                int fRow = fBase + i * oc + grp * opg;
                                int yRow = yBase + grp * opg;
                                double s = 0;
                                for (int o = 0; o < opg; o++) {
                                    s += dys[yRow + o] * fs[fRow + o];
                                }
                                xs[xBase + grp * cpg + i] += s;
                            }
                        }
                    }
                }
            }
        });
        Widened.store(xs, dx);
    }

    /** df[ky, kx, i, o] = sum over n, oy, ox of x[n, iy, ix, c(o, i)] * dy[n, oy, ox, o]. */
    static void backpropFilterPlain(Parallel par, View x, View dy, Conv2dGeometry g, CpuBuffer df) {
        double[] xs = Widened.of(x);
        double[] dys = Widened.of(dy);
        double[] fs = new double[(int) g.filterSize()];
        int oc = g.outChannels();
        int cpg = g.inChannelsPerGroup();
        int opg = g.outChannelsPerGroup();
        long rows = (long) g.filterHeight() * g.filterWidth() * cpg; // (ky, kx, i)
        long perRow = (long) g.batch() * g.outHeight() * g.outWidth() * oc;
        par.forRange(rows, grain(perRow), (lo, hi) -> {
            for (long r = lo; r < hi; r++) {
                int i = (int) (r % cpg);
                int kx = (int) (r / cpg % g.filterWidth());
                int ky = (int) (r / cpg / g.filterWidth());
                int fRow = (int) r * oc;
                for (int n = 0; n < g.batch(); n++) {
                    for (int oy = 0; oy < g.outHeight(); oy++) {
                        int iy = g.inputRow(oy, ky);
                        if (iy < 0 || iy >= g.inHeight()) {
                            continue;
                        }
                        for (int ox = 0; ox < g.outWidth(); ox++) {
                            int ix = g.inputColumn(ox, kx);
                            if (ix < 0 || ix >= g.inWidth()) {
                                continue;
                            }
                            int xBase = ((n * g.inHeight() + iy) * g.inWidth() + ix) * g.inChannels();
                            int yBase = ((n * g.outHeight() + oy) * g.outWidth() + ox) * oc;
                            for (int grp = 0; grp < g.groups(); grp++) {
                                double xv = xs[xBase + grp * cpg + i];
                                for (int o = grp * opg; o < (grp + 1) * opg; o++) {
                                    fs[fRow + o] += xv * dys[yBase + o];
                                }
                            }
                        }
                    }
                }
            }
        });
        Widened.store(fs, df);
    }

    // ---- pooling -------------------------------------------------------------------------------

    static void avgPool(Parallel par, View x, Conv2dGeometry g, CpuBuffer out) {
        if (fast(x) && SimdPooling.handles(g)) {
            SimdPooling.avgPool(par, floats(x), (int) x.offset(), g, (float[]) out.data());
        } else {
            avgPoolPlain(par, x, g, out);
        }
    }

    static void avgPoolGrad(Parallel par, View dy, Conv2dGeometry g, CpuBuffer dx) {
        if (fast(dy) && SimdPooling.handles(g)) {
            SimdPooling.avgPoolGrad(par, floats(dy), (int) dy.offset(), g, (float[]) dx.data());
        } else {
            avgPoolGradPlain(par, dy, g, dx);
        }
    }

    static void maxPool(Parallel par, View x, View values, Conv2dGeometry g, CpuBuffer out) {
        if (fast(x) && SimdPooling.handles(g)) {
            SimdPooling.maxPool(par, floats(x), (int) x.offset(), floats(values), (int) values.offset(), g,
                    (float[]) out.data());
        } else {
            maxPoolPlain(par, x, values, g, out);
        }
    }

    static void maxPoolGrad(Parallel par, View x, View dy, Conv2dGeometry g, CpuBuffer dx) {
        if (fast(x) && SimdPooling.handles(g)) {
            SimdPooling.maxPoolGrad(par, floats(x), (int) x.offset(), floats(dy), (int) dy.offset(), g,
                    (float[]) dx.data());
        } else {
            maxPoolGradPlain(par, x, dy, g, dx);
        }
    }

    /** The mean over each window's cells inside the input. */
    static void avgPoolPlain(Parallel par, View x, Conv2dGeometry g, CpuBuffer out) {
        double[] xs = Widened.of(x);
        double[] ys = new double[(int) g.outputSize()];
        int c = g.inChannels();
        forEachWindow(par, g, (n, oy, ox, yBase) -> {
            int count = 0;
            for (int ky = 0; ky < g.filterHeight(); ky++) {
                int iy = g.inputRow(oy, ky);
                for (int kx = 0; kx < g.filterWidth(); kx++) {
                    int ix = g.inputColumn(ox, kx);
                    if (iy >= 0 && iy < g.inHeight() && ix >= 0 && ix < g.inWidth()) {
                        int xBase = ((n * g.inHeight() + iy) * g.inWidth() + ix) * c;
                        for (int ch = 0; ch < c; ch++) {
                            ys[yBase + ch] += xs[xBase + ch];
                        }
                        count++;
                    }
                }
            }
            for (int ch = 0; ch < c; ch++) {
                ys[yBase + ch] /= count;
            }
        });
        Widened.store(ys, out);
    }

    /** Each window's dy / count added to its cells, windows in order (one image per piece). */
    static void avgPoolGradPlain(Parallel par, View dy, Conv2dGeometry g, CpuBuffer dx) {
        double[] dys = Widened.of(dy);
        double[] xs = new double[(int) g.inputSize()];
        int c = g.inChannels();
        forEachImage(par, g, n -> {
            for (int oy = 0; oy < g.outHeight(); oy++) {
                for (int ox = 0; ox < g.outWidth(); ox++) {
                    int yBase = ((n * g.outHeight() + oy) * g.outWidth() + ox) * c;
                    int count = cellsInside(g, oy, ox);
                    for (int ky = 0; ky < g.filterHeight(); ky++) {
                        int iy = g.inputRow(oy, ky);
                        for (int kx = 0; kx < g.filterWidth(); kx++) {
                            int ix = g.inputColumn(ox, kx);
                            if (iy >= 0 && iy < g.inHeight() && ix >= 0 && ix < g.inWidth()) {
                                int xBase = ((n * g.inHeight() + iy) * g.inWidth() + ix) * c;
                                for (int ch = 0; ch < c; ch++) {
                                    xs[xBase + ch] += dys[yBase + ch] / count;
                                }
                            }
                        }
                    }
                }
            }
        });
        Widened.store(xs, dx);
    }

    /** values at each window's selected cell of x (the first maximal one; NaN counts as the maximum). */
    static void maxPoolPlain(Parallel par, View x, View values, Conv2dGeometry g, CpuBuffer out) {
        double[] xs = Widened.of(x);
        double[] vs = x.equals(values) ? xs : Widened.of(values);
        double[] ys = new double[(int) g.outputSize()];
        int c = g.inChannels();
        forEachWindow(par, g, (n, oy, ox, yBase) -> {
            for (int ch = 0; ch < c; ch++) {
                ys[yBase + ch] = vs[selected(xs, g, n, oy, ox, ch)];
            }
        });
        Widened.store(ys, out);
    }

    /** dy added to each window's selected cell of x, windows in order (one image per piece). */
    static void maxPoolGradPlain(Parallel par, View x, View dy, Conv2dGeometry g, CpuBuffer dx) {
        double[] xs = Widened.of(x);
        double[] dys = Widened.of(dy);
        double[] gs = new double[(int) g.inputSize()];
        int c = g.inChannels();
        forEachImage(par, g, n -> {
            for (int oy = 0; oy < g.outHeight(); oy++) {
                for (int ox = 0; ox < g.outWidth(); ox++) {
                    int yBase = ((n * g.outHeight() + oy) * g.outWidth() + ox) * c;
                    for (int ch = 0; ch < c; ch++) {
                        gs[selected(xs, g, n, oy, ox, ch)] += dys[yBase + ch];
                    }
                }
            }
        });
        Widened.store(gs, dx);
    }

    /** The index in x of the selected cell of window (n, oy, ox), channel ch. */
    private static int selected(double[] xs, Conv2dGeometry g, int n, int oy, int ox, int ch) {
        int best = -1;
        double bestValue = 0;
        for (int ky = 0; ky < g.filterHeight(); ky++) {
            int iy = g.inputRow(oy, ky);
            if (iy < 0 || iy >= g.inHeight()) {
                continue;
            }
            for (int kx = 0; kx < g.filterWidth(); kx++) {
                int ix = g.inputColumn(ox, kx);
                if (ix < 0 || ix >= g.inWidth()) {
                    continue;
                }
                int at = ((n * g.inHeight() + iy) * g.inWidth() + ix) * g.inChannels() + ch;
                double v = xs[at];
                if (best < 0 || (!Double.isNaN(bestValue) && (Double.isNaN(v) || v > bestValue))) {
                    best = at;
                    bestValue = v;
                }
            }
        }
        return best;
    }

    private static int cellsInside(Conv2dGeometry g, int oy, int ox) {
        int rows = 0;
        for (int ky = 0; ky < g.filterHeight(); ky++) {
            int iy = g.inputRow(oy, ky);
            rows += iy >= 0 && iy < g.inHeight() ? 1 : 0;
        }
        int cols = 0;
        for (int kx = 0; kx < g.filterWidth(); kx++) {
            int ix = g.inputColumn(ox, kx);
            cols += ix >= 0 && ix < g.inWidth() ? 1 : 0;
        }
        return rows * cols;
    }

    // ---- loops and conversions -------------------------------------------------------------------

    @FunctionalInterface
    private interface WindowBody {
        void run(int n, int oy, int ox, int outBase);
    }

    @FunctionalInterface
    private interface ImageBody {
        void run(int n);
    }

    private static void forEachWindow(Parallel par, Conv2dGeometry g, WindowBody body) {
        long windows = (long) g.batch() * g.outHeight() * g.outWidth();
        par.forRange(windows, grain((long) g.filterHeight() * g.filterWidth() * g.inChannels()), (lo, hi) -> {
            for (long p = lo; p < hi; p++) {
                int ox = (int) (p % g.outWidth());
                int oy = (int) (p / g.outWidth() % g.outHeight());
                int n = (int) (p / g.outWidth() / g.outHeight());
                body.run(n, oy, ox, (int) p * g.outChannels());
            }
        });
    }

    /** Whole images per piece: for scatters, whose windows may overlap within an image. */
    private static void forEachImage(Parallel par, Conv2dGeometry g, ImageBody body) {
        long perImage = (long) g.outHeight() * g.outWidth() * g.filterHeight() * g.filterWidth() * g.inChannels();
        par.forRange(g.batch(), grain(perImage), (lo, hi) -> {
            for (long n = lo; n < hi; n++) {
                body.run((int) n);
            }
        });
    }

    private static long grain(long macsPerItem) {
        return Math.max(1, GRAIN_MACS / Math.max(1, macsPerItem));
    }

    /** The output index o with {@code o * stride == at}, or -1 when none lies in [0, size). */
    private static int sourceIndex(int at, int stride, int size) {
        if (at < 0 || at % stride != 0) {
            return -1;
        }
        int o = at / stride;
        return o < size ? o : -1;
    }
}
