package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** unary, binary and select: every op for every dtype it takes, special values, views, sizes. */
@ExtendWith(TestDevices.class)
class ElementwiseTest {
    static final double NAN = Double.NaN;
    static final double INF = Double.POSITIVE_INFINITY;
    static final double[] FLOATS = {-3.5, -1, -0.0, 0, 0.25, 1, 2.5, 10, 88, -88, -100, 100, NAN, INF, -INF, 1e-8,
        -1e-8, 0.5, 3};
    static final double[] INT32S = {-7, -2, -1, 0, 1, 2, 3, 5, 31, Integer.MIN_VALUE, Integer.MAX_VALUE};
    static final double[] INT64S = {-7, -2, -1, 0, 1, 2, 3, 5, 63, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 40};

    static double[] values(DType t) {
        return switch (t) {
            case FLOAT32, FLOAT64 -> FLOATS;
            case INT32 -> INT32S;
            case INT64 -> INT64S;
            case BOOL -> new double[] {0, 1};
        };
    }

    /** Ops that OpenCL computes with a few ulps of error; the rest must be exact. */
    static int ulps(UnaryOp op) {
        return switch (op) {
            case NEG, ABS, SIGN, RELU, SQRT, NOT -> 0;
            default -> 8;
        };
    }

    static Stream<Arguments> unaryCases() {
        List<Arguments> out = new ArrayList<>();
        for (OpenClBackend b : TestDevices.all()) {
            for (DType t : KernelCatalog.types(KernelCatalog.ALL, b.info().fp64())) {
                for (UnaryOp op : UnaryOp.values()) {
                    if (KernelCatalog.accepts(op, t)) {
                        out.add(Arguments.of(b, op, t));
                    }
                }
            }
        }
        return out.stream();
    }

