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

    void run(FusedElementwise p, View[] in, OpenClBuffer out) {
        DType t = p.dtype();
        if (t == DType.FLOAT64) {
            k.requireDType(k.device.info.fp64(), "fusedElementwise", t, "float32");
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
        if (n == 0) {
            return;
        }
        Key key = new Key(p, java.util.List.of(modes));
        KernelCall call = calls.get(key);
        if (call == null) {
            call = k.programs.generated("fused elementwise " + p.expression(), source(p, modes),
                    Kernels.withTuning(ClTypes.options(t), k.tuning().buildOptions()), "fused");
            calls.put(key, call);
        }
        call.begin();
        for (int i = 0; i < in.length; i++) {
            call.mem((OpenClBuffer) in[i].buffer());
            if (modes[i] == Mode.STRIDED) {
                call.layout(layouts[i]);
            } else {
                call.i64(offsets[i]);
            }
        }
        call.mem(out).i64(n).runElements(n, k.tuning());
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

    /** elementwise.cl, then the kernel {@code fused} for this program and these input modes. */
    static String source(FusedElementwise p, Mode[] modes) {
        // elementwise.cl's per-element functions without its kernels (SPOOL_FUNCTIONS_ONLY)
        StringBuilder s = new StringBuilder("#define SPOOL_FUNCTIONS_ONLY 1\n")
                .append(KernelSources.text(KernelSources.ELEMENTWISE));
        s.append("\n#line 1 \"fused\"\n/* ").append(p.expression().replace("*/", "* /")).append(" */\n");
        s.append("#pragma OPENCL FP_CONTRACT OFF\n");
        s.append("kernel void fused(");
        for (int i = 0; i < modes.length; i++) {
            s.append("global const T* in").append(i).append(modes[i] == Mode.STRIDED ? ", layout_t l" : ", long o")
                    .append(i).append(", ");
        }
        s.append("global T* out, long n) {\n    SPOOL_FOR_CHUNK(i, n) {\n");
        for (int i = 0; i < modes.length; i++) {
            s.append("        T v").append(i).append(" = in").append(i).append('[').append(switch (modes[i]) {
                case DENSE -> "o" + i + " + i";
                case SCALAR -> "o" + i;
                case STRIDED -> "layout_offset(&l" + i + ", i)";
            }).append("];\n");
        }
        int inputs = modes.length;
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
        s.append("        out[i] = v").append(inputs + p.steps().size() - 1).append(";\n    }\n}\n");
        return s.toString();
    }

    @Override
    public String toString() {
        return "fused kernels: " + calls.size() + " built";
    }
}
