package dev.spool.opencl;

import dev.spool.DType;
import dev.spool.spi.Conv2dGeometry;
import dev.spool.spi.View;
import org.jocl.cl_mem;

/**
 * Convolutions as implicit GEMMs (conv_gemm.cl) on the matmul family's tile loops (gemm.cl):
 * tiled kernels on GPUs, packed ones on CPUs, each product's configuration chosen per shape
 * class by a {@link GemmTuner} of its own. What they do not cover ({@link #covers}) takes
 * conv.cl's plain kernels.
 *
 * <ul>
 *   <li>conv2d: one launch.</li>
 *   <li>conv2dBackpropInput, stride 1: the filter copied with each cell's in and out channels
 *       swapped (a strided copy of K x channels elements), then one launch.</li>
 *   <li>conv2dBackpropFilter: the pixels split into parts, each part's product into scratch
 *       memory, then conv.cl's conv_filter_sum adds the parts in order (two launches; one on GPUs
 *       when a single part fills the device, written in place).</li>
 * </ul>
 */
final class ConvGemmKernels {
    /** The three products, each tuned on its own: their shapes and kernels differ. */
    enum Op {
        FORWARD("conv2d"), INPUT_GRADIENT("conv2dBackpropInput"), FILTER_GRADIENT("conv2dBackpropFilter");

        final String primitive;

        Op(String primitive) {
            this.primitive = primitive;
        }
    }

    /**
     * Rows of the one im2col tile (kh·kw·cin floats each) that a convolution may hold as
     * workspace (issue #20's memory bound, the tallest M tile of the GEMM kernels): it caps the
     * filter gradient's split-K parts.
     */
    static final int WORKSPACE_ROWS = 128;
    /** Pixels a part of a packed filter gradient takes at least: fewer parts cost less to add up. */
    static final int MIN_PART_PIXELS = 1024;
    private static final int DTYPES = DType.values().length;

    private final Kernels k;
    private final CopyKernels copies;
    /** Per {@link Op}; null when no configuration fits the device (then nothing is covered). */
    private final GemmTuner[] tuners = new GemmTuner[Op.values().length];
    private final KernelCall[] sums = new KernelCall[DTYPES];

    ConvGemmKernels(Kernels kernels, CopyKernels copies) {
        this.k = kernels;
        this.copies = copies;
        for (Op op : Op.values()) {
            tuners[op.ordinal()] = GemmTuner.forConvolution(op.primitive, kernels.device, kernels.tuning());
        }
    }

    /**
     * Whether these kernels compute {@code op} on {@code g}: every grouped convolution but the
     * depthwise ones (one input channel per group: conv.cl's channel-parallel kernels), input
     * gradients of stride 1 only (a strided one reads dy at a phase that differs from pixel to
     * pixel), sizes within {@link ConvGemmGeometry#fits}, and a device with a configuration.
     */
    boolean covers(Op op, Conv2dGeometry g) {
        return tuners[op.ordinal()] != null && ConvGemmGeometry.fits(g) && !depthwise(g)
                && (op != Op.INPUT_GRADIENT || g.strideH() == 1 && g.strideW() == 1);
    }

    static boolean depthwise(Conv2dGeometry g) {
        return g.groups() > 1 && g.inChannelsPerGroup() == 1;
    }

    /** The tuner of {@code op} (for tests). */
    GemmTuner tuner(Op op) {
        return tuners[op.ordinal()];
    }

    /**
     * Runs {@code op} with configuration {@code c} (the tuner's choice when null). The inputs are
     * those of the primitive, in its order, checked by the caller: x and the filter, dy and the
     * filter, or x and dy; all of dtype {@code t}.
     */
    void run(Op op, Conv2dGeometry g, View a, View b, OpenClBuffer out, GemmConfig c) {
        DType t = a.dtype();
        run(op, g, t, buffer(a), a.offset(), buffer(b), b.offset(), out.mem(), c != null ? c : choose(op, g, t));
    }

