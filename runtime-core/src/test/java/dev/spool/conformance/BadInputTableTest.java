package dev.spool.conformance;

import static dev.spool.DType.FLOAT32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.SpoolException;
import dev.spool.Tensor;
import dev.spool.testing.TestDevices;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What particular bad inputs do, row by row, as TensorFlow does: axes out of range (negative
 * axes count from the end), negative sizes, wrong ranks and argument counts are a
 * {@link ShapeException} naming the op and the offending value; empty tensors compute (a sum of
 * nothing is 0, a max −∞, a mean NaN, a matmul over an empty inner dimension zeros). The sweep
 * over every public method with generated bad arguments is {@link BadInputSweepTest}; the
 * earlier table of messages is in {@link ErrorsAndMemoryTest}.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try")
class BadInputTableTest {

    static Tensor m23() {
        return Spool.constant(new float[][] {{1, 2, 3}, {4, 5, 6}});
    }

    static Tensor empty03() {
        return Spool.zeros(0, 3);
    }

    /** A call that must fail: the exception type and what its message names. */
    record Refused(String name, Runnable call, Class<? extends SpoolException> type, List<String> names) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Refused refused(String name, Runnable call, String... names) {
        return new Refused(name, call, ShapeException.class, List.of(names));
    }

    static final List<Refused> REFUSED = List.of(
            refused("sum: axis -3 of rank 2", () -> m23().sum(-3), "sum", "-3"),
            refused("mean: axis 2 of rank 2", () -> m23().mean(2), "mean", "2"),
            refused("max: axis 5", () -> m23().max(5), "max", "5"),
            refused("prod: axis -3", () -> m23().prod(-3), "prod", "-3"),
            refused("argMax: axis -3", () -> m23().argMax(-3), "argMax", "-3"),
            refused("argMin: axis 2", () -> m23().argMin(2), "argMin", "2"),
            refused("softmax: axis 2", () -> m23().softmax(2), "softmax", "2"),
            refused("logSoftmax: axis -3", () -> m23().logSoftmax(-3), "logSoftmax", "-3"),
            refused("expandDims: axis 3 of rank 2", () -> m23().expandDims(3), "expandDims", "3"),
            refused("expandDims: axis -4 of rank 2", () -> m23().expandDims(-4), "expandDims", "-4"),
            refused("squeeze: axis 5", () -> m23().reshape(1, 2, 3).squeeze(5), "squeeze", "5"),
            refused("transpose: too few axes", () -> m23().transpose(0), "transpose", "[0]"),
            refused("transpose: axis out of range", () -> m23().transpose(0, 2), "transpose", "2"),
            refused("slice: negative begin", () -> m23().slice(new int[] {-1, 0}, new int[] {1, 3}), "slice", "-1"),
            refused("slice: rank of begin", () -> m23().slice(new int[] {0}, new int[] {1}), "slice", "(2, 3)"),
            refused("tile: negative multiple", () -> m23().tile(-1, 1), "tile", "-1"),
            refused("concat: axis 2 of rank 2", () -> Spool.concat(List.of(m23(), m23()), 2), "concat", "2"),
            refused("stack: axis 3 of rank 2 parts", () -> Spool.stack(List.of(m23(), m23()), 4), "stack", "4"),
            refused("gather: axis -3", () -> m23().gather(Spool.constant(new int[] {0}), -3), "gather", "-3"),
            refused("broadcastTo: negative size", () -> m23().broadcastTo(-1, 3), "broadcastTo", "-1"),
            refused("reshape: negative size other than -1", () -> m23().reshape(-2, 3), "reshape", "-2"),
            refused("zeros: negative size", () -> Spool.zeros(-1, 2), "-1"),
            refused("fill: negative size", () -> Spool.fill(Shape.of(2, -3), 1.0), "-3"),
            refused("eye: negative size", () -> Spool.eye(-1), "-1"),
            refused("linspace: negative num", () -> Spool.linspace(0, 1, -1), "linspace", "-1"),
            refused("range: zero delta", () -> Spool.range(0, 1, 0, FLOAT32), "range", "delta"),
            refused("range: infinite limit", () -> Spool.range(0, Double.POSITIVE_INFINITY, 1, FLOAT32), "range",
                    "Infinity"),
            refused("oneHot: negative depth", () -> Spool.oneHot(Spool.constant(new int[] {0}), -1), "oneHot", "-1"),
            refused("randomUniform: negative size", () -> Spool.randomUniform(Shape.of(-2), 1), "-2"),
            refused("getDouble: index out of range", () -> m23().getDouble(1, 3), "getDouble", "(2, 3)"),
            refused("getFloat: negative index", () -> m23().getFloat(-1, 0), "(2, 3)"),
            refused("constant: a null row", () -> Spool.constant(new float[][] {{1}, null}), "constant", "null"),
            refused("gradient: output gradient of another shape", () -> {
                Tensor x = m23();
                try (GradientTape tape = new GradientTape()) {
                    tape.watch(x);
                    Tensor y = x.mul(x);
                    tape.gradient(y, List.of(x), Spool.ones(3), dev.spool.UnconnectedGradients.NONE);
                }
            }, "gradient", "(3,)", "(2, 3)"));

