package dev.spool.cpu;

import static dev.spool.cpu.CpuTesting.CPU;
import static dev.spool.cpu.CpuTesting.bool;
import static dev.spool.cpu.CpuTesting.bytes;
import static dev.spool.cpu.CpuTesting.f32;
import static dev.spool.cpu.CpuTesting.f64;
import static dev.spool.cpu.CpuTesting.flat;
import static dev.spool.cpu.CpuTesting.i32;
import static dev.spool.cpu.CpuTesting.i64;
import static dev.spool.cpu.CpuTesting.out;
import static dev.spool.cpu.CpuTesting.readBool;
import static dev.spool.cpu.CpuTesting.readF32;
import static dev.spool.cpu.CpuTesting.readF64;
import static dev.spool.cpu.CpuTesting.readI32;
import static dev.spool.cpu.CpuTesting.readI64;
import static dev.spool.cpu.CpuTesting.shape;
import static dev.spool.cpu.CpuTesting.strides;
import static dev.spool.cpu.CpuTesting.view;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import org.junit.jupiter.api.Test;

class IndexingTest {
    private static final long BIG = (1L << 53) + 1;

    // params[outer=2, axis=3, inner=2] = 0..11
    private static final View P = View.contiguous(f32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 2, 3, 2);

    @Test
    void gatherAlongTheMiddleAxis() {
        DeviceBuffer o = out(DType.FLOAT32, 2 * 4 * 2);
        CPU.gather(P, flat(i32(2, 0, 2, 1)), o);
        assertArrayEquals(new float[] {4, 5, 0, 1, 4, 5, 2, 3, 10, 11, 6, 7, 10, 11, 8, 9}, readF32(o));
    }

    @Test
    void gatherOutOfRangeYieldsZero() {
        DeviceBuffer o = out(DType.FLOAT32, 2 * 3 * 2);
        CPU.fill(o, 99);
        CPU.gather(P, flat(i64(-1, 3, 1)), o);
        assertArrayEquals(new float[] {0, 0, 0, 0, 2, 3, 0, 0, 0, 0, 8, 9}, readF32(o));
    }

    @Test
    void gatherFromStridedParamsAndIndicesOfEveryDtype() {
        // params [1, 3, 1] read backwards from a buffer; indices every other element.
        View params = view(i64(BIG, BIG + 1, BIG + 2), shape(1, 3, 1), strides(3, -1, 1), 2);
        View idx = view(i32(0, -9, 2, -9), shape(2), strides(2), 0);
        DeviceBuffer o = out(DType.INT64, 2);
        CPU.gather(params, idx, o);
        assertArrayEquals(new long[] {BIG + 2, BIG}, readI64(o));

        DeviceBuffer b = out(DType.BOOL, 3);
        CPU.gather(View.contiguous(bool(1, 0), 1, 2, 1), flat(i32(1, 0, 5)), b);
        assertArrayEquals(bytes(0, 1, 0), readBool(b));

        DeviceBuffer d = out(DType.FLOAT64, 2);
        CPU.gather(View.contiguous(f64(0.5, 1.5), 1, 2, 1), flat(i64(1, 1)), d);
        assertArrayEquals(new double[] {1.5, 1.5}, readF64(d));

        assertThrows(DTypeException.class, () -> CPU.gather(P, flat(f32(0)), out(DType.FLOAT32, 4)));
    }

    @Test
    void gatherWithNoIndices() {
        DeviceBuffer o = out(DType.FLOAT32, 0);
        CPU.gather(P, flat(i32()), o);
        assertEquals(0, o.size());
    }

    @Test
    void scatterAddAccumulatesRepeatedIndicesAndSkipsOutOfRange() {
        // updates [outer=1, n=5, inner=2]; out [1, axis=3, 2]
        View u = View.contiguous(f32(1, 2, 10, 20, 100, 200, 1000, 2000, 7, 7), 1, 5, 2);
        DeviceBuffer o = out(DType.FLOAT32, 6);
        CPU.fill(o, 55); // overwritten, not accumulated into
        CPU.scatterAdd(u, flat(i64(2, 0, 2, 2, 3)), o);
        assertArrayEquals(new float[] {10, 20, 0, 0, 1101, 2202}, readF32(o));
    }

    @Test
    void scatterAddOfIntegersIsExactAndHandlesOuter() {
        View u = View.contiguous(i64(BIG, 1, 1, 2, BIG, 3), 2, 3, 1);
        DeviceBuffer o = out(DType.INT64, 4); // [2, 2, 1]
        CPU.scatterAdd(u, flat(i32(1, 1, -1)), o);
        assertArrayEquals(new long[] {0, BIG + 1, 0, 2 + BIG}, readI64(o));

        DeviceBuffer p = out(DType.INT32, 2);
        CPU.scatterAdd(View.contiguous(i32(Integer.MAX_VALUE, 1), 1, 2, 1), flat(i32(0, 0)), p);
        assertArrayEquals(new int[] {Integer.MIN_VALUE, 0}, readI32(p));
        assertThrows(DTypeException.class,
                () -> CPU.scatterAdd(View.contiguous(bool(1), 1, 1, 1), flat(i32(0)), out(DType.BOOL, 1)));
    }

    /** The adjoint of gather: scatterAdd of ones counts how often each index was gathered. */
    @Test
    void largeScatterAddMatchesScalarLoop() {
        int outer = 3;
        int n = 1000;
        int inner = 1100; // more than one segment per row
        int axis = 50;
        long[] idx = new long[n];
        for (int j = 0; j < n; j++) {
            idx[j] = (j * 7919L) % (axis + 2) - 1; // includes -1 and axis
        }
        double[] u = CpuTesting.randomDoubles(outer * n * inner, 31);
        DeviceBuffer o = out(DType.FLOAT64, (long) outer * axis * inner);
        CPU.scatterAdd(View.contiguous(f64(u), outer, n, inner), flat(i64(idx)), o);
        double[] expected = new double[outer * axis * inner];
        for (int p = 0; p < outer; p++) {
            for (int j = 0; j < n; j++) {
                if (idx[j] < 0 || idx[j] >= axis) {
                    continue;
                }
                for (int i = 0; i < inner; i++) {
                    expected[(int) ((p * axis + idx[j]) * inner + i)] += u[(p * n + j) * inner + i];
                }
            }
        }
        assertArrayEquals(expected, readF64(o));
    }
}
