package dev.spool.testing;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UnconnectedGradients;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Checks tape gradients against central finite differences, as JAX's {@code check_grads}.
 *
 * <p>The function maps tensors to a tensor of any shape; a non-scalar result is reduced to the
 * scalar {@code sum(f(x) * w)} with fixed random weights {@code w}, so every output element is
 * checked with its own weight. Each differentiable input is watched, the gradient is taken with
 * {@link UnconnectedGradients#NONE} (so a {@code null} for an input the function uses is a
 * failure), and each element of each gradient is compared with {@code (L(x + eps) - L(x - eps)) / 2 eps},
 * where {@code L} is evaluated again on the device and reduced on the host in double.
 *
 * <p>Works in float64 (eps 1e-6, tolerance 1e-5) or, on a device without float64, in float32
 * (eps 1e-3, tolerance 1e-2).
 */
@SuppressWarnings("try") // scopes (device, tensors, pauses) are opened for their effect
public final class GradCheck {
    private GradCheck() {
    }

    /** The function under test. */
    @FunctionalInterface
    public interface Fn {
        Tensor apply(Tensor... inputs);
    }

    /**
     * One input: its shape and row-major values. {@code dtype == null} means the float type of the
     * check; an integer dtype makes an index input. {@code differentiable} inputs are watched and
     * checked; {@code transposed} hands the function a transposed (non-contiguous) view with this
     * shape instead of a contiguous tensor.
     */
    public record Input(Shape shape, double[] values, DType dtype, boolean differentiable, boolean transposed) {
        public Input {
            if (values.length != shape.size()) {
                throw new IllegalArgumentException(values.length + " values for shape " + shape);
            }
            if (transposed && shape.rank() < 2) {
                throw new IllegalArgumentException("a transposed view needs rank >= 2, got " + shape);
            }
        }

        /** A differentiable float input. */
        public static Input of(Shape shape, double... values) {
            return new Input(shape, values, null, true, false);
        }

        /** A differentiable float input with values uniform in {@code [lo, hi)} from {@code seed}. */
        public static Input random(Shape shape, long seed, double lo, double hi) {
            return of(shape, HostRef.uniform(seed, (int) shape.size(), lo, hi));
        }

        /** An int32 or int64 input (indices); never differentiated. */
        public static Input indices(Shape shape, DType dtype, long... values) {
            return new Input(shape, Arrays.stream(values).asDoubleStream().toArray(), dtype, false, false);
        }

        /** The same input, handed over as a transposed view (last two dimensions swapped in memory). */
        public Input asTransposedView() {
            return new Input(shape, values, dtype, differentiable, true);
        }

        /** The same float input, not differentiated (a constant of the function). */
        public Input fixed() {
            return new Input(shape, values, dtype, false, transposed);
        }

        /** This input as a tensor on the current device; a float input gets {@code floatType}. */
        public Tensor tensor(DType floatType) {
            DType dt = dtype == null ? floatType : dtype;
            if (!transposed) {
                return Spool.constant(values, shape, dt);
            }
            int[] dims = shape.toArray();
            HostRef.Nd swapped = HostRef.swapLastTwo(new HostRef.Nd(values, dims));
            Tensor base = Spool.constant(swapped.data(), Shape.of(swapped.shape()), dt);
            int r = dims.length;
            int[] perm = java.util.stream.IntStream.range(0, r).toArray();
            perm[r - 1] = r - 2;
            perm[r - 2] = r - 1;
            return base.transpose(perm);
        }

        Input withValue(int i, double v) {
            double[] copy = values.clone();
            copy[i] = v;
            return new Input(shape, copy, dtype, differentiable, transposed);
        }

        @Override
        public String toString() {
            return (differentiable ? "" : "fixed ") + (dtype == null ? "" : dtype + " ") + shape
                    + (transposed ? "ᵀview" : "");
        }
    }

    /** Tolerances of one check. */
    record Precision(DType dtype, double eps, double rtol, double atol) {
    }

