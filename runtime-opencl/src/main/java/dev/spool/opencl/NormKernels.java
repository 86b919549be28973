package dev.spool.opencl;

import dev.spool.DType;
import dev.spool.spi.View;

/**
 * Fused batch normalization in training mode (norm.cl), one launch each way where the composite
 * of moments and batchNormalization takes about a dozen: a work-group per block of channels sums
 * over the rows in local memory, then normalises ({@code bn_fused}, {@code bn_grad_fused}).
 * Where a work-item of that launch would loop past the device's limit (llvmpipe: about 2 rows /
 * lanes + lanes iterations), three: partial statistics per (chunk of rows, channel), one
 * work-item per channel to combine them, one per element to apply.
 */
final class NormKernels {
    /** Work-items the partial sums aim for (chunks x channels): enough to fill a GPU. */
    private static final long TARGET_ITEMS = 1 << 14;
    private static final int DTYPES = DType.values().length;
    /** Items a one-launch work-group asks for (fewer where the kernel or device allows fewer). */
    static final int GROUP = 256;
    /** Channels a one-launch work-group takes at most: 8 floats, a 32-byte row segment per lane. */
    static final int GROUP_CHANNELS = 8;
    private static final String[] KERNELS = {KernelCatalog.BN_PARTIALS, KernelCatalog.BN_FINALIZE,
        KernelCatalog.BN_APPLY, KernelCatalog.BN_GRAD_PARTIALS, KernelCatalog.BN_GRAD_FINALIZE,
        KernelCatalog.BN_GRAD_APPLY, KernelCatalog.BN_FUSED, KernelCatalog.BN_GRAD_FUSED};
    private final Kernels k;
    private final KernelCall[] calls = new KernelCall[KERNELS.length * DTYPES];

    NormKernels(Kernels kernels) {
        this.k = kernels;
    }

    void forward(View x, View scale, View offset, double epsilon, OpenClBuffer y, OpenClBuffer mean,
                 OpenClBuffer variance) {
        forward(x, scale, offset, epsilon, y, mean, variance, false);
    }

    /** {@link #forward}; {@code chunked}: the three launches even where one would do (for tests). */
    void forward(View x, View scale, View offset, double epsilon, OpenClBuffer y, OpenClBuffer mean,
                 OpenClBuffer variance, boolean chunked) {
        long c = check("batchNormTraining", x, scale, offset);
        DType t = x.dtype();
        Kernels.requireOutput("batchNormTraining", y, t, x.size());
        Kernels.requireOutput("batchNormTraining", mean, t, c);
        Kernels.requireOutput("batchNormTraining", variance, t, c);
        long rows = x.size() / c;
        DType acc = accumulator(t);
        KernelCall fused = call(6, t);
        int local = fused.localSize(GROUP);
        if (!chunked && oneLaunch(rows, c, local)) {
            int cb = channelsPerGroup(c, local);
            fused.mem((OpenClBuffer) x.buffer()).i64(x.offset()).i64(rows).i64(c).u32(cb)
                    .mem((OpenClBuffer) scale.buffer()).i64(scale.offset())
                    .mem((OpenClBuffer) offset.buffer()).i64(offset.offset()).scalar(t, epsilon)
                    .mem(mean).mem(variance).mem(y).local((long) local * acc.byteSize())
                    .local((long) local * acc.byteSize())
                    .run(new long[] {ceilDiv(c, cb) * local}, new long[] {local});
            return;
        }
        long chunks = chunks(rows, c);
        long chunkLen = (rows + chunks - 1) / chunks;
        BufferPool.Block partMean = k.scratch(acc, chunks * c);
        BufferPool.Block partM2 = k.scratch(acc, chunks * c);
        BufferPool.Block inv = k.scratch(t, c);
        BufferPool.Block shift = k.scratch(t, c);
        try {
            call(0, t).mem((OpenClBuffer) x.buffer()).i64(x.offset()).i64(rows).i64(c).i64(chunks).i64(chunkLen)
                    .mem(partMean.mem()).mem(partM2.mem()).run1d(chunks * c, k.tuning().elementwiseLocal());
            call(1, t).mem(partMean.mem()).mem(partM2.mem()).i64(rows).i64(c).i64(chunks).i64(chunkLen)
                    .mem((OpenClBuffer) scale.buffer()).i64(scale.offset())
                    .mem((OpenClBuffer) offset.buffer()).i64(offset.offset()).scalar(t, epsilon)
                    .mem(mean).mem(variance).mem(inv.mem()).mem(shift.mem())
                    .run1d(c, k.tuning().elementwiseLocal());
            call(2, t).mem((OpenClBuffer) x.buffer()).i64(x.offset()).i64(c).mem(inv.mem()).mem(shift.mem())
                    .mem(y).i64(x.size()).runElements(x.size(), k.tuning());
        } finally {
            k.free(partMean);
            k.free(partM2);
            k.free(inv);
            k.free(shift);
        }
    }

    void backward(View dy, View x, View scale, View mean, View variance, double epsilon, OpenClBuffer dx,
                  OpenClBuffer dscale, OpenClBuffer doffset) {
        backward(dy, x, scale, mean, variance, epsilon, dx, dscale, doffset, false);
    }

