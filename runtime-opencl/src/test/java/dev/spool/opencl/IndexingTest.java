package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.spool.DType;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** gather and scatterAdd for every dtype and both index types, with out-of-range indices. */
@ExtendWith(TestDevices.class)
class IndexingTest {
    static final double[] INDICES = {4, 0, -1, 5, 2, 2};

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void gatherEveryDtypeAndIndexType(OpenClBackend b) {
        int outer = 2;
        int axis = 5;
        int inner = 3;
        double[] p = new double[outer * axis * inner];
        for (int i = 0; i < p.length; i++) {
            p[i] = i % 2 == 0 ? i + 1 : 0;
        }
        for (DType t : KernelCatalog.types(KernelCatalog.ALL, b.info().fp64())) {
            for (DType it : KernelCatalog.INDEX) {
                DeviceBuffer pb = Host.upload(b, t, p);
                DeviceBuffer ib = Host.upload(b, it, INDICES);
                int n = INDICES.length;
                DeviceBuffer out = b.allocate(t, outer * n * inner);
                b.gather(View.contiguous(pb, outer, axis, inner), View.contiguous(ib, n), out);
                double[] want = new double[outer * n * inner];
                for (int o = 0; o < outer; o++) {
                    for (int j = 0; j < n; j++) {
                        int k = (int) INDICES[j];
                        for (int i = 0; i < inner; i++) {
                            want[(o * n + j) * inner + i] = k < 0 || k >= axis ? 0
                                    : Ref.cast(t, p[(o * axis + k) * inner + i]);
                        }
                    }
                }
                assertArrayEquals(want, Host.read(b, out), "gather " + t + " by " + it);
                b.release(pb);
                b.release(ib);
                b.release(out);
            }
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void gatherFromStridedParamsAndIndices(OpenClBackend b) {
        // params: a [3, 4] buffer seen as [outer=1, axis=4, inner=3] (transposed); indices every other
        DeviceBuffer pb = Host.upload(b, DType.FLOAT32, Host.range(12));
        View params = new View(pb, new int[] {1, 4, 3}, new long[] {0, 1, 4}, 0);
        DeviceBuffer ib = Host.upload(b, DType.INT64, 3, 99, 1, 99, 3);
        View idx = new View(ib, new int[] {3}, new long[] {2}, 0);
        DeviceBuffer out = b.allocate(DType.FLOAT32, 9);
        b.gather(params, idx, out);
        assertArrayEquals(new double[] {3, 7, 11, 1, 5, 9, 3, 7, 11}, Host.read(b, out));
        b.release(pb);
        b.release(ib);
        b.release(out);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void scatterAddOverwritesThenAccumulatesDuplicates(OpenClBackend b) {
        int outer = 2;
        int axis = 5;
        int inner = 3;
        int n = INDICES.length;
        double[] u = new double[outer * n * inner];
        for (int i = 0; i < u.length; i++) {
            u[i] = i + 1;
        }
        for (DType t : KernelCatalog.types(KernelCatalog.NUMERIC, b.info().fp64())) {
            for (DType it : KernelCatalog.INDEX) {
                DeviceBuffer ub = Host.upload(b, t, u);
                DeviceBuffer ib = Host.upload(b, it, INDICES);
                DeviceBuffer out = b.allocate(t, outer * axis * inner);
                b.fill(out, 99); // must be overwritten, not added to
                b.scatterAdd(View.contiguous(ub, outer, n, inner), View.contiguous(ib, n), out);
                double[] want = new double[outer * axis * inner];
                for (int o = 0; o < outer; o++) {
                    for (int j = 0; j < n; j++) {
                        int k = (int) INDICES[j];
                        if (k < 0 || k >= axis) {
                            continue;
                        }
                        for (int i = 0; i < inner; i++) {
                            want[(o * axis + k) * inner + i] += u[(o * n + j) * inner + i];
                        }
                    }
                }
                assertArrayEquals(want, Host.read(b, out), "scatterAdd " + t + " by " + it);
                b.release(ub);
                b.release(ib);
                b.release(out);
            }
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void scatterAddWithNoIndicesZeroes(OpenClBackend b) {
        DeviceBuffer ub = b.allocate(DType.FLOAT32, 0);
        DeviceBuffer ib = b.allocate(DType.INT32, 0);
        DeviceBuffer out = b.allocate(DType.FLOAT32, 6);
        b.fill(out, 5);
        b.scatterAdd(View.contiguous(ub, 2, 0, 3), View.contiguous(ib, 0), out);
        assertArrayEquals(new double[6], Host.read(b, out));
        b.release(ub);
        b.release(ib);
        b.release(out);
    }
}
