package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.spool.DType;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every configuration of the matmul family the tuner may choose, forced one at a time, against
 * a Java triple loop: odd sizes (partial tiles in every dim), transposed operands, broadcast
 * batches. The tuner picks by speed alone, so each candidate must be right on its own.
 */
@ExtendWith(TestDevices.class)
class GemmCandidatesTest {

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void everyCandidateMatchesTheReference(OpenClBackend be) {
        assertFalse(be.gemmTuner().candidates().isEmpty());
        for (GemmConfig g : be.gemmTuner().candidates()) {
            for (DType t : KernelCatalog.types(KernelCatalog.FLOATING, be.info().fp64())) {
                check(be, g, t, 1, 67, 33, 45, false, false, false);
                check(be, g, t, 1, 1, 1, 1, false, false, false);
                check(be, g, t, 1, 130, 17, 3, false, false, false);
                check(be, g, t, 3, 37, 70, 29, true, false, false);
                check(be, g, t, 2, 29, 41, 66, false, true, false);
                check(be, g, t, 2, 65, 20, 33, true, true, true);
                // K past one slice of the packed kernels (256 or 128 deep), partial blocks in M and N
                check(be, g, t, 1, 61, 300, 70, false, false, false);
                check(be, g, t, 2, 50, 270, 37, true, true, false);
            }
        }
    }

    /**
     * Each candidate with an epilogue built in gives, to the bit, what its product followed by
     * the elementwise kernel gives. One candidate of each kernel (each store path) with a bias and
     * relu over partial tiles in every dim, a K past one packed slice and a transposed B, and
     * the operand in each way the vector store reads it: a bias (a row of C), a scalar, dense, one
     * dense operand for every batch (its innermost dimension longer than a row of C), a
     * transposed one (read element by element) and one that repeats every 35 elements, half a
     * row of C (a vector of C that crosses its end is read element by element); the simplest kernel also with the other
     * activations, relu's gradient, a scalar mul, a non-commuting op (sub), a batch, and float64.
     * An epilogue is a program build per (candidate, op), which PoCL takes seconds over: hence
     * not the full grid.
     */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void everyCandidateWithAnEpilogueMatchesTheProductThenTheElementwiseKernel(OpenClBackend be) {
        java.util.List<GemmConfig> candidates = be.gemmTuner().candidates();
        java.util.Set<GemmConfig.Kind> kinds = java.util.EnumSet.noneOf(GemmConfig.Kind.class);
        for (GemmConfig g : candidates) {
            if (kinds.add(g.kind())) { // one per kernel: tile sizes do not change how C is stored
                epilogue(be, g, DType.FLOAT32, 1, 61, 300, 70, false, true, BinaryOp.ADD, "bias", UnaryOp.RELU);
                epilogue(be, g, DType.FLOAT32, 1, 1, 1, 1, true, false, BinaryOp.ADD, "bias", UnaryOp.RELU);
                for (String operand : new String[] {"scalar", "dense", "batch-broadcast", "transposed", "repeating"}) {
                    epilogue(be, g, DType.FLOAT32, 2, 37, 300, 70, false, false, BinaryOp.ADD, operand, UnaryOp.RELU);
                }
            }
        }
        // the epilogue's macro is the same in every kernel: its ops on the kernel quickest to build
        GemmConfig g = GemmConfig.ROWS_DEFAULT;
        DType wide = be.info().fp64() ? DType.FLOAT64 : DType.FLOAT32;
        epilogue(be, g, wide, 1, 67, 33, 45, false, false, BinaryOp.ADD, "bias", null);
        epilogue(be, g, DType.FLOAT32, 1, 37, 70, 29, true, false, BinaryOp.ADD, "bias", UnaryOp.TANH);
        epilogue(be, g, DType.FLOAT32, 1, 50, 270, 37, true, true, BinaryOp.RELU_GRAD, "dense", null);
        epilogue(be, g, wide, 2, 29, 41, 66, false, false, BinaryOp.SUB, "dense", null);
        epilogue(be, g, DType.FLOAT32, 1, 130, 17, 3, false, false, BinaryOp.MUL, "scalar", UnaryOp.SIGMOID);
    }

    /** The period of the "repeating" operand: half a row of C where n = 70. */
    private static final int REPEAT = 35;

