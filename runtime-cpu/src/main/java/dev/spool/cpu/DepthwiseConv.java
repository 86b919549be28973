package dev.spool.cpu;

import dev.spool.spi.Conv2dGeometry;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * float32 depthwise convolutions (one input channel per group, {@code multiplier} output channels
 * each) on the Vector API, vectorised over the output channels: output channel {@code o} reads
 * input channel {@code o / multiplier}, so each task first copies the input rows its windows read
 * into a zero-padded workspace with every input channel repeated {@code multiplier} times (a
 * plain copy when the multiplier is 1). Then every window cell is one aligned vector of the
 * workspace against one vector of the filter, with no test for padding, and a depthwise
 * convolution is a sum of {@code filterHeight * filterWidth} vector products per output vector.
 * Channels past the last whole vector run the same loops one lane at a time.
 *
 * <p>Sums run in a fixed order (cells in row-major order; for the filter gradient, pixels in
 * order within a chunk of output rows, chunks in order), so results do not depend on the number
 * of threads. Padding cells are zeros that are multiplied (see {@link ConvGemm}).
 */
final class DepthwiseConv {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int FL = FS.length();
    /** Output rows per chunk of the filter gradient (their x and dy stay in cache). */
    private static final int CHUNK_ROWS = 8;
    private static final long MIN_TASK_MACS = 1L << 16;

    private DepthwiseConv() {
    }

    /** One input channel per group and more than one group: what this class computes. */
    static boolean isDepthwise(Conv2dGeometry g) {
        return g.groups() > 1 && g.inChannelsPerGroup() == 1;
    }

    static boolean handles(Conv2dGeometry g) {
        return isDepthwise(g) && g.inputSize() > 0 && g.outputSize() > 0;
    }

    // ---- forward -------------------------------------------------------------------------------

    /** out[n, oy, ox, o] = sum over cells of x[n, iy, ix, o / m] * f[ky, kx, 0, o]. */
    static void conv2d(Parallel par, float[] x, int xo, float[] f, int fo, Conv2dGeometry g, float[] y) {
        int o = g.outChannels();
        int kh = g.filterHeight();
        int kw = g.filterWidth();
        int oh = g.outHeight();
        int ow = g.outWidth();
        int wsWidth = (ow - 1) * g.strideW() + (kw - 1) * g.dilationW() + 1;
        int rowLen = wsWidth * o;
        int full = o / FL * FL;
        par.forRange((long) g.batch() * oh, grain((long) ow * kh * kw * o), (lo, hi) -> {
            float[] ws = new float[kh * rowLen];
            // the row's cells inside the input: offsets in ws and in f (single loops, see ConvTiles)
            int[] wsAt = new int[kh * kw];
            int[] fAt = new int[kh * kw];
            for (long row = lo; row < hi; row++) {
                int n = (int) (row / oh);
                int oy = (int) (row % oh);
                int cells = 0;
                for (int ky = 0; ky < kh; ky++) {
                    int iy = g.inputRow(oy, ky);
                    boolean inside = iy >= 0 && iy < g.inHeight();
                    expandedRow(x, xo, g, n, iy, inside, -g.padLeft(), wsWidth, ws, ky * rowLen);
                    for (int kx = 0; inside && kx < kw; kx++) {
                        wsAt[cells] = ky * rowLen + kx * g.dilationW() * o;
                        fAt[cells++] = fo + (ky * kw + kx) * o;
                    }
                }
                for (int ox = 0; ox < ow; ox++) {
                    int out = ((int) row * ow + ox) * o;
                    int base = ox * g.strideW() * o;
                    for (int v = 0; v < full; v += FL) {
                        FloatVector acc = FloatVector.zero(FS);
                        for (int q = 0; q < cells; q++) {
                            acc = FloatVector.fromArray(FS, ws, wsAt[q] + base + v)
                                    .fma(FloatVector.fromArray(FS, f, fAt[q] + v), acc);
                        }
                        acc.intoArray(y, out + v);
                    }
                    for (int v = full; v < o; v++) {
                        float acc = 0;
                        for (int q = 0; q < cells; q++) {
                            acc = Math.fma(ws[wsAt[q] + base + v], f[fAt[q] + v], acc);
                        }
                        y[out + v] = acc;
                    }
                }
            }
        });
    }

