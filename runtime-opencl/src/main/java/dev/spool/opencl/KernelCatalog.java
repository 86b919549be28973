package dev.spool.opencl;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.spi.Backend;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.UnaryOp;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Which kernel serves each (primitive, dtype): kernel names, build options and the dtype rules
 * of the SPI javadoc, in one table. The kernel families take their names from here, the backend
 * checks at load that every pair the SPI lists has kernels, and a test builds every entry.
 */
final class KernelCatalog {
    private KernelCatalog() {
    }

    /**
     * One kernel of one program, the primitive it serves, and the kernel styles ({@link Tuning})
     * under which a device may launch it: what the GPU resource report checks as "the GPU path".
     */
    record KernelRef(String primitive, DType dtype, String source, String options, String kernel,
                     Set<Tuning.Style> styles) {
        KernelRef {
            styles = Set.copyOf(styles);
        }

        /** A kernel that devices of both styles launch. */
        KernelRef(String primitive, DType dtype, String source, String options, String kernel) {
            this(primitive, dtype, source, options, kernel, BOTH);
        }

        /** Whether a device with GPU-style kernels may launch it. */
        boolean gpuPath() {
            return styles.contains(Tuning.Style.GPU);
        }
    }

    private static final Set<Tuning.Style> BOTH = EnumSet.allOf(Tuning.Style.class);
    private static final Set<Tuning.Style> GPU = EnumSet.of(Tuning.Style.GPU);
    private static final Set<Tuning.Style> CPU = EnumSet.of(Tuning.Style.CPU);

