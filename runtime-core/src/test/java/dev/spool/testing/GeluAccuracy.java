package dev.spool.testing;

import dev.spool.DType;
import dev.spool.spi.Backend;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;

/**
 * The worst error of a backend's erf, GELU (exact and tanh) and their VJP primitives against
 * {@link ErfReference}, over about 3,000 arguments per function: [-10, 10] evenly, [-2, 2]
 * closely, random magnitudes from 1e-30 to 1e30 of both signs, and the special values. Shared
 * by the cpu and OpenCL accuracy tests, which hold the bounds.
 *
 * <p>Forward errors are in ulps of the exact value (results below the normal range may be
 * flushed: within one {@code MIN_NORMAL} counts as exact). A VJP's error, with an incoming
 * gradient of 1, is in ulps of {@code max(|exact|, 1/4)}: GELU's derivative is a difference of
 * terms near 0.2 that crosses zero near x = -0.75, where a relative error means nothing.
 */
public final class GeluAccuracy {
    private GeluAccuracy() {
    }

    /** The error (for float32, as a fraction of the bound) and where it is worst. */
    public record Worst(double error, double x, double got, double exact) {
        @Override
        public String toString() {
            return error + " at x = " + x + " (got " + got + ", exact " + exact + ")";
        }
    }

    public static DoubleUnaryOperator reference(UnaryOp op) {
        return switch (op) {
            case ERF -> ErfReference::erf;
            case GELU -> ErfReference::gelu;
            case GELU_TANH -> ErfReference::geluTanh;
            default -> throw new IllegalArgumentException(op.name());
        };
    }

    public static DoubleUnaryOperator reference(BinaryOp op) {
        return switch (op) {
            case ERF_GRAD -> ErfReference::erfDerivative;
            case GELU_GRAD -> ErfReference::geluDerivative;
            case GELU_TANH_GRAD -> ErfReference::geluTanhDerivative;
            default -> throw new IllegalArgumentException(op.name());
        };
    }

    /** The reference at {@link #arguments()}, per function, computed once per JVM (the decimal series is slow). */
    private static final java.util.Map<Object, double[]> EXACT = new java.util.concurrent.ConcurrentHashMap<>();

    private static double[] exact(Object op, DoubleUnaryOperator f) {
        return EXACT.computeIfAbsent(op, k -> {
            float[] x = arguments();
            double[] e = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                e[i] = f.applyAsDouble(x[i]);
            }
            return e;
        });
    }

    public static float[] arguments() {
        List<Float> v = new ArrayList<>();
        for (int i = 0; i <= 1600; i++) {
            v.add(-10f + 20f * i / 1600);
        }
        for (int i = 0; i <= 800; i++) {
            v.add(-2f + 4f * i / 800);
        }
        SplittableRandom r = new SplittableRandom(20261206);
        for (int i = 0; i < 400; i++) {
            float m = (float) Math.pow(10, r.nextDouble(-30, 30));
            v.add(r.nextBoolean() ? m : -m);
        }
        float[] special = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MIN_NORMAL,
            Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-8f, -1e-8f,
            0.5f, -0.5f, 3f, -3f, 4.5f, -4.5f, 13f, -13f, 26f, -26f, 100f, -100f};
        for (float f : special) {
            v.add(f);
        }
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    /**
     * float32 {@code op} over {@link #arguments()}: the largest ratio of the error in ulps to the
     * bound {@code base + slope·x²} (at most 1 passes).
     */
    public static Worst float32(Backend b, UnaryOp op, double base, double slope) {
        float[] x = arguments();
        float[] got = run(b, x, out -> b.unary(op, View.contiguous(out[0], x.length), out[1]));
        return worst(x, got, exact(op, reference(op)), 0, base, slope);
    }

    /** float32 {@code op(1, x)} as {@link #float32(Backend, UnaryOp, double, double)}, in ulps of max(|exact|, 1/4). */
    public static Worst float32(Backend b, BinaryOp op, double base, double slope) {
        float[] x = arguments();
        float[] ones = new float[x.length];
        java.util.Arrays.fill(ones, 1f);
        DeviceBuffer g = b.allocate(DType.FLOAT32, x.length);
        b.write(g, ones);
        float[] got = run(b, x, out -> b.binary(op, View.contiguous(g, x.length), View.contiguous(out[0], x.length),
                out[1]));
        b.release(g);
        return worst(x, got, exact(op, reference(op)), 0.25, base, slope);
    }

    /** The largest relative error of float64 {@code op} over the finite arguments, for |exact| >= 1e-300. */
    public static Worst float64(Backend b, UnaryOp op) {
        float[] xf = arguments();
        double[] x = new double[xf.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = xf[i];
        }
        DeviceBuffer in = b.allocate(DType.FLOAT64, x.length);
        b.write(in, x);
        DeviceBuffer out = b.allocate(DType.FLOAT64, x.length);
        b.unary(op, View.contiguous(in, x.length), out);
        double[] got = new double[x.length];
        b.read(View.contiguous(out, x.length), got);
        b.release(in);
        b.release(out);
        double[] exact = exact(op, reference(op));
        Worst w = new Worst(0, 0, 0, 0);
        for (int i = 0; i < x.length; i++) {
            double e = exact[i];
            double err;
            if (Double.isNaN(e) || Double.isNaN(got[i]) || Double.isInfinite(e) || Double.isInfinite(got[i])) {
                err = (Double.isNaN(e) && Double.isNaN(got[i])) || e == got[i] ? 0 : Double.POSITIVE_INFINITY;
            } else if (Math.abs(e) < 1e-300) {
                err = Math.abs(got[i]) < 1e-290 ? 0 : Double.POSITIVE_INFINITY;
            } else {
                err = Math.abs(got[i] - e) / Math.abs(e);
            }
            if (err > w.error()) {
                w = new Worst(err, x[i], got[i], e);
            }
        }
        return w;
    }

    private interface Launch {
        void run(DeviceBuffer[] inOut);
    }

    private static float[] run(Backend b, float[] x, Launch launch) {
        DeviceBuffer in = b.allocate(DType.FLOAT32, x.length);
        b.write(in, x);
        DeviceBuffer out = b.allocate(DType.FLOAT32, x.length);
        launch.run(new DeviceBuffer[] {in, out});
        float[] got = new float[x.length];
        b.read(View.contiguous(out, x.length), got);
        b.release(in);
        b.release(out);
        return got;
    }

    private static Worst worst(float[] x, float[] got, double[] exact, double floor, double base, double slope) {
        Worst w = new Worst(0, 0, 0, 0);
        for (int i = 0; i < x.length; i++) {
            double e = exact[i];
            double err = ulps(e, got[i], floor) / (base + slope * (double) x[i] * x[i]);
            if (err > w.error()) {
                w = new Worst(err, x[i], got[i], e);
            }
        }
        return w;
    }

    static double ulps(double exact, float got, double floor) {
        if (Double.isNaN(exact) || Float.isNaN(got)) {
            return Double.isNaN(exact) == Float.isNaN(got) ? 0 : Double.POSITIVE_INFINITY;
        }
        if (Double.isInfinite(exact) || Float.isInfinite(got)) {
            return exact == got ? 0 : Double.POSITIVE_INFINITY;
        }
        double scale = Math.max(Math.abs(exact), floor);
        if (scale < Float.MIN_NORMAL) {
            return Math.abs(exact - got) <= Float.MIN_NORMAL ? 0 : Double.POSITIVE_INFINITY;
        }
        return Math.abs(exact - got) / Math.ulp((float) scale);
    }
}
