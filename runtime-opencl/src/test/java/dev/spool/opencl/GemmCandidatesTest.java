package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.spool.DType;
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
