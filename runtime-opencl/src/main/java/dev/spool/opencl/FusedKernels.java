package dev.spool.opencl;

import dev.spool.DType;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.FusedElementwise;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.util.HashMap;
import java.util.Map;

/**
 * A traced function's fused elementwise chain ({@link FusedElementwise}) as one generated
 * kernel: elementwise.cl's per-element functions (the file built with SPOOL_FUNCTIONS_ONLY, without
 * its own kernels) ({@code op_TANH}, {@code bin_ADD}, the same
 * ones the unfused kernels call) applied in the program's order, each intermediate in a private
 * variable. The kernel is built once per (program, how each input is read, dtype) and kept; the
 * driver's own program cache (PoCL's, NVIDIA's) keeps the binary across runs.
 *
 * <p>The generated kernel is compiled with {@code #pragma OPENCL FP_CONTRACT OFF}: a product and
 * a sum that eager code rounds separately (two kernels) stay two roundings, so results equal the
 * unfused primitives' to the bit. The pragma covers only the generated kernel; the shared
 * functions keep the contraction setting the unfused kernels are built with.
 */
final class FusedKernels {
    /** How a kernel reads one input: dense from an offset, one broadcast element, or a layout. */
    private enum Mode { DENSE, SCALAR, STRIDED }

    private record Key(FusedElementwise program, java.util.List<Mode> modes) {
    }

    private final Kernels k;
    private final Map<Key, KernelCall> calls = new HashMap<>();

    FusedKernels(Kernels kernels) {
        this.k = kernels;
    }

    /**
     * Whether elementwise.cl has each step's per-element function for the program's dtype (the
     * catalog's rule for the unfused kernels); else the backend runs the steps one by one.
     */
    static boolean handles(FusedElementwise p) {
        for (FusedElementwise.Step s : p.steps()) {
            if (s.unary() != null ? !KernelCatalog.accepts(s.unary(), p.dtype())
                    : !KernelCatalog.accepts(s.binary(), p.dtype())) {
                return false;
            }
        }
        return true;
    }

    /**
     * Runs the program as one kernel; false (nothing launched) when its arguments would not fit
     * a kernel (more than {@link KernelCall#MAX_ARGS}, or past the smallest parameter space), and
     * the caller runs the steps one by one.
     */
    boolean run(FusedElementwise p, View[] in, OpenClBuffer out) {
        Inputs r = inputs(p, in, out);
        if (r == null) {
            return true;
        }
        long bytes = 16; // out, n
        for (int i = 0; i < in.length; i++) {
            bytes += r.bytes(i);
        }
        if (!fits(bytes, 2 * (in.length + 1))) {
            return false;
        }
        Key key = new Key(p, java.util.List.of(r.modes));
        KernelCall call = calls.get(key);
        if (call == null) {
            call = k.programs.generated("fused elementwise " + p.expression(), source(p, r.modes),
                    Kernels.withTuning(ClTypes.options(p.dtype()), k.tuning().buildOptions()), "fused");
            calls.put(key, call);
        }
        call.begin();
        for (int i = 0; i < in.length; i++) {
            r.pass(call, i);
        }
        call.mem(out).i64(r.n).runElements(r.n, k.tuning());
        return true;
    }

    /** How one program's inputs are read; null when its output is empty (checked first). */
    private record Inputs(View[] in, Mode[] modes, Layout[] layouts, long[] offsets, long n) {
        void pass(KernelCall call, int i) {
            call.mem((OpenClBuffer) in[i].buffer());
            if (modes[i] == Mode.STRIDED) {
                call.layout(layouts[i]);
            } else {
                call.i64(offsets[i]);
            }
        }

        /** The bytes its argument takes in the kernel's parameter space. */
        long bytes(int i) {
            return 8 + (modes[i] == Mode.STRIDED ? LAYOUT_BYTES : 8);
        }
    }

    /** sizeof(layout_t) in prelude.cl: rank, offset, 8 extents, 8 strides. */
    private static final long LAYOUT_BYTES = 18 * 8;

