package dev.spool.cpu;

import static dev.spool.cpu.CpuTesting.CPU;
import static dev.spool.cpu.CpuTesting.SERIAL;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ElementwiseTest {
    private static final float NAN = Float.NaN;
    private static final long BIG = (1L << 53) + 1; // not representable as a double

    private static float[] unary(UnaryOp op, float... x) {
        DeviceBuffer o = out(DType.FLOAT32, x.length);
        CPU.unary(op, flat(f32(x)), o);
        return readF32(o);
    }

    private static double[] unary(UnaryOp op, double... x) {
        DeviceBuffer o = out(DType.FLOAT64, x.length);
        CPU.unary(op, flat(f64(x)), o);
        return readF64(o);
    }

    private static DeviceBuffer binary(BinaryOp op, DeviceBuffer a, DeviceBuffer b) {
        DeviceBuffer o = out(op.isComparison() ? DType.BOOL : a.dtype(), a.size());
        CPU.binary(op, flat(a), flat(b), o);
        return o;
    }

    // ---- unary ---------------------------------------------------------------------------

    @Test
    void signLikeOpsOnFloats() {
        float[] x = {-2, -0.5f, 0, 1, 4, NAN};
        assertArrayEquals(new float[] {2, 0.5f, -0f, -1, -4, NAN}, unary(UnaryOp.NEG, x));
        assertArrayEquals(new float[] {2, 0.5f, 0, 1, 4, NAN}, unary(UnaryOp.ABS, x));
        assertArrayEquals(new float[] {-1, -1, 0, 1, 1, NAN}, unary(UnaryOp.SIGN, x));
        assertArrayEquals(new double[] {-1, -1, 0, 1, 1, Double.NaN},
                unary(UnaryOp.SIGN, -2, -0.5, 0, 1, 4, Double.NaN));
    }

    @Test
    void rootsAndLogs() {
        assertArrayEquals(new float[] {0, 1, 2, 3, NAN}, unary(UnaryOp.SQRT, 0, 1, 4, 9, -1));
        assertArrayEquals(new float[] {1, 0.5f, 2, Float.POSITIVE_INFINITY},
                unary(UnaryOp.RSQRT, 1, 4, 0.25f, 0));
        assertArrayEquals(new double[] {0, 1, Double.NEGATIVE_INFINITY, Double.NaN},
                unary(UnaryOp.LOG, 1, Math.E, 0, -1), 1e-15);
        // log1p keeps tiny arguments that log(1 + x) would round away.
        assertEquals(1e-10 - 0.5e-20, unary(UnaryOp.LOG1P, 1e-10)[0], 1e-25);
        assertEquals(1e-10f, unary(UnaryOp.LOG1P, 1e-10f)[0], 1e-17f);
        assertArrayEquals(new float[] {1, (float) Math.E, 0, Float.POSITIVE_INFINITY},
                unary(UnaryOp.EXP, 0, 1, Float.NEGATIVE_INFINITY, 100));
    }

    @Test
    void trigonometry() {
        assertArrayEquals(new double[] {0, 1, 0}, unary(UnaryOp.SIN, 0, Math.PI / 2, Math.PI), 1e-15);
        assertArrayEquals(new float[] {1, 0, -1}, unary(UnaryOp.COS, 0, (float) (Math.PI / 2), (float) Math.PI), 1e-7f);
    }

    @Test
    void tanhAndSigmoidSaturateWithoutNaN() {
        // the last values within the SIMD path's bound (SimdMath: tanh 2 ulp, sigmoid 2.5)
        float[] t = unary(UnaryOp.TANH, 0, 1000, -1000, 0.5f);
        assertArrayEquals(new float[] {0, 1, -1}, Arrays.copyOf(t, 3));
        assertEquals((float) Math.tanh(0.5), t[3], 2 * Math.ulp(t[3]));
        float[] g = unary(UnaryOp.SIGMOID, 0, 1000, -1000, 2);
        assertArrayEquals(new float[] {0.5f, 1, 0}, Arrays.copyOf(g, 3));
        assertEquals((float) (1 / (1 + Math.exp(-2))), g[3], 2.5 * Math.ulp(g[3]));
        double[] s = unary(UnaryOp.SIGMOID, -700.0, -1.0, Double.NaN);
        assertEquals(Math.exp(-700), s[0], Math.exp(-700) * 1e-12); // 1/(1+exp(700)) would be 0
        assertEquals(1 / (1 + Math.E), s[1], 1e-16);
        assertTrue(Double.isNaN(s[2]));
    }

    @Test
    void integerUnaryOps() {
        DeviceBuffer x = i32(3, -4, 0, Integer.MIN_VALUE);
        DeviceBuffer o = out(DType.INT32, 4);
        CPU.unary(UnaryOp.NEG, flat(x), o);
        assertArrayEquals(new int[] {-3, 4, 0, Integer.MIN_VALUE}, readI32(o));
        CPU.unary(UnaryOp.ABS, flat(x), o);
        assertArrayEquals(new int[] {3, 4, 0, Integer.MIN_VALUE}, readI32(o));
        CPU.unary(UnaryOp.SIGN, flat(x), o);
        assertArrayEquals(new int[] {1, -1, 0, -1}, readI32(o));

        DeviceBuffer y = i64(-BIG, BIG, 0);
        DeviceBuffer p = out(DType.INT64, 3);
        CPU.unary(UnaryOp.ABS, flat(y), p);
        assertArrayEquals(new long[] {BIG, BIG, 0}, readI64(p));
        CPU.unary(UnaryOp.NEG, flat(y), p);
        assertArrayEquals(new long[] {BIG, -BIG, 0}, readI64(p));
    }

    @Test
    void not() {
        DeviceBuffer o = out(DType.BOOL, 3);
        CPU.unary(UnaryOp.NOT, flat(bool(1, 0, 1)), o);
        assertArrayEquals(bytes(0, 1, 0), readBool(o));
    }

    @Test
    void unaryRejectsDtypesOutsideTheContract() {
        assertThrows(DTypeException.class, () -> CPU.unary(UnaryOp.EXP, flat(i32(1)), out(DType.INT32, 1)));
        assertThrows(DTypeException.class, () -> CPU.unary(UnaryOp.NOT, flat(f32(1)), out(DType.FLOAT32, 1)));
        assertThrows(DTypeException.class, () -> CPU.unary(UnaryOp.NEG, flat(bool(1)), out(DType.BOOL, 1)));
    }

    // ---- binary --------------------------------------------------------------------------

    @Test
    void floatArithmetic() {
        DeviceBuffer a = f32(1.5f, -2, 7);
        DeviceBuffer b = f32(0.5f, 4, -2);
        assertArrayEquals(new float[] {2, 2, 5}, readF32(binary(BinaryOp.ADD, a, b)));
        assertArrayEquals(new float[] {1, -6, 9}, readF32(binary(BinaryOp.SUB, a, b)));
        assertArrayEquals(new float[] {0.75f, -8, -14}, readF32(binary(BinaryOp.MUL, a, b)));
        assertArrayEquals(new float[] {3, -0.5f, -3.5f}, readF32(binary(BinaryOp.DIV, a, b)));
        assertArrayEquals(new float[] {(float) Math.sqrt(1.5), 16, 1f / 49},
                readF32(binary(BinaryOp.POW, a, b)));
        assertArrayEquals(new float[] {1.5f, 4, 7}, readF32(binary(BinaryOp.MAX, a, b)));
        assertArrayEquals(new float[] {0.5f, -2, -2}, readF32(binary(BinaryOp.MIN, a, b)));
        assertArrayEquals(new double[] {Double.POSITIVE_INFINITY, Double.NaN},
                readF64(binary(BinaryOp.DIV, f64(1, 0), f64(0, 0))));
    }

    /**
     * Float32 arithmetic is exactly Java's float arithmetic, both on the direct contiguous path
     * and through the double lane (strided operands), where it is computed in double and
     * rounded once.
     */
    @Test
    void float32ArithmeticIsBitExactFloatArithmetic() {
        int n = 50_000;
        float[] x = CpuTesting.randomFloats(n, 1);
        float[] y = CpuTesting.randomFloats(n, 2);
        for (int i = 0; i < n; i += 7) {
            y[i] *= 1e-20f; // very different magnitudes too
        }
        float[] ys = new float[2 * n]; // y at every other element
        for (int i = 0; i < n; i++) {
            ys[2 * i + 1] = y[i];
        }
        View a = flat(f32(x));
        View[] bs = {flat(f32(y)), view(f32(ys), shape(n), strides(2), 1)};
        for (View b : bs) {
            for (BinaryOp op : new BinaryOp[] {BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV}) {
                DeviceBuffer o = out(DType.FLOAT32, n);
                CPU.binary(op, a, b, o);
                float[] got = readF32(o);
                for (int i = 0; i < n; i++) {
                    float expected = switch (op) {
                        case ADD -> x[i] + y[i];
                        case SUB -> x[i] - y[i];
                        case MUL -> x[i] * y[i];
                        default -> x[i] / y[i];
                    };
                    assertEquals(expected, got[i], op + " at " + i);
                }
            }
        }
    }

    @Test
    void maxAndMinPropagateNaN() {
        DeviceBuffer a = f32(NAN, 1, 2, -0f);
        DeviceBuffer b = f32(1, NAN, 3, 0);
        assertArrayEquals(new float[] {NAN, NAN, 3, 0}, readF32(binary(BinaryOp.MAX, a, b)));
        assertArrayEquals(new float[] {NAN, NAN, 2, -0f}, readF32(binary(BinaryOp.MIN, a, b)));
        assertArrayEquals(new double[] {Double.NaN, Double.NaN},
                readF64(binary(BinaryOp.MAX, f64(Double.NaN, 5), f64(5, Double.NaN))));
        View strided = view(f32(NAN, 0, 1, 0, 2, 0, -0f), shape(4), strides(2), 0); // same as a
        DeviceBuffer o = out(DType.FLOAT32, 4);
        CPU.binary(BinaryOp.MAX, strided, flat(b), o);
        assertArrayEquals(new float[] {NAN, NAN, 3, 0}, readF32(o));
        CPU.binary(BinaryOp.MIN, strided, flat(b), o);
        assertArrayEquals(new float[] {NAN, NAN, 2, -0f}, readF32(o));
    }

    @Test
    void comparisonsWithNaNAreFalseExceptNotEqual() {
        DeviceBuffer a = f64(Double.NaN, 1, 2, 2);
        DeviceBuffer b = f64(1, Double.NaN, 2, 3);
        assertArrayEquals(bytes(0, 0, 1, 0), readBool(binary(BinaryOp.EQUAL, a, b)));
        assertArrayEquals(bytes(1, 1, 0, 1), readBool(binary(BinaryOp.NOT_EQUAL, a, b)));
        assertArrayEquals(bytes(0, 0, 0, 1), readBool(binary(BinaryOp.LESS, a, b)));
        assertArrayEquals(bytes(0, 0, 1, 1), readBool(binary(BinaryOp.LESS_EQUAL, a, b)));
        assertArrayEquals(bytes(0, 0, 0, 0), readBool(binary(BinaryOp.GREATER, a, b)));
        assertArrayEquals(bytes(0, 0, 1, 0), readBool(binary(BinaryOp.GREATER_EQUAL, a, b)));
        assertArrayEquals(bytes(0, 1), readBool(binary(BinaryOp.LESS, f32(NAN, -1), f32(NAN, 0))));
    }

    @Test
    void integerDivisionTruncatesAndNeverThrows() {
        DeviceBuffer a = i32(7, -7, 7, -7, 5, Integer.MIN_VALUE);
        DeviceBuffer b = i32(2, 2, -2, -2, 0, -1);
        assertArrayEquals(new int[] {3, -3, -3, 3, 0, Integer.MIN_VALUE},
                readI32(binary(BinaryOp.DIV, a, b)));
        assertArrayEquals(new long[] {((1L << 62) + 1) / 3, 0, Long.MIN_VALUE},
                readI64(binary(BinaryOp.DIV, i64((1L << 62) + 1, 9, Long.MIN_VALUE), i64(3, 0, -1))));
    }

    @Test
    void int32WrapsLikeJavaInt() {
        DeviceBuffer a = i32(Integer.MAX_VALUE, Integer.MIN_VALUE, 65536);
        DeviceBuffer b = i32(1, 1, 65536);
        assertArrayEquals(new int[] {Integer.MIN_VALUE, Integer.MIN_VALUE + 1, 131072},
                readI32(binary(BinaryOp.ADD, a, b)));
        assertArrayEquals(new int[] {Integer.MAX_VALUE - 1, Integer.MAX_VALUE, 0},
                readI32(binary(BinaryOp.SUB, a, b)));
        assertArrayEquals(new int[] {Integer.MAX_VALUE, Integer.MIN_VALUE, 0}, // 2^32 wraps to 0
                readI32(binary(BinaryOp.MUL, a, b)));
    }

    @Test
    void int64StaysExactBeyond2To53() {
        DeviceBuffer a = i64(BIG, BIG, Long.MAX_VALUE, BIG);
        DeviceBuffer b = i64(1, 3, -1, BIG - 1);
        assertArrayEquals(new long[] {BIG + 1, BIG + 3, Long.MAX_VALUE - 1, BIG + BIG - 1},
                readI64(binary(BinaryOp.ADD, a, b)));
        assertArrayEquals(new long[] {BIG, 3 * BIG, -Long.MAX_VALUE, BIG * (BIG - 1)},
                readI64(binary(BinaryOp.MUL, a, b)));
        assertArrayEquals(new long[] {BIG, BIG, Long.MAX_VALUE, BIG}, readI64(binary(BinaryOp.MAX, a, b)));
        // 2^53 + 1 and 2^53 are one double apart only in exact arithmetic.
        assertArrayEquals(bytes(1, 0), readBool(binary(BinaryOp.GREATER, i64(BIG, BIG - 1), i64(BIG - 1, BIG))));
        assertArrayEquals(bytes(0, 1), readBool(binary(BinaryOp.EQUAL, i64(BIG, BIG), i64(BIG - 1, BIG))));
    }

    @Test
    void integerPowIsExact() {
        DeviceBuffer a = i32(2, 3, -2, 2, 1, -1, -1, 0, 5, 0, 2);
        DeviceBuffer b = i32(10, 0, 3, -1, -5, -3, -4, 0, 2, -2, 31);
        assertArrayEquals(new int[] {1024, 1, -8, 0, 1, -1, 1, 1, 25, 0, Integer.MIN_VALUE},
                readI32(binary(BinaryOp.POW, a, b)));
        long p = 1;
        for (int i = 0; i < 39; i++) {
            p *= 3;
        }
        assertEquals(4052555153018976267L, p);
        assertArrayEquals(new long[] {p, 1L << 62}, readI64(binary(BinaryOp.POW, i64(3, 2), i64(39, 62))));
    }

    @Test
    void boolEqualityOnly() {
        DeviceBuffer a = bool(1, 0, 1, 0);
        DeviceBuffer b = bool(1, 1, 0, 0);
        assertArrayEquals(bytes(1, 0, 0, 1), readBool(binary(BinaryOp.EQUAL, a, b)));
        assertArrayEquals(bytes(0, 1, 1, 0), readBool(binary(BinaryOp.NOT_EQUAL, a, b)));
        assertThrows(DTypeException.class, () -> binary(BinaryOp.ADD, a, b));
        assertThrows(DTypeException.class, () -> binary(BinaryOp.LESS, a, b));
        assertThrows(DTypeException.class, () -> CPU.binary(BinaryOp.ADD, flat(f32(1)), flat(f64(1)),
                out(DType.FLOAT32, 1)));
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64", "INT32", "INT64"})
    void everyNumericDtypeAdds(DType dtype) {
        DeviceBuffer a = CpuTesting.buffer(CPU, DType.INT32, new int[] {1, -2, 30});
        DeviceBuffer b = CpuTesting.buffer(CPU, DType.INT32, new int[] {4, 5, -6});
        DeviceBuffer ca = out(dtype, 3);
        DeviceBuffer cb = out(dtype, 3);
        CPU.copy(flat(a), flat(ca));
        CPU.copy(flat(b), flat(cb));
        DeviceBuffer sum = binary(BinaryOp.ADD, ca, cb);
        DeviceBuffer back = out(DType.INT32, 3);
        CPU.copy(flat(sum), flat(back));
        assertArrayEquals(new int[] {5, 3, 24}, readI32(back));
        assertArrayEquals(bytes(1, 1, 0), readBool(binary(BinaryOp.LESS, ca, cb)));
    }

    // ---- views ---------------------------------------------------------------------------

    @Test
    void broadcastByZeroStrides() {
        DeviceBuffer a = f32(1, 2, 3, 4, 5, 6);
        View m = View.contiguous(a, 2, 3);
        View row = view(f32(10, 20, 30), shape(2, 3), strides(0, 1), 0);
        View col = view(f32(100, 200), shape(2, 3), strides(1, 0), 0);
        View scalar = view(f32(0, 0, 5), shape(2, 3), strides(0, 0), 2);
        DeviceBuffer o = out(DType.FLOAT32, 6);
        CPU.binary(BinaryOp.ADD, m, row, o);
        assertArrayEquals(new float[] {11, 22, 33, 14, 25, 36}, readF32(o));
        CPU.binary(BinaryOp.ADD, col, m, o);
        assertArrayEquals(new float[] {101, 102, 103, 204, 205, 206}, readF32(o));
        CPU.binary(BinaryOp.MUL, m, scalar, o);
        assertArrayEquals(new float[] {5, 10, 15, 20, 25, 30}, readF32(o));
    }

    /**
     * A bias over the last axis (one operand repeating a dense run along the other, the other
     * dense), alone and with each epilogue in the same call: the same bits as the two
     * primitives over a materialised (dense) copy of the bias, on one thread and several, in
     * either operand order, runs that fill whole vectors and runs that leave a tail, sizes past
     * the parallel grain. NaN, -0 and negatives in the dense operand reach every branch of relu.
     */
    @Test
    void biasOverTheLastAxisGivesTheBitsOfTheTwoPrimitives() {
        for (int len : new int[] {3, 16, 32, 37}) {
            int rows = (int) (3 * Parallel.GRAIN / len) + 5;
            float[] x = CpuTesting.randomFloats(rows * len, len);
            for (int i = 0; i < x.length; i++) {
                x[i] = i % 97 == 0 ? NAN : i % 89 == 0 ? -0f : x[i] * 4 - 2;
            }
            float[] bias = CpuTesting.randomFloats(len, len + 1);
            float[] tiled = new float[x.length];
            for (int i = 0; i < tiled.length; i++) {
                tiled[i] = bias[i % len];
            }
            double[] xd = new double[x.length];
            double[] bd = new double[len];
            double[] tiledD = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                xd[i] = x[i];
                tiledD[i] = tiled[i];
            }
            for (int i = 0; i < len; i++) {
                bd[i] = bias[i];
            }
            for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                boolean f = t == DType.FLOAT32;
                DeviceBuffer dense = f ? f32(x) : f64(xd);
                DeviceBuffer b = f ? f32(withLead(bias)) : f64(withLead(bd));
                DeviceBuffer bt = f ? f32(tiled) : f64(tiledD);
                View xv = View.contiguous(dense, rows, len);
                View bv = view(b, shape(rows, len), strides(0, 1), 1); // at an offset
                View btv = View.contiguous(bt, rows, len);
                for (CpuBackend be : new CpuBackend[] {CPU, SERIAL}) {
                    for (BinaryOp op : new BinaryOp[] {BinaryOp.ADD, BinaryOp.SUB}) {
                        for (boolean biasFirst : new boolean[] {false, true}) {
                            View p = biasFirst ? bv : xv;
                            View q = biasFirst ? xv : bv;
                            View pt = biasFirst ? btv : xv;
                            View qt = biasFirst ? xv : btv;
                            DeviceBuffer expected = out(t, x.length);
                            DeviceBuffer got = out(t, x.length);
                            be.binary(op, pt, qt, expected);
                            be.binary(op, p, q, got);
                            assertBits(expected, got, op + " " + t + " run " + len);
                            for (UnaryOp epi : dev.spool.spi.Backend.EPILOGUES) {
                                be.binary(op, pt, qt, expected);
                                be.unary(epi, View.contiguous(expected, rows, len), expected);
                                be.binaryUnary(op, epi, p, q, got);
                                assertBits(expected, got, op + "+" + epi + " " + t + " run " + len
                                        + (biasFirst ? " (bias first)" : ""));
                            }
                        }
                    }
                }
            }
        }
    }

    private static float[] withLead(float[] v) {
        float[] out = new float[v.length + 1];
        System.arraycopy(v, 0, out, 1, v.length);
        return out;
    }

    private static double[] withLead(double[] v) {
        double[] out = new double[v.length + 1];
        System.arraycopy(v, 0, out, 1, v.length);
        return out;
    }

    private static void assertBits(DeviceBuffer expected, DeviceBuffer got, String what) {
        if (expected.dtype() == DType.FLOAT32) {
            float[] e = readF32(expected);
            float[] g = readF32(got);
            for (int i = 0; i < e.length; i++) {
                if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(g[i])) {
                    throw new AssertionError(what + ": element " + i + " is " + g[i] + ", expected " + e[i]);
                }
            }
        } else {
            double[] e = readF64(expected);
            double[] g = readF64(got);
            for (int i = 0; i < e.length; i++) {
                if (Double.doubleToRawLongBits(e[i]) != Double.doubleToRawLongBits(g[i])) {
                    throw new AssertionError(what + ": element " + i + " is " + g[i] + ", expected " + e[i]);
                }
            }
        }
    }

    @Test
    void transposedAndOffsetInputs() {
        DeviceBuffer a = f64(1, 2, 3, 4, 5, 6);
        View t = view(a, shape(3, 2), strides(1, 3), 0); // [[1,4],[2,5],[3,6]]
        DeviceBuffer o = out(DType.FLOAT64, 6);
        CPU.unary(UnaryOp.NEG, t, o);
        assertArrayEquals(new double[] {-1, -4, -2, -5, -3, -6}, readF64(o));
        View tail = view(a, shape(3), strides(1), 3); // [4,5,6]
        View everyOther = view(a, shape(3), strides(2), 0); // [1,3,5]
        DeviceBuffer p = out(DType.FLOAT64, 3);
        CPU.binary(BinaryOp.SUB, tail, everyOther, p);
        assertArrayEquals(new double[] {3, 2, 1}, readF64(p));
        View reversed = view(a, shape(3), strides(-1), 2); // [3,2,1]
        CPU.binary(BinaryOp.SUB, tail, reversed, p);
        assertArrayEquals(new double[] {1, 3, 5}, readF64(p));
    }

    @Test
    void sizeZeroOperands() {
        DeviceBuffer empty = f32();
        DeviceBuffer o = out(DType.FLOAT32, 0);
        CPU.unary(UnaryOp.EXP, flat(empty), o);
        CPU.binary(BinaryOp.ADD, view(empty, shape(0, 3), strides(3, 1), 0),
                view(f32(1, 2, 3), shape(0, 3), strides(0, 1), 0), o);
        assertEquals(0, readF32(o).length);
    }

    @Test
    void rankZeroOperands() {
        View scalar = new View(f32(9, -4), new int[0], new long[0], 1);
        DeviceBuffer o = out(DType.FLOAT32, 1);
        CPU.unary(UnaryOp.ABS, scalar, o);
        assertArrayEquals(new float[] {4}, readF32(o));
        CPU.binary(BinaryOp.MUL, scalar, scalar, o);
        assertArrayEquals(new float[] {16}, readF32(o));
    }

    @Test
    void rejectsBuffersOfOtherBackends() {
        DeviceBuffer foreign = new DeviceBuffer() {
            @Override
            public DType dtype() {
                return DType.FLOAT32;
            }

            @Override
            public long size() {
                return 1;
            }
        };
        assertThrows(IllegalArgumentException.class, () -> CPU.unary(UnaryOp.EXP, flat(foreign), out(DType.FLOAT32, 1)));
    }

    /** Large enough to be split across threads; strided so that segments cross rows. */
    @Test
    void largeStridedOpsMatchScalarLoopAndSerialBackend() {
        int rows = 301;
        int cols = 257;
        float[] x = CpuTesting.randomFloats(rows * cols, 3);
        float[] y = CpuTesting.randomFloats(cols, 4);
        DeviceBuffer a = f32(x);
        View aT = view(a, shape(cols, rows), strides(1, cols), 0); // transposed
        View yB = view(f32(y), shape(cols, rows), strides(1, 0), 0); // column broadcast
        DeviceBuffer o = out(DType.FLOAT32, (long) rows * cols);
        CPU.binary(BinaryOp.MUL, aT, yB, o);
        float[] got = readF32(o);
        for (int j = 0; j < cols; j++) {
            for (int i = 0; i < rows; i++) {
                assertEquals(x[i * cols + j] * y[j], got[j * rows + i]);
            }
        }
        DeviceBuffer u = out(DType.FLOAT32, (long) rows * cols);
        CPU.unary(UnaryOp.TANH, aT, u);
        DeviceBuffer a1 = CpuTesting.buffer(SERIAL, DType.FLOAT32, x);
        DeviceBuffer u1 = SERIAL.allocate(DType.FLOAT32, (long) rows * cols);
        SERIAL.unary(UnaryOp.TANH, view(a1, shape(cols, rows), strides(1, cols), 0), u1);
        assertArrayEquals((float[]) CpuTesting.read(SERIAL, u1), readF32(u));
    }

    // ---- select --------------------------------------------------------------------------

    @Test
    void selectPicksAndBroadcasts() {
        DeviceBuffer o = out(DType.FLOAT32, 3);
        CPU.select(flat(bool(1, 0, 1)), flat(f32(1, 2, 3)), flat(f32(10, 20, 30)), o);
        assertArrayEquals(new float[] {1, 20, 3}, readF32(o));

        View cond = view(bool(1, 0, 0), shape(2, 3), strides(0, 1), 0);
        View a = View.contiguous(i64(BIG, 2, 3, 4, 5, 6), 2, 3);
        View b = view(i64(-BIG), shape(2, 3), strides(0, 0), 0);
        DeviceBuffer p = out(DType.INT64, 6);
        CPU.select(cond, a, b, p);
        assertArrayEquals(new long[] {BIG, -BIG, -BIG, 4, -BIG, -BIG}, readI64(p));

        DeviceBuffer q = out(DType.BOOL, 2);
        CPU.select(flat(bool(0, 1)), flat(bool(1, 1)), flat(bool(0, 0)), q);
        assertArrayEquals(bytes(0, 1), readBool(q));
        assertThrows(DTypeException.class, () -> CPU.select(flat(i32(1)), flat(i32(1)), flat(i32(1)),
                out(DType.INT32, 1)));
    }

    /**
     * Contiguous operands, a broadcast scalar on either side, and lengths that leave a partial
     * vector: the SIMD paths against plain Java, bit for bit (float32 and float64).
     */
    @Test
    void contiguousAndScalarOperandsMatchPlainJava() {
        for (int n : new int[] {1, 7, 16, 1037}) {
            float[] x = CpuTesting.randomFloats(n, n);
            float[] y = CpuTesting.randomFloats(n, n + 1);
            x[0] = NAN;
            if (n > 2) {
                x[1] = -0f;
                y[2] = 0f;
            }
            float k = -0.25f;
            View s = view(f32(k), shape(n), strides(0), 0);
            for (BinaryOp op : new BinaryOp[] {BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV,
                BinaryOp.MAX, BinaryOp.MIN, BinaryOp.RELU_GRAD}) {
                DeviceBuffer o = out(DType.FLOAT32, n);
                CPU.binary(op, flat(f32(x)), flat(f32(y)), o);
                float[] vv = readF32(o);
                CPU.binary(op, flat(f32(x)), s, o);
                float[] vs = readF32(o);
                CPU.binary(op, s, flat(f32(y)), o);
                float[] sv = readF32(o);
                DeviceBuffer d = out(DType.FLOAT64, n);
                double[] xd = new double[n];
                for (int i = 0; i < n; i++) {
                    xd[i] = x[i];
                }
                CPU.binary(op, flat(f64(xd)), view(f64(k), shape(n), strides(0), 0), d);
                double[] vsd = readF64(d);
                for (int i = 0; i < n; i++) {
                    String at = op + " n=" + n + " i=" + i;
                    assertEquals(Float.floatToIntBits(plain(op, x[i], y[i])), Float.floatToIntBits(vv[i]), at);
                    assertEquals(Float.floatToIntBits(plain(op, x[i], k)), Float.floatToIntBits(vs[i]), at);
                    assertEquals(Float.floatToIntBits(plain(op, k, y[i])), Float.floatToIntBits(sv[i]), at);
                    assertEquals(Double.doubleToLongBits(plain(op, xd[i], k)), Double.doubleToLongBits(vsd[i]), at);
                }
            }
            // where(cond, x, scalar) and where(cond, scalar, y)
            int[] c = new int[n];
            for (int i = 0; i < n; i++) {
                c[i] = x[i] > 0 ? 1 : 0;
            }
            DeviceBuffer o = out(DType.FLOAT32, n);
            CPU.select(flat(bool(c)), flat(f32(x)), s, o);
            float[] xs = readF32(o);
            CPU.select(flat(bool(c)), s, flat(f32(y)), o);
            float[] sy = readF32(o);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToIntBits(c[i] != 0 ? x[i] : k), Float.floatToIntBits(xs[i]));
                assertEquals(Float.floatToIntBits(c[i] != 0 ? k : y[i]), Float.floatToIntBits(sy[i]));
            }
        }
    }

    private static float plain(BinaryOp op, float a, float b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case RELU_GRAD -> b > 0 ? a : 0;
            default -> throw new IllegalArgumentException(op.name());
        };
    }

    private static double plain(BinaryOp op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case RELU_GRAD -> b > 0 ? a : 0;
            default -> throw new IllegalArgumentException(op.name());
        };
    }

    /**
     * Small operands (one segment: run without building a loop) at an offset, against a
     * scalar operand and with NaN: the same as plain Java arithmetic, float32 and float64.
     */
    @Test
    void smallDenseAndScalarOperands() {
        for (int n : new int[] {1, 7, 1024, 1025}) {
            float[] host = CpuTesting.randomFloats(n + 3, n);
            host[2 + n / 2] = Float.NaN;
            DeviceBuffer buf = f32(host);
            View a = view(buf, shape(n), strides(1), 2); // elements 2 .. n+1
            View b = view(buf, shape(n), strides(1), 3);
            View s = view(buf, shape(n), strides(0), 0); // host[0] everywhere
            DeviceBuffer sum = out(DType.FLOAT32, n);
            DeviceBuffer max = out(DType.FLOAT32, n);
            DeviceBuffer neg = out(DType.FLOAT32, n);
            CPU.binary(BinaryOp.ADD, a, b, sum);
            CPU.binary(BinaryOp.MAX, s, a, max);
            CPU.unary(UnaryOp.NEG, a, neg);
            float[] rs = readF32(sum);
            float[] rm = readF32(max);
            float[] rn = readF32(neg);
            double[] hd = new double[n + 3];
            for (int i = 0; i < hd.length; i++) {
                hd[i] = host[i] * 1.5;
            }
            DeviceBuffer dbuf = f64(hd);
            DeviceBuffer dmul = out(DType.FLOAT64, n);
            CPU.binary(BinaryOp.MUL, view(dbuf, shape(n), strides(1), 2), view(dbuf, shape(n), strides(0), 0), dmul);
            double[] rd = readF64(dmul);
            for (int t = 0; t < n; t++) {
                assertEquals(host[2 + t] + host[3 + t], rs[t], 0f, "add " + n + " at " + t);
                assertEquals(Math.max(host[0], host[2 + t]), rm[t], 0f, "max " + n + " at " + t);
                assertEquals(-host[2 + t], rn[t], 0f, "neg " + n + " at " + t);
                assertEquals(hd[2 + t] * hd[0], rd[t], 0d, "mul float64 " + n + " at " + t);
            }
        }
    }
}