    /** {@link #backward}; {@code chunked}: the three launches even where one would do (for tests). */
    void backward(View dy, View x, View scale, View mean, View variance, double epsilon, OpenClBuffer dx,
                  OpenClBuffer dscale, OpenClBuffer doffset, boolean chunked) {
        long c = check("batchNormTrainingGrad", x, scale, mean, variance);
        check("batchNormTrainingGrad", dy, scale);
        DType t = x.dtype();
        Kernels.requireOutput("batchNormTrainingGrad", dx, t, x.size());
        Kernels.requireOutput("batchNormTrainingGrad", dscale, t, c);
        Kernels.requireOutput("batchNormTrainingGrad", doffset, t, c);
        long rows = x.size() / c;
        DType acc = accumulator(t);
        OpenClBuffer g = (OpenClBuffer) dy.buffer();
        OpenClBuffer xb = (OpenClBuffer) x.buffer();
        OpenClBuffer mb = (OpenClBuffer) mean.buffer();
        OpenClBuffer vb = (OpenClBuffer) variance.buffer();
        KernelCall fused = call(7, t);
        int local = fused.localSize(GROUP);
        if (!chunked && oneLaunch(rows, c, local)) {
            int cb = channelsPerGroup(c, local);
            fused.mem(g).i64(dy.offset()).mem(xb).i64(x.offset()).mem(mb).i64(mean.offset()).mem(vb)
                    .i64(variance.offset()).scalar(t, epsilon).i64(rows).i64(c).u32(cb)
                    .mem((OpenClBuffer) scale.buffer()).i64(scale.offset()).mem(dscale).mem(doffset).mem(dx)
                    .local((long) local * acc.byteSize()).local((long) local * acc.byteSize())
                    .run(new long[] {ceilDiv(c, cb) * local}, new long[] {local});
            return;
        }
        long chunks = chunks(rows, c);
        long chunkLen = (rows + chunks - 1) / chunks;
        BufferPool.Block partG = k.scratch(acc, chunks * c);
        BufferPool.Block partGx = k.scratch(acc, chunks * c);
        BufferPool.Block factor = k.scratch(acc, c);
        try {
            call(3, t).mem(g).i64(dy.offset()).mem(xb).i64(x.offset()).mem(mb).i64(mean.offset()).mem(vb)
                    .i64(variance.offset()).scalar(t, epsilon).i64(rows).i64(c).i64(chunks).i64(chunkLen)
                    .mem(partG.mem()).mem(partGx.mem()).run1d(chunks * c, k.tuning().elementwiseLocal());
            call(4, t).mem(partG.mem()).mem(partGx.mem()).i64(rows).i64(c).i64(chunks)
                    .mem((OpenClBuffer) scale.buffer()).i64(scale.offset()).mem(vb).i64(variance.offset())
                    .scalar(t, epsilon).mem(dscale).mem(doffset).mem(factor.mem())
                    .run1d(c, k.tuning().elementwiseLocal());
            call(5, t).mem(g).i64(dy.offset()).mem(xb).i64(x.offset()).mem(mb).i64(mean.offset()).mem(vb)
                    .i64(variance.offset()).scalar(t, epsilon).i64(rows).i64(c).mem(dscale).mem(doffset)
                    .mem(factor.mem()).mem(dx).i64(x.size()).runElements(x.size(), k.tuning());
        } finally {
            k.free(partG);
            k.free(partGx);
            k.free(factor);
        }
    }

    /** Channels of a one-launch work-group of {@code local} items. */
    static int channelsPerGroup(long c, int local) {
        return (int) Math.min(Math.min(c, GROUP_CHANNELS), local);
    }

    /**
     * Whether one launch does it: a work-item of bn_fused or bn_grad_fused loops over its rows
     * twice and over the group's lanes once, which must stay under the device's loop limit
     * (llvmpipe stops a work-item at 65,535 iterations: past about a million rows there).
     */
    boolean oneLaunch(long rows, long c, int local) {
        long lanes = local / channelsPerGroup(c, local);
        return 2 * ceilDiv(rows, lanes) + lanes + 8 <= k.device.loopLimit;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /**
     * Chunks of rows: about {@link #TARGET_ITEMS} work-items in all, at most one per row, and
     * enough that a chunk's loop stays under the device's limit (llvmpipe's, OpenClDevice).
     */
    private long chunks(long rows, long c) {
        long underLimit = (rows + k.device.loopLimit / 2 - 1) / (k.device.loopLimit / 2);
        return Math.max(underLimit, Math.max(1, Math.min(rows, TARGET_ITEMS / c)));
    }

    private DType accumulator(DType t) {
        return KernelCatalog.accumulator(t, t, k.device.info.fp64());
    }

    /** x dense [rows >= 1, C], per-channel vectors dense [C], one float dtype; returns C. */
    private long check(String primitive, View x, View... perChannel) {
        DType t = x.dtype();
        k.requireDType(t.isFloating(), primitive, t, "float32 or float64");
        long c = perChannel[0].size();
        for (View v : perChannel) {
            k.requireSame(primitive, "a per-channel operand", t, v.dtype());
            if (!v.isContiguous() || v.size() != c) {
                throw new IllegalArgumentException(primitive + ": needs contiguous per-channel operands of " + c
                        + ", got " + v);
            }
            Kernels.requireInBounds(primitive, v);
        }
        if (!x.isContiguous() || c == 0 || x.size() == 0 || x.size() % c != 0) {
            throw new IllegalArgumentException(primitive + ": needs a contiguous x of rows x " + c + ", got " + x);
        }
        Kernels.requireInBounds(primitive, x);
        return c;
    }

    private KernelCall call(int kernel, DType t) {
        int slot = kernel * DTYPES + t.ordinal();
        KernelCall c = calls[slot];
        if (c == null) {
            c = calls[slot] = k.call(KernelSources.NORM, KernelCatalog.normOptions(t, k.device.info.fp64()),
                    KERNELS[kernel]);
        }
        return c.begin();
    }
}