    /** Checks a program's inputs and output, and says how the kernel reads each input. */
    private Inputs inputs(FusedElementwise p, View[] in, OpenClBuffer out) {
        DType t = p.dtype();
        if (t == DType.FLOAT64) {
            k.requireDType(k.device.info.fp64(), "fusedElementwise", t, "float32");
        }
        if (in.length != p.inputs()) {
            throw new IllegalArgumentException("fusedElementwise: the program reads " + p.inputs() + " inputs, got "
                    + in.length);
        }
        long n = in[0].size();
        Kernels.requireOutput("fusedElementwise", out, t, n);
        Kernels.requireSameShape("fusedElementwise", in);
        Mode[] modes = new Mode[in.length];
        Layout[] layouts = new Layout[in.length];
        long[] offsets = new long[in.length];
        for (int i = 0; i < in.length; i++) {
            View v = in[i];
            if (v.dtype() != t) {
                k.requireSame("fusedElementwise", "input " + i, t, v.dtype());
            }
            Kernels.requireInBounds("fusedElementwise", v);
            if (v.isContiguous()) {
                modes[i] = Mode.DENSE;
                offsets[i] = v.offset();
            } else if (allZero(v.strides())) {
                modes[i] = Mode.SCALAR;
                offsets[i] = v.offset();
            } else {
                Layout l = Layout.collapse(v.shape(), v)[0];
                if (l.isDense()) {
                    modes[i] = Mode.DENSE;
                    offsets[i] = l.offset;
                } else {
                    modes[i] = Mode.STRIDED;
                    layouts[i] = l;
                }
            }
        }
        return new Inputs(in, modes, layouts, offsets, n);
    }

    // ---- groups: independent programs in one kernel ------------------------------------------

    /** The parameter space every full-profile device offers (CL_DEVICE_MAX_PARAMETER_SIZE ≥ 1024). */
    private static final long PARAMETER_BYTES = 1024;

    /** Whether a kernel of {@code args} arguments taking {@code bytes} of parameters can be launched anywhere. */
    private static boolean fits(long bytes, int args) {
        return bytes <= PARAMETER_BYTES && args <= KernelCall.MAX_ARGS;
    }

    /** A group's kernel: the programs, which group input each program input is, how each is read. */
    private record GroupKey(java.util.List<FusedElementwise> programs, java.util.List<Integer> inputOf,
                            java.util.List<Mode> modes) {
    }

    private final Map<GroupKey, KernelCall> groups = new HashMap<>();

    /**
     * Runs independent programs as one kernel: each work-item walks its chunk of every program in
     * turn ({@code SPOOL_FOR_CHUNK} once per program, over that program's own size), so the
     * launch covers the largest program and the smaller ones idle past their ends. Inputs that
     * several programs read (one learning rate) are passed once. Returns false, having run
     * nothing, when the arguments would not fit the smallest parameter space a device may have
     * or the kernel's argument limit: the backend then runs the programs one by one.
     */
    boolean runGroup(java.util.List<FusedElementwise> programs, java.util.List<View[]> inputs,
                     java.util.List<OpenClBuffer> outs) {
        java.util.List<View> distinct = new java.util.ArrayList<>();
        java.util.List<Inputs> read = new java.util.ArrayList<>();
        java.util.List<Integer> inputOf = new java.util.ArrayList<>();
        java.util.List<Mode> modes = new java.util.ArrayList<>();
        long bytes = 0;
        long most = 0;
        for (int g = 0; g < programs.size(); g++) {
            Inputs r = inputs(programs.get(g), inputs.get(g), outs.get(g));
            read.add(r);
            most = Math.max(most, r.n);
            bytes += 16; // out, n
            for (int i = 0; i < r.in.length; i++) {
                int at = distinct.indexOf(r.in[i]);
                if (at < 0) {
                    at = distinct.size();
                    distinct.add(r.in[i]);
                    modes.add(r.modes[i]);
                    bytes += r.bytes(i);
                }
                inputOf.add(at);
            }
        }
        if (!fits(bytes, 2 * (distinct.size() + programs.size()))) {
            return false;
        }
        if (most == 0) {
            return true;
        }
        GroupKey key = new GroupKey(java.util.List.copyOf(programs), inputOf, modes);
        KernelCall call = groups.get(key);
        if (call == null) {
            StringBuilder what = new StringBuilder("fused group");
            for (FusedElementwise p : programs) {
                what.append(' ').append(p.expression());
            }
            call = k.programs.generated(what.toString(), groupSource(programs, inputOf, modes.toArray(new Mode[0])),
                    Kernels.withTuning(ClTypes.options(programs.get(0).dtype()), k.tuning().buildOptions()), "fused_group");
            groups.put(key, call);
        }
        call.begin();
        for (int d = 0; d < distinct.size(); d++) { // each distinct input as the first program reading it passes it
            passInput(call, d, read, inputOf);
        }
        for (int g = 0; g < programs.size(); g++) {
            call.mem(outs.get(g)).i64(read.get(g).n);
        }
        call.runElements(most, k.tuning());
        return true;
    }

