package dev.spool.opencl;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.spi.Conv2dGeometry;
import dev.spool.spi.View;

/**
 * Convolution and pooling. Convolutions take the implicit GEMMs of {@link ConvGemmKernels}
 * where they cover the geometry, depthwise convolutions conv.cl's channel-parallel kernels, and
 * the rest (strided input gradients, sizes past 2^31 elements, empty ones) and average pooling
 * conv.cl's plain kernels: one work-item per output element, each summing its terms in a fixed
 * order. Max pooling, and its gradient where no two windows share a cell, take channel-vectorised
 * kernels (a work-item per window's run of channels), the gradient over overlapping windows a
 * work-item per input element. No path depends on scheduling or needs atomics.
 */
final class ConvKernels {
    /** The kernels of conv.cl, in the order of {@link #calls}' slots (max pooling's are vectorised). */
    enum Kind {
        CONV2D("conv2d", KernelCatalog.CONV2D),
        BACKPROP_INPUT("conv2dBackpropInput", KernelCatalog.CONV2D_BACKPROP_INPUT),
        BACKPROP_FILTER("conv2dBackpropFilter", KernelCatalog.CONV2D_BACKPROP_FILTER),
        AVG_POOL("avgPool2d", KernelCatalog.AVG_POOL),
        AVG_POOL_GRAD("avgPool2dGrad", KernelCatalog.AVG_POOL_GRAD),
        MAX_POOL("maxPool2d", KernelCatalog.MAX_POOL),
        MAX_POOL_GRAD("maxPool2dGrad", KernelCatalog.MAX_POOL_GRAD),
        DEPTHWISE("conv2d", KernelCatalog.DEPTHWISE),
        DEPTHWISE_INPUT("conv2dBackpropInput", KernelCatalog.DEPTHWISE_BACKPROP_INPUT),
        DEPTHWISE_FILTER("conv2dBackpropFilter", KernelCatalog.DEPTHWISE_BACKPROP_FILTER),
        MAX_POOL_GRAD_WINDOWS_VEC("maxPool2dGrad", KernelCatalog.MAX_POOL_GRAD_WINDOWS_VEC);

        /** The SPI primitive. */
        final String primitive;
        final String kernel;

        Kind(String primitive, String kernel) {
            this.primitive = primitive;
            this.kernel = kernel;
        }

        /** The GEMM product of a convolution kind, null for pooling and the depthwise kernels. */
        ConvGemmKernels.Op gemm() {
            return switch (this) {
                case CONV2D -> ConvGemmKernels.Op.FORWARD;
                case BACKPROP_INPUT -> ConvGemmKernels.Op.INPUT_GRADIENT;
                case BACKPROP_FILTER -> ConvGemmKernels.Op.FILTER_GRADIENT;
                default -> null;
            };
        }

        /** The depthwise kernel of a convolution kind, null for pooling. */
        Kind depthwise() {
            return switch (this) {
                case CONV2D -> DEPTHWISE;
                case BACKPROP_INPUT -> DEPTHWISE_INPUT;
                case BACKPROP_FILTER -> DEPTHWISE_FILTER;
                default -> null;
            };
        }
    }

    /** Which kernels a call takes: the backend's choice, or (for tests) one path forced. */
    enum Path { CHOSEN, PLAIN }

    /** Output channels a depthwise work-item computes (conv.cl's DW_VEC). */
    static final int DEPTHWISE_VECTOR = 4;
    /** Channels a vectorised max-pooling work-item takes (conv.cl's POOL_VEC). */
    static final int POOL_VECTOR = 8;
    /** Pixels a part of the depthwise filter gradient takes at least. */
    static final int DEPTHWISE_PART_PIXELS = 256;
    private static final int DTYPES = DType.values().length;
    private final Kernels k;
    private final ConvGemmKernels gemms;
    private final CopyKernels copies;
    private final KernelCall[] calls = new KernelCall[Kind.values().length * DTYPES];

    ConvKernels(Kernels kernels, CopyKernels copies) {
        this.k = kernels;
        this.copies = copies;
        this.gemms = new ConvGemmKernels(kernels, copies);
    }

    ConvGemmKernels gemms() {
        return gemms;
    }

    /** Runs {@code kind} over the {@code count} elements of {@code out}, reading {@code inputs} in order. */
    void run(Kind kind, Conv2dGeometry g, OpenClBuffer out, long count, View... inputs) {
        run(kind, g, out, count, Path.CHOSEN, null, inputs);
    }

