package dev.spool.opencl;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.util.Arrays;
import org.jocl.cl_mem;

/**
 * Batched matmul (matmul.cl): a family of kernels whose tile shapes are {@code -D} options
 * ({@link GemmConfig}); {@link GemmTuner} picks one per device, dtype and size class.
 */
final class MatmulKernels {
    /**
     * M·N·K from which the CPU-style kernel ({@code matmul_vec}) gets a transposed B packed
     * row-major first: it loads B's rows VW columns at a time, and a transposed B turns each
     * load into VW strided reads (1.6-5.2x the plain product's time on PoCL, SGEMM 256-2048).
     * The copy is one launch over K·N elements; below this size it costs more than it saves.
     */
    static final long PACK_B_FROM = 1L << 21;

    private final Kernels k;
    private final CopyKernels copies;
    private final GemmTuner tuner;

    MatmulKernels(Kernels kernels, CopyKernels copies, GemmTuner tuner) {
        this.k = kernels;
        this.copies = copies;
        this.tuner = tuner;
    }

    GemmTuner tuner() {
        return tuner;
    }

    /**
     * An elementwise epilogue applied as the product is stored (matmul.cl's MM_EPI_BIN): element i
     * of C becomes {@code activation(op(product, operand[i]))}, {@code activation} may be null.
     */
    record Epilogue(BinaryOp op, View operand, UnaryOp activation) {
        /** The -D options that build it into matmul.cl. */
        String options() {
            return "-DMM_EPI_BIN=" + op.name() + (activation == null ? "" : " -DMM_EPI_UN=" + activation.name());
        }

        /** Whether elementwise.cl has its functions for {@code t} (the catalog's rule for the unfused kernels). */
        boolean handles(DType t) {
            return !op.isComparison() && KernelCatalog.accepts(op, t)
                    && (activation == null || KernelCatalog.accepts(activation, t));
        }
    }

    /** What an epilogue program is built from. */
    private record EpilogueKey(GemmConfig config, DType dtype, BinaryOp op, UnaryOp activation, Tuning tuning) {
    }

    /** Epilogue programs built so far. */
    private final java.util.Map<EpilogueKey, KernelCall> epilogues = new java.util.HashMap<>();

    void matmul(View a, View b, OpenClBuffer out) {
        matmul(a, b, out, null, null);
    }

    void matmul(View a, View b, OpenClBuffer out, GemmConfig forced) {
        matmul(a, b, out, forced, null);
    }

    /**
     * With {@code forced} (for tests of every candidate), or the tuner's choice when null; with
     * {@code epilogue} (its operand checked to cover the product) applied as C is stored.
     */
    void matmul(View a, View b, OpenClBuffer out, GemmConfig forced, Epilogue epilogue) {
        DType t = a.dtype();
        k.requireDType(t.isFloating(), "matmul", t, "float32 or float64");
        k.requireSame("matmul", "right operand", t, b.dtype());
        int r = a.rank();
        if (r < 2 || b.rank() != r
                || !Arrays.equals(Arrays.copyOf(a.shape(), r - 2), Arrays.copyOf(b.shape(), r - 2))
                || a.shape()[r - 1] != b.shape()[r - 2]) {
            throw new BackendException("matmul: operands " + Arrays.toString(a.shape()) + " and "
                    + Arrays.toString(b.shape()) + " are not [batch..., M, K] and [batch..., K, N]");
        }
        Kernels.requireInBounds("matmul", a);
        Kernels.requireInBounds("matmul", b);
        long m = a.shape()[r - 2];
        long kk = a.shape()[r - 1];
        long n = b.shape()[r - 1];
        long batch = Kernels.product(a.shape(), 0, r - 2);
        if (kk > k.device.loopLimit / 2) {
            // a work-item loops over K (about one iteration per k measured with the tiled kernel:
            // K = 70,000 stopped near 65,500 on llvmpipe); refused rather than silently wrong
            throw new BackendException("matmul: K = " + kk + " is past what " + k.device.describe()
                    + " computes correctly (" + k.device.loopLimit / 2 + "): llvmpipe ends a work-item after "
                    + k.device.loopLimit + " loop iterations; use another device");
        }
        Kernels.requireOutput("matmul", out, t, batch * m * n);
        Layout el = null;
        if (epilogue != null) {
            View e = epilogue.operand();
            k.requireSame("matmulEpilogue", "operand", t, e.dtype());
            if (e.size() != batch * m * n) {
                throw new BackendException("matmulEpilogue: the operand " + Arrays.toString(e.shape())
                        + " does not have the product's " + batch * m * n + " elements");
            }
            Kernels.requireInBounds("matmulEpilogue", e);
            el = Layout.collapse(e.shape(), e)[0];
        }
        if (batch * m * n == 0) {
            return;
        }
        long[] batchShape = Kernels.toLongs(Arrays.copyOf(a.shape(), r - 2));
        Layout ab = Layout.collapse(batchShape, new long[][] {a.strides()}, new long[] {a.offset()}, 0, r - 2)[0];
        Layout bb = Layout.collapse(batchShape, new long[][] {b.strides()}, new long[] {b.offset()}, 0, r - 2)[0];
        GemmConfig c = forced != null ? forced : tuner.configFor(t, m, n, kk, this::time);
        cl_mem am = ((OpenClBuffer) a.buffer()).mem();
        long sbk = b.strides()[r - 2];
        long sbn = b.strides()[r - 1];
        if (packsB(c, sbn, batch * m * n * kk)) {
            // B packed dense [batch, K, N]: a broadcast batch dimension is expanded, so the
            // packed copy is indexed by the product's batch index alone
            BufferPool.Block packed = k.scratch(t, batch * kk * n);
            try {
                copies.toDense(b, Layout.collapse(b.shape(), b)[0], packed.mem());
                long[] packedBatchStrides = Arrays.copyOf(View.rowMajorStrides(b.shape()), r - 2);
                Layout dense = Layout.collapse(batchShape, new long[][] {packedBatchStrides}, new long[] {0}, 0,
                        r - 2)[0];
                launch(c, t, am, ab, a.strides()[r - 2], a.strides()[r - 1], packed.mem(), dense, n, 1, out.mem(),
                        m, n, kk, batch, epilogue, el);
            } finally {
                k.free(packed);
            }
            return;
        }
        launch(c, t, am, ab, a.strides()[r - 2], a.strides()[r - 1],
                ((OpenClBuffer) b.buffer()).mem(), bb, sbk, sbn, out.mem(), m, n, kk, batch, epilogue, el);
    }

