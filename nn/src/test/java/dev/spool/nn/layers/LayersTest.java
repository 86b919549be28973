package dev.spool.nn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.testing.GradCheck;
import dev.spool.testing.TensorAssert;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class LayersTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void denseComputesActivationOfXTimesKernelPlusBias(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Dense dense = new Dense(3, 2, Activation.RELU, 7);
            dense.bias().assign(Spool.constant(new float[] {0.5f, -0.25f}));
            float[][] x = {{1, -2, 0.5f}, {0.1f, 0.2f, -3}};
            float[] k = dense.kernel().value().toFloatArray();
            double[] expected = new double[4];
            double[] bias = {0.5, -0.25};
            for (int r = 0; r < 2; r++) {
                for (int c = 0; c < 2; c++) {
                    double v = bias[c];
                    for (int i = 0; i < 3; i++) {
                        v += x[r][i] * k[i * 2 + c];
                    }
                    expected[r * 2 + c] = Math.max(0, v);
                }
            }
            Tensor y = dense.call(Spool.constant(x));
            assertEquals(Shape.of(2, 2), y.shape());
            TensorAssert.assertClose(expected, y.toDoubleArray(), 1e-5, 1e-6, "dense");
            assertThrows(ShapeException.class, () -> dense.call(Spool.zeros(2, 4)));
        }
    }

    @Test
    void sequentialNamesVariablesInAStableOrder() {
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope s = new TensorScope()) {
            Sequential model = new Sequential(new Embedding(10, 4, 1), new Dense(4, 8, Activation.TANH, 2),
                    new Dropout(0.5, 3), new LayerNormalization(8), new Dense(8, 3, Activation.LINEAR, 4));
            assertEquals(List.of("embedding/embeddings", "dense/kernel", "dense/bias",
                    "layer_normalization/gamma", "layer_normalization/beta", "dense_1/kernel", "dense_1/bias"),
                    List.copyOf(model.variables().keySet()));
            List<Variable> trainable = model.trainableVariables();
            assertEquals(7, trainable.size());
            assertSame(((Dense) model.layers().get(1)).kernel(), trainable.get(1));
            Tensor out = model.call(Spool.constant(new int[][] {{1, 2}, {3, 9}}), true);
            assertEquals(Shape.of(2, 2, 3), out.shape());
        }
    }

    @Test
    void initializersHaveTheirDistributions() {
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope s = new TensorScope()) {
            // Glorot uniform for [200, 300]: limit sqrt(6 / 500); uniform variance limit² / 3.
            double limit = Math.sqrt(6.0 / 500);
            double[] g = Initializer.GLOROT_UNIFORM.create(Shape.of(200, 300), DType.FLOAT32, 11).toDoubleArray();
            double max = 0;
            double sq = 0;
            for (double v : g) {
                max = Math.max(max, Math.abs(v));
                sq += v * v;
            }
            assertTrue(max <= limit, "within ±limit: " + max);
            assertTrue(max > 0.99 * limit, "fills the range: " + max);
            assertEquals(limit * limit / 3, sq / g.length, 0.02 * limit * limit / 3);
            // He normal for [400, 50]: standard deviation sqrt(2 / 400).
            double[] h = Initializer.HE_NORMAL.create(Shape.of(400, 50), DType.FLOAT32, 12).toDoubleArray();
            double mean = 0;
            double var = 0;
            for (double v : h) {
                mean += v / h.length;
            }
            for (double v : h) {
                var += (v - mean) * (v - mean) / h.length;
            }
            assertEquals(0, mean, 0.005);
            assertEquals(2.0 / 400, var, 0.03 * 2.0 / 400);
            for (double v : Initializer.ZEROS.create(Shape.of(5), DType.FLOAT64, 0).toDoubleArray()) {
                assertEquals(0.0, v);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void initialValuesAreTheSameOnEveryDevice(Device device) {
        float[] onCpu;
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope s = new TensorScope()) {
            onCpu = new Dense(5, 7, Activation.LINEAR, 42).kernel().value().toFloatArray();
        }
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Dense d = new Dense(5, 7, Activation.LINEAR, 42);
            assertSame(device, d.kernel().device());
            assertArrayEquals(onCpu, d.kernel().value().toFloatArray(), 1e-6f);
            assertFalse(java.util.Arrays.equals(onCpu,
                    new Dense(5, 7, Activation.LINEAR, 43).kernel().value().toFloatArray()), "another seed, other values");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void dropoutDropsOnlyInTrainingReproducibly(Device device) {
        float[] firstMaskOnCpu;
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope s = new TensorScope()) {
            firstMaskOnCpu = new Dropout(0.3, 5).call(Spool.ones(100, 100), true).toFloatArray();
        }
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Tensor x = Spool.ones(100, 100);
            Dropout dropout = new Dropout(0.3, 5);
            assertArrayEquals(x.toFloatArray(), dropout.call(x, false).toFloatArray(), "identity at inference");
            float[] a = dropout.call(x, true).toFloatArray();
            float[] b = dropout.call(x, true).toFloatArray();
            int zeros = 0;
            for (float v : a) {
                assertTrue(v == 0f || Math.abs(v - 1 / 0.7f) < 1e-6, "0 or 1/(1-rate): " + v);
                zeros += v == 0f ? 1 : 0;
            }
            assertEquals(0.3, zeros / 10_000.0, 0.02);
            assertFalse(java.util.Arrays.equals(a, b), "each call draws a new mask");
            assertArrayEquals(firstMaskOnCpu, a, "the same seed gives the same masks on every device");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void embeddingGathersRowsAndScattersGradients(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Embedding e = new Embedding(4, 2, 9);
            float[] table = e.embeddings().value().toFloatArray();
            Tensor ids = Spool.constant(new int[][] {{3, 0}, {3, 3}});
            GradientTape tape = new GradientTape();
            Tensor out;
            try (tape) {
                out = e.call(ids);
            }
            assertEquals(Shape.of(2, 2, 2), out.shape());
            float[] got = out.toFloatArray();
            int[] flatIds = {3, 0, 3, 3};
            for (int i = 0; i < 4; i++) {
                assertEquals(table[flatIds[i] * 2], got[i * 2]);
                assertEquals(table[flatIds[i] * 2 + 1], got[i * 2 + 1]);
            }
            // d sum(out) / d table: how often each row was picked.
            TensorAssert.assertClose(new double[] {1, 1, 0, 0, 0, 0, 3, 3},
                    tape.gradient(out, e.embeddings()).toDoubleArray(), 0, 0, "scatter-add");
            for (float v : table) {
                assertTrue(Math.abs(v) <= 0.05f);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void layerNormalizationNormalisesRowsAndHasCorrectGradients(Device device) {
        float[][] x = {{1, 2, 3, 6}, {-1, 0.5f, 0.25f, 2}};
        double eps = 1e-3;
        double[] expected = new double[8];
        for (int r = 0; r < 2; r++) {
            double mean = 0;
            for (float v : x[r]) {
                mean += v / 4.0;
            }
            double var = 0;
            for (float v : x[r]) {
                var += (v - mean) * (v - mean) / 4.0;
            }
            for (int c = 0; c < 4; c++) {
                expected[r * 4 + c] = (x[r][c] - mean) / Math.sqrt(var + eps);
            }
        }
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            LayerNormalization ln = new LayerNormalization(4);
            TensorAssert.assertClose(expected, ln.call(Spool.constant(x)).toDoubleArray(), 1e-5, 1e-5, "layer norm");
            GradientTape tape = new GradientTape();
            Tensor y;
            try (tape) {
                y = ln.call(Spool.constant(x));
            }
            // d sum(y) / d beta = rows per column; d sum(y) / d gamma = column sums of the normalised x.
            List<Tensor> g = tape.gradient(y, List.of(ln.gamma(), ln.beta()));
            double[] colSums = new double[4];
            for (int i = 0; i < 8; i++) {
                colSums[i % 4] += expected[i];
            }
            TensorAssert.assertClose(colSums, g.get(0).toDoubleArray(), 1e-4, 1e-4, "d/dgamma");
            TensorAssert.assertClose(new double[] {2, 2, 2, 2}, g.get(1).toDoubleArray(), 1e-6, 1e-6, "d/dbeta");
        }
        // The input gradient of the layer itself (non-trivial scale and offset) against finite differences.
        DType dtype = device.supportsFloat64() ? DType.FLOAT64 : DType.FLOAT32;
        LayerNormalization lnx;
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            lnx = new LayerNormalization("ln", 5, 1e-3, dtype);
            lnx.gamma().assign(Spool.constant(new double[] {0.5, 1.5, -1, 2, 1}, Shape.of(5), dtype));
            lnx.beta().assign(Spool.constant(new double[] {0.1, 0, -0.2, 0.3, 1}, Shape.of(5), dtype));
        }
        GradCheck.check(device, in -> lnx.call(in[0]), GradCheck.Input.random(Shape.of(3, 5), 1, -2, 2));
    }
}
