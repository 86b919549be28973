package dev.spool.cpu;

import static dev.spool.cpu.CpuTesting.CPU;
import static dev.spool.cpu.CpuTesting.SERIAL;
import static dev.spool.cpu.CpuTesting.shape;
import static dev.spool.cpu.CpuTesting.strides;
import static dev.spool.cpu.CpuTesting.view;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.spool.DType;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.View;
import org.junit.jupiter.api.Test;

/**
 * Reductions over the leading axis of a row-major matrix (column order; with the Vector API
 * {@link ColumnReduction}, without it {@link Reduction}'s scalar column loop): the same bits as
 * the row-wise reduction of the transposed numbers, on any thread count, and NaN/±0 as
 * {@link Math#max}/{@link Math#min}. Sizes are chosen around the fast path's edges: widths that
 * are not a multiple of a vector, row counts below, at and past a tile of 64 rows and past one
 * block of {@link Reduction#BLOCK} rows, more columns than one segment.
 */
class ColumnReductionTest {
    private static final int[][] SHAPES = { // {rows, cols}
        {1, 5}, {3, 1}, {63, 3}, {64, 4}, {131, 37}, {200, 1031}, {Reduction.BLOCK + 77, 9},
    };

    private static Object reduce(CpuBackend be, ReduceOp op, DType dtype, Object host, int[] shape, long[] strides) {
        DeviceBuffer in = CpuTesting.buffer(be, dtype, host);
        int outputs = 1;
        for (int d = 0; d < shape.length - 1; d++) {
            outputs *= shape[d];
        }
        DeviceBuffer out = be.allocate(dtype, outputs);
        be.reduce(op, view(in, shape, strides, 0), 1, out);
        return CpuTesting.read(be, out);
    }

    /** sum/max/min over axis 0 of row-major [rows, cols], on backend be. */
    private static Object overAxis0(CpuBackend be, ReduceOp op, DType dtype, Object x, int rows, int cols) {
        return reduce(be, op, dtype, x, shape(cols, rows), strides(1, cols));
    }

