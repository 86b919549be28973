package dev.spool.nn.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UsageException;
import dev.spool.Variable;
import dev.spool.nn.io.Checkpoint;
import dev.spool.nn.io.Npz;
import dev.spool.nn.io.NpyArray;
import dev.spool.testing.GradCheck;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link MultiHeadAttention} as Keras's: against Keras's computation written out in numpy float64
 * (mha_reference.py, run by python3 on the layer's checkpoint; skipped where numpy is missing
 * unless {@code SPOOL_REQUIRE_NUMPY=1}), with and without an attention mask and the causal mask,
 * query, key and value of different widths; the variables' names, shapes and Glorot limits; the
 * causal and padding masks by perturbation (a masked key's value changes nothing); gradients by
 * finite differences; a checkpoint round trip; dropout; and Dense on rank-3 input against the
 * same reference.
 */
class MultiHeadAttentionTest {
    private static final int B = 2;
    private static final int T = 5;
    private static final int S = 6;

    private static MultiHeadAttention layer() {
        return new MultiHeadAttention(3, 4, 5, 0.0, true, 6, 11);
    }

    private static Tensor query() {
        return Spool.randomUniform(Shape.of(B, T, 7), 1, -1, 1, DType.FLOAT32);
    }

    private static Tensor value() {
        return Spool.randomUniform(Shape.of(B, S, 8), 2, -1, 1, DType.FLOAT32);
    }

    private static Tensor key() {
        return Spool.randomUniform(Shape.of(B, S, 9), 3, -1, 1, DType.FLOAT32);
    }

    /** A padding mask: example 0 attends to the first 4 keys, example 1 to all but key 2. */
    private static Tensor mask() {
        boolean[][][] m = new boolean[B][T][S];
        for (int t = 0; t < T; t++) {
            for (int s = 0; s < S; s++) {
                m[0][t][s] = s < 4;
                m[1][t][s] = s != 2;
            }
        }
        return Spool.constant(m);
    }

    /** Built, with biases that are not zero (zeros would hide a bias applied wrongly). */
    private static MultiHeadAttention builtLayer() {
        MultiHeadAttention mha = layer();
        mha.build(7, 9, 8, DType.FLOAT32);
        long seed = 40;
        for (Map.Entry<String, Variable> e : mha.variables().entrySet()) {
            if (e.getKey().endsWith("bias")) {
                e.getValue().assign(Spool.randomUniform(e.getValue().shape(), seed++, -0.5, 0.5, DType.FLOAT32));
            }
        }
        return mha;
    }

    @Test
    void variablesAreKerasesNamesShapesAndInitializers() {
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope s = new TensorScope()) {
            MultiHeadAttention mha = layer();
            assertFalse(mha.built());
            assertThrows(UsageException.class, mha::variables);
            mha.call(query(), value(), key(), null, false, false);
            Map<String, Shape> want = new LinkedHashMap<>();
            want.put("query/kernel", Shape.of(7, 3, 4));
            want.put("query/bias", Shape.of(3, 4));
            want.put("key/kernel", Shape.of(9, 3, 4));
            want.put("key/bias", Shape.of(3, 4));
            want.put("value/kernel", Shape.of(8, 3, 5));
            want.put("value/bias", Shape.of(3, 5));
            want.put("attention_output/kernel", Shape.of(3, 5, 6));
            want.put("attention_output/bias", Shape.of(6));
            Map<String, Variable> vars = mha.variables();
            assertEquals(List.copyOf(want.keySet()), List.copyOf(vars.keySet()));
            want.forEach((name, shape) -> assertEquals(shape, vars.get(name).shape(), name));
            // Glorot uniform with Keras's fans for [d, heads, k]: fanIn = d·heads, fanOut = d·k
            double[][] fans = {{7 * 3, 7 * 4}, {9 * 3, 9 * 4}, {8 * 3, 8 * 5}, {3 * 5, 3 * 6}};
            String[] kernels = {"query/kernel", "key/kernel", "value/kernel", "attention_output/kernel"};
            for (int i = 0; i < kernels.length; i++) {
                double limit = Math.sqrt(6 / (fans[i][0] + fans[i][1]));
                double max = 0;
                for (double v : vars.get(kernels[i]).value().toDoubleArray()) {
                    max = Math.max(max, Math.abs(v));
                }
                assertTrue(max <= limit && max > 0.8 * limit, kernels[i] + ": max |w| " + max + ", limit " + limit);
            }
            for (String bias : new String[] {"query/bias", "key/bias", "value/bias", "attention_output/bias"}) {
                for (double v : vars.get(bias).value().toDoubleArray()) {
                    assertEquals(0.0, v, bias);
                }
            }
            // without outputShape the output has the query's width; self-attention through Layer.call
            MultiHeadAttention self = new MultiHeadAttention(2, 3, 1);
            assertEquals(Shape.of(B, T, 7), self.call(query()).shape());
            assertThrows(ShapeException.class, () -> self.call(value()));
        }
    }

    /** Runs mha_reference.py on the layer's weights; the expected outputs by name. */
    private static Map<String, NpyArray> numpyReference(Path dir, MultiHeadAttention mha, Dense dense) throws Exception {
        String why = dev.spool.nn.io.NumpyInteropTest.numpyUnavailableReason();
        if (why != null && "1".equals(System.getenv("SPOOL_REQUIRE_NUMPY"))) {
            throw new AssertionError("SPOOL_REQUIRE_NUMPY=1 but " + why);
        }
        Assumptions.assumeTrue(why == null, "CONDITIONAL numpy reference skipped: " + why);
        Map<String, Variable> weights = new LinkedHashMap<>();
        mha.variables().forEach((k, v) -> weights.put("multi_head_attention/" + k, v));
        dense.variables().forEach((k, v) -> weights.put("dense/" + k, v));
        Npz.write(dir.resolve("weights.npz"), weights);
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        inputs.put("query", query());
        inputs.put("value", value());
        inputs.put("key", key());
        inputs.put("mask", mask());
        Npz.write(dir.resolve("inputs.npz"), inputs);
        Path script = dir.resolve("mha_reference.py");
        try (InputStream in = MultiHeadAttentionTest.class.getResourceAsStream("mha_reference.py")) {
            Files.copy(in, script);
        }
        Process p = new ProcessBuilder("python3", script.toString(), dir.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "numpy script timed out");
        assertEquals(0, p.exitValue(), out);
        return Npz.read(dir.resolve("expected.npz"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void matchesKerasesComputationInNumpy(Device device, @TempDir Path dir) throws Exception {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            MultiHeadAttention mha = builtLayer();
            Dense dense = new Dense(7, 6, Activation.LINEAR, 5);
            dense.bias().assign(Spool.randomUniform(Shape.of(6), 9, -0.5, 0.5, DType.FLOAT32));
            Map<String, NpyArray> expected = numpyReference(dir, mha, dense);
            Map<String, Tensor> got = new LinkedHashMap<>();
            got.put("plain", mha.call(query(), value(), key(), null, false, false));
            got.put("masked", mha.call(query(), value(), key(), mask(), false, false));
            got.put("causal", mha.call(query(), value(), key(), null, true, false));
            got.put("both", mha.call(query(), value(), key(), mask(), true, false));
            got.put("dense", dense.call(query()));
            for (Map.Entry<String, Tensor> e : got.entrySet()) {
                NpyArray want = expected.get(e.getKey());
                assertEquals(Shape.of(want.shape()), e.getValue().shape(), e.getKey());
                double[] w = (double[]) want.data();
                double[] g = e.getValue().toDoubleArray();
                for (int i = 0; i < w.length; i++) {
                    assertEquals(w[i], g[i], 2e-5 + 2e-5 * Math.abs(w[i]), e.getKey() + " element " + i);
                }
            }
        }
    }

    /** Output t must not change when a key or value at s > t (causal) or a masked key s changes. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void maskedPositionsHaveNoInfluence(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            MultiHeadAttention mha = builtLayer();
            Tensor x = Spool.randomUniform(Shape.of(1, T, 7), 4, -1, 1, DType.FLOAT32);
            Tensor v = Spool.randomUniform(Shape.of(1, T, 8), 5, -1, 1, DType.FLOAT32);
            Tensor k = Spool.randomUniform(Shape.of(1, T, 9), 6, -1, 1, DType.FLOAT32);
            // change position 3 of value and key
            Tensor bump = Spool.constant(new float[][][] {{{0}, {0}, {0}, {1}, {0}}});
            Tensor v2 = v.add(bump.mul(3.0));
            Tensor k2 = k.add(bump.mul(-2.0));
            float[] a = mha.call(x, v, k, null, true, false).toFloatArray();
            float[] b = mha.call(x, v2, k2, null, true, false).toFloatArray();
            for (int t = 0; t < T; t++) {
                for (int f = 0; f < 6; f++) {
                    int i = t * 6 + f;
                    if (t < 3) {
                        assertEquals(a[i], b[i], 1e-6, "causal: query " + t + " sees key 3");
                    } else if (f == 0) {
                        assertTrue(Math.abs(a[i] - b[i]) > 1e-4, "query " + t + " ignores key 3");
                    }
                }
            }
            // a padding mask that hides key 3 from every query: nothing changes anywhere
            boolean[][][] m = new boolean[1][T][T];
            for (int t = 0; t < T; t++) {
                for (int j = 0; j < T; j++) {
                    m[0][t][j] = j != 3;
                }
            }
            Tensor hide = Spool.constant(m);
            float[] c = mha.call(x, v, k, hide, false, false).toFloatArray();
            float[] d = mha.call(x, v2, k2, hide, false, false).toFloatArray();
            for (int i = 0; i < c.length; i++) {
                assertEquals(c[i], d[i], 1e-6, "padding mask: element " + i);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void gradientsMatchFiniteDifferences(Device device) {
        // built at the first call, in the dtype GradCheck uses (float64 where the device has it)
        MultiHeadAttention mha = new MultiHeadAttention(2, 3, 2, 0.0, true, 4, 7);
        GradCheck.check(device, x -> mha.call(x[0], x[1], x[2], null, true, false).tanh(),
                GradCheck.Input.random(Shape.of(2, 3, 5), 1, -1, 1),
                GradCheck.Input.random(Shape.of(2, 4, 6), 2, -1, 1),
                GradCheck.Input.random(Shape.of(2, 4, 3), 3, -1, 1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void checkpointRoundTrip(Device device, @TempDir Path dir) throws IOException {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            MultiHeadAttention trained = builtLayer();
            Path file = dir.resolve("mha.npz");
            Checkpoint.save(file, trained);
            MultiHeadAttention restored = new MultiHeadAttention(3, 4, 5, 0.0, true, 6, 999).build(7, 9, 8,
                    DType.FLOAT32);
            float[] before = restored.call(query(), value(), key(), mask(), true, false).toFloatArray();
            Checkpoint.restore(file, restored);
            float[] want = trained.call(query(), value(), key(), mask(), true, false).toFloatArray();
            float[] got = restored.call(query(), value(), key(), mask(), true, false).toFloatArray();
            assertEquals(want.length, got.length);
            boolean differed = false;
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 0f, "element " + i);
                differed |= before[i] != want[i];
            }
            assertTrue(differed, "the restored layer started from other weights");
        }
    }

    /** Dropout on the attention probabilities: training draws masks, inference is the op's result. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void dropoutOnlyInTraining(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            MultiHeadAttention plain = builtLayer();
            MultiHeadAttention dropping = new MultiHeadAttention(3, 4, 5, 0.5, true, 6, 11).build(7, 9, 8,
                    DType.FLOAT32);
            plain.variables().forEach((k, v) -> dropping.variables().get(k).assign(v));
            float[] want = plain.call(query(), value(), key(), mask(), true, false).toFloatArray();
            float[] inference = dropping.call(query(), value(), key(), mask(), true, false).toFloatArray();
            float[] train1 = dropping.call(query(), value(), key(), mask(), true, true).toFloatArray();
            float[] train2 = dropping.call(query(), value(), key(), mask(), true, true).toFloatArray();
            int changed = 0;
            int differ = 0;
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], inference[i], 0f);
                changed += Math.abs(train1[i] - want[i]) > 1e-5 ? 1 : 0;
                differ += Math.abs(train1[i] - train2[i]) > 1e-5 ? 1 : 0;
            }
            assertTrue(changed > want.length / 2 && differ > want.length / 2, changed + ", " + differ);
            // the training path with rate 0 is the op's
            MultiHeadAttention none = builtLayer();
            float[] a = none.call(query(), value(), key(), mask(), true, true).toFloatArray();
            for (int i = 0; i < a.length; i++) {
                assertEquals(want[i], a[i], 0f);
            }
        }
    }
}
