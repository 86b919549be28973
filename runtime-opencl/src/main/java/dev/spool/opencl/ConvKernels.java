package dev.spool.opencl;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.spi.Conv2dGeometry;
import dev.spool.spi.View;

/**
 * Convolution and pooling (conv.cl): one work-item per output element, each summing its terms in
 * a fixed order, so that no result depends on scheduling and no atomics are needed.
 */
final class ConvKernels {
    /** The kernels of conv.cl, in the order of {@link #calls}' slots. */
    enum Kind {
        CONV2D("conv2d", KernelCatalog.CONV2D),
        BACKPROP_INPUT("conv2dBackpropInput", KernelCatalog.CONV2D_BACKPROP_INPUT),
        BACKPROP_FILTER("conv2dBackpropFilter", KernelCatalog.CONV2D_BACKPROP_FILTER),
        AVG_POOL("avgPool2d", KernelCatalog.AVG_POOL),
        AVG_POOL_GRAD("avgPool2dGrad", KernelCatalog.AVG_POOL_GRAD),
        MAX_POOL("maxPool2d", KernelCatalog.MAX_POOL),
        MAX_POOL_GRAD("maxPool2dGrad", KernelCatalog.MAX_POOL_GRAD);

        /** The SPI primitive. */
        final String primitive;
        final String kernel;

        Kind(String primitive, String kernel) {
            this.primitive = primitive;
            this.kernel = kernel;
        }
    }

    private static final int DTYPES = DType.values().length;
    private final Kernels k;
    private final KernelCall[] calls = new KernelCall[Kind.values().length * DTYPES];

    ConvKernels(Kernels kernels) {
        this.k = kernels;
    }

    /** Runs {@code kind} over the {@code count} elements of {@code out}, reading {@code inputs} in order. */
    void run(Kind kind, Conv2dGeometry g, OpenClBuffer out, long count, View... inputs) {
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
        if (kind != Kind.BACKPROP_FILTER) {
            launch(kind, t, g, g.batch(), out, count, inputs[0].offset(), inputs, false);
            return;
        }
        // Each work-item sums over the whole batch: where the device caps a work-item's loop
        // iterations (llvmpipe), consecutive slices of the batch, each launch adding to the last.
        long perImage = (long) g.outHeight() * g.outWidth() + g.outHeight() + 1;
        long images = Math.max(1, Math.min(g.batch(), k.device.loopLimit / perImage));
        if (perImage > k.device.loopLimit) {
            throw new BackendException(primitive + " of " + g + ": one image's " + perImage
                    + " loop iterations per work-item exceed " + k.device.describe() + "'s limit of "
                    + k.device.loopLimit + " (llvmpipe stops a work-item there)");
        }
        long xImage = (long) g.inHeight() * g.inWidth() * g.inChannels();
        long dyImage = (long) g.outHeight() * g.outWidth() * g.outChannels();
        for (long n = 0; n < g.batch() || n == 0; n += images) {
            int slice = (int) Math.min(images, g.batch() - n);
            View[] sliced = {inputs[0], new View(inputs[1].buffer(), inputs[1].shape(), inputs[1].strides(),
                    inputs[1].offset() + n * dyImage)};
            launch(kind, t, g, slice, out, count, inputs[0].offset() + n * xImage, sliced, n > 0);
        }
    }

    /**
     * One launch over {@code batch} images, the first input read from {@code firstOffset};
     * {@code accumulate}: add to {@code out} instead of overwriting it (filter gradients only).
     */
    private void launch(Kind kind, DType t, Conv2dGeometry g, int batch, OpenClBuffer out, long count,
                        long firstOffset, View[] inputs, boolean accumulate) {
        KernelCall c = call(kind, t);
        for (int i = 0; i < inputs.length; i++) {
            c.mem((OpenClBuffer) inputs[i].buffer()).i64(i == 0 ? firstOffset : inputs[i].offset());
        }
        c.mem(out).i64(count)
                .u32(batch).u32(g.inHeight()).u32(g.inWidth()).u32(g.inChannels())
                .u32(g.filterHeight()).u32(g.filterWidth()).u32(g.outChannels()).u32(g.groups())
                .u32(g.outHeight()).u32(g.outWidth()).u32(g.strideH()).u32(g.strideW())
                .u32(g.dilationH()).u32(g.dilationW()).u32(g.padTop()).u32(g.padLeft());
        if (kind == Kind.BACKPROP_FILTER) {
            c.u32(accumulate ? 1 : 0);
        }
        c.runElements(count, k.tuning());
    }

    private KernelCall call(Kind kind, DType t) {
        int slot = kind.ordinal() * DTYPES + t.ordinal();
        KernelCall c = calls[slot];
        if (c == null) {
            c = calls[slot] = k.call(KernelSources.CONV, ClTypes.options(t), kind.kernel);
        }
        return c.begin();
    }
}
