package dev.spool.cpu;

import static dev.spool.cpu.CpuTesting.CPU;
import static dev.spool.cpu.CpuTesting.SERIAL;
import static dev.spool.cpu.CpuTesting.f32;
import static dev.spool.cpu.CpuTesting.f64;
import static dev.spool.cpu.CpuTesting.i32;
import static dev.spool.cpu.CpuTesting.i64;
import static dev.spool.cpu.CpuTesting.out;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.View;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ReduceTest {
    private static final float NAN = Float.NaN;
    private static final long BIG = (1L << 53) + 1;

    private static DeviceBuffer reduce(CpuBackend be, ReduceOp op, View x, int dims) {
        long outer = 1;
        for (int d = 0; d < x.rank() - dims; d++) {
            outer *= x.shape()[d];
        }
        DeviceBuffer o = be.allocate(op.isArg() ? DType.INT64 : x.dtype(), outer);
        be.reduce(op, x, dims, o);
        return o;
    }

    private static DeviceBuffer reduce(ReduceOp op, View x, int dims) {
        return reduce(CPU, op, x, dims);
    }

    private static final View M = View.contiguous(f32(1, 2, 3, 4, 5, 6), 2, 3);

    @Test
    void overTheLastAxis() {
        assertArrayEquals(new float[] {6, 15}, readF32(reduce(ReduceOp.SUM, M, 1)));
        assertArrayEquals(new float[] {6, 120}, readF32(reduce(ReduceOp.PROD, M, 1)));
        assertArrayEquals(new float[] {3, 6}, readF32(reduce(ReduceOp.MAX, M, 1)));
        assertArrayEquals(new float[] {1, 4}, readF32(reduce(ReduceOp.MIN, M, 1)));
        assertArrayEquals(new long[] {2, 2}, readI64(reduce(ReduceOp.ARGMAX, M, 1)));
        assertArrayEquals(new long[] {0, 0}, readI64(reduce(ReduceOp.ARGMIN, M, 1)));
    }

    @Test
    void overEverythingAndOverNothing() {
        assertArrayEquals(new float[] {21}, readF32(reduce(ReduceOp.SUM, M, 2)));
        assertArrayEquals(new float[] {720}, readF32(reduce(ReduceOp.PROD, M, 2)));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, readF32(reduce(ReduceOp.SUM, M, 0)));
        View scalar = new View(f64(2.5), new int[0], new long[0], 0);
        assertArrayEquals(new double[] {2.5}, readF64(reduce(ReduceOp.MAX, scalar, 0)));
    }

    @Test
    void overTheFirstAxisByPermutedStrides() {
        View t = view(M.buffer(), shape(3, 2), strides(1, 3), 0); // reduce rows of M
        assertArrayEquals(new float[] {5, 7, 9}, readF32(reduce(ReduceOp.SUM, t, 1)));
        assertArrayEquals(new float[] {4, 10, 18}, readF32(reduce(ReduceOp.PROD, t, 1)));
        assertArrayEquals(new float[] {4, 5, 6}, readF32(reduce(ReduceOp.MAX, t, 1)));
        assertArrayEquals(new float[] {1, 2, 3}, readF32(reduce(ReduceOp.MIN, t, 1)));
        assertArrayEquals(new long[] {1, 1, 1}, readI64(reduce(ReduceOp.ARGMAX, t, 1)));
    }

    @Test
    void overNonAdjacentAxes() {
        long[] v = new long[24];
        for (int i = 0; i < 24; i++) {
            v[i] = i;
        }
        // x[2,3,4] = 0..23, reduce axes 0 and 2: kept axis 1 first, then axes 0 and 2.
        View x = view(i64(v), shape(3, 2, 4), strides(4, 12, 1), 0);
        assertArrayEquals(new long[] {60, 92, 124}, readI64(reduce(ReduceOp.SUM, x, 2)));
        assertArrayEquals(new long[] {15, 19, 23}, readI64(reduce(ReduceOp.MAX, x, 2)));
    }

    @Test
    void emptyReductionsGiveTheIdentity() {
        View f = view(f32(), shape(2, 0), strides(0, 1), 0);
        assertArrayEquals(new float[] {0, 0}, readF32(reduce(ReduceOp.SUM, f, 1)));
        assertArrayEquals(new float[] {1, 1}, readF32(reduce(ReduceOp.PROD, f, 1)));
        assertArrayEquals(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY},
                readF32(reduce(ReduceOp.MAX, f, 1)));
        assertArrayEquals(new float[] {Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY},
                readF32(reduce(ReduceOp.MIN, f, 1)));
        View i = view(i32(), shape(1, 0), strides(0, 1), 0);
        assertArrayEquals(new int[] {Integer.MIN_VALUE}, readI32(reduce(ReduceOp.MAX, i, 1)));
        assertArrayEquals(new int[] {Integer.MAX_VALUE}, readI32(reduce(ReduceOp.MIN, i, 1)));
        View l = view(i64(), shape(1, 0), strides(0, 1), 0);
        assertArrayEquals(new long[] {Long.MIN_VALUE}, readI64(reduce(ReduceOp.MAX, l, 1)));
        assertArrayEquals(new long[] {Long.MAX_VALUE}, readI64(reduce(ReduceOp.MIN, l, 1)));
        assertArrayEquals(new long[] {0}, readI64(reduce(ReduceOp.SUM, l, 1)));
        assertArrayEquals(new float[] {0}, readF32(reduce(ReduceOp.SUM, view(f32(), shape(0), strides(1), 0), 1)));
        // No outputs at all: nothing to do.
        assertEquals(0, readF32(reduce(ReduceOp.SUM, view(f32(), shape(0, 5), strides(5, 1), 0), 1)).length);
    }

    @Test
    void maxMinAndArgPropagateNaN() {
        View x = View.contiguous(f32(1, NAN, 3, NAN, 5, NAN), 2, 3);
        assertArrayEquals(new float[] {NAN, NAN}, readF32(reduce(ReduceOp.MAX, x, 1)));
        assertArrayEquals(new float[] {NAN, NAN}, readF32(reduce(ReduceOp.MIN, x, 1)));
        assertArrayEquals(new long[] {1, 0}, readI64(reduce(ReduceOp.ARGMAX, x, 1)));
        assertArrayEquals(new long[] {1, 0}, readI64(reduce(ReduceOp.ARGMIN, x, 1)));
        View y = View.contiguous(f64(3, 9, 7, Double.NaN, 9, Double.NaN), 6);
        assertArrayEquals(new long[] {3}, readI64(reduce(ReduceOp.ARGMAX, y, 1)));
        assertArrayEquals(new double[] {Double.NaN}, readF64(reduce(ReduceOp.SUM, y, 1)));
    }

    /** Long contiguous rows (vector bodies and tails): NaN anywhere wins, +0 beats -0, as Math.max/min. */
    @Test
    void longRowMaxMinFollowMathMaxMin() {
        int cols = 1037;
        float[] x = CpuTesting.randomFloats(4 * cols, 21);
        x[cols + 500] = NAN;  // row 1: NaN in a vector body
        x[3 * cols - 1] = NAN; // row 2: NaN in the tail
        for (int j = 0; j < cols; j++) { // row 3: only zeros of both signs
            x[3 * cols + j] = j == 700 ? 0f : -0f;
        }
        View v = View.contiguous(f32(x), 4, cols);
        float[] max = readF32(reduce(ReduceOp.MAX, v, 1));
        float[] min = readF32(reduce(ReduceOp.MIN, v, 1));
        for (int i = 0; i < 4; i++) {
            float mx = Float.NEGATIVE_INFINITY;
            float mn = Float.POSITIVE_INFINITY;
            for (int j = 0; j < cols; j++) {
                mx = Math.max(mx, x[i * cols + j]);
                mn = Math.min(mn, x[i * cols + j]);
            }
            assertEquals(Float.floatToIntBits(mx), Float.floatToIntBits(max[i]), "max of row " + i);
            assertEquals(Float.floatToIntBits(mn), Float.floatToIntBits(min[i]), "min of row " + i);
        }
        double[] d = CpuTesting.randomDoubles(2 * cols, 22);
        d[cols - 3] = Double.NaN;
        double[] dmax = readF64(reduce(ReduceOp.MAX, View.contiguous(f64(d), 2, cols), 1));
        assertTrue(Double.isNaN(dmax[0]));
        assertEquals(Arrays.stream(d, cols, 2 * cols).max().orElseThrow(), dmax[1]);
    }

    @Test
    void argReturnsTheFirstExtreme() {
        assertArrayEquals(new long[] {1}, readI64(reduce(ReduceOp.ARGMAX, View.contiguous(i32(1, 5, 5, 2), 4), 1)));
        assertArrayEquals(new long[] {1}, readI64(reduce(ReduceOp.ARGMIN, View.contiguous(f32(2, 0, 0, 2), 4), 1)));
        assertThrows(IllegalArgumentException.class,
                () -> reduce(ReduceOp.ARGMAX, view(f32(), shape(1, 0), strides(0, 1), 0), 1));
    }

    @Test
    void integersStayExact() {
        View l = View.contiguous(i64(BIG, 1, 1), 3);
        assertArrayEquals(new long[] {BIG + 2}, readI64(reduce(ReduceOp.SUM, l, 1)));
        View m = View.contiguous(i64(BIG - 1, BIG, BIG - 2), 3); // equal as doubles
        assertArrayEquals(new long[] {BIG}, readI64(reduce(ReduceOp.MAX, m, 1)));
        assertArrayEquals(new long[] {1}, readI64(reduce(ReduceOp.ARGMAX, m, 1)));
        assertArrayEquals(new long[] {2}, readI64(reduce(ReduceOp.ARGMIN, m, 1)));
        assertArrayEquals(new long[] {3 * BIG}, readI64(reduce(ReduceOp.PROD, View.contiguous(i64(BIG, 3), 2), 1)));
        assertArrayEquals(new int[] {Integer.MIN_VALUE}, // wraps like int
                readI32(reduce(ReduceOp.SUM, View.contiguous(i32(Integer.MAX_VALUE, 1), 2), 1)));
        assertThrows(DTypeException.class,
                () -> CPU.reduce(ReduceOp.SUM, View.contiguous(CpuTesting.bool(1), 1), 1, out(DType.BOOL, 1)));
    }

    @Test
    void float32SumsAccumulateBeyondFloatPrecision() {
        float[] x = new float[20_001];
        x[0] = 1 << 24;
        java.util.Arrays.fill(x, 1, x.length, 1);
        // Adding 1 to 2^24 in float changes nothing; accumulated in double it counts.
        assertArrayEquals(new float[] {(1 << 24) + 20_000}, readF32(reduce(ReduceOp.SUM, View.contiguous(f32(x), x.length), 1)));
    }

    /** Row and column loop orders, serial and parallel blocks: the same bits. */
    @Test
    void layoutAndThreadsDoNotChangeResults() {
        int rows = 20_000;
        int cols = 7;
        float[] x = CpuTesting.randomFloats(rows * cols, 11);
        DeviceBuffer rowMajor = f32(x);
        float[] xt = new float[x.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                xt[j * rows + i] = x[i * cols + j];
            }
        }
        DeviceBuffer colMajor = f32(xt);
        View byColumns = view(rowMajor, shape(cols, rows), strides(1, cols), 0);
        View byRows = View.contiguous(colMajor, cols, rows);
        for (ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.MAX, ReduceOp.MIN}) {
            float[] a = readF32(reduce(op, byColumns, 1));
            float[] b = readF32(reduce(op, byRows, 1));
            assertArrayEquals(b, a, op.name());
        }
        // A bias gradient's shape: axis 0 of [128, 256] (columns, widened a whole row at a time)
        // against the same numbers laid out for a row-wise (contiguous, vectorised) sum.
        float[] g = CpuTesting.randomFloats(128 * 256, 13);
        float[] gt = new float[g.length];
        for (int i = 0; i < 128; i++) {
            for (int j = 0; j < 256; j++) {
                gt[j * 128 + i] = g[i * 256 + j];
            }
        }
        assertArrayEquals(readF32(reduce(ReduceOp.SUM, View.contiguous(f32(gt), 256, 128), 1)),
                readF32(reduce(ReduceOp.SUM, view(f32(g), shape(256, 128), strides(1, 256), 0), 1)),
                "column sums of [128, 256]");
        // In float64 too, where a different order of additions could not hide behind rounding to float.
        double[] xd = CpuTesting.randomDoubles(rows * cols, 12);
        double[] xdt = new double[xd.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                xdt[j * rows + i] = xd[i * cols + j];
            }
        }
        double[] byColumns64 = readF64(reduce(ReduceOp.SUM, view(f64(xd), shape(cols, rows), strides(1, cols), 0), 1));
        double[] byRows64 = readF64(reduce(ReduceOp.SUM, View.contiguous(f64(xdt), cols, rows), 1));
        assertArrayEquals(byRows64, byColumns64, "SUM float64");
        // Reducing two dimensions that do not collapse (a transposed block) walks rows of 7:
        // the loads are cut differently from one contiguous row, the sum must not change.
        double[] twoDims = readF64(reduce(ReduceOp.SUM, view(f64(xd), shape(cols, rows), strides(1, cols), 0), 2));
        double[] oneRow = readF64(reduce(ReduceOp.SUM, View.contiguous(f64(xdt), cols * rows), 1));
        assertArrayEquals(oneRow, twoDims, "SUM float64 of a non-contiguous block");

        double[] reference = new double[cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                reference[j] += x[i * cols + j];
            }
        }
        float[] sums = readF32(reduce(ReduceOp.SUM, byColumns, 1));
        for (int j = 0; j < cols; j++) {
            assertEquals((float) reference[j], sums[j], 1e-3f);
        }

        // One big output: split into parallel blocks on CPU, serial on SERIAL.
        View all = View.contiguous(rowMajor, rows * cols);
        DeviceBuffer serialBuf = CpuTesting.buffer(SERIAL, DType.FLOAT32, x);
        View allSerial = View.contiguous(serialBuf, rows * cols);
        for (ReduceOp op : ReduceOp.values()) {
            if (op == ReduceOp.PROD) {
                continue;
            }
            Object a = CpuTesting.read(CPU, reduce(CPU, op, all, 1));
            Object b = CpuTesting.read(SERIAL, reduce(SERIAL, op, allSerial, 1));
            if (op.isArg()) {
                assertArrayEquals((long[]) b, (long[]) a, op.name());
            } else {
                assertArrayEquals((float[]) b, (float[]) a, op.name());
            }
        }
    }

    @Test
    void largeArgReductionsFindTheFirstExtremeAcrossBlocks() {
        double[] x = CpuTesting.randomDoubles(50_000, 12);
        x[37_123] = 5;
        x[40_000] = 5;
        x[20_001] = -5;
        x[49_999] = -5;
        View v = View.contiguous(f64(x), x.length);
        assertArrayEquals(new long[] {37_123}, readI64(reduce(ReduceOp.ARGMAX, v, 1)));
        assertArrayEquals(new long[] {20_001}, readI64(reduce(ReduceOp.ARGMIN, v, 1)));
        x[30_000] = Double.NaN;
        x[45_000] = Double.NaN;
        View n = View.contiguous(f64(x), x.length);
        assertArrayEquals(new long[] {30_000}, readI64(reduce(ReduceOp.ARGMAX, n, 1)));
        assertArrayEquals(new long[] {30_000}, readI64(reduce(ReduceOp.ARGMIN, n, 1)));
        assertArrayEquals(new double[] {Double.NaN}, readF64(reduce(ReduceOp.MAX, n, 1)));
    }
}