    private void run(Op op, Conv2dGeometry g, DType t, cl_mem a, long aOffset, cl_mem b, long bOffset, cl_mem out,
                     GemmConfig c) {
        switch (op) {
            case FORWARD -> product(c, t, ConvGemmGeometry.forward(g), a, aOffset, b, bOffset, out);
            case INPUT_GRADIENT -> inputGradient(c, t, g, a, aOffset, b, bOffset, out);
            case FILTER_GRADIENT -> filterGradient(c, t, g, a, aOffset, b, bOffset, out);
        }
    }

    GemmConfig choose(Op op, Conv2dGeometry g, DType t) {
        ConvGemmGeometry p = switch (op) {
            case FORWARD -> ConvGemmGeometry.forward(g);
            case INPUT_GRADIENT -> ConvGemmGeometry.inputGradient(g);
            case FILTER_GRADIENT -> ConvGemmGeometry.filterGradient(g, false);
        };
        // the tuner's (m, n, k): the filter gradient's rows are the cells, its depth the pixels
        long m = op == Op.FILTER_GRADIENT ? p.k() : p.m();
        long n = (long) p.n() * p.groups();
        long depth = op == Op.FILTER_GRADIENT ? p.m() : p.k();
        return tuners[op.ordinal()].configFor(t, m, n, depth,
                (c, tt, mm, nn, kk) -> time(op, g, c, tt, (double) mm * nn * kk / ((double) m * n * depth)));
    }

    /** C = windows of src times B, one launch. */
    private void product(GemmConfig c, DType t, ConvGemmGeometry p, cl_mem src, long srcOffset, cl_mem b,
                         long bOffset, cl_mem out) {
        boolean tiled = c.tiled();
        KernelCall call = k.call(KernelSources.CONV_GEMM, c.options(t),
                tiled ? KernelCatalog.CONV_GEMM_TILED : KernelCatalog.CONV_GEMM_PACKED);
        call.mem(src).i64(srcOffset).mem(b).i64(bOffset).mem(out).i64(0).ints(p.args());
        if (tiled) {
            long rtsm = c.tsm() / c.wptm();
            long rtsn = c.tsn() / c.wptn();
            call.run(new long[] {ceilDiv(p.n(), c.tsn()) * rtsn, ceilDiv(p.m(), c.tsm()) * rtsm, p.groups()},
                    new long[] {rtsn, rtsm, 1});
        } else {
            call.run(new long[] {ceilDiv(p.n(), c.tsn()), ceilDiv(p.m(), c.tsm()), p.groups()}, new long[] {1, 1, 1});
        }
    }

    private void inputGradient(GemmConfig c, DType t, Conv2dGeometry g, cl_mem dy, long dyOffset, cl_mem filter,
                               long filterOffset, cl_mem dx) {
        int cells = g.filterHeight() * g.filterWidth();
        int cpg = g.inChannelsPerGroup();
        int opg = g.outChannelsPerGroup();
        long oc = g.outChannels();
        // the filter [cells, cpg, groups, opg] as [groups, cells in reverse order, opg, cpg]
        Layout swapped = new Layout(filterOffset + (cells - 1) * cpg * oc, new long[] {g.groups(), cells, opg, cpg},
                new long[] {opg, -cpg * oc, 1, oc});
        BufferPool.Block b = k.scratch(t, g.filterSize());
        try {
            copies.toDense(t, filter, swapped, g.filterSize(), b.mem());
            product(c, t, ConvGemmGeometry.inputGradient(g), dy, dyOffset, b.mem(), 0, dx);
        } finally {
            k.free(b);
        }
    }

    private void filterGradient(GemmConfig c, DType t, Conv2dGeometry g, cl_mem x, long xOffset, cl_mem dy,
                                long dyOffset, cl_mem df) {
        boolean tiled = c.tiled();
        ConvGemmGeometry p = ConvGemmGeometry.filterGradient(g, !tiled);
        int[] split = split(c, p);
        int parts = split[0];
        int chunk = split[1];
        if (tiled && parts == 1) {
            filterParts(c, t, p, x, xOffset, dy, dyOffset, df, 0, 1, chunk);
            return;
        }
        long size = g.filterSize();
        BufferPool.Block partial = k.scratch(t, parts * size);
        try {
            filterParts(c, t, p, x, xOffset, dy, dyOffset, partial.mem(), size, parts, chunk);
            sum(t, partial.mem(), size, parts, p.cGroup(), tiled ? p.ldc() : 1, tiled ? 1 : p.ldc(), df, g);
        } finally {
            k.free(partial);
        }
    }

