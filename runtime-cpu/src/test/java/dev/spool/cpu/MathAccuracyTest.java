package dev.spool.cpu;

import static dev.spool.cpu.CpuTesting.CPU;
import static dev.spool.cpu.CpuTesting.f32;
import static dev.spool.cpu.CpuTesting.flat;
import static dev.spool.cpu.CpuTesting.out;
import static dev.spool.cpu.CpuTesting.readF32;
import static dev.spool.cpu.CpuTesting.view;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.spool.DType;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.UnaryOp;
import java.util.Arrays;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The float32 math functions of the cpu backend against {@link StrictMath} computed in double:
 * dense sweeps of each function's interesting range, points next to multiples of pi/2, random bit
 * patterns (every exponent, subnormals), and the special values. Runs in both Surefire
 * executions: with the Vector API it checks {@link SimdMath} (its documented bounds), without it
 * the scalar lane path (double math rounded to float, within 0.5 ulp plus the double's error).
 */
class MathAccuracyTest {
    private static final float INF = Float.POSITIVE_INFINITY;
    private static final float[] SPECIAL = {0f, -0f, Float.NaN, INF, -INF, Float.MIN_VALUE,
        -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MIN_NORMAL, 3e-39f, -3e-39f, Float.MAX_VALUE,
        -Float.MAX_VALUE, 1f, -1f, 0.5f, -0.5f, 0.625f, -0.625f, Math.nextDown(0.625f), 9f, 9.1f, -9.1f,
        20f, -20f, 88.72283f, 88.7229f, 89f, -87.33654f, -87.3366f, -100f, -103.97f, -104f, -150f,
        -0.99999994f, -1.0000001f, 1e-8f, -1e-8f, 1e10f, -1e10f, 65536f, -65536f, 65537f, 1e6f,
        (float) Math.PI, (float) (Math.PI / 2), (float) (-Math.PI / 4)};

    /** One function: the op, its exact reference, its ulp bound on the SIMD path, and its ranges. */
    enum Fn {
        EXP(UnaryOp.EXP, StrictMath::exp, 1.5, -105, 90),
        LOG(UnaryOp.LOG, StrictMath::log, 1.5, 0, 20),
        LOG1P(UnaryOp.LOG1P, StrictMath::log1p, 2, -1, 20),
        TANH(UnaryOp.TANH, StrictMath::tanh, 2, -10, 10),
        SIGMOID(UnaryOp.SIGMOID, MathAccuracyTest::sigmoid, 2.5, -110, 90),
        SIN(UnaryOp.SIN, StrictMath::sin, 2, -70000, 70000),
        COS(UnaryOp.COS, StrictMath::cos, 2, -70000, 70000);

        final UnaryOp op;
        final DoubleUnaryOperator exact;
        final double simdUlps;
        final float lo;
        final float hi;

        Fn(UnaryOp op, DoubleUnaryOperator exact, double simdUlps, float lo, float hi) {
            this.op = op;
            this.exact = exact;
            this.simdUlps = simdUlps;
            this.lo = lo;
            this.hi = hi;
        }

        double bound() {
            return VectorSupport.ENABLED ? simdUlps : 0.5001;
        }
    }

    private static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + StrictMath.exp(-x)) : StrictMath.exp(x) / (1 + StrictMath.exp(x));
    }

    private static float[] inputs(Fn f) {
        int dense = 1 << 18;
        int random = 1 << 18;
        float[] x = new float[dense * 2 + random + SPECIAL.length + 4096];
        int i = 0;
        for (int k = 0; k < dense; k++) { // the whole range, evenly
            x[i++] = f.lo + (f.hi - f.lo) * k / (dense - 1);
        }
        for (int k = 0; k < dense; k++) { // [-2, 2] closely: cancellations, small-argument paths
            x[i++] = -2 + 4f * k / (dense - 1);
        }
        Random r = new Random(f.name().hashCode());
        for (int k = 0; k < random; k++) { // every exponent: tiny, huge, subnormal, NaN, Inf
            x[i++] = Float.intBitsToFloat(r.nextInt());
        }
        for (float s : SPECIAL) {
            x[i++] = s;
        }
        for (int k = 0; k < 4096 / 4; k++) { // next to multiples of pi/2, the hardest reductions
            float m = (float) (Math.PI / 2 * (k * 41L % 41000));
            x[i++] = m;
            x[i++] = Math.nextUp(m);
            x[i++] = Math.nextDown(m);
            x[i++] = -m;
        }
        return Arrays.copyOf(x, i);
    }

    private static float[] compute(UnaryOp op, float[] x) {
        DeviceBuffer o = out(DType.FLOAT32, x.length);
        CPU.unary(op, flat(f32(x)), o);
        return readF32(o);
    }

    /** Error of {@code y} in units in the last place of the float nearest {@code exact}. */
    static double ulps(float y, double exact) {
        float e = (float) exact;
        double unit = Math.abs(e) < Float.MIN_NORMAL ? Float.MIN_VALUE : Math.ulp(e);
        if (Float.isInfinite(e)) {
            return y == e ? 0 : Double.POSITIVE_INFINITY;
        }
        return Math.abs(y - exact) / unit;
    }

    @ParameterizedTest
    @EnumSource(Fn.class)
    void withinTheDocumentedUlpBound(Fn f) {
        float[] x = inputs(f);
        float[] y = compute(f.op, x);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < x.length; i++) {
            double exact = f.exact.applyAsDouble(x[i]);
            if (Double.isNaN(exact) || Float.isNaN(y[i])) {
                if (Double.isNaN(exact) != Float.isNaN(y[i])) {
                    fail(f + "(" + x[i] + ") = " + y[i] + ", expected " + exact);
                }
                continue;
            }
            if (exact == 0 || x[i] == 0) { // exact zeros keep their sign: sin(-0) = -0, exp(-Inf) = +0
                if (Float.floatToRawIntBits((float) exact) != Float.floatToRawIntBits(y[i])) {
                    fail(f + "(" + x[i] + ") = " + y[i] + ", expected " + (float) exact);
                }
                continue;
            }
            double u = ulps(y[i], exact);
            if (u > worst) {
                worst = u;
                at = i;
            }
        }
        assertTrue(worst <= f.bound(), f + ": " + worst + " ulp at x = " + (at < 0 ? "-" : x[at])
                + " (" + (at < 0 ? "" : y[at]) + "), bound " + f.bound());
    }

    @Test
    void specialValuesAreTheScalarPathsOnes() {
        float[] x = {INF, -INF, 200f, -200f, 9.1f, -9.1f, 30f, -30f};
        assertArrayBits(new float[] {INF, 0f, INF, 0f}, Arrays.copyOf(compute(UnaryOp.EXP, x), 4));
        // tanh saturates to exactly ±1, sigmoid never overflows
        assertArrayBits(new float[] {1, -1, 1, -1, 1, -1, 1, -1}, compute(UnaryOp.TANH, x));
        assertArrayBits(new float[] {1, 0, 1, 0}, Arrays.copyOf(compute(UnaryOp.SIGMOID, x), 4));
        float[] logs = compute(UnaryOp.LOG, new float[] {0f, -0f, -1f, INF, Float.MIN_VALUE});
        assertArrayBits(new float[] {-INF, -INF, Float.NaN, INF}, Arrays.copyOf(logs, 4));
        assertEquals(Math.log(Float.MIN_VALUE), logs[4], Math.ulp(logs[4]));
        assertArrayBits(new float[] {-INF, Float.NaN, INF, -0f},
                compute(UnaryOp.LOG1P, new float[] {-1f, -2f, INF, -0f}));
        assertArrayBits(new float[] {Float.NaN, Float.NaN, -0f},
                compute(UnaryOp.SIN, new float[] {INF, -INF, -0f}));
        assertArrayBits(new float[] {Float.NaN, 1f}, compute(UnaryOp.COS, new float[] {-INF, -0f}));
    }

    private static void assertArrayBits(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]),
                    "element " + i + ": expected " + expected[i] + " but was " + actual[i]);
        }
    }

    /** The float32 definition does not depend on layout: a strided view and odd tails give the same bits. */
    @ParameterizedTest
    @EnumSource(value = UnaryOp.class, names = {"NEG", "ABS", "RELU", "SQRT", "RSQRT", "EXP", "LOG",
        "LOG1P", "TANH", "SIGMOID", "SIN", "COS", "ERF", "GELU", "GELU_TANH"})
    void layoutDoesNotChangeResults(UnaryOp op) {
        int n = 1000 + 37;
        float[] x = CpuTesting.randomFloats(2 * n, 5);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 4;
        }
        float[] every = compute(op, x);
        // every other element, through a stride-2 view starting at 1
        DeviceBuffer o = out(DType.FLOAT32, n);
        CPU.unary(op, view(f32(x), new int[] {n}, new long[] {2}, 1), o);
        float[] strided = readF32(o);
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToIntBits(every[2 * i + 1]), Float.floatToIntBits(strided[i]),
                    op + " of " + x[2 * i + 1]);
        }
        // a short run: one partial vector only
        float[] three = compute(op, Arrays.copyOfRange(x, 5, 8));
        for (int i = 0; i < 3; i++) {
            assertEquals(Float.floatToIntBits(every[5 + i]), Float.floatToIntBits(three[i]), op + " tail");
        }
    }
}