    static final List<DType> ALL = List.of(DType.values());
    static final List<DType> NUMERIC = List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64);
    static final List<DType> FLOATING = List.of(DType.FLOAT32, DType.FLOAT64);
    static final List<DType> INDEX = List.of(DType.INT32, DType.INT64);

    // ---- dtype rules (dev.spool.spi javadoc) ---------------------------------------------------

    static boolean accepts(UnaryOp op, DType t) {
        return switch (op) {
            case NEG, ABS, SIGN, RELU -> t.isNumeric();
            case NOT -> t == DType.BOOL;
            default -> t.isFloating();
        };
    }

    static boolean accepts(BinaryOp op, DType t) {
        return switch (op) {
            case ERF_GRAD, GELU_GRAD, GELU_TANH_GRAD -> t.isFloating();
            default -> op.isComparison() || t.isNumeric();
        };
    }

    /** The transcendental VJPs have no binary_unary_ form (elementwise.cl's BINARY_UNARY list). */
    private static boolean hasEpilogueForm(BinaryOp op) {
        return switch (op) {
            case ERF_GRAD, GELU_GRAD, GELU_TANH_GRAD -> false;
            default -> !op.isComparison();
        };
    }

    /** Backend.binaryUnary: an arithmetic op, then any unary op that accepts the dtype. */
    static boolean acceptsBinaryUnary(BinaryOp op, UnaryOp epilogue, DType t) {
        return hasEpilogueForm(op) && accepts(op, t) && Backend.EPILOGUES.contains(epilogue) && accepts(epilogue, t);
    }

    // ---- kernel names ---------------------------------------------------------------------------

    static String unary(UnaryOp op, boolean dense) {
        return "unary_" + op.name() + suffix(dense);
    }

    static String binary(BinaryOp op, boolean dense) {
        return binary(op, dense ? BinaryVariant.CONTIG : BinaryVariant.STRIDED);
    }

    /**
     * How a binary kernel reads its operands: both dense from an offset, both through a
     * layout_t, one dense and the other a single element at an offset (a broadcast scalar:
     * {@code a} for SCALAR_A, {@code b} for SCALAR_B), or {@code a} dense [rows, cols] and
     * {@code b} one row of {@code cols} elements repeated (ROWS_B: a bias).
     */
    enum BinaryVariant {
        CONTIG("_contig"), STRIDED("_strided"), SCALAR_A("_scalar_a"), SCALAR_B("_scalar_b"), ROWS_B("_rows_b");

        static final int COUNT = values().length;
        final String suffix;

        BinaryVariant(String suffix) {
            this.suffix = suffix;
        }
    }

    static String binary(BinaryOp op, BinaryVariant variant) {
        return "binary_" + op.name() + variant.suffix;
    }

    /** A binary kernel with a unary epilogue (built with {@link #epilogueOptions}). */
    static String binaryUnary(BinaryOp op, BinaryVariant variant) {
        return "binary_unary_" + op.name() + variant.suffix;
    }

    /** elementwise.cl for dtype {@code t} with every binary_unary_* kernel ending in {@code epilogue}. */
    static String epilogueOptions(DType t, UnaryOp epilogue) {
        return ClTypes.options(t) + " -DEPILOGUE=" + epilogue.name();
    }

    static String select(boolean dense) {
        return "select" + suffix(dense);
    }

    static String copy(boolean dense) {
        return "copy" + suffix(dense);
    }

    static final String FILL = "fill";
    static final String GATHER = "gather";
    static final String SCATTER_ADD = "scatter_add";
    static final String RANDOM_UNIFORM = "random_uniform";
    static final String MATMUL_TILED = "matmul_tiled";
    static final String MATMUL_ROWS = "matmul_rows";
    static final String MATMUL_VEC = "matmul_vec";
    static final String MATMUL_PACKED = "matmul_packed";
    static final String APPLY_GRADIENT_DESCENT = "apply_gradient_descent";
    static final String APPLY_MOMENTUM = "apply_momentum";
    static final String APPLY_ADAM = "apply_adam";
    static final String CONV2D = "conv2d_forward";
    static final String CONV2D_BACKPROP_INPUT = "conv2d_backprop_input";
    static final String CONV2D_BACKPROP_FILTER = "conv2d_backprop_filter";
    static final String AVG_POOL = "avg_pool";
    static final String AVG_POOL_GRAD = "avg_pool_grad";
    static final String MAX_POOL = "max_pool";
    static final String MAX_POOL_GRAD = "max_pool_grad";
    static final String MAX_POOL_GRAD_WINDOWS_VEC = "max_pool_grad_windows_vec";
    static final String DEPTHWISE = "depthwise_forward";
    static final String DEPTHWISE_BACKPROP_INPUT = "depthwise_backprop_input";
    static final String DEPTHWISE_BACKPROP_FILTER = "depthwise_backprop_filter";
    static final String CONV_FILTER_SUM = "conv_filter_sum";
    static final String CONV_GEMM_TILED = "conv_gemm_tiled";
    static final String CONV_GEMM_PACKED = "conv_gemm_packed";
    static final String CONV_FILTER_TILED = "conv_filter_tiled";
    static final String CONV_FILTER_PACKED = "conv_filter_packed";
    static final String BN_PARTIALS = "bn_partials";
    static final String BN_FINALIZE = "bn_finalize";
    static final String BN_APPLY = "bn_apply";
    static final String BN_GRAD_PARTIALS = "bn_grad_partials";
    static final String BN_GRAD_FINALIZE = "bn_grad_finalize";
    static final String BN_GRAD_APPLY = "bn_grad_apply";
    static final String BN_FUSED = "bn_fused";
    static final String BN_GRAD_FUSED = "bn_grad_fused";

    /** One work-item per (row, chunk): CPUs, and short rows on GPUs. */
    static String reduceChunks(ReduceOp op) {
        return "reduce_" + op.name() + "_chunks";
    }

    /** One work-group per (row, chunk), a tree in local memory: GPUs. */
    static String reduceWorkGroup(ReduceOp op) {
        return "reduce_" + op.name() + "_wg";
    }

    /** 16 side-by-side rows per work-item along a strided axis (column sums): CPUs. */
    static String reduceColumns(ReduceOp op) {
        return "reduce_" + op.name() + "_columns";
    }

    /** Combines (value, index) partials of ARGMAX/ARGMIN. */
    static String reducePartials(ReduceOp op) {
        return "reduce_" + op.name() + "_partials";
    }

    // the fused softmax primitives (softmax.cl): one work-group per row on GPUs, else one item

    static String softmax(boolean workGroup) {
        return "softmax" + style(workGroup);
    }

    static String softmaxGrad(boolean workGroup) {
        return "softmax_grad" + style(workGroup);
    }

    static String crossEntropy(boolean workGroup) {
        return "xent" + style(workGroup);
    }

    static String crossEntropyGrad(boolean workGroup) {
        return "xent_grad" + style(workGroup);
    }

    static String crossEntropyFused(boolean workGroup) {
        return "xent_fused" + style(workGroup);
    }

    private static String style(boolean workGroup) {
        return workGroup ? "_wg" : "_rows";
    }

    private static String suffix(boolean dense) {
        return dense ? "_contig" : "_strided";
    }

    // ---- build options ----------------------------------------------------------------------------

    static String copyOptions(DType src, DType dst) {
        return ClTypes.options("S", src) + " " + ClTypes.options("D", dst);
    }

    static String indexOptions(DType t, DType index) {
        return ClTypes.options(t) + " -DIDX=" + (index == DType.INT64 ? "long" : "int");
    }

    /**
     * The accumulator of a value reduction from {@code in} to {@code out}: float32 accumulates
     * in double where the device has it (the CPU backend does the same, so sums agree to the
     * last bit far more often), integers in their own type (wrapping).
     */
    static DType accumulator(DType in, DType out, boolean fp64) {
        if (in.isInteger()) {
            return in;
        }
        return in == DType.FLOAT64 || out == DType.FLOAT64 || fp64 ? DType.FLOAT64 : DType.FLOAT32;
    }

    /** reduction.cl reading {@code in} and writing value results as {@code out}. */
    static String reduceOptions(DType in, DType out, boolean fp64) {
        DType acc = accumulator(in, out, fp64);
        return ClTypes.options(in) + " -DACC=" + ClTypes.name(acc) + (acc == DType.FLOAT64 ? " -DACC_IS_DOUBLE=1" : "")
                + " -DOUT=" + ClTypes.name(out);
    }


    /** norm.cl for dtype {@code t}: statistics accumulate as reductions do ({@link #accumulator}). */
    static String normOptions(DType t, boolean fp64) {
        DType acc = accumulator(t, t, fp64);
        return ClTypes.options(t) + " -DACC=" + ClTypes.name(acc) + (acc == DType.FLOAT64 ? " -DACC_IS_DOUBLE=1" : "");
    }

    // ---- the table ------------------------------------------------------------------------------

    /**
     * Every kernel the backend may launch on a device (both styles, each entry saying which),
     * float64 ones if {@code fp64}.
     */
    static List<KernelRef> all(boolean fp64) {
        List<KernelRef> out = new ArrayList<>();
        for (DType t : types(ALL, fp64)) {
            String o = ClTypes.options(t);
            for (DType d : types(ALL, fp64)) {
                for (boolean dense : new boolean[] {true, false}) {
                    out.add(new KernelRef("copy", t, KernelSources.COPY, copyOptions(t, d), copy(dense)));
                }
            }
            out.add(new KernelRef("fill", t, KernelSources.COPY, copyOptions(t, t), FILL));
            for (boolean dense : new boolean[] {true, false}) {
                for (UnaryOp op : UnaryOp.values()) {
                    if (accepts(op, t)) {
                        out.add(new KernelRef("unary " + op, t, KernelSources.ELEMENTWISE, o, unary(op, dense)));
                    }
                }
                out.add(new KernelRef("select", t, KernelSources.ELEMENTWISE, o, select(dense)));
            }
            for (BinaryOp op : BinaryOp.values()) {
                if (accepts(op, t)) {
                    for (BinaryVariant v : BinaryVariant.values()) {
                        out.add(new KernelRef("binary " + op, t, KernelSources.ELEMENTWISE, o, binary(op, v)));
                    }
                }
            }
            // one program per (dtype, epilogue), built at its first use
            for (UnaryOp epilogue : UnaryOp.values()) {
                for (BinaryOp op : BinaryOp.values()) {
                    if (acceptsBinaryUnary(op, epilogue, t)) {
                        for (BinaryVariant v : BinaryVariant.values()) {
                            out.add(new KernelRef("binaryUnary " + op + " " + epilogue, t, KernelSources.ELEMENTWISE,
                                    epilogueOptions(t, epilogue), binaryUnary(op, v)));
                        }
                    }
                }
            }
            for (DType index : INDEX) {
                out.add(new KernelRef("gather", t, KernelSources.INDEXING, indexOptions(t, index), GATHER));
                if (t.isNumeric()) {
                    out.add(new KernelRef("scatterAdd", t, KernelSources.INDEXING, indexOptions(t, index),
                            SCATTER_ADD));
                }
            }
        }
        for (DType t : types(NUMERIC, fp64)) {
            DType acc = accumulator(t, t, fp64);
            // single pass; then the two passes of a split reduction: to partials, partials to t
            List<String> programs = acc == t ? List.of(reduceOptions(t, t, fp64))
                    : List.of(reduceOptions(t, t, fp64), reduceOptions(t, acc, fp64), reduceOptions(acc, t, fp64));
            for (String o : programs) {
                for (ReduceOp op : ReduceOp.values()) {
                    if (op.isArg() && !o.equals(programs.get(0))) {
                        continue; // arg reductions never split through the accumulator type
                    }
                    // ReductionKernels: GPUs reduce short rows with _chunks too, columns are CPU-only
                    out.add(new KernelRef("reduce " + op, t, KernelSources.REDUCTION, o, reduceChunks(op)));
                    out.add(new KernelRef("reduce " + op, t, KernelSources.REDUCTION, o, reduceWorkGroup(op), GPU));
                    if (!op.isArg() && o.equals(programs.get(0))) { // one pass only
                        out.add(new KernelRef("reduce " + op, t, KernelSources.REDUCTION, o, reduceColumns(op), CPU));
                    }
                    if (op.isArg()) {
                        out.add(new KernelRef("reduce " + op, t, KernelSources.REDUCTION, o, reducePartials(op)));
                    }
                }
            }
        }
        for (DType t : types(FLOATING, fp64)) {
            for (GemmConfig c : GemmConfig.CANDIDATES) { // every member the tuner may choose
                Set<Tuning.Style> styles = EnumSet.noneOf(Tuning.Style.class);
                for (Tuning.Style s : Tuning.Style.values()) {
                    if (GemmTuner.candidates(s).contains(c)) {
                        styles.add(s);
                    }
                }
                out.add(new KernelRef("matmul", t, KernelSources.MATMUL, c.options(t), c.kernel(), styles));
                if (c.runsConvolutions()) { // the same members build the implicit-GEMM convolutions
                    String product = c.tiled() ? CONV_GEMM_TILED : CONV_GEMM_PACKED;
                    String filter = c.tiled() ? CONV_FILTER_TILED : CONV_FILTER_PACKED;
                    for (String primitive : List.of("conv2d", "conv2dBackpropInput")) {
                        out.add(new KernelRef(primitive, t, KernelSources.CONV_GEMM, c.options(t), product, styles));
                    }
                    out.add(new KernelRef("conv2dBackpropFilter", t, KernelSources.CONV_GEMM, c.options(t), filter,
                            styles));
                }
            }
            out.add(new KernelRef("randomUniform", t, KernelSources.RANDOM, ClTypes.options(t), RANDOM_UNIFORM));
            for (boolean wg : new boolean[] {false, true}) {
                String o = ClTypes.options(t);
                Set<Tuning.Style> s = wg ? GPU : CPU; // SoftmaxKernels: work-group kernels on GPUs
                out.add(new KernelRef("softmax", t, KernelSources.SOFTMAX, o, softmax(wg), s));
                out.add(new KernelRef("softmaxGrad", t, KernelSources.SOFTMAX, o, softmaxGrad(wg), s));
                out.add(new KernelRef("softmaxCrossEntropy", t, KernelSources.SOFTMAX, o, crossEntropy(wg), s));
                out.add(new KernelRef("softmaxCrossEntropyGrad", t, KernelSources.SOFTMAX, o, crossEntropyGrad(wg), s));
                out.add(new KernelRef("softmaxCrossEntropyWithGrad", t, KernelSources.SOFTMAX, o, crossEntropyFused(wg),
                        s));
            }
            for (String k : List.of(APPLY_GRADIENT_DESCENT, APPLY_MOMENTUM, APPLY_ADAM)) {
                out.add(new KernelRef(k, t, KernelSources.TRAINING, ClTypes.options(t), k));
            }
            for (ConvKernels.Kind kind : ConvKernels.Kind.values()) {
                out.add(new KernelRef(kind.primitive, t, KernelSources.CONV, ClTypes.options(t), kind.kernel));
            }
            out.add(new KernelRef("conv2dBackpropFilter", t, KernelSources.CONV, ClTypes.options(t), CONV_FILTER_SUM));
            for (Tuning.Style style : Tuning.Style.values()) { // AttentionKernels: ACC_N per style
                for (boolean unitLast : new boolean[] {true, false}) {
                    String o = AttentionKernels.options(t, style, unitLast, false);
                    Set<Tuning.Style> s = EnumSet.of(style);
                    out.add(new KernelRef("attention", t, KernelSources.ATTENTION, o, AttentionKernels.FORWARD, s));
                    for (String k : List.of(AttentionKernels.ROWDOT, AttentionKernels.GRAD_Q,
                            AttentionKernels.GRAD_KV)) {
                        out.add(new KernelRef("attentionGrad", t, KernelSources.ATTENTION, o, k, s));
                    }
                }
            }
            // the tile kernels of CPU devices (AttentionKernels.tiles)
            String tiles = AttentionKernels.options(t, Tuning.Style.CPU, true, true);
            out.add(new KernelRef("attention", t, KernelSources.ATTENTION, tiles, AttentionKernels.FORWARD_TILES, CPU));
            for (String k : List.of(AttentionKernels.ROWDOT, AttentionKernels.GRAD_Q_TILES,
                    AttentionKernels.GRAD_KV_TILES)) {
                out.add(new KernelRef("attentionGrad", t, KernelSources.ATTENTION, tiles, k, CPU));
            }
            for (String k : List.of(BN_FUSED, BN_PARTIALS, BN_FINALIZE, BN_APPLY)) {
                out.add(new KernelRef("batchNormTraining", t, KernelSources.NORM, normOptions(t, fp64), k));
            }
            for (String k : List.of(BN_GRAD_FUSED, BN_GRAD_PARTIALS, BN_GRAD_FINALIZE, BN_GRAD_APPLY)) {
                out.add(new KernelRef("batchNormTrainingGrad", t, KernelSources.NORM, normOptions(t, fp64), k));
            }
        }
        return out;
    }

    /**
     * Checks that every (primitive, dtype) pair the SPI lists has kernels in the table and that
     * their sources are on the class path: a backend that lacks a primitive must say so when it
     * loads, not at a user's first call.
     */
    static void verify(boolean fp64) {
        KernelSources.verifyAll();
        List<KernelRef> table = all(fp64);
        List<String> missing = new ArrayList<>();
        for (DType t : types(ALL, fp64)) {
            require(table, "fill", t, missing);
            require(table, "copy", t, missing);
            require(table, "select", t, missing);
            require(table, "gather", t, missing);
            for (UnaryOp op : UnaryOp.values()) {
                if (accepts(op, t)) {
                    require(table, "unary " + op, t, missing);
                }
            }
            for (BinaryOp op : BinaryOp.values()) {
                if (accepts(op, t)) {
                    require(table, "binary " + op, t, missing);
                }
                for (UnaryOp epilogue : UnaryOp.values()) {
                    if (acceptsBinaryUnary(op, epilogue, t)) {
                        require(table, "binaryUnary " + op + " " + epilogue, t, missing);
                    }
                }
            }
        }
        for (DType t : types(NUMERIC, fp64)) {
            require(table, "scatterAdd", t, missing);
            for (ReduceOp op : ReduceOp.values()) {
                require(table, "reduce " + op, t, missing);
            }
        }
        for (DType t : types(FLOATING, fp64)) {
            require(table, "matmul", t, missing);
            require(table, "randomUniform", t, missing);
            for (String p : new String[] {"softmax", "softmaxGrad", "softmaxCrossEntropy", "softmaxCrossEntropyGrad"}) {
                require(table, p, t, missing);
            }
            for (String k : List.of(APPLY_GRADIENT_DESCENT, APPLY_MOMENTUM, APPLY_ADAM)) {
                require(table, k, t, missing);
            }
            for (ConvKernels.Kind kind : ConvKernels.Kind.values()) {
                require(table, kind.primitive, t, missing);
            }
            require(table, "attention", t, missing);
            require(table, "attentionGrad", t, missing);
            require(table, "batchNormTraining", t, missing);
            require(table, "batchNormTrainingGrad", t, missing);
        }
        for (KernelRef k : table) {
            if (!KernelSources.ALL.contains(k.source())) {
                missing.add(k.kernel() + " (unknown source " + k.source() + ")");
            }
        }
        if (!missing.isEmpty()) {
            throw new BackendException("the OpenCL backend has no kernels for: " + missing);
        }
    }

    private static void require(List<KernelRef> table, String primitive, DType t, List<String> missing) {
        for (KernelRef k : table) {
            if (k.primitive().equals(primitive) && k.dtype() == t) {
                return;
            }
        }
        missing.add(primitive + " " + t);
    }

    static List<DType> types(List<DType> types, boolean fp64) {
        return fp64 ? types : types.stream().filter(t -> t != DType.FLOAT64).toList();
    }
}
