package dev.spool.cpu;

import static dev.spool.cpu.ConvTiles.FL;
import static dev.spool.cpu.ConvTiles.MAX_NV;
import static dev.spool.cpu.ConvTiles.MR;

import dev.spool.spi.Conv2dGeometry;
import java.util.Arrays;

/**
 * float32 convolutions as implicit GEMMs on the Vector API: the product {@code [M, K] x [K, N]}
 * with M the output pixels, K = filterHeight * filterWidth * inChannels / groups and N the output
 * channels, never materialised as an im2col matrix. Each task copies the few input rows its
 * windows read into a zero-padded row workspace (one tile's worth: filterHeight rows of the
 * padded width), so that every window cell has an address and padding needs no test; the
 * register tiles of {@link ConvTiles} then read the windows in place.
 *
 * <ul>
 * <li>{@link #conv2d}: tasks are output rows; a tile is 6 adjacent output pixels by up to 64
 *     output channels (4 vectors on AVX-512), summed cell by cell (ky, kx) over the group's
 *     input channels, against the filter packed per block of columns.
 * <li>{@link #backpropInput}: the transposed convolution, computed directly: tasks are input
 *     rows; with strides, the row's pixels are taken by phase ({@code ix mod strideW}), so that
 *     the cells that reach a pixel are the same across a tile and its 6 pixels read 6 adjacent dy
 *     pixels. No col2im, no scatter: each dx element is one tile's output.
 * <li>{@link #backpropFilter}: {@code A^T dY} with the pixels as the long dimension: a tile is 6
 *     rows of the filter (ky, kx, i) by up to 4 vectors of output channels, its sum running over
 *     the pixels of a chunk of output rows, then added to the filter's gradient chunk after
 *     chunk. Threads own whole tiles of the filter, so no two threads add to one element.
 * </ul>
 *
 * <p>Every output element is summed in an order fixed by the shape (cells, then channels, then
 * chunks of pixels in order), so results do not depend on the number of threads. Grouped
 * convolutions take these paths too, each group a product of its own, except the depthwise ones
 * (one input channel in each of several groups), which take {@link DepthwiseConv}. Padding cells are zeros
 * that are multiplied, as the specification states: a NaN or infinite weight (or dy) meeting a
 * padding cell gives NaN here, where the plain path skips padding cells.
 */
final class ConvGemm {
    /**
     * Channels per group below which a tile's windows are first gathered into 6 contiguous
     * rows of K values: read in place, each cell would be a tile call of only that many steps.
     */
    private static final int GATHER_BELOW = 16;
    /** Output rows per chunk of the filter gradient: their x and dy stay in L2 (~260 KB at 64
     *  channels, width 56) while every tile of the filter sweeps them. */
    private static final int CHUNK_ROWS = 8;
    /** Multiply-adds below which a task is not worth handing to another thread. */
    private static final long MIN_TASK_MACS = 1L << 18;

    private ConvGemm() {
    }

    /** Whether these paths compute {@code g}: everything but depthwise and empty geometries. */
    static boolean handles(Conv2dGeometry g) {
        return g.inputSize() > 0 && g.outputSize() > 0 && g.filterSize() > 0
                && !DepthwiseConv.isDepthwise(g);
    }

    // ---- forward -------------------------------------------------------------------------------