    private void filterParts(GemmConfig c, DType t, ConvGemmGeometry p, cl_mem x, long xOffset, cl_mem dy,
                             long dyOffset, cl_mem out, long partStride, int parts, int chunk) {
        boolean tiled = c.tiled();
        KernelCall call = k.call(KernelSources.CONV_GEMM, c.options(t),
                tiled ? KernelCatalog.CONV_FILTER_TILED : KernelCatalog.CONV_FILTER_PACKED);
        call.mem(x).i64(xOffset).mem(dy).i64(dyOffset).mem(out).i64(partStride).ints(p.args()).u32(parts).u32(chunk);
        long z = (long) p.groups() * parts;
        if (tiled) {
            long rtsm = c.tsm() / c.wptm();
            long rtsn = c.tsn() / c.wptn();
            call.run(new long[] {ceilDiv(p.n(), c.tsn()) * rtsn, ceilDiv(p.k(), c.tsm()) * rtsm, z},
                    new long[] {rtsn, rtsm, 1});
        } else {
            call.run(new long[] {1, ceilDiv(p.n(), c.tsm()), z}, new long[] {1, 1, 1});
        }
    }

    /**
     * How the filter gradient's pixels are split: {parts, pixels per part}. Enough parts that the
     * work-groups fill the device ({@link Tuning#targetGroups}), no more than the pixels allow
     * (a slice of the configuration's depth each on GPUs, {@link #MIN_PART_PIXELS} on CPUs), and
     * parts of whole slices. It depends on the shape and the device, never on timing: the sums
     * always run in the same order on a device.
     */
    int[] split(GemmConfig c, ConvGemmGeometry p) {
        long blocks = c.tiled() ? ceilDiv(p.k(), c.tsm()) * ceilDiv(p.n(), c.tsn()) * p.groups()
                : ceilDiv(p.n(), c.tsm()) * p.groups();
        int slice = c.tsk();
        long most = Math.max(1, p.m() / (c.tiled() ? slice : Math.max(slice, MIN_PART_PIXELS)));
        long parts = Math.min(most, Math.max(1, ceilDiv(k.tuning().targetGroups(), blocks)));
        // the partial filters are the filter gradient's workspace: at most one im2col tile of
        // WORKSPACE_ROWS rows of kh·kw·cin, so at most WORKSPACE_ROWS / cout parts (ConvScratchTest)
        parts = Math.max(1, Math.min(parts, WORKSPACE_ROWS / Math.max(1, p.n())));
        long chunk = ceilDiv(ceilDiv(p.m(), parts), slice) * slice;
        if (c.tiled()) {
            // where the device caps a work-item's loop iterations (llvmpipe): parts of at most
            // the slices that stay under the cap, whatever the device's size asks for
            long slices = Math.max(1, (k.device.loopLimit - tiledFixedIterations(c)) / tiledSliceIterations(c, p));
            chunk = Math.min(chunk, Math.min(slices, ceilDiv(p.m(), slice)) * slice);
        }
        return new int[] {(int) ceilDiv(p.m(), chunk), (int) chunk};
    }

    /**
     * Whether a work-item of {@code op} on {@code g} with tiled configuration {@code c} stays
     * under the device's loop limit ({@link OpenClDevice#loopLimit}: llvmpipe ends a work-item
     * silently past it). The forward and input-gradient products loop over all of K per
     * work-item; the filter gradient's parts are sized to fit ({@link #split}). Packed
     * configurations, which llvmpipe does not choose (it takes the GPU strategy), count as fitting.
     */
    boolean withinLoopLimit(Op op, Conv2dGeometry g, GemmConfig c) {
        if (!c.tiled() || op == Op.FILTER_GRADIENT || k.device.loopLimit == Long.MAX_VALUE) {
            return true;
        }
        ConvGemmGeometry p = op == Op.FORWARD ? ConvGemmGeometry.forward(g) : ConvGemmGeometry.inputGradient(g);
        return ceilDiv(p.k(), c.tsk()) * tiledSliceIterations(c, p) + tiledFixedIterations(c) <= k.device.loopLimit;
    }

