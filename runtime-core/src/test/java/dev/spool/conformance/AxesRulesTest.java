package dev.spool.conformance;

import static dev.spool.DType.FLOAT32;
import static dev.spool.testing.TensorAssert.assertClose;
import static dev.spool.testing.TensorAssert.assertExact;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Moments;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.testing.TestDevices;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * TensorFlow's axes rules, op by op, on every device: for the reductions the form without axes
 * (and {@code null}) means every axis and an explicit empty array means no axis
 * ({@code tf.reduce_sum(x, axis=[])} is x, whatever keepDims); {@code squeeze} with no axes or an
 * empty array removes every size-1 axis; {@code transpose} without perm reverses the dimensions and
 * an empty perm is valid only for a scalar; {@code moments} over no axis gives (x, 0).
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try") // scopes are opened for their effect
class AxesRulesTest {
    private static final double[] V = {1.5, -2, 3, 0.25, 5, -6};

    record Reduction(String name, Function<Tensor, Tensor> all, BiFunction<Tensor, int[], Tensor> axes,
            Function<Tensor, Tensor> operandAll, BiFunction<Tensor, int[], Tensor> operandAxes,
            double allValue) {
    }

    private static final List<Reduction> REDUCTIONS = List.of(
            new Reduction("sum", Spool::reduceSum, Spool::reduceSum, Tensor::sum, Tensor::sum, 1.75),
            new Reduction("mean", Spool::reduceMean, Spool::reduceMean, Tensor::mean, Tensor::mean, 1.75 / 6),
            new Reduction("max", Spool::reduceMax, Spool::reduceMax, Tensor::max, Tensor::max, 5),
            new Reduction("min", Spool::reduceMin, Spool::reduceMin, Tensor::min, Tensor::min, -6),
            new Reduction("prod", Spool::reduceProd, Spool::reduceProd, Tensor::prod, Tensor::prod, 1.5 * -2 * 3 * 0.25 * 5 * -6));

    private static Tensor x() {
        return Spool.constant(V, Shape.of(2, 3), FLOAT32);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void reductionsWithoutAxesReduceEveryAxis(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            for (Reduction r : REDUCTIONS) {
                Tensor x = x();
                assertClose(r.all().apply(x), Shape.of(), FLOAT32, new double[] {r.allValue()}, 1e-6, 1e-6);
                assertClose(r.operandAll().apply(x), Shape.of(), FLOAT32, new double[] {r.allValue()}, 1e-6, 1e-6);
                assertClose(r.axes().apply(x, null), Shape.of(), FLOAT32, new double[] {r.allValue()}, 1e-6, 1e-6);
                Tensor kept = reduceKeep(r.name(), x, null);
                assertClose(kept, Shape.of(1, 1), FLOAT32, new double[] {r.allValue()}, 1e-6, 1e-6);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void reductionsOverAnEmptyAxesListReturnTheInput(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            for (Reduction r : REDUCTIONS) {
                Tensor x = x();
                assertExact(r.axes().apply(x, new int[0]), Shape.of(2, 3), FLOAT32, V);
                assertExact(r.operandAxes().apply(x, new int[0]), Shape.of(2, 3), FLOAT32, V);
                for (boolean keep : new boolean[] {false, true}) {
                    assertExact(reduceKeep(r.name(), x, new int[0], keep), Shape.of(2, 3), FLOAT32, V);
                }
                // a strided view and an integer tensor keep their values too (an integer mean divides by 1)
                assertExact(r.axes().apply(x.transpose(), new int[0]), Shape.of(3, 2), FLOAT32, 1.5, 0.25, -2, 5, 3, -6);
                Tensor ints = Spool.constant(new int[] {7, -3, 2});
                assertExact(r.axes().apply(ints, new int[0]), Shape.of(3), dev.spool.DType.INT32, 7, -3, 2);
                // the gradient of "no reduction" is the upstream gradient unchanged
                try (GradientTape tape = new GradientTape()) {
                    tape.watch(x);
                    Tensor y = r.axes().apply(x, new int[0]).mul(Spool.constant(new float[] {1, 2, 3}));
                    Tensor g = tape.gradient(y.sum(), x);
                    assertExact(g, Shape.of(2, 3), FLOAT32, 1, 2, 3, 1, 2, 3);
                }
            }
        }
    }

    private static Tensor reduceKeep(String name, Tensor x, int[] axes) {
        return reduceKeep(name, x, axes, true);
    }

    private static Tensor reduceKeep(String name, Tensor x, int[] axes, boolean keep) {
        return OpForwardTest.reduce(name, x, axes, keep);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void squeezeWithoutAxesOrWithEmptyAxesRemovesEverySizeOneAxis(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(V, Shape.of(1, 2, 1, 3), FLOAT32);
            assertExact(Spool.squeeze(x), Shape.of(2, 3), FLOAT32, V);
            assertExact(x.squeeze(), Shape.of(2, 3), FLOAT32, V);
            assertExact(Spool.squeeze(x, new int[0]), Shape.of(2, 3), FLOAT32, V); // TF: squeeze_dims=[] is all
            assertExact(Spool.squeeze(x, (int[]) null), Shape.of(2, 3), FLOAT32, V);
            assertExact(Spool.squeeze(x, 2), Shape.of(1, 2, 3), FLOAT32, V);
            assertExact(x.squeeze(-4), Shape.of(2, 1, 3), FLOAT32, V);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void transposeWithoutPermReversesAndAnEmptyPermIsForScalarsOnly(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = x();
            assertExact(Spool.transpose(x), Shape.of(3, 2), FLOAT32, 1.5, 0.25, -2, 5, 3, -6);
            assertExact(x.transpose(), Shape.of(3, 2), FLOAT32, 1.5, 0.25, -2, 5, 3, -6);
            assertExact(Spool.transpose(x, (int[]) null), Shape.of(3, 2), FLOAT32, 1.5, 0.25, -2, 5, 3, -6);
            assertExact(Spool.transpose(x, 0, 1), Shape.of(2, 3), FLOAT32, V);
            ShapeException e = assertThrows(ShapeException.class, () -> Spool.transpose(x, new int[0]));
            assertEquals("transpose: permutation [] for shape (2, 3)", e.getMessage());
            Tensor s = Spool.constant(4f);
            assertExact(Spool.transpose(s, new int[0]), Shape.of(), FLOAT32, 4);
            assertExact(s.transpose(), Shape.of(), FLOAT32, 4);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void momentsOverAnEmptyAxesListAreTheInputAndZero(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = x();
            for (boolean keep : new boolean[] {false, true}) {
                Moments m = Spool.moments(x, new int[0], keep);
                assertExact(m.mean(), Shape.of(2, 3), FLOAT32, V);
                assertExact(m.variance(), Shape.of(2, 3), FLOAT32, 0, 0, 0, 0, 0, 0);
            }
            Moments all = Spool.moments(x, new int[] {0, 1}, false);
            assertClose(all.mean(), Shape.of(), FLOAT32, new double[] {1.75 / 6}, 1e-6, 1e-6);
        }
    }
}