    /**
     * {@link #run(Kind, Conv2dGeometry, OpenClBuffer, long, View...)} on {@code path}; with
     * {@code config} (not null) a convolution takes the implicit GEMM with that configuration,
     * which must cover it (for tests of every candidate).
     */
    void run(Kind kind, Conv2dGeometry g, OpenClBuffer out, long count, Path path, GemmConfig config,
             View... inputs) {
        String primitive = kind.primitive;
        DType t = inputs[0].dtype();
        k.requireDType(t.isFloating(), primitive, t, "float32 or float64");
        for (View v : inputs) {
            k.requireSame(primitive, "an operand", t, v.dtype());
            if (!v.isContiguous()) {
                throw new IllegalArgumentException(primitive + ": needs contiguous operands, got " + v);
            }
            Kernels.requireInBounds(primitive, v);
        }
        Kernels.requireOutput(primitive, out, t, count);
        if (count == 0) {
            return;
        }
        ConvGemmKernels.Op op = kind.gemm();
        if (config != null || path == Path.CHOSEN && op != null && gemms.covers(op, g)) {
            if (op == null || !gemms.covers(op, g)) {
                throw new IllegalArgumentException(primitive + ": the implicit GEMM does not cover " + g);
            }
            GemmConfig c = config != null ? config : gemms.choose(op, g, t);
            if (config != null || gemms.withinLoopLimit(op, g, c)) {
                gemms.run(op, g, inputs[0], inputs[1], out, c);
                return;
            }
        }
        if (kind == Kind.MAX_POOL) { // one kernel on either path
            maxPoolVector(kind, g, out, inputs[0], inputs[1]);
            return;
        }
        if (path == Path.CHOSEN && kind == Kind.MAX_POOL_GRAD && disjointWindows(g)) {
            // one work-item per window's channel vector instead of one per cell: PoCL took
            // 60-130 ms for the 2x2 pool of [128, 26, 26, 32] per cell
            copies.fill(out.mem(), t, count, 0);
            maxPoolVector(Kind.MAX_POOL_GRAD_WINDOWS_VEC, g, out, inputs[0], inputs[1]);
            return;
        }
        if (path == Path.CHOSEN && kind.depthwise() != null && ConvGemmKernels.depthwise(g) && g.inputSize() > 0
                && g.outputSize() > 0) {
            depthwise(kind.depthwise(), g, out, inputs[0], inputs[1]);
            return;
        }
        plain(kind, g, out, count, inputs);
    }

    /** Whether no two pooling windows of {@code g} share a cell: each no larger than its stride, undilated. */
    static boolean disjointWindows(Conv2dGeometry g) {
        return g.filterHeight() <= g.strideH() && g.filterWidth() <= g.strideW() && g.dilationH() == 1
                && g.dilationW() == 1;
    }

    private void plain(Kind kind, Conv2dGeometry g, OpenClBuffer out, long count, View... inputs) {
        DType t = inputs[0].dtype();
        if (kind != Kind.BACKPROP_FILTER) {
            launch(kind, t, g, g.batch(), out, count, inputs, false);
            return;
        }
        // Each work-item sums over the whole batch: where the device caps a work-item's loop
        // iterations (llvmpipe), consecutive slices of the batch, each launch adding to the last.
        long perImage = (long) g.outHeight() * g.outWidth() + g.outHeight() + 1;
        if (perImage > k.device.loopLimit) {
            throw new BackendException(kind.primitive + " of " + g + ": one image's " + perImage
                    + " loop iterations per work-item exceed " + k.device.describe() + "'s limit of "
                    + k.device.loopLimit + " (llvmpipe stops a work-item there)");
        }
        long images = Math.max(1, Math.min(g.batch(), k.device.loopLimit / perImage));
        for (long n = 0; n < g.batch() || n == 0; n += images) {
            int slice = (int) Math.min(images, g.batch() - n);
            View[] sliced = {fromImage(inputs[0], n), fromImage(inputs[1], n)};
            launch(kind, t, g, slice, out, count, sliced, n > 0);
        }
    }

    /** {@code v} (dense, batch first) from image {@code n} on. */
    private static View fromImage(View v, long n) {
        return n == 0 ? v : new View(v.buffer(), v.shape(), v.strides(), v.offset() + n * (v.size() / v.shape()[0]));
    }