    /** Whether {@code c} gets B packed first: see {@link #PACK_B_FROM} (the packed kernel packs its own). */
    static boolean packsB(GemmConfig c, long sbn, long work) {
        return c.kind() == GemmConfig.Kind.VEC && sbn != 1 && work >= PACK_B_FROM;
    }

    private void launch(GemmConfig c, DType t, cl_mem a, Layout ab, long sam, long sak, cl_mem b, Layout bb,
                        long sbk, long sbn, cl_mem out, long m, long n, long kk, long batch, Epilogue epi, Layout el) {
        KernelCall call = call(c, t, epi);
        if (c.tiled() && call.maxLocal() < c.groupSize()) {
            // the kernel as compiled cannot run groups this large here: the simple kernel can
            c = GemmConfig.ROWS_DEFAULT;
            call = call(c, t, epi);
        }
        call.mem(a).layout(ab).i64(sam).i64(sak).mem(b).layout(bb).i64(sbk).i64(sbn).mem(out).i64(m).i64(n).i64(kk);
        if (epi != null) {
            call.mem((OpenClBuffer) epi.operand().buffer()).layout(el);
        }
        if (c.tiled()) {
            int rtsm = c.tsm() / c.wptm();
            int rtsn = c.tsn() / c.wptn();
            call.run(new long[] {ceilDiv(n, c.tsn()) * rtsn, ceilDiv(m, c.tsm()) * rtsm, batch},
                    new long[] {rtsn, rtsm, 1});
        } else if (c.kind() == GemmConfig.Kind.PACKED) {
            call.run(new long[] {ceilDiv(n, c.tsn()), ceilDiv(m, c.tsm()), batch}, new long[] {1, 1, 1});
        } else {
            int local = call.localSize(c.local());
            call.run(new long[] {KernelCall.roundUp(ceilDiv(n, c.vw()), local), ceilDiv(m, c.rows()), batch},
                    new long[] {local, 1, 1});
        }
    }

    /** Config {@code c}'s kernel, plain or with the epilogue built in (a program of its own, kept). */
    private KernelCall call(GemmConfig c, DType t, Epilogue epi) {
        if (epi == null) {
            return k.call(KernelSources.MATMUL, c.options(t), c.kernel());
        }
        // looked up at every launch: a key of the parts, the option string built only for a new program
        EpilogueKey key = new EpilogueKey(c, t, epi.op(), epi.activation(), k.tuning());
        KernelCall call = epilogues.get(key);
        if (call == null) {
            String options = Kernels.withTuning(c.options(t) + " " + epi.options() + " -DMM_ONLY -DMM_ONLY_"
                    + c.kernel(), k.tuning().buildOptions());
            call = k.programs.generated("matmul epilogue " + epi.options(), epilogueSource(), options, c.kernel());
            epilogues.put(key, call);
        }
        return call.begin();
    }

    /** The name under which {@link GpuKernelManifest} writes an epilogue program. */
    static final String EPILOGUE_EXAMPLE = "matmul-epilogue-example.cl";

    /** elementwise.cl's functions (SPOOL_FUNCTIONS_ONLY), then gemm.cl and matmul.cl as a matmul program has them. */
    static String epilogueSource() {
        return "#define SPOOL_FUNCTIONS_ONLY 1\n" + KernelSources.text(KernelSources.ELEMENTWISE)
                + KernelSources.afterPrelude(KernelSources.MATMUL);
    }

    /** The tuner's timer ({@link GemmTuner#bestSeconds}), on inputs filled with constants. */
    private double time(GemmConfig c, DType t, long m, long n, long kk) {
        BufferPool.Block a = k.scratch(t, m * kk);
        BufferPool.Block b = k.scratch(t, kk * n);
        BufferPool.Block out = k.scratch(t, m * n);
        try {
            // inputs need no values for timing, but are filled so no run reads undefined memory
            copies.fill(a.mem(), t, m * kk, 0.5);
            copies.fill(b.mem(), t, kk * n, 0.25);
            Layout none = new Layout(0, new long[0], new long[0]);
            return GemmTuner.bestSeconds(k.device, () -> launch(c, t, a.mem(), none, kk, 1, b.mem(), none, n, 1,
                    out.mem(), m, n, kk, 1, null, null));
        } finally {
            k.free(a);
            k.free(b);
            k.free(out);
        }
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
