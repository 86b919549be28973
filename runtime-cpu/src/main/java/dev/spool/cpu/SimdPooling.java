package dev.spool.cpu;

import dev.spool.spi.Conv2dGeometry;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * float32 max and average pooling and their gradients on the Vector API, vectorised over the
 * channels (contiguous in NHWC): each window's cells are visited in row-major order, as in
 * {@link Convolution}'s plain loops, with one vector of channels at a time; channels past the last
 * whole vector take the same steps one lane at a time. Cells outside the input are skipped, not
 * read. The forward passes split the output pixels across threads; the gradients, whose windows
 * may overlap, split whole images and add each window's share in window order, so every sum has
 * the plain path's order (in float32 rather than double).
 *
 * <p>Max pooling selects per lane the first maximal cell of each window, a NaN counting as the
 * maximum (so the first NaN): a cell replaces the current choice when the choice is not NaN and
 * the cell is NaN or greater. The gradient recomputes that choice and adds dy to the chosen cell
 * only (a masked add per cell of the window).
 */
final class SimdPooling {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int FL = FS.length();
    private static final long MIN_TASK_CELLS = 1L << 15;

    private SimdPooling() {
    }

    static boolean handles(Conv2dGeometry g) {
        return g.inputSize() > 0 && g.outputSize() > 0;
    }

    // ---- average -----------------------------------------------------------------------------

    static void avgPool(Parallel par, float[] x, int xo, Conv2dGeometry g, float[] y) {
        int c = g.inChannels();
        int full = c / FL * FL;
        forEachWindow(par, g, (n, oy, ox, out, cellAt) -> {
            int count = cellsInside(g, n, oy, ox, cellAt);
            for (int v = 0; v < full; v += FL) {
                FloatVector acc = FloatVector.zero(FS);
                for (int q = 0; q < count; q++) {
                    acc = acc.add(FloatVector.fromArray(FS, x, xo + cellAt[q] + v));
                }
                acc.div(count).intoArray(y, out + v);
            }
            for (int v = full; v < c; v++) {
                float acc = 0;
                for (int q = 0; q < count; q++) {
                    acc += x[xo + cellAt[q] + v];
                }
                y[out + v] = acc / count;
            }
        });
    }

    static void avgPoolGrad(Parallel par, float[] dy, int dyo, Conv2dGeometry g, float[] dx) {
        int c = g.inChannels();
        int full = c / FL * FL;
        forEachImage(par, g, dx, (n, cellAt) -> {
            for (int oy = 0; oy < g.outHeight(); oy++) {
                for (int ox = 0; ox < g.outWidth(); ox++) {
                    int at = dyo + ((n * g.outHeight() + oy) * g.outWidth() + ox) * c;
                    int count = cellsInside(g, n, oy, ox, cellAt);
                    for (int v = 0; v < full; v += FL) {
                        FloatVector share = FloatVector.fromArray(FS, dy, at + v).div(count);
                        for (int q = 0; q < count; q++) {
                            int cell = cellAt[q] + v;
                            share.add(FloatVector.fromArray(FS, dx, cell)).intoArray(dx, cell);
                        }
                    }
                    for (int v = full; v < c; v++) {
                        float share = dy[at + v] / count;
                        for (int q = 0; q < count; q++) {
                            dx[cellAt[q] + v] += share;
                        }
                    }
                }
            }
        });
    }

    // ---- max -------------------------------------------------------------------------------

    /** values at each window's selected cell of x ({@code values == x}: max pooling). */
    static void maxPool(Parallel par, float[] x, int xo, float[] values, int vo, Conv2dGeometry g, float[] y) {
        int c = g.inChannels();
        int full = c / FL * FL;
        boolean same = x == values && xo == vo;
        forEachWindow(par, g, (n, oy, ox, out, cellAt) -> {
            int count = cellsInside(g, n, oy, ox, cellAt); // core guarantees at least one
            for (int v = 0; v < full; v += FL) {
                FloatVector best = FloatVector.fromArray(FS, x, xo + cellAt[0] + v);
                FloatVector chosen = same ? best : FloatVector.fromArray(FS, values, vo + cellAt[0] + v);
                for (int q = 1; q < count; q++) {
                    int cell = cellAt[q] + v;
                    FloatVector cand = FloatVector.fromArray(FS, x, xo + cell);
                    VectorMask<Float> take = replaces(best, cand);
                    best = best.blend(cand, take);
                    chosen = chosen.blend(same ? cand : FloatVector.fromArray(FS, values, vo + cell), take);
                }
                chosen.intoArray(y, out + v);
            }
            for (int v = full; v < c; v++) {
                y[out + v] = values[vo + cellAt[selected(x, xo + v, cellAt, count)] + v];
            }
        });
    }