    /**
     * One launch over {@code batch} images; {@code accumulate}: add to {@code out} instead of
     * overwriting it (filter gradients only).
     */
    private void launch(Kind kind, DType t, Conv2dGeometry g, int batch, OpenClBuffer out, long count,
                        View[] inputs, boolean accumulate) {
        KernelCall c = call(kind, t);
        for (View v : inputs) {
            c.mem((OpenClBuffer) v.buffer()).i64(v.offset());
        }
        geometry(c.mem(out).i64(count), g, batch);
        if (kind == Kind.BACKPROP_FILTER) {
            c.u32(accumulate ? 1 : 0);
        }
        c.runElements(count, k.tuning());
    }

    /**
     * conv.cl's channel-vectorised max pooling: a work-item per {@link #POOL_VECTOR} channels of
     * a window (PoCL: the scalar kernel, a work-item per output element, took 11.5 ms over
     * [128, 26, 26, 32] where cpu took 2.1).
     */
    private void maxPoolVector(Kind kind, Conv2dGeometry g, OpenClBuffer out, View x, View other) {
        DType t = x.dtype();
        long vectors = (long) g.batch() * g.outHeight() * g.outWidth() * ceilDiv(g.outChannels(), POOL_VECTOR);
        KernelCall c = call(kind, t).mem((OpenClBuffer) x.buffer()).i64(x.offset()).mem((OpenClBuffer) other.buffer())
                .i64(other.offset()).mem(out).i64(vectors);
        if (kind == Kind.MAX_POOL) {
            c.u32(other.buffer() == x.buffer() && other.offset() == x.offset() ? 1 : 0);
        }
        geometry(c, g).runElements(vectors, k.tuning());
    }

    private void depthwise(Kind kind, Conv2dGeometry g, OpenClBuffer out, View a, View b) {
        DType t = a.dtype();
        KernelCall c = call(kind, t).mem((OpenClBuffer) a.buffer()).i64(a.offset()).mem((OpenClBuffer) b.buffer())
                .i64(b.offset());
        if (kind != Kind.DEPTHWISE_FILTER) {
            int channels = kind == Kind.DEPTHWISE ? g.outChannels() : g.inChannels();
            long pixels = kind == Kind.DEPTHWISE ? g.outputSize() / channels : g.inputSize() / channels;
            long vectors = pixels * ceilDiv(channels, DEPTHWISE_VECTOR);
            geometry(c.mem(out).i64(vectors), g).runElements(vectors, k.tuning());
            return;
        }
        // parts of the pixels, each a partial filter, added in part order by conv_filter_sum
        long pixels = (long) g.batch() * g.outHeight() * g.outWidth();
        long items = (long) g.filterHeight() * g.filterWidth() * ceilDiv(g.outChannels(), DEPTHWISE_VECTOR);
        long parts = Math.max(1, Math.min(ceilDiv(pixels, DEPTHWISE_PART_PIXELS),
                ceilDiv((long) k.tuning().targetGroups() * k.tuning().elementwiseLocal(), items)));
        long chunk = ceilDiv(pixels, parts);
        // a work-item loops DW_VEC + 1 times per pixel at most: under the device's loop limit
        chunk = Math.max(1, Math.min(chunk, (k.device.loopLimit - 2 * DEPTHWISE_VECTOR) / (DEPTHWISE_VECTOR + 1)));
        parts = ceilDiv(pixels, chunk);
        long size = g.filterSize();
        long vectors = parts * items;
        BufferPool.Block partial = k.scratch(t, parts * size);
        try {
            geometry(c.mem(partial.mem()).i64(size).u32((int) chunk).i64(vectors), g)
                    .run1d(vectors, k.tuning().elementwiseLocal());
            gemms.sum(t, partial.mem(), size, (int) parts, g.outChannelsPerGroup(), g.outChannels(), 1, out.mem(), g);
        } finally {
            k.free(partial);
        }
    }

    private static KernelCall geometry(KernelCall c, Conv2dGeometry g) {
        return geometry(c, g, g.batch());
    }

    private static KernelCall geometry(KernelCall c, Conv2dGeometry g, int batch) {
        return c.u32(batch).u32(g.inHeight()).u32(g.inWidth()).u32(g.inChannels())
                .u32(g.filterHeight()).u32(g.filterWidth()).u32(g.outChannels()).u32(g.groups())
                .u32(g.outHeight()).u32(g.outWidth()).u32(g.strideH()).u32(g.strideW())
                .u32(g.dilationH()).u32(g.dilationW()).u32(g.padTop()).u32(g.padLeft());
    }

    private KernelCall call(Kind kind, DType t) {
        int slot = kind.ordinal() * DTYPES + t.ordinal();
        KernelCall c = calls[slot];
        if (c == null) {
            c = calls[slot] = k.call(KernelSources.CONV, ClTypes.options(t), kind.kernel);
        }
        return c.begin();
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
