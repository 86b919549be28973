package dev.spool.opencl;

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
        KernelCall c = call(kind, t);
        for (View v : inputs) {
            c.mem((OpenClBuffer) v.buffer()).i64(v.offset());
        }
        c.mem(out).i64(count)
                .u32(g.batch()).u32(g.inHeight()).u32(g.inWidth()).u32(g.inChannels())
                .u32(g.filterHeight()).u32(g.filterWidth()).u32(g.outChannels()).u32(g.groups())
                .u32(g.outHeight()).u32(g.outWidth()).u32(g.strideH()).u32(g.strideW())
                .u32(g.dilationH()).u32(g.dilationW()).u32(g.padTop()).u32(g.padLeft())
                .runElements(count, k.tuning());
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
