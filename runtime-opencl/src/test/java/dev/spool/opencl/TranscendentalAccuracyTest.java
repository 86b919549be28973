package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The float32 transcendentals that elementwise.cl writes out itself (PoCL's library versions
 * are 35-100x slower than an add) against {@link StrictMath} in double, over ~800k arguments:
 * random bit patterns (every exponent, both signs), a dense band around zero, arguments next
 * to multiples of pi/2 (where sin/cos reduction loses digits if it is not exact) and the
 * special values. The bound is the one elementwise.cl documents for each function.
 */
@ExtendWith(TestDevices.class)
class TranscendentalAccuracyTest {
    private static final int RANDOM_BITS = 1 << 19;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (OpenClBackend b : TestDevices.all()) {
            out.add(Arguments.of(b, UnaryOp.SIN, (DoubleUnaryOperator) StrictMath::sin, 2));
            out.add(Arguments.of(b, UnaryOp.COS, (DoubleUnaryOperator) StrictMath::cos, 2));
            out.add(Arguments.of(b, UnaryOp.LOG, (DoubleUnaryOperator) StrictMath::log, 2));
            out.add(Arguments.of(b, UnaryOp.LOG1P, (DoubleUnaryOperator) StrictMath::log1p, 4));
            out.add(Arguments.of(b, UnaryOp.TANH, (DoubleUnaryOperator) StrictMath::tanh, 2));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{1} on {0}: <= {3} ulp", autoCloseArguments = false)
    @MethodSource("cases")
    void float32IsWithinItsDocumentedUlpBound(OpenClBackend b, UnaryOp op, DoubleUnaryOperator exact, int bound) {
        float[] x = arguments();
        DeviceBuffer in = Host.uploadArray(b, DType.FLOAT32, x);
        DeviceBuffer out = b.allocate(DType.FLOAT32, x.length);
        b.unary(op, View.contiguous(in, x.length), out);
        float[] got = new float[x.length];
        b.read(View.contiguous(out, x.length), got);
        b.release(in);
        b.release(out);
        double worst = 0;
        int worstAt = 0;
        for (int i = 0; i < x.length; i++) {
            double err = ulps(exact.applyAsDouble(x[i]), got[i]);
            if (err > worst) {
                worst = err;
                worstAt = i;
            }
        }
        double w = worst;
        float at = x[worstAt];
        float gotAt = got[worstAt];
        assertTrue(w <= bound, () -> op + ": " + w + " ulp at x = " + at + " (" + Float.floatToRawIntBits(at)
                + " bits); got " + gotAt + ", exact " + exact.applyAsDouble(at));
    }

    /** The error of {@code got} in units of the float32 ulp of the exact value; NaN and infinities
     *  must match exactly, and results below the normal range may be flushed to zero. */
    private static double ulps(double exact, float got) {
        if (Double.isNaN(exact) || Float.isNaN(got)) {
            return Double.isNaN(exact) == Float.isNaN(got) ? 0 : Double.POSITIVE_INFINITY;
        }
        if (Double.isInfinite(exact) || Float.isInfinite(got)) {
            return exact == got ? 0 : Double.POSITIVE_INFINITY;
        }
        if (Math.abs(exact) < Float.MIN_NORMAL) {
            return Math.abs(exact - got) <= Float.MIN_NORMAL ? 0 : Double.POSITIVE_INFINITY;
        }
        return Math.abs(exact - got) / Math.ulp((float) exact);
    }


    static float[] arguments() {
        SplittableRandom r = new SplittableRandom(20261130);
        List<Float> v = new ArrayList<>();
        for (int i = 0; i < RANDOM_BITS; i++) {
            v.add(Float.intBitsToFloat(r.nextInt()));
        }
        for (int i = 0; i < RANDOM_BITS / 2; i++) {
            v.add((float) r.nextDouble(-200, 200));
        }
        for (int i = 0; i < RANDOM_BITS / 4; i++) {
            v.add((float) r.nextDouble(-1e-3, 1e-3));
        }
        // next to multiples of pi/2, small and large, and one ulp either side
        for (int i = 0; i < RANDOM_BITS / 8; i++) {
            double k = i < RANDOM_BITS / 16 ? i : Math.scalb(r.nextDouble(1, 2), r.nextInt(17, 120));
            float f = (float) (Math.rint(k) * Math.PI / 2);
            v.add(f);
            v.add(Math.nextUp(f));
            v.add(Math.nextDown(f));
        }
        float[] special = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE,
            -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 65536f,
            Math.nextUp(65536f), -65536f, Math.nextDown(-65536f), 1e-8f, 88f, -88f, 0.625f, -0.625f};
        for (float f : special) {
            v.add(f);
        }
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }
}
