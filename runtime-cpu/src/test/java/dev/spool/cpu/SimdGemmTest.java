package dev.spool.cpu;

import static dev.spool.cpu.CpuTesting.shape;
import static dev.spool.cpu.CpuTesting.strides;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Matmul against a plain triple loop over many shapes and operand layouts. In the JVM with the
 * Vector API every product here above a few thousand multiply-adds runs {@link SimdGemm}; in
 * the {@code scalar-fallback} execution the same checks hold the plain loops of {@link Matmul}.
 * The sizes straddle the micro-tile (6 rows × 2 vectors) and the k block (256), so that partial
 * tiles, zero-padded panels and several k blocks are all exercised.
 */
class SimdGemmTest {
    /** Operand storage: how a logical [batch, rows, cols] matrix sits in its buffer. */
    enum Layout {
        PLAIN,
        /** Stored as [batch, cols, rows]: the view swaps the last two strides. */
        TRANSPOSED,
        /** Every second column of a wider, offset buffer, rows padded: no unit stride. */
        SLICED,
        /** One matrix shared by every batch element (batch stride 0). */
        BROADCAST
    }

    private static final CpuBackend TWO = new CpuBackend(2);
    private static final CpuBackend THREE = new CpuBackend(3);

    /** batch, m, k, n: sizes not multiples of MR (6), NR (16 or 8 lanes × 2) or KC (256). */
    private static final int[][] SHAPES = {
        {1, 1, 1, 1}, {1, 1, 7, 1}, {1, 7, 17, 33}, {1, 6, 256, 16}, {1, 17, 1, 65},
        {2, 33, 65, 17}, {1, 65, 129, 33}, {1, 129, 257, 65}, {1, 31, 513, 47},
        {3, 13, 100, 7}, {1, 1, 600, 129}, {1, 257, 33, 1}, {1, 64, 300, 130}, {1, 19, 700, 20},
    };

    private static final Layout[][] PAIRS = {
        {Layout.PLAIN, Layout.PLAIN}, {Layout.TRANSPOSED, Layout.PLAIN},
        {Layout.PLAIN, Layout.TRANSPOSED}, {Layout.TRANSPOSED, Layout.TRANSPOSED},
        {Layout.SLICED, Layout.SLICED}, {Layout.BROADCAST, Layout.PLAIN},
        {Layout.SLICED, Layout.BROADCAST},
    };

    @AfterAll
    static void close() {
        TWO.close();
        THREE.close();
    }

    /** A logical [batch, rows, cols] matrix (row-major values) and a view of it. */
    private record Operand(double[] values, View view) {
    }

