package dev.spool.opencl;

import dev.spool.DType;
import dev.spool.spi.View;

/**
 * The optimizer updates (training.cl): one launch per parameter, where the same update written
 * with elementwise ops takes up to twelve (Adam) plus the fills of their scalar constants.
 */
final class TrainingKernels {
    private static final int DTYPES = DType.values().length;
    private final Kernels k;
    private final KernelCall[] calls = new KernelCall[3 * DTYPES];

    TrainingKernels(Kernels kernels) {
        this.k = kernels;
    }

    void gradientDescent(View var, View grad, double lr, OpenClBuffer varOut) {
        long n = check("applyGradientDescent", varOut, var, grad);
        if (n == 0) {
            return;
        }
        DType t = var.dtype();
        call(0, KernelCatalog.APPLY_GRADIENT_DESCENT, t)
                .mem((OpenClBuffer) var.buffer()).i64(var.offset())
                .mem((OpenClBuffer) grad.buffer()).i64(grad.offset())
                .scalar(t, lr).mem(varOut).i64(n).runElements(n, k.tuning());
    }

    void momentum(View var, View accum, View grad, double lr, double momentum, boolean nesterov, boolean keras,
                  OpenClBuffer varOut, OpenClBuffer accumOut) {
        long n = check("applyMomentum", varOut, var, accum, grad);
        Kernels.requireOutput("applyMomentum", accumOut, var.dtype(), n);
        if (n == 0) {
            return;
        }
        DType t = var.dtype();
        call(1, KernelCatalog.APPLY_MOMENTUM, t)
                .mem((OpenClBuffer) var.buffer()).i64(var.offset())
                .mem((OpenClBuffer) accum.buffer()).i64(accum.offset())
                .mem((OpenClBuffer) grad.buffer()).i64(grad.offset())
                .scalar(t, lr).scalar(t, momentum).u32(nesterov ? 1 : 0).u32(keras ? 1 : 0)
                .mem(varOut).mem(accumOut).i64(n).runElements(n, k.tuning());
    }

    void adam(View var, View m, View v, View grad, double alpha, double beta1, double beta2, double epsilon,
              OpenClBuffer varOut, OpenClBuffer mOut, OpenClBuffer vOut) {
        long n = check("applyAdam", varOut, var, m, v, grad);
        Kernels.requireOutput("applyAdam", mOut, var.dtype(), n);
        Kernels.requireOutput("applyAdam", vOut, var.dtype(), n);
        if (n == 0) {
            return;
        }
        DType t = var.dtype();
        // 1 - beta in double, then converted: what the composite's scalar constants hold
        call(2, KernelCatalog.APPLY_ADAM, t)
                .mem((OpenClBuffer) var.buffer()).i64(var.offset())
                .mem((OpenClBuffer) m.buffer()).i64(m.offset())
                .mem((OpenClBuffer) v.buffer()).i64(v.offset())
                .mem((OpenClBuffer) grad.buffer()).i64(grad.offset())
                .scalar(t, alpha).scalar(t, 1 - beta1).scalar(t, 1 - beta2).scalar(t, epsilon)
                .mem(varOut).mem(mOut).mem(vOut).i64(n).runElements(n, k.tuning());
    }

    /** Float operands of one dtype and shape, dense and inside their buffers; returns the size. */
    private long check(String primitive, OpenClBuffer out, View... views) {
        DType t = views[0].dtype();
        k.requireDType(t.isFloating(), primitive, t, "float32 or float64");
        Kernels.requireSameShape(primitive, views);
        for (View v : views) {
            k.requireSame(primitive, "an operand", t, v.dtype());
            if (!v.isContiguous()) {
                throw new IllegalArgumentException(primitive + ": needs contiguous operands, got " + v);
            }
            Kernels.requireInBounds(primitive, v);
        }
        long n = views[0].size();
        Kernels.requireOutput(primitive, out, t, n);
        return n;
    }

    private KernelCall call(int kind, String kernel, DType t) {
        int slot = kind * DTYPES + t.ordinal();
        KernelCall c = calls[slot];
        if (c == null) {
            c = calls[slot] = k.call(KernelSources.TRAINING, ClTypes.options(t), kernel);
        }
        return c.begin();
    }
}
