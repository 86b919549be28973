package dev.spool.opencl;

import dev.spool.DType;
import dev.spool.spi.Backend;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;

/**
 * unary, binary and select (elementwise.cl): one output element per work-item on GPUs, a chunk
 * of consecutive ones on CPU devices ({@link KernelCall#runElements}).
 *
 * <p>The launch path of these small ops is most of what a small op costs, so it does no string
 * work and no map lookup: each (op, dtype, variant) keeps its {@link KernelCall} in a table, and
 * operands that are contiguous already (the common case) skip {@link Layout#collapse}. A
 * binary op with one operand that is a single broadcast element ({@code x + 1}, {@code 0.5 * x})
 * runs the {@code _scalar_a}/{@code _scalar_b} variant, which reads that element once per
 * work-item at a fixed address instead of walking a layout.
 */
final class ElementwiseKernels {
    private static final int DTYPES = DType.values().length;
    private static final int UNARY_OPS = UnaryOp.values().length;
    private static final int BINARY_OPS = BinaryOp.values().length;

    private final Kernels k;
    private final KernelCall[] unaryCalls = new KernelCall[UNARY_OPS * DTYPES * 2];
    private final KernelCall[] binaryCalls = new KernelCall[BINARY_OPS * DTYPES * KernelCatalog.BinaryVariant.COUNT];
    private final KernelCall[] binaryUnaryCalls =
            new KernelCall[UNARY_OPS * BINARY_OPS * DTYPES * KernelCatalog.BinaryVariant.COUNT];
    private final KernelCall[] selectCalls = new KernelCall[DTYPES * 2];

    ElementwiseKernels(Kernels kernels) {
        this.k = kernels;
    }

    void unary(UnaryOp op, View x, OpenClBuffer out) {
        DType t = x.dtype();
        if (!KernelCatalog.accepts(op, t)) {
            k.requireDType(false, "unary " + op, t, switch (op) {
                case NEG, ABS, SIGN, RELU -> "numeric dtypes";
                case NOT -> "bool";
                default -> "float32 or float64";
            });
        }
        long n = x.size();
        Kernels.requireOutput("unary", op, out, t, n);
        Kernels.requireInBounds("unary", x);
        if (n == 0) {
            return;
        }
        OpenClBuffer xb = (OpenClBuffer) x.buffer();
        if (x.isContiguous()) {
            unaryCall(op, t, true).mem(xb).i64(x.offset()).mem(out).i64(n).runElements(n, k.tuning());
            return;
        }
        Layout xl = Layout.collapse(x.shape(), x)[0];
        KernelCall call = unaryCall(op, t, xl.isDense()).mem(xb);
        if (xl.isDense()) {
            call.i64(xl.offset);
        } else {
            call.layout(xl);
        }
        call.mem(out).i64(n).runElements(n, k.tuning());
    }

    void binary(BinaryOp op, View a, View b, OpenClBuffer out) {
        binary(op, null, a, b, out);
    }

    /** {@code epilogue(op(a, b))}: the binary kernels of elementwise.cl built with -DEPILOGUE. */
    void binaryUnary(BinaryOp op, UnaryOp epilogue, View a, View b, OpenClBuffer out) {
        if (op.isComparison()) {
            throw new IllegalArgumentException("binaryUnary needs an arithmetic op, got " + op);
        }
        if (!Backend.EPILOGUES.contains(epilogue)) {
            throw new IllegalArgumentException("binaryUnary: " + epilogue + " is not one of " + Backend.EPILOGUES);
        }
        if (!KernelCatalog.accepts(epilogue, a.dtype())) {
            k.requireDType(false, "binaryUnary epilogue " + epilogue, a.dtype(), "the dtypes of unary " + epilogue);
        }
        binary(op, epilogue, a, b, out);
    }