    private static Operand operand(CpuBackend be, DType dt, int batch, int rows, int cols,
                                   Layout layout, long seed) {
        Random r = new Random(seed);
        int distinct = layout == Layout.BROADCAST ? 1 : batch;
        double[] v = new double[batch * rows * cols];
        for (int i = 0; i < distinct * rows * cols; i++) {
            // float32 operands hold float values, so the double reference sees the same numbers.
            v[i] = dt == DType.FLOAT32 ? (double) (r.nextFloat() * 2 - 1) : r.nextDouble() * 2 - 1;
        }
        for (int b = distinct; b < batch; b++) {
            System.arraycopy(v, 0, v, b * rows * cols, rows * cols);
        }
        int mat = rows * cols;
        double[] stored;
        int[] shape = shape(batch, rows, cols);
        long[] strides;
        long offset = 0;
        switch (layout) {
            case PLAIN, BROADCAST -> {
                stored = java.util.Arrays.copyOf(v, distinct * mat);
                strides = strides(layout == Layout.BROADCAST ? 0 : mat, cols, 1);
            }
            case TRANSPOSED -> {
                stored = new double[batch * mat];
                for (int b = 0; b < batch; b++) {
                    for (int i = 0; i < rows; i++) {
                        for (int j = 0; j < cols; j++) {
                            stored[b * mat + j * rows + i] = v[b * mat + i * cols + j];
                        }
                    }
                }
                strides = strides(mat, 1, rows);
            }
            case SLICED -> {
                int ld = 2 * cols + 3;
                offset = 5;
                stored = new double[5 + batch * rows * ld];
                java.util.Arrays.fill(stored, Double.NaN); // anything read outside the view shows
                for (int b = 0; b < batch; b++) {
                    for (int i = 0; i < rows; i++) {
                        for (int j = 0; j < cols; j++) {
                            stored[5 + (b * rows + i) * ld + 2 * j] = v[b * mat + i * cols + j];
                        }
                    }
                }
                strides = strides((long) rows * ld, ld, 2);
            }
            default -> throw new AssertionError(layout);
        }
        Object host;
        if (dt == DType.FLOAT32) {
            float[] f = new float[stored.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) stored[i];
            }
            host = f;
        } else {
            host = stored;
        }
        return new Operand(v, new View(CpuTesting.buffer(be, dt, host), shape, strides, offset));
    }

    /** C as doubles, computed by {@code be} into an output first filled with garbage. */
    private static double[] matmul(CpuBackend be, View a, View b, int size) {
        DeviceBuffer o = be.allocate(a.dtype(), size);
        be.fill(o, 12345); // matmul must overwrite, not accumulate
        be.matmul(a, b, o);
        Object host = CpuTesting.read(be, o);
        be.release(o);
        if (host instanceof float[] f) {
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        }
        return (double[]) host;
    }

    /**
     * Checks {@code c} against the triple loop: {@code |c - ref| <= tol * sum_k |a_ik b_kj|},
     * the standard error bound of a dot product (relative to the sum of magnitudes, since a
     * sum with cancellation may itself be near zero).
     */
    private static void assertClose(double[] a, double[] b, double[] c, int batch, int m, int k,
                                    int n, double tol, String what) {
        for (int p = 0; p < batch; p++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    double mag = 0;
                    for (int q = 0; q < k; q++) {
                        double t = a[(p * m + i) * k + q] * b[(p * k + q) * n + j];
                        s += t;
                        mag += Math.abs(t);
                    }
                    double got = c[(p * m + i) * n + j];
                    if (!(Math.abs(got - s) <= tol * mag)) {
                        assertEquals(s, got, tol * mag, what + " at " + p + "," + i + "," + j);
                    }
                }
            }
        }
    }

    private static void checkShapes(DType dt, double tolPerK) {
        for (int[] s : SHAPES) {
            int batch = s[0];
            int m = s[1];
            int k = s[2];
            int n = s[3];
            double tol = dt == DType.FLOAT64 ? 1e-12 : tolPerK * k;
            double[] first = null;
            for (Layout[] pair : PAIRS) {
                String what = dt + " " + batch + "x" + m + "x" + k + "x" + n + " " + pair[0] + "@" + pair[1];
                Operand a = operand(CpuTesting.CPU, dt, batch, m, k, pair[0], 31L * m + k);
                Operand b = operand(CpuTesting.CPU, dt, batch, k, n, pair[1], 17L * k + n);
                double[] c = matmul(CpuTesting.CPU, a.view(), b.view(), batch * m * n);
                assertClose(a.values(), b.values(), c, batch, m, k, n, tol, what);
                if (pair[0] == Layout.BROADCAST || pair[1] == Layout.BROADCAST) {
                    continue; // a broadcast operand holds other values (one matrix, repeated)
                }
                // Layouts are absorbed by packing: the arithmetic, hence every bit, is the same.
                if (first == null) {
                    first = c;
                } else {
                    assertArrayEquals(first, c, what + " differs from the plain layout");
                }
            }
        }
    }

    @Test
    void float64MatchesTripleLoop() {
        checkShapes(DType.FLOAT64, 0);
    }

    /**
     * float32: a sum of k products has an error bound of about k units of roundoff
     * (u = 2^-24) times the sum of magnitudes; twice that, whatever the summation order.
     */
    @Test
    void float32WithinRoundoffOfK() {
        checkShapes(DType.FLOAT32, 2 * 0x1p-24);
    }

    /** Shapes large enough to be split into several tasks and packing units. */
    @Test
    void resultDoesNotDependOnTheNumberOfThreads() {
        int[][] shapes = {{3, 200, 600, 300}, {1, 7, 1000, 500}, {1, 500, 40, 9}};
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int[] s : shapes) {
                List<double[]> results = new ArrayList<>();
                for (CpuBackend be : new CpuBackend[] {CpuTesting.SERIAL, TWO, THREE, CpuTesting.CPU}) {
                    Operand a = operand(be, dt, s[0], s[1], s[2], Layout.PLAIN, 5);
                    Operand b = operand(be, dt, s[0], s[2], s[3], Layout.TRANSPOSED, 6);
                    results.add(matmul(be, a.view(), b.view(), s[0] * s[1] * s[3]));
                }
                for (int t = 1; t < results.size(); t++) {
                    assertArrayEquals(results.get(0), results.get(t), dt + " " + java.util.Arrays.toString(s));
                }
            }
        }
    }

    @Test
    void emptyDimensions() {
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            // K = 0: zeros, also at sizes the SIMD path would take, transposed, batched.
            for (Layout layout : Layout.values()) {
                Operand a = operand(CpuTesting.CPU, dt, 2, 100, 0, layout, 1);
                Operand b = operand(CpuTesting.CPU, dt, 2, 0, 90, layout, 2);
                double[] c = matmul(CpuTesting.CPU, a.view(), b.view(), 2 * 100 * 90);
                assertArrayEquals(new double[2 * 100 * 90], c, dt + " " + layout);
            }
            // M = 0 or N = 0: nothing to write.
            Operand a0 = operand(CpuTesting.CPU, dt, 2, 0, 300, Layout.PLAIN, 1);
            Operand b = operand(CpuTesting.CPU, dt, 2, 300, 40, Layout.TRANSPOSED, 2);
            assertEquals(0, matmul(CpuTesting.CPU, a0.view(), b.view(), 0).length);
            Operand a = operand(CpuTesting.CPU, dt, 2, 40, 300, Layout.PLAIN, 1);
            Operand b0 = operand(CpuTesting.CPU, dt, 2, 300, 0, Layout.PLAIN, 2);
            assertEquals(0, matmul(CpuTesting.CPU, a.view(), b0.view(), 0).length);
        }
    }

    /** Values the packing pads with must not leak: NaN and infinity stay in their rows. */
    @Test
    void nonFiniteValuesStayInTheirRowsAndColumns() {
        int m = 13;
        int k = 300;
        int n = 37;
        Operand a = operand(CpuTesting.CPU, DType.FLOAT32, 1, m, k, Layout.PLAIN, 3);
        float[] host = new float[m * k];
        for (int i = 0; i < host.length; i++) {
            host[i] = (float) a.values()[i];
        }
        host[7 * k + 290] = Float.NaN; // row 7, in the second k block
        Operand b = operand(CpuTesting.CPU, DType.FLOAT32, 1, k, n, Layout.PLAIN, 4);
        View av = View.contiguous(CpuTesting.buffer(CpuTesting.CPU, DType.FLOAT32, host), 1, m, k);
        double[] c = matmul(CpuTesting.CPU, av, b.view(), m * n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                assertEquals(i == 7, Double.isNaN(c[i * n + j]), "at " + i + "," + j);
            }
        }
        assertTrue(Double.isFinite(c[0]));
    }
}
