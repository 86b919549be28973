package dev.spool.conformance;

import static dev.spool.DType.BOOL;
import static dev.spool.DType.FLOAT32;
import static dev.spool.DType.FLOAT64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.AttentionTesting;
import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UnconnectedGradients;
import dev.spool.testing.GradCheck;
import dev.spool.testing.GradCheck.Input;
import dev.spool.testing.TensorAssert;
import dev.spool.testing.TestDevices;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused scaled dot-product attention (forward and backward primitives) against its definition
 * from ops ({@code AttentionOps.reference}): values and the gradients of q, k and v, in float32 on
 * every device and in float64 where the device has it, over shapes that cross the tiles (T not a
 * multiple of a tile, Tq ≠ Tk, dv ≠ d, depths off the vector width), masks broadcast from lower
 * ranks, causal masks (with rows whose every key is masked), size-1 axes, ranks 2 to 5 and
 * transposed views; then finite differences, a gradient of a gradient (the ops path under an
 * outer tape), and the errors.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try")
class AttentionTest {

    static Stream<Device> devices() {
        return TestDevices.underTest();
    }

    /** q, k, v shapes, the mask's shape (null: none; its values random, or all false), causal, scale (NaN: 1/sqrt(d)), a transposed q/k/v. */
    record Case(String name, int[] q, int[] k, int[] v, int[] mask, boolean maskAllFalse, boolean causal, double scale,
                boolean transposed) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static int[] s(int... dims) {
        return dims;
    }

    static final List<Case> CASES = List.of(
            new Case("T 37, d = dv = 8", s(2, 3, 37, 8), s(2, 3, 37, 8), s(2, 3, 37, 8), null, false, false, Double.NaN,
                    false),
            new Case("causal T 70, d 16", s(1, 2, 70, 16), s(1, 2, 70, 16), s(1, 2, 70, 16), null, false, true,
                    Double.NaN, false),
            new Case("causal T 150 with a random [150, 150] mask", s(1, 2, 150, 32), s(1, 2, 150, 32),
                    s(1, 2, 150, 32), s(150, 150), false, true, Double.NaN, false),
            new Case("Tq 5, Tk 67, d 3, dv 7, mask [5, 67]", s(2, 1, 5, 3), s(2, 1, 67, 3), s(2, 1, 67, 7), s(5, 67),
                    false, false, Double.NaN, false),
            new Case("Tq 67, Tk 5, causal, padding mask [2, 1, 1, 5] (rows with every key masked)", s(2, 2, 67, 4),
                    s(2, 2, 5, 4), s(2, 2, 5, 6), s(2, 1, 1, 5), false, true, Double.NaN, false),
            new Case("every key masked", s(1, 2, 9, 4), s(1, 2, 12, 4), s(1, 2, 12, 3), s(1, 1, 9, 12), true, false,
                    Double.NaN, false),
            new Case("all axes 1", s(1, 1, 1, 1), s(1, 1, 1, 1), s(1, 1, 1, 1), null, false, true, Double.NaN, false),
            new Case("rank 2, causal, Tq 9, Tk 11", s(9, 5), s(11, 5), s(11, 2), null, false, true, Double.NaN, false),
            new Case("rank 3, d 65, dv 17, Tk 129, scale 0.3", s(3, 33, 65), s(3, 129, 65), s(3, 129, 17), null, false,
                    false, 0.3, false),
            new Case("rank 5 with a mask [2, 1, 1, 6, 7]", s(2, 2, 3, 6, 4), s(2, 2, 3, 7, 4), s(2, 2, 3, 7, 5),
                    s(2, 1, 1, 6, 7), false, false, Double.NaN, false),
            new Case("transposed views [B, T, H, d] -> [B, H, T, d], causal, padding mask", s(2, 3, 40, 16),
                    s(2, 3, 40, 16), s(2, 3, 40, 16), s(2, 1, 1, 40), false, true, Double.NaN, true));

    static Stream<Arguments> cases() {
        return TestDevices.withEach(CASES);
    }

    private static List<DType> dtypes(Device d) {
        return d.supportsFloat64() ? List.of(FLOAT32, FLOAT64) : List.of(FLOAT32);
    }