    static Precision precisionFor(Device device) {
        return device.supportsFloat64()
                ? new Precision(DType.FLOAT64, 1e-6, 1e-5, 1e-5)
                : new Precision(DType.FLOAT32, 1e-3, 1e-2, 1e-2);
    }

    /** Checks every differentiable input of {@code f} at {@code inputs} on {@code device}. */
    public static void check(Device device, Fn f, Input... inputs) {
        check(device, f, List.of(inputs));
    }

    public static void check(Device device, Fn f, List<Input> inputs) {
        Precision p = precisionFor(device);
        try (Device.Scope ds = Device.use(device); TensorScope scope = new TensorScope()) {
            Tensor[] xs = materialize(inputs, p.dtype());
            List<Tensor> sources = new ArrayList<>();
            List<Integer> sourceIndex = new ArrayList<>();
            Tensor y;
            Tensor loss;
            double[] weights;
            GradientTape tape = new GradientTape();
            try (tape) {
                for (int i = 0; i < xs.length; i++) {
                    if (inputs.get(i).differentiable()) {
                        tape.watch(xs[i]);
                        sources.add(xs[i]);
                        sourceIndex.add(i);
                    }
                }
                y = f.apply(xs);
                weights = weightsFor(y.shape());
                loss = y.mul(Spool.constant(weights, y.shape(), y.dtype())).sum();
            }
            if (sources.isEmpty()) {
                throw new IllegalArgumentException("no differentiable input to check");
            }
            List<Tensor> grads = tape.gradient(loss, sources, null, UnconnectedGradients.NONE);
            for (int s = 0; s < sources.size(); s++) {
                int i = sourceIndex.get(s);
                Tensor x = xs[i];
                Tensor g = grads.get(s);
                String what = "gradient of input " + i + " " + inputs.get(i);
                if (g == null) {
                    throw new AssertionError(what + " is null: the tape lost the path from the result to it");
                }
                if (!g.shape().equals(x.shape()) || g.dtype() != x.dtype() || g.device() != x.device()) {
                    throw new AssertionError(what + ": expected shape " + x.shape() + " " + x.dtype() + " on "
                            + x.device() + ", got " + g.shape() + " " + g.dtype() + " on " + g.device());
                }
                double[] analytic = g.toDoubleArray();
                double[] numeric = new double[analytic.length];
                Input in = inputs.get(i);
                for (int j = 0; j < numeric.length; j++) {
                    double v = in.values()[j];
                    List<Input> plus = new ArrayList<>(inputs);
                    List<Input> minus = new ArrayList<>(inputs);
                    plus.set(i, in.withValue(j, v + p.eps()));
                    minus.set(i, in.withValue(j, v - p.eps()));
                    numeric[j] = (evaluate(f, plus, weights, p.dtype()) - evaluate(f, minus, weights, p.dtype()))
                            / (2 * p.eps());
                }
                TensorAssert.assertClose(numeric, analytic, p.rtol(), p.atol(),
                        what + " (" + p.dtype() + " finite differences vs tape)");
            }
        }
    }

    /** {@code sum(f(inputs) * weights)}, reduced on the host in double. */
    private static double evaluate(Fn f, List<Input> inputs, double[] weights, DType dtype) {
        try (TensorScope scope = new TensorScope()) {
            double[] y = f.apply(materialize(inputs, dtype)).toDoubleArray();
            double s = 0;
            for (int k = 0; k < y.length; k++) {
                s += y[k] * weights[k];
            }
            return s;
        }
    }

    /** Fixed weights in ±[0.5, 1.5): none close to zero, so no output element escapes the check. */
    private static double[] weightsFor(Shape shape) {
        Random r = new Random(7 + 31L * shape.hashCode());
        double[] w = new double[(int) shape.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = (r.nextBoolean() ? 1 : -1) * (0.5 + r.nextDouble());
        }
        return w;
    }

    /** Creates the input tensors on the current device; float inputs get {@code floatType}. */
    public static Tensor[] materialize(List<Input> inputs, DType floatType) {
        Tensor[] xs = new Tensor[inputs.size()];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = inputs.get(i).tensor(floatType);
        }
        return xs;
    }
}
