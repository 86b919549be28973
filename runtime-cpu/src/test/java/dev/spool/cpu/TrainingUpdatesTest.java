package dev.spool.cpu;

import static dev.spool.cpu.CpuTesting.CPU;
import static dev.spool.cpu.CpuTesting.buffer;
import static dev.spool.cpu.CpuTesting.out;
import static dev.spool.cpu.CpuTesting.readF32;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.spool.DType;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The float32 optimizer updates bit for bit against the formulas of {@link TrainingUpdates}
 * evaluated here one element at a time. In the JVM with the Vector API the vector loops of
 * {@link SimdTrainingUpdates} do whole vectors and the plain loops the tails; in the {@code
 * scalar-fallback} execution the plain loops do everything. Lengths straddle the vector width
 * and the split between threads ({@link Parallel#GRAIN}); operands start at different offsets
 * of their buffers, so that no two are aligned alike.
 */
class TrainingUpdatesTest {
    private static final int[] LENGTHS = {1, 7, 8, 9, 31, 100, 2 * (int) Parallel.GRAIN + 13};
    private static final float LR = 0.037f;
    private static final float MU = 0.9f;

    /** A view of {@code n} random values at {@code offset} in a buffer with a few spare ones. */
    private static View operand(Random r, int n, int offset, float[] host) {
        return operand(r, n, offset, host, false);
    }

    private static View operand(Random r, int n, int offset, float[] host, boolean nonNegative) {
        float[] all = new float[offset + n + 3];
        for (int i = 0; i < all.length; i++) {
            float x = (float) r.nextGaussian();
            all[i] = nonNegative ? Math.abs(x) : x;
        }
        System.arraycopy(all, offset, host, 0, n);
        DeviceBuffer b = buffer(CPU, DType.FLOAT32, all);
        return new View(b, new int[] {n}, new long[] {1}, offset);
    }

    private static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(what + " differs at " + i + " of " + expected.length + ": expected "
                        + expected[i] + ", got " + actual[i]);
            }
        }
    }

    @Test
    void gradientDescentGivesTheBitsOfItsFormula() {
        Random r = new Random(1);
        for (int n : LENGTHS) {
            float[] w = new float[n];
            float[] g = new float[n];
            View wv = operand(r, n, 3, w);
            View gv = operand(r, n, 5, g);
            DeviceBuffer wOut = out(DType.FLOAT32, n);
            CPU.applyGradientDescent(wv, gv, LR, wOut);
            float[] expected = new float[n];
            for (int i = 0; i < n; i++) {
                expected[i] = w[i] - LR * g[i];
            }
            assertBits(expected, readF32(wOut), "gradient descent, n = " + n);
        }
    }

    @Test
    void bothMomentumFormsGiveTheBitsOfTheirFormulas() {
        Random r = new Random(2);
        for (boolean keras : new boolean[] {false, true}) {
            for (boolean nesterov : new boolean[] {false, true}) {
                for (int n : LENGTHS) {
                    float[] w = new float[n];
                    float[] a = new float[n];
                    float[] g = new float[n];
                    View wv = operand(r, n, 1, w);
                    View av = operand(r, n, 2, a);
                    View gv = operand(r, n, 0, g);
                    DeviceBuffer wOut = out(DType.FLOAT32, n);
                    DeviceBuffer aOut = out(DType.FLOAT32, n);
                    CPU.applyMomentum(wv, av, gv, LR, MU, nesterov, keras, wOut, aOut);
                    float[] we = new float[n];
                    float[] ae = new float[n];
                    for (int i = 0; i < n; i++) {
                        if (keras) {
                            ae[i] = a[i] * MU - g[i] * LR;
                            we[i] = w[i] + (nesterov ? ae[i] * MU - g[i] * LR : ae[i]);
                        } else {
                            ae[i] = a[i] * MU + g[i];
                            we[i] = w[i] - (nesterov ? g[i] * LR + ae[i] * MU * LR : LR * ae[i]);
                        }
                    }
                    String what = (keras ? "Keras" : "TensorFlow") + " momentum, nesterov = " + nesterov
                            + ", n = " + n;
                    assertBits(ae, readF32(aOut), what + ", accumulator");
                    assertBits(we, readF32(wOut), what + ", variable");
                }
            }
        }
    }

    @Test
    void adamGivesTheBitsOfItsFormula() {
        Random r = new Random(3);
        double alpha = 0.001;
        double beta1 = 0.9;
        double beta2 = 0.999;
        double eps = 1e-7;
        float a = (float) alpha;
        float c1 = (float) (1 - beta1);
        float c2 = (float) (1 - beta2);
        float e = (float) eps;
        for (int n : LENGTHS) {
            float[] w = new float[n];
            float[] m = new float[n];
            float[] v = new float[n];
            float[] g = new float[n];
            View wv = operand(r, n, 2, w);
            View mv = operand(r, n, 0, m);
            View vv = operand(r, n, 1, v, true); // a second moment is never negative
            View gv = operand(r, n, 3, g);
            DeviceBuffer wOut = out(DType.FLOAT32, n);
            DeviceBuffer mOut = out(DType.FLOAT32, n);
            DeviceBuffer vOut = out(DType.FLOAT32, n);
            CPU.applyAdam(wv, mv, vv, gv, alpha, beta1, beta2, eps, wOut, mOut, vOut);
            float[] we = new float[n];
            float[] me = new float[n];
            float[] ve = new float[n];
            for (int i = 0; i < n; i++) {
                me[i] = m[i] + (g[i] - m[i]) * c1;
                ve[i] = v[i] + (g[i] * g[i] - v[i]) * c2;
                we[i] = w[i] - me[i] * a / ((float) Math.sqrt(ve[i]) + e);
            }
            assertBits(me, readF32(mOut), "Adam, n = " + n + ", first moment");
            assertBits(ve, readF32(vOut), "Adam, n = " + n + ", second moment");
            assertBits(we, readF32(wOut), "Adam, n = " + n + ", variable");
        }
    }
}