    /** Random values in [-2, 2): scores of several units, so the softmax is far from uniform. */
    private static Tensor random(Random r, int[] shape, DType t, boolean transposed) {
        int n = 1;
        for (int x : shape) {
            n *= x;
        }
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextDouble() * 4 - 2;
        }
        if (!transposed) {
            return Spool.constant(v, Shape.of(shape), t);
        }
        // stored as [B, T, H, d], seen as [B, H, T, d]
        int[] stored = {shape[0], shape[2], shape[1], shape[3]};
        return Spool.constant(v, Shape.of(stored), t).transpose(0, 2, 1, 3);
    }

    private static Tensor mask(Random r, Case c) {
        if (c.mask() == null) {
            return null;
        }
        int n = 1;
        for (int x : c.mask()) {
            n *= x;
        }
        double[] v = new double[n];
        boolean padding = c.mask().length == 4 && c.mask()[2] == 1;
        for (int i = 0; i < n; i++) {
            // a padding mask: the first key of every sequence masked (so, with causal, query 0 sees none)
            v[i] = c.maskAllFalse() || padding && i % c.mask()[3] == 0 ? 0 : r.nextDouble() < 0.7 ? 1 : 0;
        }
        return Spool.constant(v, Shape.of(c.mask()), BOOL);
    }

    private static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor m, Case c) {
        return Double.isNaN(c.scale()) ? Spool.scaledDotProductAttention(q, k, v, m, c.causal())
                : Spool.scaledDotProductAttention(q, k, v, m, c.causal(), c.scale());
    }

    private static Tensor reference(Tensor q, Tensor k, Tensor v, Tensor m, Case c) {
        double scale = Double.isNaN(c.scale()) ? 1 / Math.sqrt(q.shape().dim(-1)) : c.scale();
        return AttentionTesting.reference(q, k, v, m, c.causal(), scale);
    }

    /** out and the gradients of q, k, v under a random output gradient. */
    private static List<Tensor> forwardAndGradients(boolean fused, Tensor q, Tensor k, Tensor v, Tensor m, Case c,
                                                    Tensor dy) {
        GradientTape tape = new GradientTape();
        Tensor y;
        try (tape) {
            tape.watch(q, k, v);
            y = fused ? attention(q, k, v, m, c) : reference(q, k, v, m, c);
        }
        List<Tensor> out = new ArrayList<>();
        out.add(y);
        out.addAll(tape.gradient(y, List.of(q, k, v), dy, UnconnectedGradients.NONE));
        return out;
    }

    static double rtol(DType t) {
        return t == FLOAT64 ? 1e-9 : 2e-4;
    }

    static double atol(DType t) {
        return t == FLOAT64 ? 1e-11 : 2e-5;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void valuesAndGradientsMatchTheDefinitionFromOps(Device device, Case c) {
        for (DType t : dtypes(device)) {
            try (TestDevices.On on = TestDevices.on(device); TensorScope scope = new TensorScope()) {
                Random r = new Random(c.name().hashCode());
                Tensor q = random(r, c.q(), t, c.transposed());
                Tensor k = random(r, c.k(), t, c.transposed());
                Tensor v = random(r, c.v(), t, c.transposed());
                Tensor m = mask(r, c);
                int[] outShape = c.q().clone();
                outShape[outShape.length - 1] = c.v()[c.v().length - 1];
                Tensor dy = Spool.randomUniform(Shape.of(outShape), 7, -1, 1, t);
                List<Tensor> fused = forwardAndGradients(true, q, k, v, m, c, dy);
                List<Tensor> ref = forwardAndGradients(false, q, k, v, m, c, dy);
                String[] names = {"out", "dq", "dk", "dv"};
                for (int i = 0; i < 4; i++) {
                    assertNotNull(fused.get(i), names[i]);
                    assertEquals(ref.get(i).shape(), fused.get(i).shape(), names[i]);
                    assertEquals(t, fused.get(i).dtype(), names[i]);
                    TensorAssert.assertClose(ref.get(i).toDoubleArray(), fused.get(i).toDoubleArray(), rtol(t),
                            atol(t), names[i] + " " + t + " of " + c + " on " + device);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void gradientsMatchFiniteDifferences(Device device) {
        double[] maskValues = new double[5 * 6];
        Random r = new Random(3);
        for (int i = 0; i < maskValues.length; i++) {
            maskValues[i] = r.nextDouble() < 0.75 ? 1 : 0;
        }
        GradCheck.check(device, x -> Spool.scaledDotProductAttention(x[0], x[1], x[2],
                        Spool.constant(maskValues, Shape.of(5, 6), BOOL), true, 0.7),
                Input.random(Shape.of(1, 2, 5, 3), 1, -1, 1), Input.random(Shape.of(1, 2, 6, 3), 2, -1, 1),
                Input.random(Shape.of(1, 2, 6, 2), 3, -1, 1));
        GradCheck.check(device, x -> Spool.scaledDotProductAttention(x[0], x[1], x[2], null, false),
                Input.random(Shape.of(7, 4), 4, -1, 1).asTransposedView(), Input.random(Shape.of(3, 4), 5, -1, 1),
                Input.random(Shape.of(3, 5), 6, -1, 1));
    }

    /**
     * d/dq of sum(dq · u), where dq is the gradient of sum(attention · w): an outer tape records the
     * inner backward pass, which then takes the ops path; the fused op's second derivatives must
     * equal the reference's.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void gradientsOfGradientsMatchTheDefinition(Device device) {
        DType t = device.supportsFloat64() ? FLOAT64 : FLOAT32;
        Case c = new Case("second order", s(1, 2, 6, 3), s(1, 2, 8, 3), s(1, 2, 8, 4), s(6, 8), false, true, Double.NaN,
                false);
        try (TestDevices.On on = TestDevices.on(device); TensorScope scope = new TensorScope()) {
            Random r = new Random(11);
            Tensor q = random(r, c.q(), t, false);
            Tensor k = random(r, c.k(), t, false);
            Tensor v = random(r, c.v(), t, false);
            Tensor m = mask(r, c);
            Tensor w = Spool.randomUniform(Shape.of(1, 2, 6, 4), 5, -1, 1, t);
            Tensor u = Spool.randomUniform(Shape.of(c.q()), 6, -1, 1, t);
            List<List<Tensor>> results = new ArrayList<>();
            for (boolean fused : new boolean[] {true, false}) {
                GradientTape outer = new GradientTape();
                Tensor z;
                try (outer) {
                    outer.watch(q, k, v);
                    GradientTape inner = new GradientTape();
                    Tensor loss;
                    try (inner) {
                        inner.watch(q, k, v);
                        Tensor y = fused ? attention(q, k, v, m, c) : reference(q, k, v, m, c);
                        loss = y.mul(w).sum();
                    }
                    Tensor dq = inner.gradient(loss, q);
                    z = dq.mul(u).sum();
                }
                results.add(outer.gradient(z, List.of(q, k, v), null, UnconnectedGradients.ZERO));
            }
            String[] names = {"d2/dq", "d2/dk", "d2/dv"};
            for (int i = 0; i < 3; i++) {
                TensorAssert.assertClose(results.get(1).get(i).toDoubleArray(), results.get(0).get(i).toDoubleArray(),
                        rtol(t), atol(t), names[i] + " on " + device);
            }
            assertTrue(maxAbs(results.get(0).get(0)) > 1e-3, "the second derivative is not trivially zero");
        }
    }

    private static double maxAbs(Tensor t) {
        double m = 0;
        for (double x : t.toDoubleArray()) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void badInputsAreRejectedWithTheShapes(Device device) {
        try (TestDevices.On on = TestDevices.on(device); TensorScope scope = new TensorScope()) {
            Tensor q = Spool.zeros(Shape.of(2, 4, 8), FLOAT32);
            Tensor k = Spool.zeros(Shape.of(2, 5, 8), FLOAT32);
            Tensor v = Spool.zeros(Shape.of(2, 5, 3), FLOAT32);
            String msg = assertThrows(ShapeException.class, () -> Spool.scaledDotProductAttention(q,
                    Spool.zeros(Shape.of(2, 5, 7), FLOAT32), v, null, false)).getMessage();
            assertTrue(msg.contains("depth") && msg.contains("(2, 5, 7)") || msg.contains("[2, 5, 7]"), msg);
            assertThrows(ShapeException.class, () -> Spool.scaledDotProductAttention(q, k,
                    Spool.zeros(Shape.of(2, 6, 3), FLOAT32), null, false));
            assertThrows(ShapeException.class, () -> Spool.scaledDotProductAttention(q,
                    Spool.zeros(Shape.of(3, 5, 8), FLOAT32), Spool.zeros(Shape.of(3, 5, 3), FLOAT32), null, false));
            assertThrows(ShapeException.class, () -> Spool.scaledDotProductAttention(Spool.zeros(Shape.of(8), FLOAT32),
                    k, v, null, false));
            assertThrows(ShapeException.class, () -> Spool.scaledDotProductAttention(q, k, v,
                    Spool.zeros(Shape.of(4, 6), BOOL), false));
            assertThrows(ShapeException.class, () -> Spool.scaledDotProductAttention(q, k, v,
                    Spool.zeros(Shape.of(3, 2, 4, 5), BOOL), false)); // more axes than the scores
            assertThrows(DTypeException.class, () -> Spool.scaledDotProductAttention(q, k, v,
                    Spool.zeros(Shape.of(4, 5), FLOAT32), false));
            assertThrows(DTypeException.class, () -> Spool.scaledDotProductAttention(q, k.cast(DType.INT32), v, null,
                    false));
            assertThrows(DTypeException.class, () -> Spool.scaledDotProductAttention(q.cast(DType.INT32),
                    k.cast(DType.INT32), v.cast(DType.INT32), null, false));
            // empty axes go through the definition: Tk = 0 gives zeros, Tq = 0 an empty result
            Tensor empty = Spool.scaledDotProductAttention(q, Spool.zeros(Shape.of(2, 0, 8), FLOAT32),
                    Spool.zeros(Shape.of(2, 0, 3), FLOAT32), null, false);
            assertEquals(Shape.of(2, 4, 3), empty.shape());
        }
    }
}