    /**
     * An upper bound of the loop iterations a work-item of conv_gemm_tiled or conv_filter_tiled
     * runs per TSK-deep slice, every loop counted as if left rolled (a compiler may unroll the
     * #pragma unroll ones, or not): the A slots (and the filter's walk along rows of {@code p}'s
     * grid, TSK / out_w + 1 steps each), the B-tile loads, and the tile multiply.
     */
    static long tiledSliceIterations(GemmConfig c, ConvGemmGeometry p) {
        long items = (long) (c.tsm() / c.wptm()) * (c.tsn() / c.wptn());
        long slots = ceilDiv((long) c.tsm() * c.tsk(), items);
        long walk = slots * ((long) c.tsk() / Math.max(1, p.outW()) + 2);
        long loadB = ceilDiv((long) c.tsk() * c.tsn(), items) + 1;
        long multiply = (long) c.tsk() * (1 + c.wptn() + c.wptm() * (1L + c.wptn())) + 1;
        return 1 + slots + walk + loadB + multiply;
    }

    /** The loop iterations of a tiled work-item outside its slices (the slots' set-up, zeroing, the store), at most. */
    static long tiledFixedIterations(GemmConfig c) {
        long items = (long) (c.tsm() / c.wptm()) * (c.tsn() / c.wptn());
        return 2 * ceilDiv((long) c.tsm() * c.tsk(), items) + 3L * c.wptm() * (1 + c.wptn()) + 16;
    }

    /**
     * The tuner's timer: {@code op} on {@code g} with the batch scaled by {@code scale} (the
     * tuner's product may be smaller than the first one of its class), inputs filled with constants.
     */
    private double time(Op op, Conv2dGeometry g, GemmConfig c, DType t, double scale) {
        int batch = (int) Math.max(1, Math.min(g.batch(), Math.round(g.batch() * scale)));
        Conv2dGeometry s = new Conv2dGeometry(batch, g.inHeight(), g.inWidth(), g.inChannels(), g.filterHeight(),
                g.filterWidth(), g.outChannels(), g.groups(), g.outHeight(), g.outWidth(), g.strideH(), g.strideW(),
                g.dilationH(), g.dilationW(), g.padTop(), g.padLeft());
        long[] sizes = switch (op) { // the two inputs and the output
            case FORWARD -> new long[] {s.inputSize(), s.filterSize(), s.outputSize()};
            case INPUT_GRADIENT -> new long[] {s.outputSize(), s.filterSize(), s.inputSize()};
            case FILTER_GRADIENT -> new long[] {s.inputSize(), s.outputSize(), s.filterSize()};
        };
        BufferPool.Block a = k.scratch(t, sizes[0]);
        BufferPool.Block b = k.scratch(t, sizes[1]);
        BufferPool.Block out = k.scratch(t, sizes[2]);
        try {
            copies.fill(a.mem(), t, sizes[0], 0.5);
            copies.fill(b.mem(), t, sizes[1], 0.25);
            return GemmTuner.bestSeconds(k.device, () -> run(op, s, t, a.mem(), 0, b.mem(), 0, out.mem(), c));
        } finally {
            k.free(a);
            k.free(b);
            k.free(out);
        }
    }

    /**
     * df = the sum of the {@code parts} partial filters in {@code partial}, {@code partStride}
     * apart, in part order (conv.cl's conv_filter_sum): out channel o of group g, cell row k at
     * {@code g * gs + k * ks + (o mod per group) * os} in each part.
     */
    void sum(DType t, cl_mem partial, long partStride, int parts, long gs, long ks, long os, cl_mem df,
             Conv2dGeometry g) {
        KernelCall c = sums[t.ordinal()];
        if (c == null) {
            c = sums[t.ordinal()] = k.call(KernelSources.CONV, ClTypes.options(t), KernelCatalog.CONV_FILTER_SUM);
        }
        long size = g.filterSize();
        c.begin().mem(partial).i64(partStride).u32(parts).i64(gs).i64(ks).i64(os).mem(df).i64(size)
                .u32(g.outChannels()).u32(g.outChannelsPerGroup()).runElements(size, k.tuning());
    }

    private static cl_mem buffer(View v) {
        return ((OpenClBuffer) v.buffer()).mem();
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