    // ---- input gradient ----------------------------------------------------------------------

    /** dx[n, iy, ix, c] = sum over the cells that reach (iy, ix) and j < m of dy[.., c*m + j] * f[.., c*m + j]. */
    static void backpropInput(Parallel par, float[] dy, int dyo, float[] f, int fo, Conv2dGeometry g,
                              float[] dx) {
        int o = g.outChannels();
        int c = g.inChannels();
        int m = g.outChannelsPerGroup();
        int kh = g.filterHeight();
        int kw = g.filterWidth();
        int h = g.inHeight();
        int w = g.inWidth();
        int sw = g.strideW();
        int oxLo = Math.floorDiv(g.padLeft() - (kw - 1) * g.dilationW(), sw);
        int oxHi = Math.floorDiv(w - 1 + g.padLeft(), sw) + 1;
        int wsWidth = oxHi - oxLo;
        int rowLen = wsWidth * o;
        int full = o / FL * FL;
        int dyRow = g.outWidth() * o;
        par.forRange((long) g.batch() * h, grain((long) w * kh * kw * o), (lo, hi) -> {
            float[] ws = new float[kh * rowLen];
            boolean[] inside = new boolean[kh];
            int[] wsAt = new int[kh * kw];
            int[] fAt = new int[kh * kw];
            float[] sums = m == 1 ? null : new float[o]; // per output channel, folded over j after
            for (long row = lo; row < hi; row++) {
                int n = (int) (row / h);
                int iy = (int) (row % h);
                for (int ky = 0; ky < kh; ky++) {
                    int t = iy + g.padTop() - ky * g.dilationH();
                    int oy = t / g.strideH();
                    inside[ky] = t >= 0 && t % g.strideH() == 0 && oy < g.outHeight();
                    ConvGemm.paddedRow(dy, dyo + (n * g.outHeight() + oy) * dyRow, inside[ky], g.outWidth(), o, oxLo,
                            wsWidth, ws, ky * rowLen);
                }
                for (int ix = 0; ix < w; ix++) {
                    // the cells that reach (iy, ix): ky's row holds dy, kx's column is a multiple of the stride
                    int cells = 0;
                    for (int ky = 0; ky < kh; ky++) {
                        for (int kx = 0; inside[ky] && kx < kw; kx++) {
                            int d = ix + g.padLeft() - kx * g.dilationW();
                            if (Math.floorMod(d, sw) == 0) {
                                wsAt[cells] = ky * rowLen + (Math.floorDiv(d, sw) - oxLo) * o;
                                fAt[cells++] = fo + (ky * kw + kx) * o;
                            }
                        }
                    }
                    float[] dst = m == 1 ? dx : sums;
                    int out = m == 1 ? ((int) row * w + ix) * c : 0;
                    for (int v = 0; v < full; v += FL) {
                        FloatVector acc = FloatVector.zero(FS);
                        for (int q = 0; q < cells; q++) {
                            acc = FloatVector.fromArray(FS, ws, wsAt[q] + v)
                                    .fma(FloatVector.fromArray(FS, f, fAt[q] + v), acc);
                        }
                        acc.intoArray(dst, out + v);
                    }
                    for (int v = full; v < o; v++) {
                        float acc = 0;
                        for (int q = 0; q < cells; q++) {
                            acc = Math.fma(ws[wsAt[q] + v], f[fAt[q] + v], acc);
                        }
                        dst[out + v] = acc;
                    }
                    if (m > 1) {
                        int at = ((int) row * w + ix) * c;
                        for (int ch = 0; ch < c; ch++) {
                            float s = 0;
                            for (int j = 0; j < m; j++) {
                                s += sums[ch * m + j];
                            }
                            dx[at + ch] = s;
                        }
                    }
                }
            }
        });
    }

    // ---- filter gradient ---------------------------------------------------------------------