    private static void epilogue(OpenClBackend be, GemmConfig g, DType t, int batch, int m, int k, int n,
                                 boolean ta, boolean tb, BinaryOp op, String operand, UnaryOp activation) {
        double[] a = MatmulTest.random(batch * m * k, m * 7L + k);
        double[] b = MatmulTest.random(batch * k * n, n * 5L + k);
        int elements = switch (operand) {
            case "bias" -> n;
            case "scalar" -> 1;
            case "batch-broadcast" -> m * n;
            case "repeating" -> REPEAT;
            default -> batch * m * n;
        };
        double[] e = MatmulTest.random(elements, 11L * n + m);
        DeviceBuffer ab = Host.upload(be, t, a);
        DeviceBuffer bb = Host.upload(be, t, b);
        DeviceBuffer eb = Host.upload(be, t, e);
        DeviceBuffer product = be.allocate(t, batch * m * n);
        DeviceBuffer expected = be.allocate(t, batch * m * n);
        DeviceBuffer fused = be.allocate(t, batch * m * n);
        View av = new View(ab, new int[] {batch, m, k}, ta ? new long[] {(long) m * k, 1, m}
                : new long[] {(long) m * k, k, 1}, 0);
        View bv = new View(bb, new int[] {batch, k, n}, tb ? new long[] {(long) k * n, 1, k}
                : new long[] {(long) k * n, n, 1}, 0);
        // the operand's shape: the product's, or rows of REPEAT elements over the same elements
        int[] shape = operand.equals("repeating") ? new int[] {batch * m * n / REPEAT, REPEAT} : new int[] {batch, m, n};
        View ev = new View(eb, shape, switch (operand) {
            case "bias" -> new long[] {0, 0, 1};
            case "scalar" -> new long[] {0, 0, 0};
            case "batch-broadcast" -> new long[] {0, n, 1};
            case "transposed" -> new long[] {(long) m * n, 1, m};
            case "repeating" -> new long[] {0, 1};
            default -> View.rowMajorStrides(shape);
        }, 0);
        be.matmul(g, av, bv, product);
        View p = View.contiguous(product, shape);
        if (activation == null) {
            be.binary(op, p, ev, expected);
        } else {
            be.binaryUnary(op, activation, p, ev, expected);
        }
        be.matmulEpilogue(g, av, bv, op, ev, activation, fused);
        String what = g + " " + t + " batch " + batch + " " + m + "x" + k + (ta ? "ᵀ" : "") + " @ " + k + "x" + n
                + (tb ? "ᵀ" : "") + " then " + op + " " + operand + (activation == null ? "" : " " + activation);
        org.junit.jupiter.api.Assertions.assertArrayEquals(Host.read(be, expected), Host.read(be, fused), 0.0, what);
        for (DeviceBuffer d : new DeviceBuffer[] {ab, bb, eb, product, expected, fused}) {
            be.release(d);
        }
    }

    /**
     * C[z] = A[z] @ B[z] with A [batch, m, k] (stored [batch, k, m] when {@code ta}), B
     * [batch, k, n] (stored [batch, n, k] when {@code tb}); {@code bcastB}: one B for all batches.
     */
    private static void check(OpenClBackend be, GemmConfig g, DType t, int batch, int m, int k, int n,
                              boolean ta, boolean tb, boolean bcastB) {
        int bBatches = bcastB ? 1 : batch;
        double[] a = MatmulTest.random(batch * m * k, m * 31L + k);
        double[] b = MatmulTest.random(bBatches * k * n, n * 17L + k);
        DeviceBuffer ab = Host.upload(be, t, a);
        DeviceBuffer bb = Host.upload(be, t, b);
        DeviceBuffer out = be.allocate(t, batch * m * n);
        long aRow = ta ? 1 : k;
        long aCol = ta ? m : 1;
        long bRow = tb ? 1 : n;
        long bCol = tb ? k : 1;
        long bBatch = bcastB ? 0 : (long) k * n;
        View av = new View(ab, new int[] {batch, m, k}, new long[] {(long) m * k, aRow, aCol}, 0);
        View bv = new View(bb, new int[] {batch, k, n}, new long[] {bBatch, bRow, bCol}, 0);
        be.matmul(g, av, bv, out);
        String what = g + " " + t + " batch " + batch + " " + m + "x" + k + (ta ? "ᵀ" : "") + " @ " + k + "x" + n
                + (tb ? "ᵀ" : "") + (bcastB ? " (B broadcast)" : "");
        MatmulTest.assertClose(MatmulTest.reference(a, 0, (long) m * k, aRow, aCol, b, 0, bBatch, bRow, bCol,
                batch, m, k, n), Host.read(be, out), t, what);
        be.release(ab);
        be.release(bb);
        be.release(out);
    }
}