    private static void passInput(KernelCall call, int d, java.util.List<Inputs> read, java.util.List<Integer> inputOf) {
        int flat = 0;
        for (Inputs r : read) {
            for (int i = 0; i < r.in.length; i++, flat++) {
                if (inputOf.get(flat) == d) {
                    r.pass(call, i);
                    return;
                }
            }
        }
        throw new IllegalStateException("group input " + d + " read by no program");
    }

    private static boolean allZero(long[] strides) {
        for (long s : strides) {
            if (s != 0) {
                return false;
            }
        }
        return true;
    }

    /** The name under which {@link GpuKernelManifest} writes {@link #example()}. */
    static final String EXAMPLE = "fused-example.cl";

    /**
     * A representative generated program for the GPU resource check, which cannot see the
     * programs traced functions will generate: GELU (tanh form, as traced from ops) of a dense
     * input times a strided one, with four scalar constants: every input mode, a transcendental.
     */
    static String example() {
        java.util.List<FusedElementwise.Step> s = java.util.List.of(
                FusedElementwise.Step.binary(BinaryOp.MUL, 0, 0), // x²
                FusedElementwise.Step.binary(BinaryOp.MUL, 6, 0), // x³
                FusedElementwise.Step.binary(BinaryOp.MUL, 7, 1), // 0.044715 x³
                FusedElementwise.Step.binary(BinaryOp.ADD, 0, 8),
                FusedElementwise.Step.binary(BinaryOp.MUL, 9, 2), // · sqrt(2/π)
                FusedElementwise.Step.unary(UnaryOp.TANH, 10),
                FusedElementwise.Step.binary(BinaryOp.ADD, 11, 3), // + 1
                FusedElementwise.Step.binary(BinaryOp.MUL, 0, 4), // 0.5 x
                FusedElementwise.Step.binary(BinaryOp.MUL, 13, 12),
                FusedElementwise.Step.binary(BinaryOp.MUL, 14, 5)); // · yᵀ
        return source(new FusedElementwise(DType.FLOAT32, 6, s), new Mode[] {Mode.DENSE, Mode.SCALAR, Mode.SCALAR,
            Mode.SCALAR, Mode.SCALAR, Mode.STRIDED});
    }

    /** The name under which {@link GpuKernelManifest} writes {@link #groupExample()}. */
    static final String GROUP_EXAMPLE = "fused-group-example.cl";

    /**
     * A representative group for the GPU resource check: the example's GELU program beside two
     * gradient-descent updates ({@code var - lr * grad}) that share their learning rate.
     */
    static String groupExample() {
        java.util.List<FusedElementwise.Step> sgd = java.util.List.of(
                FusedElementwise.Step.binary(BinaryOp.MUL, 2, 1), FusedElementwise.Step.binary(BinaryOp.SUB, 0, 3));
        FusedElementwise update = new FusedElementwise(DType.FLOAT32, 3, sgd);
        java.util.List<FusedElementwise.Step> gelu = java.util.List.of(
                FusedElementwise.Step.binary(BinaryOp.MUL, 0, 0), FusedElementwise.Step.binary(BinaryOp.MUL, 3, 0),
                FusedElementwise.Step.binary(BinaryOp.MUL, 4, 1), FusedElementwise.Step.binary(BinaryOp.ADD, 0, 5),
                FusedElementwise.Step.binary(BinaryOp.MUL, 6, 2), FusedElementwise.Step.unary(UnaryOp.TANH, 7),
                FusedElementwise.Step.binary(BinaryOp.ADD, 8, 2), FusedElementwise.Step.binary(BinaryOp.MUL, 0, 9));
        FusedElementwise g = new FusedElementwise(DType.FLOAT32, 3, gelu);
        // kernel inputs: 0 x (strided), 1 and 2 scalars, 3 var, 4 grad, 5 lr, 6 var, 7 grad
        return groupSource(java.util.List.of(g, update, update), java.util.List.of(0, 1, 2, 3, 4, 5, 6, 7, 5),
                new Mode[] {Mode.STRIDED, Mode.SCALAR, Mode.SCALAR, Mode.DENSE, Mode.DENSE, Mode.SCALAR, Mode.DENSE,
                    Mode.DENSE});
    }