    /** df[ky, kx, 0, o] = sum over n, oy, ox of x[n, iy, ix, o / m] * dy[n, oy, ox, o]. */
    static void backpropFilter(Parallel par, float[] x, int xo, float[] dy, int dyo, Conv2dGeometry g,
                               float[] df) {
        int o = g.outChannels();
        int kh = g.filterHeight();
        int kw = g.filterWidth();
        int oh = g.outHeight();
        int ow = g.outWidth();
        int cells = kh * kw;
        int vectors = (o + FL - 1) / FL; // the last may be a partial one, done lane by lane
        int full = o / FL * FL;
        long units = (long) cells * vectors;
        int chunk = Math.min(CHUNK_ROWS, oh);
        int wsRows = (chunk - 1) * g.strideH() + (kh - 1) * g.dilationH() + 1;
        int wsWidth = (ow - 1) * g.strideW() + (kw - 1) * g.dilationW() + 1;
        int rowLen = wsWidth * o;
        int step = g.strideW() * o;
        // One piece per thread (each copies every chunk of x).
        par.forRange(units, Math.max((units + par.threads() - 1) / par.threads(), 1), (lo, hi) -> {
            float[] ws = new float[wsRows * rowLen];
            boolean firstChunk = true;
            for (int n = 0; n < g.batch(); n++) {
                for (int oy0 = 0; oy0 < oh; oy0 += chunk) {
                    int rows = Math.min(chunk, oh - oy0);
                    int inputRows = (rows - 1) * g.strideH() + (kh - 1) * g.dilationH() + 1;
                    for (int i = 0; i < inputRows; i++) {
                        int iy = oy0 * g.strideH() - g.padTop() + i;
                        expandedRow(x, xo, g, n, iy, iy >= 0 && iy < g.inHeight(), -g.padLeft(), wsWidth, ws,
                                i * rowLen);
                    }
                    for (long u = lo; u < hi; u++) {
                        int cell = (int) (u / vectors);
                        int v = (int) (u % vectors) * FL;
                        int ky = cell / kw;
                        int kx = cell % kw;
                        int out = cell * o + v;
                        for (int s = 0; s < rows; s++) {
                            int a = (s * g.strideH() + ky * g.dilationH()) * rowLen + kx * g.dilationW() * o + v;
                            int b = dyo + ((n * oh + oy0 + s) * ow) * o + v;
                            boolean add = !(firstChunk && s == 0);
                            if (v < full) {
                                FloatVector acc = FloatVector.zero(FS);
                                for (int ox = 0; ox < ow; ox++) {
                                    acc = FloatVector.fromArray(FS, ws, a + ox * step)
                                            .fma(FloatVector.fromArray(FS, dy, b + ox * o), acc);
                                }
                                if (add) {
                                    acc = acc.add(FloatVector.fromArray(FS, df, out));
                                }
                                acc.intoArray(df, out);
                            } else {
                                for (int lane = v; lane < o; lane++) {
                                    float acc = 0;
                                    for (int ox = 0; ox < ow; ox++) {
                                        acc = Math.fma(ws[a - v + lane + ox * step], dy[b - v + lane + ox * o], acc);
                                    }
                                    df[cell * o + lane] = add ? df[cell * o + lane] + acc : acc;
                                }
                            }
                        }
                    }
                    firstChunk = false;
                }
            }
        });
    }

    // ---- helpers -----------------------------------------------------------------------------

    /**
     * Input row {@code iy} of image {@code n}, columns {@code [first, first + count)}, each
     * input channel repeated {@code multiplier} times (so that column ix holds the output
     * channels' inputs), zeros outside the image, into {@code dst} at {@code d}.
     */
    private static void expandedRow(float[] x, int xo, Conv2dGeometry g, int n, int iy, boolean inside, int first,
                                    int count, float[] dst, int d) {
        int c = g.inChannels();
        int m = g.outChannelsPerGroup();
        int rowStart = xo + (n * g.inHeight() + iy) * g.inWidth() * c;
        if (m == 1) {
            ConvGemm.paddedRow(x, rowStart, inside, g.inWidth(), c, first, count, dst, d);
            return;
        }
        int o = c * m;
        for (int col = 0; col < count; col++) {
            int ix = first + col;
            int at = d + col * o;
            if (!inside || ix < 0 || ix >= g.inWidth()) {
                Arrays.fill(dst, at, at + o, 0f);
                continue;
            }
            int src = rowStart + ix * c;
            for (int ch = 0; ch < c; ch++) {
                Arrays.fill(dst, at + ch * m, at + (ch + 1) * m, x[src + ch]);
            }
        }
    }

    private static long grain(long macsPerItem) {
        return Math.max(1, MIN_TASK_MACS / Math.max(1, macsPerItem));
    }
}