    static void conv2d(Parallel par, float[] x, int xo, float[] f, int fo, Conv2dGeometry g, float[] y) {
        int c = g.inChannels();
        int o = g.outChannels();
        int cpg = g.inChannelsPerGroup();
        int opg = g.outChannelsPerGroup();
        int kw = g.filterWidth();
        int kh = g.filterHeight();
        int oh = g.outHeight();
        int ow = g.outWidth();
        int k = kh * kw * cpg;
        int[] blocks = ConvTiles.columnBlocks(opg);
        int padded = paddedWidth(blocks);
        // B per group and block of columns: k rows of nv * FL values, zeros past the group.
        float[] packed = new float[g.groups() * k * padded];
        for (int gi = 0; gi < g.groups(); gi++) {
            for (int q = 0; q < k; q++) {
                int src = fo + q * o + gi * opg;
                for (int j = 0; j < blocks.length; j += 2) {
                    int width = blocks[j + 1] * FL;
                    int dst = gi * k * padded + k * blocks[j] + q * width;
                    int n = Math.min(width, opg - blocks[j]);
                    System.arraycopy(f, src + blocks[j], packed, dst, n);
                }
            }
        }
        int wsWidth = (ow - 1) * g.strideW() + (kw - 1) * g.dilationW() + 1;
        int rowLen = wsWidth * c;
        boolean gather = cpg < GATHER_BELOW;
        int imageRow = g.inWidth() * c;
        par.forRange((long) g.batch() * oh, grain((long) ow * k * o), (lo, hi) -> {
            float[] ws = new float[kh * rowLen];
            boolean[] inside = new boolean[kh];
            float[] edge = new float[MR * MAX_NV * FL];
            float[] tile = gather ? new float[MR * k] : null;
            int[] cellAt = new int[kh * kw]; // where each window cell lies in ws, from a pixel's start
            for (int cell = 0; cell < kh * kw; cell++) {
                cellAt[cell] = (cell / kw) * rowLen + (cell % kw) * g.dilationW() * c;
            }
            int[] a = new int[MR];
            for (long row = lo; row < hi; row++) {
                int n = (int) (row / oh);
                int oy = (int) (row % oh);
                for (int ky = 0; ky < kh; ky++) {
                    int iy = g.inputRow(oy, ky);
                    inside[ky] = iy >= 0 && iy < g.inHeight();
                    paddedRow(x, xo + (n * g.inHeight() + iy) * imageRow, inside[ky], g.inWidth(), c,
                            -g.padLeft(), wsWidth, ws, ky * rowLen);
                }
                int yRow = (int) row * ow * o;
                for (int gi = 0; gi < g.groups(); gi++) {
                    for (int j = 0; j < blocks.length; j += 2) {
                        int start = blocks[j];
                        int nv = blocks[j + 1];
                        int width = nv * FL;
                        int bBase = gi * k * padded + k * start;
                        int cols = Math.min(width, opg - start);
                        for (int ox0 = 0; ox0 < ow; ox0 += MR) {
                            int rows = Math.min(MR, ow - ox0);
                            for (int r = 0; r < MR; r++) {
                                a[r] = Math.min(ox0 + r, ow - 1) * g.strideW() * c + gi * cpg;
                            }
                            boolean full = rows == MR && cols == width;
                            float[] dst = full ? y : edge;
                            int at = full ? yRow + ox0 * o + gi * opg + start : 0;
                            int ldc = full ? o : width;
                            if (gather) {
                                gather(ws, cellAt, a, cpg, tile, k);
                                ConvTiles.unit(nv, tile, 0, k, 2 * k, 3 * k, 4 * k, 5 * k, packed, bBase, k,
                                        dst, at, ldc, false);
                            } else {
                                boolean first = true;
                                for (int ky = 0; ky < kh; ky++) {
                                    if (!inside[ky]) {
                                        continue; // a padding row: zeros, skipped
                                    }
                                    for (int kx = 0; kx < kw; kx++) {
                                        int cell = ky * rowLen + kx * g.dilationW() * c;
                                        ConvTiles.unit(nv, ws, a[0] + cell, a[1] + cell, a[2] + cell, a[3] + cell,
                                                a[4] + cell, a[5] + cell, packed, bBase + (ky * kw + kx) * cpg * width,
                                                cpg, dst, at, ldc, !first);
                                        first = false;
                                    }
                                }
                                if (first) {
                                    zero(dst, at, ldc, full ? rows : MR, full ? cols : width);
                                }
                            }
                            if (!full) {
                                merge(edge, width, y, yRow + ox0 * o + gi * opg + start, o, rows, cols, false);
                            }
                        }
                    }
                }
            }
        });
    }

    // ---- input gradient ----------------------------------------------------------------------