    static Stream<Arguments> binaryCases() {
        List<Arguments> out = new ArrayList<>();
        for (OpenClBackend b : TestDevices.all()) {
            for (DType t : KernelCatalog.types(KernelCatalog.ALL, b.info().fp64())) {
                for (BinaryOp op : BinaryOp.values()) {
                    if (KernelCatalog.accepts(op, t)) {
                        out.add(Arguments.of(b, op, t));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{1} {2} on {0}", autoCloseArguments = false)
    @MethodSource("unaryCases")
    void unaryOpMatchesJava(OpenClBackend b, UnaryOp op, DType t) {
        double[] x = values(t);
        DeviceBuffer in = Host.upload(b, t, x);
        DeviceBuffer out = b.allocate(t, x.length);
        b.unary(op, View.contiguous(in, x.length), out);
        double[] got = Host.read(b, out);
        for (int i = 0; i < x.length; i++) {
            double xi = Ref.cast(t, x[i]);
            Ref.assertClose(t, Ref.unary(op, t, xi), got[i], ulps(op), op + "(" + xi + ")");
        }
        release(b, in, out);
    }

    @ParameterizedTest(name = "{1} {2} on {0}", autoCloseArguments = false)
    @MethodSource("binaryCases")
    void binaryOpMatchesJavaOnEveryPair(OpenClBackend b, BinaryOp op, DType t) {
        double[] v = values(t);
        int n = v.length * v.length;
        double[] a = new double[n];
        double[] c = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = v[i / v.length];
            c[i] = v[i % v.length];
            if (op == BinaryOp.POW && t.isInteger() && Math.abs(c[i]) > 64 && Math.abs(a[i]) > 1) {
                c[i] = 3; // keep the Java reference cheap; huge exponents of +-1 and 0 stay
            }
        }
        DeviceBuffer ab = Host.upload(b, t, a);
        DeviceBuffer cb = Host.upload(b, t, c);
        DType outType = op.isComparison() ? DType.BOOL : t;
        DeviceBuffer out = b.allocate(outType, n);
        b.binary(op, View.contiguous(ab, n), View.contiguous(cb, n), out);
        Object got = Host.readArray(b, View.contiguous(out, n));
        // pow and the GELU/erf gradients go through the device's pow, exp and erfc, which OpenCL
        // allows a few ulp (the accuracy tests, GeluAccuracyTest, bound those over whole ranges)
        boolean transcendental = op == BinaryOp.POW || op == BinaryOp.ERF_GRAD || op == BinaryOp.GELU_GRAD
                || op == BinaryOp.GELU_TANH_GRAD;
        int ulps = transcendental && t.isFloating() ? 16 : 0;
        for (int i = 0; i < n; i++) {
            String what = op + "(" + Ref.cast(t, a[i]) + ", " + Ref.cast(t, c[i]) + ")";
            if (t == DType.INT64 && !op.isComparison()) {
                assertEquals(Ref.longBinary(op, (long) a[i], (long) c[i]), ((long[]) got)[i], what);
            } else {
                double expected = Ref.binary(op, t, Ref.cast(t, a[i]), Ref.cast(t, c[i]));
                double actual = Host.doubles(got)[i];
                if (transcendental && t == DType.FLOAT32 && !b.device().float32Denormals
                        && Ref.flushesToZero(op, Ref.cast(t, c[i]))) {
                    // the factor g multiplies is subnormal in float32, and this device flushes
                    // subnormals (no CL_FP_DENORM): g * 0 is what OpenCL allows it to return
                    expected = Ref.cast(t, a[i]) * 0.0;
                }
                Ref.assertClose(outType, expected, actual, ulps, what);
            }
        }
        release(b, ab, cb, out);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void binaryBroadcastsTransposedAndOffsetViews(OpenClBackend b) {
        // a: rows 1..3 of a [4, 5] buffer, transposed to [5, 3]; c: a [5] vector broadcast along
        // dim 1 via stride 0, starting at element 2 of its buffer
        DeviceBuffer ab = Host.upload(b, DType.FLOAT32, Host.range(20));
        DeviceBuffer cb = Host.upload(b, DType.FLOAT32, 0, 0, 100, 200, 300, 400, 500);
        View a = new View(ab, new int[] {5, 3}, new long[] {1, 5}, 5);
        View c = new View(cb, new int[] {5, 3}, new long[] {1, 0}, 2);
        DeviceBuffer out = b.allocate(DType.FLOAT32, 15);
        b.binary(BinaryOp.ADD, a, c, out);
        double[] expected = new double[15];
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 3; j++) {
                expected[i * 3 + j] = (5 + j * 5 + i) + 100 * (i + 1);
            }
        }
        assertArrayEquals(expected, Host.read(b, out));
        release(b, ab, cb, out);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void scalarBroadcastAndRank0(OpenClBackend b) {
        DeviceBuffer ab = Host.upload(b, DType.INT32, 1, 2, 3, 4, 5, 6);
        DeviceBuffer sb = Host.upload(b, DType.INT32, 10);
        DeviceBuffer out = b.allocate(DType.INT32, 6);
        b.binary(BinaryOp.MUL, View.contiguous(ab, 2, 3), new View(sb, new int[] {2, 3}, new long[] {0, 0}, 0), out);
        assertArrayEquals(new double[] {10, 20, 30, 40, 50, 60}, Host.read(b, out));
        DeviceBuffer one = b.allocate(DType.INT32, 1);
        b.binary(BinaryOp.SUB, new View(ab, new int[0], new long[0], 4), View.contiguous(sb), one);
        assertArrayEquals(new double[] {-5}, Host.read(b, one));
        release(b, ab, sb, out, one);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void unaryOnStridedViewWithOffset(OpenClBackend b) {
        // float32: every device has it, and the small integers are exact
        DeviceBuffer xb = Host.upload(b, DType.FLOAT32, Host.range(24));
        // [2, 3, 2] view: every other element of dim 2, rows 1.. of a [2, 3, 4] array
        View x = new View(xb, new int[] {2, 3, 2}, new long[] {12, 4, 2}, 1);
        DeviceBuffer out = b.allocate(DType.FLOAT32, 12);
        b.unary(UnaryOp.NEG, x, out);
        double[] expected = new double[12];
        int k = 0;
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                for (int l = 0; l < 2; l++) {
                    expected[k++] = -(1 + 12 * i + 4 * j + 2 * l);
                }
            }
        }
        assertArrayEquals(expected, Host.read(b, out));
        release(b, xb, out);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void sizesThatAreNotMultiplesOfTheWorkGroup(OpenClBackend b) {
        for (int n : new int[] {0, 1, 2, 255, 257, 1023, 1025, 4099}) {
            DeviceBuffer xb = Host.upload(b, DType.FLOAT32, Host.range(n));
            DeviceBuffer out = b.allocate(DType.FLOAT32, n);
            b.unary(UnaryOp.SQRT, View.contiguous(xb, n), out);
            double[] got = Host.read(b, out);
            for (int i = 0; i < n; i++) {
                assertEquals((float) Math.sqrt(i), got[i], 0.0, "sqrt(" + i + ") with n = " + n);
            }
            DeviceBuffer sum = b.allocate(DType.FLOAT32, n);
            b.binary(BinaryOp.ADD, View.contiguous(xb, n), View.contiguous(xb, n), sum);
            double[] twice = Host.read(b, sum);
            for (int i = 0; i < n; i++) {
                assertEquals(2.0 * i, twice[i], 0.0, "n = " + n);
            }
            release(b, xb, out, sum);
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void selectPicksPerElementWithBroadcastCondition(OpenClBackend b) {
        for (DType t : KernelCatalog.types(KernelCatalog.ALL, b.info().fp64())) {
            DeviceBuffer cond = Host.upload(b, DType.BOOL, 1, 0, 1);
            DeviceBuffer x = Host.upload(b, t, 1, 2, 3, 4, 5, 6);
            DeviceBuffer y = Host.upload(b, t, 0, 0, 0, 0, 0, 0);
            DeviceBuffer out = b.allocate(t, 6);
            // cond [3] broadcast over rows of [2, 3]
            b.select(new View(cond, new int[] {2, 3}, new long[] {0, 1}, 0), View.contiguous(x, 2, 3),
                    View.contiguous(y, 2, 3), out);
            double[] expected = t == DType.BOOL ? new double[] {1, 0, 1, 1, 0, 1} : new double[] {1, 0, 3, 4, 0, 6};
            assertArrayEquals(expected, Host.read(b, out), "select " + t);
            DeviceBuffer dense = b.allocate(t, 3);
            b.select(View.contiguous(cond, 3), new View(x, new int[] {3}, new long[] {1}, 3), View.contiguous(y, 3), dense);
            assertArrayEquals(t == DType.BOOL ? new double[] {1, 0, 1} : new double[] {4, 0, 6},
                    Host.read(b, dense), "dense select " + t);
            release(b, cond, x, y, out, dense);
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void rejectsDtypesAnOpDoesNotTake(OpenClBackend b) {
        DeviceBuffer i = Host.upload(b, DType.INT32, 1, 2);
        DeviceBuffer bools = Host.upload(b, DType.BOOL, 1, 0);
        DeviceBuffer f = Host.upload(b, DType.FLOAT32, 1, 2);
        DeviceBuffer out = b.allocate(DType.INT32, 2);
        DTypeException e = assertThrows(DTypeException.class, () -> b.unary(UnaryOp.EXP, View.contiguous(i, 2), out));
        assertTrue(e.getMessage().contains("int32"), e.getMessage());
        DeviceBuffer bout = b.allocate(DType.BOOL, 2);
        assertThrows(DTypeException.class,
                () -> b.binary(BinaryOp.ADD, View.contiguous(bools, 2), View.contiguous(bools, 2), bout));
        e = assertThrows(DTypeException.class,
                () -> b.binary(BinaryOp.ADD, View.contiguous(i, 2), View.contiguous(f, 2), out));
        assertTrue(e.getMessage().contains("float32") && e.getMessage().contains("int32"), e.getMessage());
        release(b, i, bools, f, out, bout);
    }

    static void release(OpenClBackend b, DeviceBuffer... buffers) {
        for (DeviceBuffer buf : buffers) {
            b.release(buf);
        }
    }
}