    /** A binary op, followed by {@code epilogue} unless it is null. */
    private void binary(BinaryOp op, UnaryOp epilogue, View a, View b, OpenClBuffer out) {
        DType t = a.dtype();
        if (t != b.dtype()) {
            k.requireSame("binary " + op, "second operand", t, b.dtype());
        }
        if (!KernelCatalog.accepts(op, t)) {
            k.requireDType(false, "binary " + op, t, "numeric dtypes");
        }
        Kernels.requireSameShape("binary", a, b);
        long n = a.size();
        Kernels.requireOutput("binary", op, out, op.isComparison() ? DType.BOOL : t, n);
        Kernels.requireInBounds("binary", a);
        Kernels.requireInBounds("binary", b);
        if (n == 0) {
            return;
        }
        OpenClBuffer ab = (OpenClBuffer) a.buffer();
        OpenClBuffer bb = (OpenClBuffer) b.buffer();
        KernelCatalog.BinaryVariant variant;
        long aoff = a.offset();
        long boff = b.offset();
        Layout[] l = null;
        boolean aDense = a.isContiguous();
        boolean bDense = b.isContiguous();
        if (aDense && bDense) {
            variant = KernelCatalog.BinaryVariant.CONTIG;
        } else if (aDense && isOneElement(b)) {
            variant = KernelCatalog.BinaryVariant.SCALAR_B;
        } else if (bDense && isOneElement(a)) {
            variant = KernelCatalog.BinaryVariant.SCALAR_A;
        } else {
            l = Layout.collapse(a.shape(), a, b);
            variant = Layout.allDense(l) ? KernelCatalog.BinaryVariant.CONTIG
                    : isRowsOfB(l[0], l[1]) ? KernelCatalog.BinaryVariant.ROWS_B : KernelCatalog.BinaryVariant.STRIDED;
            aoff = l[0].offset;
            boff = l[1].offset;
        }
        KernelCall call = (epilogue == null ? binaryCall(op, t, variant) : binaryUnaryCall(op, epilogue, t, variant))
                .mem(ab);
        if (variant == KernelCatalog.BinaryVariant.STRIDED) {
            call.layout(l[0]).mem(bb).layout(l[1]);
        } else {
            call.i64(aoff).mem(bb).i64(boff);
            if (variant == KernelCatalog.BinaryVariant.ROWS_B) {
                call.i64(l[1].shape[1]);
            }
        }
        call.mem(out).i64(n).runElements(n, k.tuning());
    }

    void select(View cond, View a, View b, OpenClBuffer out) {
        DType t = a.dtype();
        k.requireSame("select", "condition", DType.BOOL, cond.dtype());
        k.requireSame("select", "second operand", t, b.dtype());
        Kernels.requireSameShape("select", a, cond, b);
        long n = a.size();
        Kernels.requireOutput("select", null, out, t, n);
        Kernels.requireInBounds("select", cond);
        Kernels.requireInBounds("select", a);
        Kernels.requireInBounds("select", b);
        if (n == 0) {
            return;
        }
        Layout[] l = Layout.collapse(a.shape(), cond, a, b);
        boolean dense = Layout.allDense(l);
        int slot = t.ordinal() * 2 + (dense ? 0 : 1);
        KernelCall call = selectCalls[slot];
        if (call == null) {
            call = selectCalls[slot] = k.call(KernelSources.ELEMENTWISE, ClTypes.options(t), KernelCatalog.select(dense));
        }
        call.begin();
        operand(call, (OpenClBuffer) cond.buffer(), l[0], dense);
        operand(call, (OpenClBuffer) a.buffer(), l[1], dense);
        operand(call, (OpenClBuffer) b.buffer(), l[2], dense);
        call.mem(out).i64(n).runElements(n, k.tuning());
    }

    /** Collapsed layouts of a dense [rows, cols] {@code a} and a {@code b} that repeats one row. */
    private static boolean isRowsOfB(Layout a, Layout b) {
        return a.shape.length == 2 && a.strides[1] == 1 && a.strides[0] == a.shape[1]
                && b.strides[0] == 0 && b.strides[1] == 1;
    }

    /** Whether every element of {@code v} is the same element of its buffer (a broadcast scalar). */
    private static boolean isOneElement(View v) {
        for (long s : v.strides()) {
            if (s != 0) {
                return false;
            }
        }
        return true;
    }

    private KernelCall unaryCall(UnaryOp op, DType t, boolean dense) {
        int slot = (op.ordinal() * DTYPES + t.ordinal()) * 2 + (dense ? 0 : 1);
        KernelCall call = unaryCalls[slot];
        if (call == null) {
            call = unaryCalls[slot] = k.call(KernelSources.ELEMENTWISE, ClTypes.options(t), KernelCatalog.unary(op, dense));
        }
        return call.begin();
    }

    private KernelCall binaryCall(BinaryOp op, DType t, KernelCatalog.BinaryVariant variant) {
        int slot = (op.ordinal() * DTYPES + t.ordinal()) * KernelCatalog.BinaryVariant.COUNT + variant.ordinal();
        KernelCall call = binaryCalls[slot];
        if (call == null) {
            call = binaryCalls[slot] = k.call(KernelSources.ELEMENTWISE, ClTypes.options(t),
                    KernelCatalog.binary(op, variant));
        }
        return call.begin();
    }

    private KernelCall binaryUnaryCall(BinaryOp op, UnaryOp epilogue, DType t, KernelCatalog.BinaryVariant variant) {
        int slot = ((epilogue.ordinal() * BINARY_OPS + op.ordinal()) * DTYPES + t.ordinal())
                * KernelCatalog.BinaryVariant.COUNT + variant.ordinal();
        KernelCall call = binaryUnaryCalls[slot];
        if (call == null) {
            call = binaryUnaryCalls[slot] = k.call(KernelSources.ELEMENTWISE, KernelCatalog.epilogueOptions(t, epilogue),
                    KernelCatalog.binaryUnary(op, variant));
        }
        return call.begin();
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
