package dev.spool.opencl;

import dev.spool.spi.Conv2dGeometry;

/**
 * conv_gemm.cl's {@code conv_gemm_t}: one convolution product as an implicit GEMM, field for
 * field (the kernels' comments say what each is). Window row {@code y}, cell row {@code ky}
 * reads src row {@code y * sH - pT + ky * dH}; the product has {@link #m} rows (the windows),
 * {@link #k} depth (the cells) and {@link #n} columns per group.
 */
record ConvGemmGeometry(int srcH, int srcW, int srcC, int outH, int outW, int m, int kh, int kw, int cread,
                        int sH, int sW, int pT, int pL, int dH, int dW, int n, int ldb, int bGroup, int ldc,
                        int cGroup, int groups) {

    /**
     * Whether the fast kernels' int arithmetic holds for {@code g}: element counts of the input,
     * output and filter below 2^31 (offsets into them are computed in 64 bits), and no empty
     * dimension (the plain kernels write the zeros of an empty sum).
     */
    static boolean fits(Conv2dGeometry g) {
        long limit = Integer.MAX_VALUE;
        return g.inputSize() > 0 && g.outputSize() > 0 && g.filterSize() > 0 && g.inputSize() < limit
                && g.outputSize() < limit && g.filterSize() < limit;
    }

    /** conv2d: windows of x, B the filter as it lies ([K, out channels], a group's columns together). */
    static ConvGemmGeometry forward(Conv2dGeometry g) {
        int cpg = g.inChannelsPerGroup();
        int opg = g.outChannelsPerGroup();
        return new ConvGemmGeometry(g.inHeight(), g.inWidth(), g.inChannels(), g.outHeight(), g.outWidth(),
                g.batch() * g.outHeight() * g.outWidth(), g.filterHeight(), g.filterWidth(), cpg,
                g.strideH(), g.strideW(), g.padTop(), g.padLeft(), g.dilationH(), g.dilationW(),
                opg, g.outChannels(), opg, g.outChannels(), opg, g.groups());
    }

    /**
     * conv2dBackpropInput with stride 1, the transposed convolution: dx's pixel (y, x) reads dy at
     * (y + padTop - ky * dilationH, x + padLeft - kx * dilationW), a convolution of dy with the
     * filter flipped (cell (ky, kx) as (kh - 1 - ky, kw - 1 - kx)) and each cell's in and out
     * channels swapped, {@code [group][K][in channels per group]} ({@link ConvGemmKernels} copies
     * it so), padded by the window's extent less the forward pads.
     */
    static ConvGemmGeometry inputGradient(Conv2dGeometry g) {
        if (g.strideH() != 1 || g.strideW() != 1) {
            throw new IllegalArgumentException("the implicit-GEMM input gradient needs stride 1: " + g);
        }
        int cpg = g.inChannelsPerGroup();
        int opg = g.outChannelsPerGroup();
        int k = g.filterHeight() * g.filterWidth() * opg;
        return new ConvGemmGeometry(g.outHeight(), g.outWidth(), g.outChannels(), g.inHeight(), g.inWidth(),
                g.batch() * g.inHeight() * g.inWidth(), g.filterHeight(), g.filterWidth(), opg,
                1, 1, (g.filterHeight() - 1) * g.dilationH() - g.padTop(),
                (g.filterWidth() - 1) * g.dilationW() - g.padLeft(), g.dilationH(), g.dilationW(),
                cpg, cpg, k * cpg, g.inChannels(), cpg, g.groups());
    }

    /**
     * conv2dBackpropFilter: windows of x over the grid of dy, whose column o of group g (B, ldb
     * apart along the pixels) they multiply. Partial products as the filter lies ([K, out
     * channels]: conv_filter_tiled) or transposed per group ([group][o][K]: conv_filter_packed).
     */
    static ConvGemmGeometry filterGradient(Conv2dGeometry g, boolean transposed) {
        int cpg = g.inChannelsPerGroup();
        int opg = g.outChannelsPerGroup();
        int k = g.filterHeight() * g.filterWidth() * cpg;
        return new ConvGemmGeometry(g.inHeight(), g.inWidth(), g.inChannels(), g.outHeight(), g.outWidth(),
                g.batch() * g.outHeight() * g.outWidth(), g.filterHeight(), g.filterWidth(), cpg,
                g.strideH(), g.strideW(), g.padTop(), g.padLeft(), g.dilationH(), g.dilationW(),
                opg, g.outChannels(), opg, transposed ? k : g.outChannels(), transposed ? opg * k : opg, g.groups());
    }

    /** The depth of the product: cells of a window times the channels each reads. */
    int k() {
        return kh * kw * cread;
    }

    /** The struct's fields in declaration order ({@code groups} is not one: it is the grid's third dimension). */
    int[] args() {
        return new int[] {srcH, srcW, srcC, outH, outW, m, kh, kw, cread, sH, sW, pT, pL, dH, dW, n, ldb, bGroup,
            ldc, cGroup};
    }
}