    /** dy added to each window's selected cell of x, windows in order. */
    static void maxPoolGrad(Parallel par, float[] x, int xo, float[] dy, int dyo, Conv2dGeometry g, float[] dx) {
        int c = g.inChannels();
        int full = c / FL * FL;
        forEachImage(par, g, dx, (n, cellAt) -> {
            for (int oy = 0; oy < g.outHeight(); oy++) {
                for (int ox = 0; ox < g.outWidth(); ox++) {
                    int at = dyo + ((n * g.outHeight() + oy) * g.outWidth() + ox) * c;
                    int count = cellsInside(g, n, oy, ox, cellAt);
                    for (int v = 0; v < full; v += FL) {
                        // the choice, as the number of the chosen cell per lane
                        FloatVector best = FloatVector.fromArray(FS, x, xo + cellAt[0] + v);
                        FloatVector choice = FloatVector.zero(FS);
                        for (int q = 1; q < count; q++) {
                            FloatVector cand = FloatVector.fromArray(FS, x, xo + cellAt[q] + v);
                            VectorMask<Float> take = replaces(best, cand);
                            best = best.blend(cand, take);
                            choice = choice.blend(q, take);
                        }
                        FloatVector grad = FloatVector.fromArray(FS, dy, at + v);
                        for (int q = 0; q < count; q++) {
                            int cell = cellAt[q] + v;
                            FloatVector d = FloatVector.fromArray(FS, dx, cell);
                            d.add(grad, choice.compare(VectorOperators.EQ, q)).intoArray(dx, cell);
                        }
                    }
                    for (int v = full; v < c; v++) {
                        dx[cellAt[selected(x, xo + v, cellAt, count)] + v] += dy[at + v];
                    }
                }
            }
        });
    }

    /** Lanes where {@code cand} replaces the current choice {@code best}: best is a number and
     *  cand is NaN or greater. */
    private static VectorMask<Float> replaces(FloatVector best, FloatVector cand) {
        VectorMask<Float> bestIsNumber = best.test(VectorOperators.IS_NAN).not();
        return bestIsNumber.and(cand.test(VectorOperators.IS_NAN).or(cand.compare(VectorOperators.GT, best)));
    }

    /** The number of the selected cell among {@code cellAt[0..count)}, reading x at {@code from + cellAt[q]}. */
    private static int selected(float[] x, int from, int[] cellAt, int count) {
        int best = 0;
        float bestValue = x[from + cellAt[0]];
        for (int q = 1; q < count; q++) {
            float v = x[from + cellAt[q]];
            if (!Float.isNaN(bestValue) && (Float.isNaN(v) || v > bestValue)) {
                best = q;
                bestValue = v;
            }
        }
        return best;
    }

    // ---- loops -------------------------------------------------------------------------------

    /** A window's work; {@code cellAt}: the piece's own scratch for {@link #cellsInside}. */
    @FunctionalInterface
    private interface WindowBody {
        void run(int n, int oy, int ox, int outBase, int[] cellAt);
    }

    @FunctionalInterface
    private interface ImageBody {
        void run(int n, int[] cellAt);
    }

    /**
     * The offsets in x of window (n, oy, ox)'s cells inside the input, in row-major window
     * order, into {@code cellAt}; returns how many. A list, so that the vector loops over a
     * window are single loops (see {@link ConvTiles} on nested loops and C2).
     */
    private static int cellsInside(Conv2dGeometry g, int n, int oy, int ox, int[] cellAt) {
        int count = 0;
        for (int ky = 0; ky < g.filterHeight(); ky++) {
            int iy = g.inputRow(oy, ky);
            if (iy < 0 || iy >= g.inHeight()) {
                continue;
            }
            for (int kx = 0; kx < g.filterWidth(); kx++) {
                int ix = g.inputColumn(ox, kx);
                if (ix >= 0 && ix < g.inWidth()) {
                    cellAt[count++] = ((n * g.inHeight() + iy) * g.inWidth() + ix) * g.inChannels();
                }
            }
        }
        return count;
    }

    private static void forEachWindow(Parallel par, Conv2dGeometry g, WindowBody body) {
        long windows = (long) g.batch() * g.outHeight() * g.outWidth();
        long perWindow = (long) g.filterHeight() * g.filterWidth() * g.inChannels();
        par.forRange(windows, Math.max(1, MIN_TASK_CELLS / Math.max(1, perWindow)), (lo, hi) -> {
            int[] cellAt = new int[g.filterHeight() * g.filterWidth()];
            for (long p = lo; p < hi; p++) {
                int ox = (int) (p % g.outWidth());
                int oy = (int) (p / g.outWidth() % g.outHeight());
                int n = (int) (p / g.outWidth() / g.outHeight());
                body.run(n, oy, ox, (int) p * g.outChannels(), cellAt);
            }
        });
    }

    /** Whole images per piece, each image's part of dx zeroed first: windows may overlap. */
    private static void forEachImage(Parallel par, Conv2dGeometry g, float[] dx, ImageBody body) {
        int image = g.inHeight() * g.inWidth() * g.inChannels();
        long perImage = (long) g.outHeight() * g.outWidth() * g.filterHeight() * g.filterWidth() * g.inChannels();
        par.forRange(g.batch(), Math.max(1, MIN_TASK_CELLS / Math.max(1, perImage)), (lo, hi) -> {
            int[] cellAt = new int[g.filterHeight() * g.filterWidth()];
            for (long n = lo; n < hi; n++) {
                Arrays.fill(dx, (int) n * image, (int) (n + 1) * image, 0f);
                body.run((int) n, cellAt);
            }
        });
    }
}
