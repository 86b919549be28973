package dev.spool.conformance;

import static dev.spool.DType.FLOAT32;
import static dev.spool.DType.FLOAT64;
import static dev.spool.testing.TensorAssert.assertClose;
import static dev.spool.testing.TensorAssert.f32;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.UnconnectedGradients;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Rows of {@link OpForwardTest} for the fused softmax primitives: forward values and the values
 * of their backward passes (through a tape, with a random output gradient) against a float64
 * host reference, on shapes that cross the backends' strategies (rank 1 and 3, rows of 1, rows
 * of 1000 and 4096 elements, empty rows), on transposed views and on extreme entries (±1000,
 * -inf, +inf, NaN), where the expected values are those of the composite the primitives
 * replace (max shift, NaN propagating through the max).
 */
final class SoftmaxRows {
    private SoftmaxRows() {
    }

    private static final Shape[] SHAPES = {Shape.of(7), Shape.of(2, 3, 5), Shape.of(4, 1), Shape.of(3, 1000),
        Shape.of(2, 4096), Shape.of(0, 3), Shape.of(3, 0), Shape.of(1, 1)};

    /** Rows of four: -inf entries, NaN, ±1000, all -inf, +inf, and a plain row. */
    private static final double[] EXTREMES = {
        0, Double.NEGATIVE_INFINITY, 1, 2,
        Double.NaN, 1, 2, 3,
        1000, -1000, 0, 999,
        Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY,
        Double.POSITIVE_INFINITY, 0, 1, 2,
        -3, 0.5, 0.25, 4};

    static void add() {
        OpForwardTest.row("fused softmax, logSoftmax: shapes", d -> {
            for (DType t : types(d)) {
                for (Shape shape : SHAPES) {
                    double[] x = values(t, shape, 11, 10);
                    checkSoftmax(t, shape, x, Spool.constant(x, shape, t), shape.toString());
                }
                // a transposed view: rows are strided
                double[] x = values(t, Shape.of(6, 5), 12, 5);
                Tensor v = Spool.constant(x, Shape.of(6, 5), t).transpose();
                double[] xt = transpose(x, 6, 5);
                checkSoftmax(t, Shape.of(5, 6), xt, v, "transposed view");
            }
        });
        OpForwardTest.row("fused softmax, logSoftmax: extremes", d -> {
            for (DType t : types(d)) {
                Shape shape = Shape.of(6, 4);
                checkSoftmax(t, shape, EXTREMES, Spool.constant(EXTREMES, shape, t), "extremes");
            }
        });
        OpForwardTest.row("fused softmaxCrossEntropyWithLogits: shapes and extremes", d -> {
            for (DType t : types(d)) {
                for (Shape shape : SHAPES) {
                    double[] x = values(t, shape, 13, 10);
                    // distributions per row (GradientCheckTest has labels that do not sum to 1: with
                    // thousands of them, float32 cancellation in exp(lsm) sum(labels) - labels would
                    // dominate the comparison)
                    double[] labels = values(t, shape, 14, 1);
                    int n = shape.dim(shape.rank() - 1);
                    for (int r = 0; n > 0 && r < labels.length / n; r++) {
                        double sum = 0;
                        for (int j = 0; j < n; j++) {
                            sum += Math.abs(labels[r * n + j]);
                        }
                        for (int j = 0; j < n; j++) {
                            labels[r * n + j] = Math.abs(labels[r * n + j]) / sum;
                        }
                    }
                    if (t == FLOAT32) {
                        labels = f32(labels);
                    }
                    checkCrossEntropy(t, shape, labels, x, shape.toString());
                }
                Shape shape = Shape.of(6, 4);
                double[] labels = new double[24];
                for (int r = 0; r < 6; r++) {
                    labels[r * 4 + 2] = 1; // label 0 on the -inf logit of row 0: 0 * -inf is NaN, as the composite
                }
                checkCrossEntropy(t, shape, labels, EXTREMES, "extremes");
            }
        });
    }

    private static List<DType> types(Device d) {
        return d.supportsFloat64() ? List.of(FLOAT32, FLOAT64) : List.of(FLOAT32);
    }

    private static double[] values(DType t, Shape shape, long seed, double scale) {
        Random r = new Random(seed);
        double[] v = new double[(int) shape.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (2 * r.nextDouble() - 1) * scale;
        }
        return t == FLOAT32 ? f32(v) : v;
    }

