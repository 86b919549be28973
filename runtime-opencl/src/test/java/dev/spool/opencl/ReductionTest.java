package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.spool.DType;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** reduce: every op and numeric dtype, on both kernel strategies, against a plain Java loop. */
@ExtendWith(TestDevices.class)
class ReductionTest {

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        TestDevices.bothStyles().forEach(b -> {
            for (DType t : KernelCatalog.types(KernelCatalog.NUMERIC, b.info().fp64())) {
                for (ReduceOp op : ReduceOp.values()) {
                    out.add(Arguments.of(b, op, t));
                }
            }
        });
        return out.stream();
    }

    /** Reference: reduces {@code rows} rows of {@code len} values (row-major) as the SPI says. */
    static double[] expected(ReduceOp op, DType t, double[] x, int rows, int len) {
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double acc = switch (op) {
                case SUM -> 0;
                case PROD -> 1;
                case MAX -> t.isFloating() ? Double.NEGATIVE_INFINITY : t == DType.INT32 ? Integer.MIN_VALUE : Long.MIN_VALUE;
                case MIN -> t.isFloating() ? Double.POSITIVE_INFINITY : t == DType.INT32 ? Integer.MAX_VALUE : Long.MAX_VALUE;
                default -> -1;
            };
            double best = 0;
            for (int j = 0; j < len; j++) {
                double v = x[r * len + j];
                switch (op) {
                    case SUM -> acc += v;
                    case PROD -> acc *= v;
                    case MAX -> acc = Math.max(acc, v);
                    case MIN -> acc = Math.min(acc, v);
                    case ARGMAX, ARGMIN -> {
                        boolean better = acc < 0 || (!Double.isNaN(best) && (Double.isNaN(v)
                                || (op == ReduceOp.ARGMAX ? v > best : v < best)));
                        if (better) {
                            best = v;
                            acc = j;
                        }
                    }
                }
            }
            out[r] = op.isArg() ? acc : Ref.cast(t, acc);
        }
        return out;
    }

    static double[] data(DType t, int n, long seed) {
        Random rnd = new Random(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            // small integers: exact sums and products in every dtype; ties for ARG ops
            x[i] = t.isFloating() ? (rnd.nextInt(2001) - 1000) / 64.0 : rnd.nextInt(11) - 5;
        }
        return x;
    }

    /** PROD of many values over/underflows: keep it to values near 1. */
    static double[] prodData(DType t, int n, long seed) {
        Random rnd = new Random(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = t.isFloating() ? 1 + (rnd.nextInt(9) - 4) / 1024.0 : (rnd.nextInt(50) == 0 ? -1 : 1);
        }
        return x;
    }

    void check(OpenClBackend b, ReduceOp op, DType t, int rows, int len, View x, double[] rowMajor) {
        DeviceBuffer out = b.allocate(op.isArg() ? DType.INT64 : t, rows);
        b.reduce(op, x, x.rank() == 2 ? 1 : x.rank() - 1, out);
        double[] got = Host.read(b, out);
        double[] want = expected(op, t, rowMajor, rows, len);
        for (int r = 0; r < rows; r++) {
            // summation order differs from the loop above: float sums and products round differently
            double tol = !t.isFloating() || op == ReduceOp.MAX || op == ReduceOp.MIN || op.isArg() ? 0
                    : t == DType.FLOAT32 ? (op == ReduceOp.SUM ? 1e-3 : 1e-4 * Math.abs(want[r]))
                    : 1e-9 * Math.max(1, Math.abs(want[r]));
            assertEquals(want[r], got[r], tol, op + " " + t + " row " + r + " of " + rows + "x" + len + " " + x);
        }
        b.release(out);
    }

    @ParameterizedTest(name = "{1} {2} on {0}", autoCloseArguments = false)
    @MethodSource("cases")
    void rowsOfManyShapes(OpenClBackend b, ReduceOp op, DType t) {
        int[][] shapes = {{1, 1}, {3, 5}, {7, 64}, {4, 65}, {2, 1000}, {1, 100_003}, {300, 3}, {5, 4097}};
        for (int[] s : shapes) {
            int rows = s[0];
            int len = s[1];
            double[] x = op == ReduceOp.PROD ? prodData(t, rows * len, len) : data(t, rows * len, len);
            DeviceBuffer xb = Host.upload(b, t, x);
            check(b, op, t, rows, len, View.contiguous(xb, rows, len), x);
            b.release(xb);
        }
    }

    @ParameterizedTest(name = "{1} {2} on {0}", autoCloseArguments = false)
    @MethodSource("cases")
    void transposedAndOffsetViews(OpenClBackend b, ReduceOp op, DType t) {
        // a [6, 50] buffer; reduce over dim 0 of columns 1..40: view [40 rows, 6 elements], strided
        int r0 = 6;
        int c0 = 50;
        double[] base = op == ReduceOp.PROD ? prodData(t, r0 * c0, 1) : data(t, r0 * c0, 1);
        DeviceBuffer xb = Host.upload(b, t, base);
        View x = new View(xb, new int[] {40, r0}, new long[] {1, c0}, 1);
        double[] rowMajor = new double[40 * r0];
        for (int i = 0; i < 40; i++) {
            for (int j = 0; j < r0; j++) {
                rowMajor[i * r0 + j] = base[1 + i + j * c0];
            }
        }
        check(b, op, t, 40, r0, x, rowMajor);
        // long strided rows: every other element of a 3 x 2000 buffer, 3 rows of 1000
        double[] big = op == ReduceOp.PROD ? prodData(t, 6000, 2) : data(t, 6000, 2);
        DeviceBuffer bb = Host.upload(b, t, big);
        View strided = new View(bb, new int[] {3, 1000}, new long[] {2000, 2}, 1);
        double[] sr = new double[3000];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 1000; j++) {
                sr[i * 1000 + j] = big[1 + i * 2000 + 2 * j];
            }
        }
        check(b, op, t, 3, 1000, strided, sr);
        b.release(xb);
        b.release(bb);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void severalReducedDimsAndAllDims(OpenClBackend b) {
        // x [2, 3, 4] permuted to [4, 2, 3] (kept dim is the last one), reduce the trailing two
        double[] x = Host.range(24);
        DeviceBuffer xb = Host.upload(b, DType.FLOAT32, x);
        View v = new View(xb, new int[] {4, 2, 3}, new long[] {1, 12, 4}, 0);
        DeviceBuffer out = b.allocate(DType.FLOAT32, 4);
        b.reduce(ReduceOp.SUM, v, 2, out);
        double[] want = new double[4];
        for (int k = 0; k < 4; k++) {
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 3; j++) {
                    want[k] += x[i * 12 + j * 4 + k];
                }
            }
        }
        assertArrayEquals(want, Host.read(b, out));
        DeviceBuffer all = b.allocate(DType.FLOAT32, 1);
        b.reduce(ReduceOp.MAX, View.contiguous(xb, 2, 3, 4), 3, all);
        assertArrayEquals(new double[] {23}, Host.read(b, all));
        // reducing no dims copies
        DeviceBuffer same = b.allocate(DType.FLOAT32, 24);
        b.reduce(ReduceOp.PROD, View.contiguous(xb, 2, 3, 4), 0, same);
        assertArrayEquals(x, Host.read(b, same));
        // a rank-0 view, all dims reduced
        b.reduce(ReduceOp.SUM, new View(xb, new int[0], new long[0], 5), 0, all);
        assertArrayEquals(new double[] {5}, Host.read(b, all));
        b.release(xb);
        b.release(out);
        b.release(all);
        b.release(same);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void emptyReductionsGiveIdentities(OpenClBackend b) {
        for (DType t : KernelCatalog.types(KernelCatalog.NUMERIC, b.info().fp64())) {
            DeviceBuffer xb = b.allocate(t, 0);
            for (ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.PROD, ReduceOp.MAX, ReduceOp.MIN}) {
                DeviceBuffer out = b.allocate(t, 3);
                b.reduce(op, View.contiguous(xb, 3, 0), 1, out);
                double[] want = expected(op, t, new double[0], 3, 0);
                assertArrayEquals(want, Host.read(b, out), op + " of empty " + t);
                b.release(out);
            }
            // zero rows: nothing to do, nothing written
            DeviceBuffer none = b.allocate(t, 0);
            b.reduce(ReduceOp.SUM, View.contiguous(xb, 0, 4), 1, none);
            b.release(none);
            b.release(xb);
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void nanPropagatesAndFirstNanWinsArg(OpenClBackend b) {
        double nan = Double.NaN;
        for (DType t : KernelCatalog.types(KernelCatalog.FLOATING, b.info().fp64())) {
            for (int len : new int[] {7, 100, 5000}) {
                double[] x = data(t, len, 3);
                x[len / 2] = nan;
                x[len - 2] = nan;
                x[1] = 1e6; // a larger value before the NaNs
                DeviceBuffer xb = Host.upload(b, t, x);
                DeviceBuffer out = b.allocate(t, 1);
                DeviceBuffer idx = b.allocate(DType.INT64, 1);
                for (ReduceOp op : new ReduceOp[] {ReduceOp.MAX, ReduceOp.MIN, ReduceOp.SUM}) {
                    b.reduce(op, View.contiguous(xb, len), 1, out);
                    assertEquals(nan, Host.read(b, out)[0], op + " " + t + " len " + len);
                }
                for (ReduceOp op : new ReduceOp[] {ReduceOp.ARGMAX, ReduceOp.ARGMIN}) {
                    b.reduce(op, View.contiguous(xb, len), 1, idx);
                    assertEquals(len / 2, Host.read(b, idx)[0], op + " " + t + " len " + len);
                }
                b.release(xb);
                b.release(out);
                b.release(idx);
            }
        }
    }

    /**
     * Columns of a row-major [5, 20] buffer reduced along its rows (reduce_OP_columns on CPU
     * devices: 16 columns in vector lanes, 4 in the scalar tail): NaN wins in both parts, and
     * MAX/MIN order -0 below +0 in both.
     */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void columnReductionsKeepNanAndSignedZeros(OpenClBackend b) {
        int len = 5;
        int cols = 20;
        for (DType t : KernelCatalog.types(KernelCatalog.FLOATING, b.info().fp64())) {
            double[] x = new double[len * cols];
            for (int j = 0; j < len; j++) {
                for (int c = 0; c < cols; c++) {
                    x[j * cols + c] = c == 3 || c == 17 ? (j == 2 ? Double.NaN : j) // NaN mid-column
                            : c == 5 || c == 18 ? (j % 2 == 0 ? -0.0 : 0.0) // signed zeros
                            : j - c;
                }
            }
            DeviceBuffer xb = Host.upload(b, t, x);
            View columns = new View(xb, new int[] {cols, len}, new long[] {1, cols}, 0);
            DeviceBuffer out = b.allocate(t, cols);
            for (ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.MAX, ReduceOp.MIN}) {
                b.reduce(op, columns, 1, out);
                double[] got = Host.read(b, out);
                for (int c = 0; c < cols; c++) {
                    String what = op + " " + t + " column " + c;
                    if (c == 3 || c == 17) {
                        assertEquals(Double.NaN, got[c], what);
                    } else if (c == 5 || c == 18) {
                        double zero = op == ReduceOp.MIN ? -0.0 : 0.0; // SUM: -0 + 0 = +0
                        assertEquals(Math.copySign(1, zero), Math.copySign(1, got[c]), what + ": sign of zero");
                        assertEquals(0.0, got[c], 0.0, what);
                    } else {
                        double want = op == ReduceOp.SUM ? 10 - 5.0 * c : op == ReduceOp.MAX ? 4 - c : -c;
                        assertEquals(want, got[c], 0.0, what);
                    }
                }
            }
            b.release(xb);
            b.release(out);
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void argTiesPickTheFirstIndex(OpenClBackend b) {
        int len = 3000;
        double[] x = new double[len];
        x[17] = 5;
        x[1800] = 5;
        x[2999] = 5;
        x[40] = -5;
        x[2000] = -5;
        DeviceBuffer xb = Host.upload(b, DType.INT32, x);
        DeviceBuffer idx = b.allocate(DType.INT64, 1);
        b.reduce(ReduceOp.ARGMAX, View.contiguous(xb, len), 1, idx);
        assertEquals(17, Host.read(b, idx)[0]);
        b.reduce(ReduceOp.ARGMIN, View.contiguous(xb, len), 1, idx);
        assertEquals(40, Host.read(b, idx)[0]);
        b.release(xb);
        b.release(idx);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void signedZerosAndIntegerWrapAround(OpenClBackend b) {
        DeviceBuffer z = Host.upload(b, DType.FLOAT32, -0.0, 0.0, -0.0);
        DeviceBuffer out = b.allocate(DType.FLOAT32, 1);
        b.reduce(ReduceOp.MAX, View.contiguous(z, 3), 1, out);
        assertEquals(0.0, Host.read(b, out)[0]);
        assertEquals(1.0, Math.copySign(1, Host.read(b, out)[0]), "max(-0, +0) is +0");
        b.reduce(ReduceOp.MIN, View.contiguous(z, 3), 1, out);
        assertEquals(-1.0, Math.copySign(1, Host.read(b, out)[0]), "min(-0, +0) is -0");
        DeviceBuffer big = Host.upload(b, DType.INT32, Integer.MAX_VALUE, 1, 1);
        DeviceBuffer s = b.allocate(DType.INT32, 1);
        b.reduce(ReduceOp.SUM, View.contiguous(big, 3), 1, s);
        assertEquals(Integer.MAX_VALUE + 2, (int) Host.read(b, s)[0], "int32 sums wrap as in Java");
        b.release(z);
        b.release(out);
        b.release(big);
        b.release(s);
    }
}