    static void backpropInput(Parallel par, float[] dy, int dyo, float[] f, int fo, Conv2dGeometry g,
                              float[] dx) {
        int c = g.inChannels();
        int o = g.outChannels();
        int cpg = g.inChannelsPerGroup();
        int opg = g.outChannelsPerGroup();
        int kw = g.filterWidth();
        int kh = g.filterHeight();
        int cells = kh * kw;
        int h = g.inHeight();
        int w = g.inWidth();
        int sw = g.strideW();
        int kt = cells * opg; // the transposed product's K
        int[] blocks = ConvTiles.columnBlocks(cpg);
        int padded = paddedWidth(blocks);
        // The filter transposed per cell, per group and block of input channels:
        // [cell][o'][width] with value f[cell, start + col, gi * opg + o'].
        float[] packed = new float[g.groups() * kt * padded];
        for (int gi = 0; gi < g.groups(); gi++) {
            for (int j = 0; j < blocks.length; j += 2) {
                int width = blocks[j + 1] * FL;
                int cols = Math.min(width, cpg - blocks[j]);
                int base = gi * kt * padded + kt * blocks[j];
                for (int cell = 0; cell < cells; cell++) {
                    for (int q = 0; q < opg; q++) {
                        int dst = base + (cell * opg + q) * width;
                        int src = fo + (cell * cpg + blocks[j]) * o + gi * opg + q;
                        for (int col = 0; col < cols; col++) {
                            packed[dst + col] = f[src + col * o];
                        }
                    }
                }
            }
        }
        // dy's columns that any pixel of the row reads, through any cell.
        int oxLo = Math.floorDiv(g.padLeft() - (kw - 1) * g.dilationW(), sw);
        int oxHi = Math.floorDiv(w - 1 + g.padLeft(), sw) + 1;
        int wsWidth = oxHi - oxLo;
        int rowLen = wsWidth * o;
        boolean gather = opg < GATHER_BELOW;
        int dyRow = g.outWidth() * o;
        // Past the rows, zeros that a gathered cell reaching no pixel reads: as far as a tile's
        // last row reads from a cell's start.
        int zeros = kh * rowLen;
        int wsSize = zeros + (gather ? (MR - 1 + (w + sw - 1) / sw) * o : 0);
        par.forRange((long) g.batch() * h, grain((long) w * kt * cpg / Math.max(1, g.strideH() * sw)), (lo, hi) -> {
            float[] ws = new float[wsSize];
            boolean[] inside = new boolean[kh];
            float[] edge = new float[MR * MAX_NV * FL];
            float[] tile = gather ? new float[MR * kt] : null;
            int[] cellAt = new int[cells];
            int[] shift = new int[kw]; // per kx: ox - t for this phase, or MIN_VALUE when no dy reaches
            int[] a = new int[MR];
            for (long row = lo; row < hi; row++) {
                int n = (int) (row / h);
                int iy = (int) (row % h);
                for (int ky = 0; ky < kh; ky++) {
                    int t = iy + g.padTop() - ky * g.dilationH();
                    int oy = t / g.strideH();
                    inside[ky] = t >= 0 && t % g.strideH() == 0 && oy < g.outHeight();
                    paddedRow(dy, dyo + (n * g.outHeight() + oy) * dyRow, inside[ky], g.outWidth(), o, oxLo, wsWidth,
                            ws, ky * rowLen);
                }
                int xRow = (int) row * w * c;
                for (int ph = 0; ph < Math.min(sw, w); ph++) {
                    int count = (w - ph + sw - 1) / sw; // pixels ph, ph + sw, ...
                    for (int kx = 0; kx < kw; kx++) {
                        int d = ph + g.padLeft() - kx * g.dilationW();
                        shift[kx] = Math.floorMod(d, sw) == 0 ? Math.floorDiv(d, sw) - oxLo : Integer.MIN_VALUE;
                    }
                    for (int cell = 0; gather && cell < cells; cell++) {
                        int s = shift[cell % kw];
                        // a cell that reaches no pixel of this phase reads a zero run of ws
                        cellAt[cell] = inside[cell / kw] && s != Integer.MIN_VALUE ? (cell / kw) * rowLen + s * o
                                : zeros;
                    }
                    for (int gi = 0; gi < g.groups(); gi++) {
                        for (int j = 0; j < blocks.length; j += 2) {
                            int start = blocks[j];
                            int nv = blocks[j + 1];
                            int width = nv * FL;
                            int bBase = gi * kt * padded + kt * start;
                            int cols = Math.min(width, cpg - start);
                            for (int t0 = 0; t0 < count; t0 += MR) {
                                int rows = Math.min(MR, count - t0);
                                for (int r = 0; r < MR; r++) {
                                    a[r] = Math.min(t0 + r, count - 1) * o + gi * opg;
                                }
                                boolean full = rows == MR && cols == width;
                                int out = xRow + (ph + sw * t0) * c + gi * cpg + start;
                                float[] dst = full ? dx : edge;
                                int at = full ? out : 0;
                                int ldc = full ? sw * c : width;
                                if (gather) {
                                    gather(ws, cellAt, a, opg, tile, kt);
                                    ConvTiles.unit(nv, tile, 0, kt, 2 * kt, 3 * kt, 4 * kt, 5 * kt, packed, bBase,
                                            kt, dst, at, ldc, false);
                                } else {
                                    boolean first = true;
                                    for (int ky = 0; ky < kh; ky++) {
                                        if (!inside[ky]) {
                                            continue;
                                        }
                                        for (int kx = 0; kx < kw; kx++) {
                                            if (shift[kx] == Integer.MIN_VALUE) {
                                                continue; // this cell reaches no pixel of the phase
                                            }
                                            int cell = ky * rowLen + shift[kx] * o;
                                            ConvTiles.unit(nv, ws, a[0] + cell, a[1] + cell, a[2] + cell, a[3] + cell,
                                                    a[4] + cell, a[5] + cell, packed,
                                                    bBase + (ky * kw + kx) * opg * width, opg, dst, at, ldc, !first);
                                            first = false;
                                        }
                                    }
                                    if (first) {
                                        zero(dst, at, ldc, full ? rows : MR, full ? cols : width);
                                    }
                                }
                                if (!full) {
                                    merge(edge, width, dx, out, sw * c, rows, cols, false);
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    // ---- filter gradient ---------------------------------------------------------------------

    static void backpropFilter(Parallel par, float[] x, int xo, float[] dy, int dyo, Conv2dGeometry g,
                               float[] df) {
        int c = g.inChannels();
        int o = g.outChannels();
        int cpg = g.inChannelsPerGroup();
        int opg = g.outChannelsPerGroup();
        int kw = g.filterWidth();
        int kh = g.filterHeight();
        int oh = g.outHeight();
        int ow = g.outWidth();
        int groups = g.groups();
        int k = kh * kw * cpg;
        int[] blocks = ConvTiles.columnBlocks(opg);
        int nBlocks = blocks.length / 2;
        int padded = paddedWidth(blocks);
        int rowTiles = (k + MR - 1) / MR;
        long tiles = (long) groups * rowTiles * nBlocks;
        // dy is read in place when every vector of every block lies inside its group's columns;
        // otherwise each chunk of dy is first copied into rows padded per group.
        boolean inPlace = opg % FL == 0;
        int chunk = Math.min(CHUNK_ROWS, oh);
        int wsRows = (chunk - 1) * g.strideH() + (kh - 1) * g.dilationH() + 1;
        int wsWidth = (ow - 1) * g.strideW() + (kw - 1) * g.dilationW() + 1;
        int rowLen = wsWidth * c;
        int pixelStride = inPlace ? o : groups * padded;
        int imageRow = g.inWidth() * c;
        // One piece per thread: each piece copies every chunk of x once, so more pieces would
        // copy more.
        par.forRange(tiles, Math.max((tiles + par.threads() - 1) / par.threads(), 1), (lo, hi) -> {
            float[] ws = new float[wsRows * rowLen];
            float[] dyPadded = inPlace ? null : new float[chunk * ow * pixelStride];
            float[] edge = new float[MR * MAX_NV * FL];
            int[] a = new int[MR];
            boolean firstChunk = true;
            for (int n = 0; n < g.batch(); n++) {
                for (int oy0 = 0; oy0 < oh; oy0 += chunk) {
                    int rows = Math.min(chunk, oh - oy0);
                    int inputRows = (rows - 1) * g.strideH() + (kh - 1) * g.dilationH() + 1;
                    for (int i = 0; i < inputRows; i++) {
                        int iy = oy0 * g.strideH() - g.padTop() + i;
                        paddedRow(x, xo + (n * g.inHeight() + iy) * imageRow, iy >= 0 && iy < g.inHeight(),
                                g.inWidth(), c, -g.padLeft(), wsWidth, ws, i * rowLen);
                    }
                    int dyChunk = dyo + (n * oh + oy0) * ow * o;
                    if (!inPlace) {
                        for (int p = 0; p < rows * ow; p++) {
                            for (int gi = 0; gi < groups; gi++) {
                                int to = p * pixelStride + gi * padded;
                                System.arraycopy(dy, dyChunk + p * o + gi * opg, dyPadded, to, opg);
                                Arrays.fill(dyPadded, to + opg, to + padded, 0f);
                            }
                        }
                    }
                    for (long t = lo; t < hi; t++) {
                        int gi = (int) (t / ((long) rowTiles * nBlocks));
                        int k0 = (int) (t / nBlocks % rowTiles) * MR;
                        int j = (int) (t % nBlocks) * 2;
                        int start = blocks[j];
                        int nv = blocks[j + 1];
                        int width = nv * FL;
                        for (int r = 0; r < MR; r++) {
                            int kk = Math.min(k0 + r, k - 1);
                            int cell = kk / cpg;
                            a[r] = (cell / kw) * g.dilationH() * rowLen + (cell % kw) * g.dilationW() * c
                                    + gi * cpg + kk % cpg;
                        }
                        int cols = Math.min(width, opg - start);
                        int valid = Math.min(MR, k - k0);
                        boolean full = valid == MR && cols == width;
                        int out = k0 * o + gi * opg + start;
                        for (int s = 0; s < rows; s++) {
                            int as = s * g.strideH() * rowLen;
                            float[] b = inPlace ? dy : dyPadded;
                            int bi = inPlace ? dyChunk + s * ow * o + gi * opg + start
                                    : s * ow * pixelStride + gi * padded + start;
                            ConvTiles.strided(nv, ws, a[0] + as, a[1] + as, a[2] + as, a[3] + as, a[4] + as,
                                    a[5] + as, g.strideW() * c, b, bi, pixelStride, ow,
                                    full ? df : edge, full ? out : 0, full ? o : width,
                                    full ? !(firstChunk && s == 0) : s > 0);
                        }
                        if (!full) {
                            merge(edge, width, df, out, o, valid, cols, !firstChunk);
                        }
                    }
                    firstChunk = false;
                }
            }
        });
    }

    // ---- helpers -----------------------------------------------------------------------------

    /**
     * Gathers the windows of a tile's 6 rows into {@code tile}, one row of {@code k} values
     * each: window cell q of row r starts at {@code ws[cellAt[q] + a[r]]} and holds {@code run}
     * values. Plain copies: with few channels per cell, a System.arraycopy per run cost more
     * than the tile (JFR on Fashion-MNIST's first layer, 1 channel: 140 of 200 samples there).
     */
    private static void gather(float[] ws, int[] cellAt, int[] a, int run, float[] tile, int k) {
        if (run == 1) { // one channel (a first layer on grey images): no inner loop to set up
            for (int r = 0; r < MR; r++) {
                int to = r * k;
                int from = a[r];
                for (int q = 0; q < cellAt.length; q++) {
                    tile[to + q] = ws[cellAt[q] + from];
                }
            }
            return;
        }
        for (int r = 0; r < MR; r++) {
            int to = r * k;
            for (int q = 0; q < cellAt.length; q++) {
                int from = cellAt[q] + a[r];
                for (int i = 0; i < run; i++) {
                    tile[to++] = ws[from + i];
                }
            }
        }
    }

    /**
     * Columns {@code [first, first + count)} of one row of an NHWC image ({@code width} pixels
     * of {@code ch} channels, the row at {@code rowStart}) into {@code dst} at {@code d}, zeros
     * for the columns outside the image and for the whole row when it is not {@code inside}.
     */
    static void paddedRow(float[] src, int rowStart, boolean inside, int width, int ch, int first, int count,
                          float[] dst, int d) {
        int from = inside ? Math.max(first, 0) : first;
        int to = inside ? Math.min(first + count, width) : first;
        if (to <= from) {
            Arrays.fill(dst, d, d + count * ch, 0f);
            return;
        }
        Arrays.fill(dst, d, d + (from - first) * ch, 0f);
        System.arraycopy(src, rowStart + from * ch, dst, d + (from - first) * ch, (to - from) * ch);
        Arrays.fill(dst, d + (to - first) * ch, d + count * ch, 0f);
    }

    /** The valid {@code rows x cols} corner of a tile computed into {@code edge} (rows {@code
     *  width} apart), stored or added to {@code c} at {@code ci}, rows {@code ldc} apart. */
    private static void merge(float[] edge, int width, float[] c, int ci, int ldc, int rows, int cols, boolean add) {
        for (int r = 0; r < rows; r++) {
            for (int q = 0; q < cols; q++) {
                c[ci + r * ldc + q] = add ? c[ci + r * ldc + q] + edge[r * width + q] : edge[r * width + q];
            }
        }
    }

    private static void zero(float[] c, int ci, int ldc, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            Arrays.fill(c, ci + r * ldc, ci + r * ldc + cols, 0f);
        }
    }

    /** The columns the blocks span, the last one's padding included. */
    private static int paddedWidth(int[] blocks) {
        return blocks[blocks.length - 2] + blocks[blocks.length - 1] * FL;
    }

    private static long grain(long macsPerItem) {
        return Math.max(1, MIN_TASK_MACS / Math.max(1, macsPerItem));
    }
}