    private static double[] transpose(double[] x, int rows, int cols) {
        double[] out = new double[x.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                out[j * rows + i] = x[i * cols + j];
            }
        }
        return out;
    }

    private static double rtol(DType t) {
        return t == FLOAT32 ? 2e-5 : 1e-12;
    }

    private static double atol(DType t) {
        return t == FLOAT32 ? 1e-6 : 1e-14;
    }

    /** softmax and logSoftmax of {@code xt} (logical values {@code x}, shape {@code shape}), and their VJPs. */
    private static void checkSoftmax(DType t, Shape shape, double[] x, Tensor xt, String what) {
        int n = shape.dim(shape.rank() - 1);
        int rows = n == 0 ? 0 : x.length / n;
        double[] sm = new double[x.length];
        double[] lsm = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                m = Math.max(m, x[r * n + j]);
            }
            double s = 0;
            for (int j = 0; j < n; j++) {
                s += Math.exp(x[r * n + j] - m);
            }
            for (int j = 0; j < n; j++) {
                double v = x[r * n + j] - m;
                sm[r * n + j] = Math.exp(v) / s;
                lsm[r * n + j] = v - Math.log(s);
            }
        }
        double[] w = values(t, shape, 15, 1);
        double[] dSm = new double[x.length];
        double[] dLsm = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double gy = 0;
            double g = 0;
            for (int j = 0; j < n; j++) {
                gy += w[r * n + j] * sm[r * n + j];
                g += w[r * n + j];
            }
            for (int j = 0; j < n; j++) {
                int i = r * n + j;
                dSm[i] = sm[i] * (w[i] - gy);
                dLsm[i] = w[i] - sm[i] * g;
            }
        }
        Tensor wt = Spool.constant(w, shape, t);
        for (boolean log : new boolean[] {false, true}) {
            Tensor y;
            Tensor dx;
            try (GradientTape tape = new GradientTape()) {
                tape.watch(xt);
                y = log ? xt.logSoftmax(-1) : xt.softmax(-1);
                dx = tape.gradient(y, List.of(xt), wt, UnconnectedGradients.ZERO).get(0);
            }
            String name = (log ? "logSoftmax " : "softmax ") + t + " " + what;
            assertClose(log ? lsm : sm, y.toDoubleArray(), rtol(t), atol(t), name);
            assertClose(log ? dLsm : dSm, dx.toDoubleArray(), rtol(t), atol(t) * Math.max(1, n / 100.0),
                    name + " gradient");
        }
    }

    /** The loss, and its gradients in both inputs for a random output gradient. */
    private static void checkCrossEntropy(DType t, Shape shape, double[] labels, double[] x, String what) {
        int n = shape.dim(shape.rank() - 1);
        Shape rowsShape = Shape.of(Arrays.copyOf(shape.toArray(), shape.rank() - 1));
        int rows = (int) rowsShape.size();
        double[] g = values(t, rowsShape, 16, 1);
        double[] loss = new double[rows];
        double[] dLogits = new double[x.length];
        double[] dLabels = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double m = Double.NEGATIVE_INFINITY;
            double sumLabels = 0;
            for (int j = 0; j < n; j++) {
                m = Math.max(m, x[r * n + j]);
                sumLabels += labels[r * n + j];
            }
            double s = 0;
            for (int j = 0; j < n; j++) {
                s += Math.exp(x[r * n + j] - m);
            }
            double acc = 0;
            for (int j = 0; j < n; j++) {
                int i = r * n + j;
                double lsm = x[i] - m - Math.log(s);
                acc += labels[i] * lsm;
                dLogits[i] = g[r] * (Math.exp(lsm) * sumLabels - labels[i]);
                dLabels[i] = -g[r] * lsm;
            }
            loss[r] = -acc;
        }
        Tensor lt = Spool.constant(labels, shape, t);
        Tensor xt = Spool.constant(x, shape, t);
        Tensor y;
        List<Tensor> grads;
        try (GradientTape tape = new GradientTape()) {
            tape.watch(lt, xt);
            y = Spool.softmaxCrossEntropyWithLogits(lt, xt);
            grads = tape.gradient(y, List.of(lt, xt), Spool.constant(g, rowsShape, t), UnconnectedGradients.ZERO);
        }
        String name = "softmaxCrossEntropyWithLogits " + t + " " + what;
        assertClose(loss, y.toDoubleArray(), rtol(t), atol(t) * Math.max(1, n / 100.0), name);
        assertClose(dLabels, grads.get(0).toDoubleArray(), rtol(t), atol(t), name + " d/dlabels");
        assertClose(dLogits, grads.get(1).toDoubleArray(), rtol(t), atol(t), name + " d/dlogits");
    }
}
