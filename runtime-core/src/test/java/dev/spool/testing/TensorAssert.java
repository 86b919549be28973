package dev.spool.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.spool.DType;
import dev.spool.Shape;
import dev.spool.Tensor;
import java.util.Arrays;

/** Assertions on tensor values. NaN equals NaN and infinities equal themselves in every comparison. */
public final class TensorAssert {
    /** Tolerances for float32 results of transcendental functions (OpenCL allows a few ulp). */
    public static final double F32_RTOL = 2e-6;
    public static final double F32_ATOL = 1e-6;

    private TensorAssert() {
    }

    /** Shape and dtype. */
    public static void assertMeta(Tensor t, Shape shape, DType dtype) {
        assertEquals(shape, t.shape(), "shape");
        assertEquals(dtype, t.dtype(), "dtype");
    }

    /** Shape, dtype and exact values (compared as doubles). */
    public static void assertExact(Tensor t, Shape shape, DType dtype, double... expected) {
        assertMeta(t, shape, dtype);
        assertClose(expected, t.toDoubleArray(), 0, 0, "values");
    }

    /** Shape, dtype and values within {@code |e - a| <= atol + rtol * |e|}. */
    public static void assertClose(Tensor t, Shape shape, DType dtype, double[] expected, double rtol, double atol) {
        assertMeta(t, shape, dtype);
        assertClose(expected, t.toDoubleArray(), rtol, atol, "values");
    }

    /** Element by element within {@code |e - a| <= atol + rtol * |e|}; the message shows the first mismatch. */
    public static void assertClose(double[] expected, double[] actual, double rtol, double atol, String what) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": expected " + expected.length + " values, got " + actual.length);
        }
        int bad = 0;
        int first = -1;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            if (!close(expected[i], actual[i], rtol, atol)) {
                if (first < 0) {
                    first = i;
                }
                bad++;
                double err = Math.abs(expected[i] - actual[i]);
                worst = Double.isNaN(err) ? Double.NaN : Math.max(worst, err);
            }
        }
        if (bad > 0) {
            throw new AssertionError(what + ": " + bad + " of " + expected.length + " values differ (rtol "
                    + rtol + ", atol " + atol + ", largest error " + worst + "); first at flat index " + first
                    + ": expected " + expected[first] + " but was " + actual[first]
                    + (expected.length <= 24 ? "\n  expected " + Arrays.toString(expected)
                    + "\n  actual   " + Arrays.toString(actual) : ""));
        }
    }

    public static boolean close(double e, double a, double rtol, double atol) {
        if (Double.isNaN(e) || Double.isNaN(a)) {
            return Double.isNaN(e) && Double.isNaN(a);
        }
        if (Double.isInfinite(e) || Double.isInfinite(a)) {
            return e == a;
        }
        return Math.abs(e - a) <= atol + rtol * Math.abs(e);
    }

    /** {@code values} rounded to float32, as doubles: the exact expectation for float32 results. */
    public static double[] f32(double... values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }
}