    /** The same reduction, row-wise over the transposed numbers (contiguous rows). */
    private static Object overRowsOfTranspose(ReduceOp op, DType dtype, Object x, int rows, int cols) {
        Object xt = java.lang.reflect.Array.newInstance(x.getClass().getComponentType(), rows * cols);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                java.lang.reflect.Array.set(xt, j * rows + i, java.lang.reflect.Array.get(x, i * cols + j));
            }
        }
        return reduce(CPU, op, dtype, xt, shape(cols, rows), strides(rows, 1));
    }

    @Test
    void columnSumsHaveTheBitsOfRowSumsOnAnyThreadCount() {
        int seed = 0;
        for (int[] s : SHAPES) {
            int rows = s[0];
            int cols = s[1];
            String at = rows + "x" + cols;
            float[] x = CpuTesting.randomFloats(rows * cols, ++seed);
            float[] sum = (float[]) overAxis0(CPU, ReduceOp.SUM, DType.FLOAT32, x, rows, cols);
            assertArrayEquals((float[]) overRowsOfTranspose(ReduceOp.SUM, DType.FLOAT32, x, rows, cols), sum, at);
            assertArrayEquals((float[]) overAxis0(SERIAL, ReduceOp.SUM, DType.FLOAT32, x, rows, cols), sum, at);
            for (int j = 0; j < cols; j++) {
                double ref = 0;
                for (int i = 0; i < rows; i++) {
                    ref += x[i * cols + j];
                }
                assertEquals(ref, sum[j], 1e-4, at + " column " + j);
            }
            double[] d = CpuTesting.randomDoubles(rows * cols, ++seed);
            double[] dsum = (double[]) overAxis0(CPU, ReduceOp.SUM, DType.FLOAT64, d, rows, cols);
            assertArrayEquals((double[]) overRowsOfTranspose(ReduceOp.SUM, DType.FLOAT64, d, rows, cols), dsum, at);
            assertArrayEquals((double[]) overAxis0(SERIAL, ReduceOp.SUM, DType.FLOAT64, d, rows, cols), dsum, at);
            for (int j = 0; j < cols; j++) {
                double ref = 0;
                for (int i = 0; i < rows; i++) {
                    ref += d[i * cols + j];
                }
                assertEquals(ref, dsum[j], 1e-9, at + " float64 column " + j);
            }
        }
    }

    @Test
    void columnMaxMinFollowMathMaxMin() {
        int rows = 70;
        int cols = 37; // 4 vectors of 8 floats and a tail of 5
        float[] x = CpuTesting.randomFloats(rows * cols, 5);
        x[33 * cols + 3] = Float.NaN;  // a column in a vector body
        x[69 * cols + 35] = Float.NaN; // a tail column, in the last (unpaired) rows
        for (int i = 0; i < rows; i++) { // column 10 and 34: zeros of both signs only
            x[i * cols + 10] = i == 41 ? 0f : -0f;
            x[i * cols + 34] = i == 68 ? -0f : 0f;
        }
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        for (ReduceOp op : new ReduceOp[] {ReduceOp.MAX, ReduceOp.MIN}) {
            float[] got = (float[]) overAxis0(CPU, op, DType.FLOAT32, x, rows, cols);
            double[] got64 = (double[]) overAxis0(CPU, op, DType.FLOAT64, d, rows, cols);
            for (int j = 0; j < cols; j++) {
                float ref = op == ReduceOp.MAX ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
                for (int i = 0; i < rows; i++) {
                    ref = op == ReduceOp.MAX ? Math.max(ref, x[i * cols + j]) : Math.min(ref, x[i * cols + j]);
                }
                assertEquals(Float.floatToIntBits(ref), Float.floatToIntBits(got[j]), op + " column " + j);
                assertEquals(Double.doubleToLongBits(ref), Double.doubleToLongBits(got64[j]), op + " float64 column " + j);
            }
        }
        assertEquals(Float.NaN, ((float[]) overAxis0(CPU, ReduceOp.MAX, DType.FLOAT32, x, rows, cols))[35]);
    }

    @Test
    void largeColumnMaxMatchesRowMaxOnAnyThreadCount() {
        for (int[] s : SHAPES) {
            float[] x = CpuTesting.randomFloats(s[0] * s[1], s[0] + s[1]);
            float[] max = (float[]) overAxis0(CPU, ReduceOp.MAX, DType.FLOAT32, x, s[0], s[1]);
            assertArrayEquals((float[]) overRowsOfTranspose(ReduceOp.MAX, DType.FLOAT32, x, s[0], s[1]), max);
            assertArrayEquals((float[]) overAxis0(SERIAL, ReduceOp.MAX, DType.FLOAT32, x, s[0], s[1]), max);
            double[] d = CpuTesting.randomDoubles(s[0] * s[1], s[0] * s[1]);
            double[] min = (double[]) overAxis0(CPU, ReduceOp.MIN, DType.FLOAT64, d, s[0], s[1]);
            assertArrayEquals((double[]) overRowsOfTranspose(ReduceOp.MIN, DType.FLOAT64, d, s[0], s[1]), min);
        }
    }

    /** Layouts and ops beside the fast path (kept axes not contiguous, PROD, integers): still right. */
    @Test
    void casesBesideTheFastPath() {
        // x[4, 5, 6] = 0..119 reduced over axis 1: kept axes 0 and 2 (strides 30, 1) are not one run
        double[] x = new double[120];
        for (int i = 0; i < x.length; i++) {
            x[i] = i;
        }
        double[] got = (double[]) reduce(CPU, ReduceOp.SUM, DType.FLOAT64, x, shape(4, 6, 5), strides(30, 1, 6));
        // reduced over axis 0: kept axes 1 and 2 merge into one run of 30 outputs
        double[] got0 = (double[]) reduce(CPU, ReduceOp.SUM, DType.FLOAT64, x, shape(30, 4), strides(1, 30));
        for (int a = 0; a < 4; a++) {
            for (int c = 0; c < 6; c++) {
                double ref = 0;
                for (int b = 0; b < 5; b++) {
                    ref += x[a * 30 + b * 6 + c];
                }
                assertEquals(ref, got[a * 6 + c]);
            }
        }
        for (int j = 0; j < 30; j++) {
            assertEquals(4 * j + 180.0, got0[j]); // j + (j+30) + (j+60) + (j+90)
        }
        float[] p = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        assertArrayEquals(new float[] {28, 80, 162},
                (float[]) reduce(CPU, ReduceOp.PROD, DType.FLOAT32, p, shape(3, 3), strides(1, 3)));
        int[] i = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        assertArrayEquals(new int[] {12, 15, 18},
                (int[]) reduce(CPU, ReduceOp.SUM, DType.INT32, i, shape(3, 3), strides(1, 3)));
    }
}