    /** elementwise.cl, then the kernel {@code fused} for this program and these input modes. */
    static String source(FusedElementwise p, Mode[] modes) {
        StringBuilder s = header(p.expression());
        s.append("kernel void fused(");
        parameters(s, modes);
        s.append("global T* out, long n) {\n");
        int[] inputOf = new int[modes.length];
        java.util.Arrays.setAll(inputOf, i -> i);
        body(s, p, inputOf, modes, "out", "n");
        s.append("}\n");
        return s.toString();
    }

    /** elementwise.cl, then the kernel {@code fused_group}: each program's loop in turn. */
    static String groupSource(java.util.List<FusedElementwise> programs, java.util.List<Integer> inputOf, Mode[] modes) {
        StringBuilder what = new StringBuilder();
        for (FusedElementwise p : programs) {
            what.append(what.length() == 0 ? "" : "; ").append(p.expression());
        }
        StringBuilder s = header(what.toString());
        s.append("kernel void fused_group(");
        parameters(s, modes);
        for (int g = 0; g < programs.size(); g++) {
            s.append(g == 0 ? "" : ", ").append("global T* out").append(g).append(", long n").append(g);
        }
        s.append(") {\n");
        int flat = 0;
        for (int g = 0; g < programs.size(); g++) {
            FusedElementwise p = programs.get(g);
            int[] map = new int[p.inputs()];
            for (int i = 0; i < map.length; i++) {
                map[i] = inputOf.get(flat++);
            }
            body(s, p, map, modes, "out" + g, "n" + g);
        }
        s.append("}\n");
        return s.toString();
    }

    private static StringBuilder header(String expression) {
        // elementwise.cl's per-element functions without its kernels (SPOOL_FUNCTIONS_ONLY)
        StringBuilder s = new StringBuilder("#define SPOOL_FUNCTIONS_ONLY 1\n")
                .append(KernelSources.text(KernelSources.ELEMENTWISE));
        s.append("\n#line 1 \"fused\"\n/* ").append(expression.replace("*/", "* /")).append(" */\n");
        s.append("#pragma OPENCL FP_CONTRACT OFF\n");
        return s;
    }

    private static void parameters(StringBuilder s, Mode[] modes) {
        for (int i = 0; i < modes.length; i++) {
            s.append("global const T* in").append(i).append(modes[i] == Mode.STRIDED ? ", layout_t l" : ", long o")
                    .append(i).append(", ");
        }
    }

    /** One program's loop: input i of the program is kernel input {@code inputOf[i]}. */
    private static void body(StringBuilder s, FusedElementwise p, int[] inputOf, Mode[] modes, String out, String n) {
        s.append("    SPOOL_FOR_CHUNK(i, ").append(n).append(") {\n");
        for (int i = 0; i < inputOf.length; i++) {
            int g = inputOf[i];
            s.append("        T v").append(i).append(" = in").append(g).append('[').append(switch (modes[g]) {
                case DENSE -> "o" + g + " + i";
                case SCALAR -> "o" + g;
                case STRIDED -> "layout_offset(&l" + g + ", i)";
            }).append("];\n");
        }
        int inputs = inputOf.length;
        for (int j = 0; j < p.steps().size(); j++) {
            FusedElementwise.Step st = p.steps().get(j);
            s.append("        T v").append(inputs + j).append(" = ");
            if (st.unary() != null) {
                s.append("op_").append(st.unary().name()).append("(v").append(st.a()).append(");\n");
            } else {
                s.append("bin_").append(st.binary().name()).append("(v").append(st.a()).append(", v")
                        .append(st.b()).append(");\n");
            }
        }
        s.append("        ").append(out).append("[i] = v").append(inputs + p.steps().size() - 1).append(";\n    }\n");
    }

    @Override
    public String toString() {
        return "fused kernels: " + calls.size() + " built, " + groups.size() + " groups";
    }
}