    static Stream<Arguments> refusedRows() {
        return TestDevices.withEach(REFUSED);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("refusedRows")
    void refused(Device device, Refused row) {
        try (TestDevices.On on = TestDevices.on(device)) {
            SpoolException e = assertThrows(row.type(), row.call()::run);
            for (String name : row.names()) {
                assertTrue(e.getMessage().contains(name), "message should name '" + name + "': " + e.getMessage());
            }
        }
    }

    /** A call on empty (or degenerate) input that computes: its shape and values. */
    record Computed(String name, Supplier<Tensor> call, Shape shape, float[] values) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Computed computed(String name, Supplier<Tensor> call, Shape shape, float... values) {
        return new Computed(name, call, shape, values);
    }

    static final float INF = Float.POSITIVE_INFINITY;
    static final float NAN = Float.NaN;

    static final List<Computed> COMPUTED = List.of(
            computed("sum over an empty axis", () -> empty03().sum(0), Shape.of(3), 0, 0, 0),
            computed("sum of nothing", () -> empty03().sum(), Shape.scalar(), 0),
            computed("prod over an empty axis", () -> empty03().prod(0), Shape.of(3), 1, 1, 1),
            computed("max over an empty axis", () -> empty03().max(0), Shape.of(3), -INF, -INF, -INF),
            computed("min over an empty axis", () -> empty03().min(0), Shape.of(3), INF, INF, INF),
            computed("mean over an empty axis", () -> empty03().mean(0), Shape.of(3), NAN, NAN, NAN),
            computed("sum over the non-empty axis", () -> empty03().sum(1), Shape.of(0)),
            computed("matmul over an empty inner dimension", () -> Spool.zeros(2, 0).matmul(Spool.zeros(0, 3)),
                    Shape.of(2, 3), 0, 0, 0, 0, 0, 0),
            computed("matmul with no rows", () -> empty03().matmul(Spool.ones(3, 2)), Shape.of(0, 2)),
            computed("exp of empty", () -> empty03().exp(), Shape.of(0, 3)),
            computed("add empty and broadcast row", () -> empty03().add(Spool.ones(3)), Shape.of(0, 3)),
            computed("softmax of empty rows", () -> empty03().softmax(1), Shape.of(0, 3)),
            computed("cross-entropy of no examples", () -> Spool.softmaxCrossEntropyWithLogits(empty03(), empty03()),
                    Shape.of(0)),
            computed("transpose of empty", () -> empty03().transpose(), Shape.of(3, 0)),
            computed("reshape of empty with -1", () -> empty03().reshape(-1, 3), Shape.of(0, 3)),
            computed("concat with an empty part", () -> Spool.concat(List.of(empty03(), m23()), 0), Shape.of(2, 3),
                    1, 2, 3, 4, 5, 6),
            computed("gather with no indices", () -> m23().gather(Spool.constant(new int[0]), 0), Shape.of(0, 3)),
            computed("slice of size 0", () -> m23().slice(new int[] {1, 0}, new int[] {0, 3}), Shape.of(0, 3)),
            computed("tile by 0", () -> m23().tile(0, 1), Shape.of(0, 3)),
            computed("oneHot of depth 0", () -> Spool.oneHot(Spool.constant(new int[] {0, 1}), 0).cast(FLOAT32),
                    Shape.of(2, 0)),
            computed("range with no elements", () -> Spool.range(5, 0, 1, FLOAT32), Shape.of(0)),
            computed("linspace of 0", () -> Spool.linspace(0, 1, 0), Shape.of(0)),
            computed("eye of 0", () -> Spool.eye(0), Shape.of(0, 0)),
            computed("log of 0 and -1", () -> Spool.constant(new float[] {0, -1}).log(), Shape.of(2), -INF, NAN),
            computed("divide by zero", () -> Spool.constant(new float[] {1, -1, 0}).div(Spool.zeros(3)), Shape.of(3),
                    INF, -INF, NAN),
            computed("softmax of an infinity", () -> Spool.constant(new float[] {INF, 0}).softmax(0), Shape.of(2),
                    NAN, NAN));

    static Stream<Arguments> computedRows() {
        return TestDevices.withEach(COMPUTED);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("computedRows")
    void computed(Device device, Computed row) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor y = row.call().get();
            assertEquals(row.shape(), y.shape(), row.name());
            float[] got = y.toFloatArray();
            assertEquals(row.values().length, got.length, row.name());
            assertArrayEquals(row.values(), got, 0f, row.name()); // NaN equals NaN here
        }
    }

    /** The number of rows, for docs/RELIABILITY.md. */
    static int rows() {
        return REFUSED.size() + COMPUTED.size();
    }
}
