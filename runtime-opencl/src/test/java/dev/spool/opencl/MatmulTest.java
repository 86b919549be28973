package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import java.util.Random;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** matmul on both kernel strategies (tiled for GPUs, rows for CPUs) against a Java triple loop. */
@ExtendWith(TestDevices.class)
class MatmulTest {

    static double[] random(int n, long seed) {
        Random rnd = new Random(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = rnd.nextInt(201) / 100.0 - 1;
        }
        return x;
    }

    /** C[z] = A[z] @ B[z], with element (z, i, j) of A at a[aOff + z*aBatch + i*aRow + j*aCol]. */
    static double[] reference(double[] a, long aOff, long aBatch, long aRow, long aCol,
                              double[] b, long bOff, long bBatch, long bRow, long bCol,
                              int batch, int m, int k, int n) {
        double[] c = new double[batch * m * n];
        for (int z = 0; z < batch; z++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int l = 0; l < k; l++) {
                        s += a[(int) (aOff + z * aBatch + i * aRow + l * aCol)]
                                * b[(int) (bOff + z * bBatch + l * bRow + j * bCol)];
                    }
                    c[(z * m + i) * n + j] = s;
                }
            }
        }
        return c;
    }

    static void assertClose(double[] want, double[] got, DType t, String what) {
        assertEquals(want.length, got.length, what);
        double tol = t == DType.FLOAT32 ? 1e-4 : 1e-12;
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol * Math.max(1, Math.abs(want[i])), what + " element " + i);
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void oddSizesRowMajor(OpenClBackend be) {
        for (DType t : KernelCatalog.types(KernelCatalog.FLOATING, be.info().fp64())) {
            int[][] sizes = {{67, 33, 45}, {1, 1, 1}, {1, 70, 1}, {65, 1, 64}, {130, 17, 3}};
            for (int[] s : sizes) {
                int m = s[0];
                int k = s[1];
                int n = s[2];
                double[] a = random(m * k, 1);
                double[] b = random(k * n, 2);
                DeviceBuffer ab = Host.upload(be, t, a);
                DeviceBuffer bb = Host.upload(be, t, b);
                DeviceBuffer out = be.allocate(t, m * n);
                be.matmul(View.contiguous(ab, m, k), View.contiguous(bb, k, n), out);
                assertClose(reference(a, 0, 0, k, 1, b, 0, 0, n, 1, 1, m, k, n), Host.read(be, out), t,
                        t + " " + m + "x" + k + " @ " + k + "x" + n);
                be.release(ab);
                be.release(bb);
                be.release(out);
            }
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void transposedOperands(OpenClBackend be) {
        int m = 67;
        int k = 33;
        int n = 45;
        double[] at = random(k * m, 3); // stored [K, M]
        double[] bt = random(n * k, 4); // stored [N, K]
        DeviceBuffer ab = Host.upload(be, DType.FLOAT32, at);
        DeviceBuffer bb = Host.upload(be, DType.FLOAT32, bt);
        DeviceBuffer out = be.allocate(DType.FLOAT32, m * n);
        View a = new View(ab, new int[] {m, k}, new long[] {1, m}, 0);
        View b = new View(bb, new int[] {k, n}, new long[] {1, k}, 0);
        be.matmul(a, b, out);
        assertClose(reference(at, 0, 0, 1, m, bt, 0, 0, 1, k, 1, m, k, n), Host.read(be, out), DType.FLOAT32, "Aᵀ @ Bᵀ");
        // only A transposed, B row-major
        DeviceBuffer b2 = Host.upload(be, DType.FLOAT32, random(k * n, 5));
        be.matmul(a, View.contiguous(b2, k, n), out);
        assertClose(reference(at, 0, 0, 1, m, Host.read(be, b2), 0, 0, n, 1, 1, m, k, n), Host.read(be, out),
                DType.FLOAT32, "Aᵀ @ B");
        be.release(ab);
        be.release(bb);
        be.release(b2);
        be.release(out);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void batchedWithBroadcastAndOffsets(OpenClBackend be) {
        // A: [2, 3, 5, 7] at offset 4 of its buffer; B: one [7, 6] matrix broadcast over [2, 3]
        int m = 5;
        int k = 7;
        int n = 6;
        double[] a = random(4 + 6 * m * k, 6);
        double[] b = random(k * n, 7);
        DeviceBuffer ab = Host.upload(be, DType.FLOAT32, a);
        DeviceBuffer bb = Host.upload(be, DType.FLOAT32, b);
        DeviceBuffer out = be.allocate(DType.FLOAT32, 6 * m * n);
        View av = new View(ab, new int[] {2, 3, m, k}, new long[] {3L * m * k, (long) m * k, k, 1}, 4);
        View bv = new View(bb, new int[] {2, 3, k, n}, new long[] {0, 0, n, 1}, 0);
        be.matmul(av, bv, out);
        assertClose(reference(a, 4, (long) m * k, k, 1, b, 0, 0, n, 1, 6, m, k, n), Host.read(be, out),
                DType.FLOAT32, "batched");
        be.release(ab);
        be.release(bb);
        be.release(out);
    }

    /**
     * The CPU-style kernel packs a transposed B row-major first when the product is large
     * ({@link MatmulKernels#PACK_B_FROM}): batched, B at an offset and broadcast over one batch
     * dimension, odd sizes, both dtypes, against the reference; the same product below the size
     * (not packed) too.
     */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void transposedBIsPackedForTheVectorKernel(OpenClBackend be) {
        GemmConfig vec = GemmConfig.VEC_DEFAULT;
        for (DType t : KernelCatalog.types(KernelCatalog.FLOATING, be.info().fp64())) {
            int[][] sizes = {{130, 129, 131}, {9, 5, 7}};
            for (int[] s : sizes) {
                int m = s[0];
                int k = s[1];
                int n = s[2];
                boolean packed = MatmulKernels.packsB(vec, k, 2L * 3 * m * n * k);
                assertEquals(m > 100, packed, "the large product is packed, the small one is not");
                // A: [2, 3, m, k] row-major; B: [3 of N, K] transposed, at offset 5, broadcast over dim 0
                double[] a = random(6 * m * k, 8);
                double[] b = random(5 + 3 * n * k, 9);
                DeviceBuffer ab = Host.upload(be, t, a);
                DeviceBuffer bb = Host.upload(be, t, b);
                DeviceBuffer out = be.allocate(t, 6L * m * n);
                View av = View.contiguous(ab, 2, 3, m, k);
                View bv = new View(bb, new int[] {2, 3, k, n}, new long[] {0, (long) n * k, 1, k}, 5);
                be.matmul(vec, av, bv, out);
                double[] got = Host.read(be, out);
                for (int z = 0; z < 6; z++) {
                    double[] want = reference(a, (long) z * m * k, 0, k, 1, b, 5 + (long) (z % 3) * n * k, 0, 1, k,
                            1, m, k, n);
                    assertClose(want, java.util.Arrays.copyOfRange(got, z * m * n, (z + 1) * m * n), t,
                            t + " batch " + z + " " + m + "x" + k + " @ (" + n + "x" + k + ")ᵀ");
                }
                be.release(ab);
                be.release(bb);
                be.release(out);
            }
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void emptyInnerDimensionGivesZeros(OpenClBackend be) {
        DeviceBuffer a = be.allocate(DType.FLOAT32, 0);
        DeviceBuffer b = be.allocate(DType.FLOAT32, 0);
        DeviceBuffer out = be.allocate(DType.FLOAT32, 12);
        be.fill(out, 7);
        be.matmul(View.contiguous(a, 3, 0), View.contiguous(b, 0, 4), out);
        assertArrayEquals(new double[12], Host.read(be, out));
        DeviceBuffer none = be.allocate(DType.FLOAT32, 0);
        be.matmul(View.contiguous(a, 0, 0), View.contiguous(b, 0, 4), none); // M = 0: nothing to do
        be.release(a);
        be.release(b);
        be.release(out);
        be.release(none);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void rejectsIntegers(OpenClBackend be) {
        DeviceBuffer a = Host.upload(be, DType.INT32, 1, 2, 3, 4);
        DeviceBuffer out = be.allocate(DType.INT32, 4);
        assertThrows(DTypeException.class, () -> be.matmul(View.contiguous(a, 2, 2), View.contiguous(a, 2, 2), out));
        be.release(a);
        be.release(out);
    }
}
