package dev.spool.cpu;

import static dev.spool.cpu.CpuTesting.CPU;
import static dev.spool.cpu.CpuTesting.SERIAL;
import static dev.spool.cpu.CpuTesting.f32;
import static dev.spool.cpu.CpuTesting.f64;
import static dev.spool.cpu.CpuTesting.i32;
import static dev.spool.cpu.CpuTesting.out;
import static dev.spool.cpu.CpuTesting.readF32;
import static dev.spool.cpu.CpuTesting.readF64;
import static dev.spool.cpu.CpuTesting.shape;
import static dev.spool.cpu.CpuTesting.strides;
import static dev.spool.cpu.CpuTesting.view;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import org.junit.jupiter.api.Test;

class MatmulTest {
    // A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]], A B = [[58,64],[139,154]]
    private static final float[] AB = {58, 64, 139, 154};

    private static float[] matmul(View a, View b, int size) {
        DeviceBuffer o = out(DType.FLOAT32, size);
        CPU.fill(o, 12345); // matmul must overwrite, not accumulate
        CPU.matmul(a, b, o);
        return readF32(o);
    }

    @Test
    void plain() {
        View a = View.contiguous(f32(1, 2, 3, 4, 5, 6), 2, 3);
        View b = View.contiguous(f32(7, 8, 9, 10, 11, 12), 3, 2);
        assertArrayEquals(AB, matmul(a, b, 4));
        DeviceBuffer o = out(DType.FLOAT64, 4);
        CPU.matmul(View.contiguous(f64(1, 2, 3, 4, 5, 6), 2, 3),
                View.contiguous(f64(7, 8, 9, 10, 11, 12), 3, 2), o);
        assertArrayEquals(new double[] {58, 64, 139, 154}, readF64(o));
    }

    @Test
    void transposedOperandsAreSwappedStrides() {
        View aT = view(f32(1, 4, 2, 5, 3, 6), shape(2, 3), strides(1, 2), 0);
        View bT = view(f32(7, 9, 11, 8, 10, 12), shape(3, 2), strides(1, 3), 0);
        View a = View.contiguous(f32(1, 2, 3, 4, 5, 6), 2, 3);
        View b = View.contiguous(f32(7, 8, 9, 10, 11, 12), 3, 2);
        assertArrayEquals(AB, matmul(aT, b, 4));
        assertArrayEquals(AB, matmul(a, bT, 4));
        assertArrayEquals(AB, matmul(aT, bT, 4));
    }

    @Test
    void offsetOperands() {
        View a = view(f32(0, 0, 1, 2, 3, 4, 5, 6), shape(2, 3), strides(3, 1), 2);
        View b = view(f32(-1, 7, -1, 8, -1, 9, -1, 10, -1, 11, -1, 12), shape(3, 2), strides(4, 2), 1);
        assertArrayEquals(AB, matmul(a, b, 4));
    }

    @Test
    void batchedWithABroadcastOperand() {
        View a = View.contiguous(f32(1, 2, 3, 4, 5, 6, 2, 4, 6, 8, 10, 12), 2, 2, 3);
        View b = view(f32(7, 8, 9, 10, 11, 12), shape(2, 3, 2), strides(0, 2, 1), 0);
        assertArrayEquals(new float[] {58, 64, 139, 154, 116, 128, 278, 308}, matmul(a, b, 8));
        // Transposed and broadcast: packed once, shared by both batches.
        View bT = view(f32(7, 9, 11, 8, 10, 12), shape(2, 3, 2), strides(0, 1, 3), 0);
        assertArrayEquals(new float[] {58, 64, 139, 154, 116, 128, 278, 308}, matmul(a, bT, 8));
        // Rank 4, the first batch dimension broadcast on A.
        View a4 = view(f32(1, 2, 3, 4, 5, 6), shape(2, 1, 2, 3), strides(0, 0, 3, 1), 0);
        View b4 = view(f32(7, 8, 9, 10, 11, 12, 0, 0, 0, 0, 0, 0), shape(2, 1, 3, 2), strides(6, 6, 2, 1), 0);
        assertArrayEquals(new float[] {58, 64, 139, 154, 0, 0, 0, 0}, matmul(a4, b4, 8));
    }

    @Test
    void emptyInnerDimensionGivesZeros() {
        View a = view(f32(), shape(2, 0), strides(0, 1), 0);
        View b = view(f32(), shape(0, 3), strides(3, 1), 0);
        assertArrayEquals(new float[6], matmul(a, b, 6));
        View none = view(f32(), shape(0, 4), strides(4, 1), 0);
        View b2 = View.contiguous(f32(1, 2, 3, 4, 5, 6, 7, 8), 4, 2);
        assertEquals(0, matmul(none, b2, 0).length);
    }

    @Test
    void nanPropagates() {
        View a = View.contiguous(f32(Float.NaN, 0, 1, 1), 2, 2);
        View b = View.contiguous(f32(1, 2, Float.POSITIVE_INFINITY, 3), 2, 2);
        float[] c = matmul(a, b, 4);
        assertTrue(Float.isNaN(c[0]) && Float.isNaN(c[1])); // NaN row; 0 * inf is NaN too
        assertEquals(Float.POSITIVE_INFINITY, c[2]);
        assertEquals(5, c[3]);
    }

    @Test
    void rejectsIntegers() {
        assertThrows(DTypeException.class, () -> CPU.matmul(View.contiguous(i32(1), 1, 1),
                View.contiguous(i32(1), 1, 1), out(DType.INT32, 1)));
    }

    /** Crosses the K and N cache blocks; transposed B; compared with a double reference. */
    @Test
    void largeMatchesReferenceAndSerial() {
        int batch = 2;
        int m = 67;
        int k = 300;
        int n = 600;
        float[] a = CpuTesting.randomFloats(batch * m * k, 21);
        float[] bt = CpuTesting.randomFloats(batch * n * k, 22); // each batch stored as [N, K]
        View av = View.contiguous(f32(a), batch, m, k);
        View bv = view(f32(bt), shape(batch, k, n), strides((long) n * k, 1, k), 0);
        DeviceBuffer o = out(DType.FLOAT32, (long) batch * m * n);
        CPU.matmul(av, bv, o);
        float[] c = readF32(o);
        for (int p = 0; p < batch; p++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int q = 0; q < k; q++) {
                        s += (double) a[(p * m + i) * k + q] * bt[(p * n + j) * k + q];
                    }
                    assertEquals(s, c[(p * m + i) * n + j], 1e-4, "at " + p + "," + i + "," + j);
                }
            }
        }
        DeviceBuffer o1 = SERIAL.allocate(DType.FLOAT32, (long) batch * m * n);
        SERIAL.matmul(View.contiguous(CpuTesting.buffer(SERIAL, DType.FLOAT32, a), batch, m, k),
                view(CpuTesting.buffer(SERIAL, DType.FLOAT32, bt), shape(batch, k, n),
                        strides((long) n * k, 1, k), 0), o1);
        assertArrayEquals((float[]) CpuTesting.read(SERIAL, o1), c);
    }
}
