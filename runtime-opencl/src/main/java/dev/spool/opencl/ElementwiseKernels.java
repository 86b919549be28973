package dev.spool.opencl;

import dev.spool.DType;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;

/** unary, binary and select (elementwise.cl): one work-item per output element. */
final class ElementwiseKernels {
    private final Kernels k;

    ElementwiseKernels(Kernels kernels) {
        this.k = kernels;
    }

    void unary(UnaryOp op, View x, OpenClBuffer out) {
        DType t = x.dtype();
        String what = "unary " + op;
        k.requireDType(KernelCatalog.accepts(op, t), what, t, switch (op) {
            case NEG, ABS, SIGN, RELU -> "numeric dtypes";
            case NOT -> "bool";
            default -> "float32 or float64";
        });
        long n = x.size();
        Kernels.requireOutput(what, out, t, n);
        Kernels.requireInBounds(what, x);
        if (n == 0) {
            return;
        }
        OpenClBuffer xb = (OpenClBuffer) x.buffer();
        Layout xl = Layout.collapse(x.shape(), x)[0];
        String options = ClTypes.options(t);
        KernelCall call = k.call(KernelSources.ELEMENTWISE, options, KernelCatalog.unary(op, xl.isDense()));
        if (xl.isDense()) {
            call.mem(xb).i64(xl.offset);
        } else {
            call.mem(xb).layout(xl);
        }
        call.mem(out).i64(n).run1d(n, k.tuning().elementwiseLocal());
    }

    void binary(BinaryOp op, View a, View b, OpenClBuffer out) {
        DType t = a.dtype();
        String what = "binary " + op;
        k.requireSame(what, "second operand", t, b.dtype());
        k.requireDType(KernelCatalog.accepts(op, t), what, t, "numeric dtypes");
        Kernels.requireSameShape(what, a, b);
        long n = a.size();
        Kernels.requireOutput(what, out, op.isComparison() ? DType.BOOL : t, n);
        Kernels.requireInBounds(what, a);
        Kernels.requireInBounds(what, b);
        if (n == 0) {
            return;
        }
        Layout[] l = Layout.collapse(a.shape(), a, b);
        boolean dense = Layout.allDense(l);
        KernelCall call = k.call(KernelSources.ELEMENTWISE, ClTypes.options(t), KernelCatalog.binary(op, dense));
        operand(call, (OpenClBuffer) a.buffer(), l[0], dense);
        operand(call, (OpenClBuffer) b.buffer(), l[1], dense);
        call.mem(out).i64(n).run1d(n, k.tuning().elementwiseLocal());
    }

    void select(View cond, View a, View b, OpenClBuffer out) {
        DType t = a.dtype();
        k.requireSame("select", "condition", DType.BOOL, cond.dtype());
        k.requireSame("select", "second operand", t, b.dtype());
        Kernels.requireSameShape("select", a, cond, b);
        long n = a.size();
        Kernels.requireOutput("select", out, t, n);
        Kernels.requireInBounds("select", cond);
        Kernels.requireInBounds("select", a);
        Kernels.requireInBounds("select", b);
        if (n == 0) {
            return;
        }
        Layout[] l = Layout.collapse(a.shape(), cond, a, b);
        boolean dense = Layout.allDense(l);
        KernelCall call = k.call(KernelSources.ELEMENTWISE, ClTypes.options(t), KernelCatalog.select(dense));
        operand(call, (OpenClBuffer) cond.buffer(), l[0], dense);
        operand(call, (OpenClBuffer) a.buffer(), l[1], dense);
        operand(call, (OpenClBuffer) b.buffer(), l[2], dense);
        call.mem(out).i64(n).run1d(n, k.tuning().elementwiseLocal());
    }

    /** A dense operand is (buffer, offset); a strided one (buffer, layout). */
    private static void operand(KernelCall call, OpenClBuffer buffer, Layout layout, boolean dense) {
        call.mem(buffer);
        if (dense) {
            call.i64(layout.offset);
        } else {
            call.layout(layout);
        }
    }
}
