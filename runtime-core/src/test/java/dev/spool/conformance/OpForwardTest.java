package dev.spool.conformance;

import static dev.spool.DType.BOOL;
import static dev.spool.DType.FLOAT32;
import static dev.spool.DType.FLOAT64;
import static dev.spool.DType.INT32;
import static dev.spool.DType.INT64;
import static dev.spool.testing.TensorAssert.F32_ATOL;
import static dev.spool.testing.TensorAssert.F32_RTOL;
import static dev.spool.testing.TensorAssert.assertClose;
import static dev.spool.testing.TensorAssert.assertExact;
import static dev.spool.testing.TensorAssert.assertMeta;
import static dev.spool.testing.TensorAssert.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.Device;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.spi.Philox;
import dev.spool.testing.HostRef;
import dev.spool.testing.HostRef.Nd;
import dev.spool.testing.TestDevices;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleBinaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Forward values of every op, one row per op, against plain-Java references ({@link HostRef},
 * {@link ElementwiseTable}) or values worked out by hand. Each row also checks the result's
 * shape and dtype, and runs on every device under test.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try") // scopes (device, tensors, pauses) are opened for their effect
class OpForwardTest {

    /** One row of the table: a name and a check run with the device current, inside a tensor scope. */
    record Row(String name, Check check) {
        @Override
        public String toString() {
            return name;
        }
    }

    @FunctionalInterface
    interface Check {
        void run(Device device);
    }

    static Stream<Arguments> table() {
        return TestDevices.withEach(rows());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("table")
    void forward(Device device, Row row) {
        try (TestDevices.On on = TestDevices.on(device)) {
            row.check().run(device);
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    static Tensor t(DType dtype, Shape shape, double... values) {
        return Spool.constant(values, shape, dtype);
    }

    static Tensor f(Shape shape, double... values) {
        return t(FLOAT32, shape, values);
    }

    static double[] iota(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = i;
        }
        return v;
    }

    /** A transposed (non-contiguous) view with logical shape {@code shape} and row-major values {@code values}. */
    static Tensor transposedView(DType dtype, Shape shape, double[] values) {
        Nd swapped = HostRef.swapLastTwo(new Nd(values, shape.toArray()));
        int r = shape.rank();
        int[] perm = java.util.stream.IntStream.range(0, r).toArray();
        perm[r - 1] = r - 2;
        perm[r - 2] = r - 1;
        return t(dtype, Shape.of(swapped.shape()), swapped.data()).transpose(perm);
    }

    static Shape s(int... dims) {
        return Shape.of(dims);
    }

    static final List<Row> ROWS = new ArrayList<>();

    static void row(String name, Check check) {
        ROWS.add(new Row(name, check));
    }

    /** The table, built on first use (after every static field the rows read). */
    static synchronized List<Row> rows() {
        if (ROWS.isEmpty()) {
            buildRows();
        }
        return ROWS;
    }

    private static void buildRows() {
        unaryRows();
        binaryRows();
        integerRows();
        comparisonRows();
        reductionRows();
        matmulRows();
        shapeRows();
        indexingRows();
        nnRows();
        SoftmaxRows.add();
        biasAddRows();
        dtypeRows();
        factoryRows();
        randomRows();
        formatRows();
    }

    // ---- bias-add, alone and with a fused activation ------------------------------------

    /** Host reference of {@code activation(x + bias)}, bias along the last axis. */
    private static double[] biasAddRef(double[] x, double[] bias, java.util.function.DoubleUnaryOperator act) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = act.applyAsDouble(x[i] + bias[i % bias.length]);
        }
        return out;
    }

    private static void biasAddRows() {
        java.util.Map<dev.spool.FusedActivation, java.util.function.DoubleUnaryOperator> refs = java.util.Map.of(
                dev.spool.FusedActivation.RELU, v -> Math.max(v, 0),
                dev.spool.FusedActivation.TANH, Math::tanh,
                dev.spool.FusedActivation.SIGMOID, v -> 1 / (1 + Math.exp(-v)));
        row("biasAdd", d -> {
            Random r = new Random(ElementwiseTable.seed("biasAdd"));
            double[] x = f32(ElementwiseTable.Domain.ANY.sample(r, 3 * 5 * 7));
            double[] b = f32(ElementwiseTable.Domain.ANY.sample(r, 7));
            assertClose(Spool.biasAdd(f(s(3, 5, 7), x), f(s(7), b)), s(3, 5, 7), FLOAT32,
                    biasAddRef(x, b, v -> v), F32_RTOL, F32_ATOL);
            assertExact(Spool.biasAdd(t(INT32, s(2, 2), 1, 2, 3, 4), t(INT32, s(2), 10, -20)), s(2, 2), INT32,
                    11, -18, 13, -16);
        });
        for (dev.spool.FusedActivation a : dev.spool.FusedActivation.values()) {
            row("biasAdd+" + a, d -> {
                Random r = new Random(ElementwiseTable.seed("biasAdd+" + a));
                double[] x = f32(ElementwiseTable.Domain.ANY.sample(r, 37 * 61));
                double[] b = f32(ElementwiseTable.Domain.ANY.sample(r, 61));
                double[] expected = biasAddRef(x, b, refs.get(a));
                Tensor xt = f(s(37, 61), x);
                Tensor bt = f(s(61), b);
                Tensor fused = Spool.biasAdd(xt, bt, a);
                assertClose(fused, s(37, 61), FLOAT32, expected, F32_RTOL, F32_ATOL);
                // the SPI promises the bits of the two primitives it replaces
                Tensor sum = xt.add(bt);
                Tensor twoOps = switch (a) {
                    case RELU -> sum.relu();
                    case TANH -> sum.tanh();
                    case SIGMOID -> sum.sigmoid();
                };
                assertArrayEquals(twoOps.toFloatArray(), fused.toFloatArray(), "fused vs add then " + a);
                // a transposed x: the kernel reads it strided
                assertClose(Spool.biasAdd(transposedView(FLOAT32, s(37, 61), x), bt, a), s(37, 61), FLOAT32,
                        expected, F32_RTOL, F32_ATOL);
                if (d.supportsFloat64()) {
                    assertClose(Spool.biasAdd(t(FLOAT64, s(37, 61), x), t(FLOAT64, s(61), b), a), s(37, 61), FLOAT64,
                            expected, 1e-12, 1e-12);
                }
            });
        }
        row("biasAdd+RELU on integers, NaN kept", d -> {
            assertExact(Spool.biasAdd(t(INT64, s(2, 2), 1, -2, 3, -4), t(INT64, s(2), -2, 1), dev.spool.FusedActivation.RELU),
                    s(2, 2), INT64, 0, 0, 1, 0);
            assertExact(Spool.biasAdd(f(s(3), Double.NaN, -1, 1), f(s(3), 0, 0, 0), dev.spool.FusedActivation.RELU),
                    s(3), FLOAT32, Double.NaN, 0, 1);
        });
        row("biasAdd rejects a bias of the wrong shape or dtype", d -> {
            ShapeException rank = assertThrows(ShapeException.class,
                    () -> Spool.biasAdd(f(s(2, 3), iota(6)), f(s(1, 3), iota(3)), dev.spool.FusedActivation.RELU));
            assertTrue(rank.getMessage().contains("biasAdd") && rank.getMessage().contains("rank 1"), rank.getMessage());
            ShapeException last = assertThrows(ShapeException.class, () -> Spool.biasAdd(f(s(2, 3), iota(6)), f(s(2), 1, 2)));
            assertTrue(last.getMessage().contains("(2,)") && last.getMessage().contains("(2, 3)"), last.getMessage());
            assertThrows(ShapeException.class, () -> Spool.biasAdd(f(s(), 1), f(s(1), 1)));
            assertThrows(dev.spool.DTypeException.class,
                    () -> Spool.biasAdd(f(s(2, 3), iota(6)), t(INT32, s(3), 1, 2, 3), dev.spool.FusedActivation.RELU));
            dev.spool.DTypeException tanhInt = assertThrows(dev.spool.DTypeException.class,
                    () -> Spool.biasAdd(t(INT32, s(2), 1, 2), t(INT32, s(2), 1, 2), dev.spool.FusedActivation.TANH));
            assertTrue(tanhInt.getMessage().contains("biasAdd+tanh"), tanhInt.getMessage());
        });
    }

    // ---- elementwise ------------------------------------------------------------------------

    private static void unaryRows() {
        for (ElementwiseTable.Unary u : ElementwiseTable.UNARY) {
            row(u.name(), d -> {
                Random r = new Random(ElementwiseTable.seed(u.name()));
                double[] v = f32(u.domain().sample(r, 6));
                double[] expected = HostRef.map(v, u.reference());
                assertClose(u.op().apply(f(s(2, 3), v)), s(2, 3), FLOAT32, expected, F32_RTOL, F32_ATOL);
                // A transposed view: the op reads strided input and writes row-major output.
                Tensor xt = transposedView(FLOAT32, s(3, 2), v);
                assertClose(u.op().apply(xt), s(3, 2), FLOAT32, expected, F32_RTOL, F32_ATOL);
                // Scalars and empty tensors.
                assertClose(u.op().apply(f(s(), v[0])), s(), FLOAT32, new double[] {expected[0]}, F32_RTOL, F32_ATOL);
                assertMeta(u.op().apply(f(s(0, 3))), s(0, 3), FLOAT32);
                if (d.supportsFloat64()) {
                    double[] v64 = u.domain().sample(r, 5);
                    assertClose(u.op().apply(t(FLOAT64, s(5), v64)), s(5), FLOAT64,
                            HostRef.map(v64, u.reference()), 1e-12, 1e-12);
                }
                if (u.integers()) {
                    double[] iv = {-3, -1, 0, 2, 5};
                    double[] ie = HostRef.map(iv, u.reference());
                    assertExact(u.op().apply(t(INT32, s(5), iv)), s(5), INT32, ie);
                    assertExact(u.op().apply(t(INT64, s(5), iv)), s(5), INT64, ie);
                }
            });
        }
    }

    /** (a shape, b shape, a as a transposed view?) */
    private static final Object[][] BROADCASTS = {
        {s(2, 3), s(2, 3), false},
        {s(2, 3), s(3), false},
        {s(2, 1), s(1, 3), false},
        {s(), s(2, 3), false},
        {s(3, 1, 2), s(2), false},
        {s(3, 2), s(2), true},
        {s(4, 3), s(4, 1), true},
        {s(0, 3), s(3), false},
    };

    private static void binaryRows() {
        for (ElementwiseTable.Binary b : ElementwiseTable.BINARY) {
            boolean exact = !b.name().equals("div") && !b.name().equals("pow");
            row(b.name(), d -> {
                Random r = new Random(ElementwiseTable.seed(b.name()));
                for (Object[] c : BROADCASTS) {
                    Shape as = (Shape) c[0];
                    Shape bs = (Shape) c[1];
                    boolean transposed = (Boolean) c[2];
                    double[] av = f32(b.a().sample(r, (int) as.size()));
                    double[] bv = f32(b.b().sample(r, (int) bs.size()));
                    Nd expected = HostRef.zip(new Nd(av, as.toArray()), new Nd(bv, bs.toArray()), b.reference());
                    Tensor a = transposed ? transposedView(FLOAT32, as, av) : f(as, av);
                    Tensor y = b.op().apply(a, f(bs, bv));
                    // add, sub, mul, max, min are correctly rounded: exactly the double result rounded to float.
                    assertClose(y, Shape.of(expected.shape()), FLOAT32, f32(expected.data()),
                            exact ? 0 : F32_RTOL, exact ? 0 : F32_ATOL);
                    Tensor swapped = b.op().apply(f(bs, bv), a); // broadcasting either way round
                    assertEquals(Shape.of(expected.shape()), swapped.shape());
                }
                if (d.supportsFloat64()) {
                    double[] av = b.a().sample(r, 6);
                    double[] bv = b.b().sample(r, 3);
                    Nd expected = HostRef.zip(new Nd(av, new int[] {2, 3}), new Nd(bv, new int[] {3}), b.reference());
                    assertClose(b.op().apply(t(FLOAT64, s(2, 3), av), t(FLOAT64, s(3), bv)), s(2, 3), FLOAT64,
                            expected.data(), 1e-12, 1e-12);
                }
                if (b.integers()) {
                    double[] av = {-7, -2, 0, 3, 9, 4};
                    double[] bv = {2, -3, 5};
                    Nd expected = HostRef.zip(new Nd(av, new int[] {2, 3}), new Nd(bv, new int[] {3}), b.reference());
                    for (DType dt : new DType[] {INT32, INT64}) {
                        assertExact(b.op().apply(t(dt, s(2, 3), av), t(dt, s(3), bv)), s(2, 3), dt, expected.data());
                    }
                }
            });
        }
        row("relu keeps NaN and infinities", d -> {
            double inf = Double.POSITIVE_INFINITY;
            assertExact(f(s(6), Double.NaN, -inf, -1, 0, 2, inf).relu(), s(6), FLOAT32, Double.NaN, 0, 0, 0, 2, inf);
            if (d.supportsFloat64()) {
                assertExact(t(FLOAT64, s(3), Double.NaN, -1e300, 1e300).relu(), s(3), FLOAT64, Double.NaN, 0, 1e300);
            }
        });
        row("scalar operands take the tensor's dtype", d -> {
            Tensor x = t(INT32, s(3), 1, 2, 3);
            assertExact(x.add(2.0), s(3), INT32, 3, 4, 5);
            assertExact(x.mul(3), s(3), INT32, 3, 6, 9);
            assertClose(f(s(2), 1, 4).pow(0.5), s(2), FLOAT32, new double[] {1, 2}, F32_RTOL, 0);
            assertExact(f(s(2), 1, 4).sub(1).div(2), s(2), FLOAT32, 0, 1.5);
            assertExact(Spool.multiply(2.0, x), s(3), INT32, 2, 4, 6);
            assertExact(f(s(2), -1, 2).greater(0), s(2), BOOL, 0, 1);
            assertExact(f(s(2), -1, 2).less(0), s(2), BOOL, 1, 0);
        });
    }

    private static void integerRows() {
        row("int32 arithmetic", d -> {
            Tensor a = t(INT32, s(4), 7, -7, 7, -7);
            Tensor b = t(INT32, s(4), 2, 2, -2, -2);
            assertExact(a.div(b), s(4), INT32, 3, -3, -3, 3); // truncates toward zero, as Java and C
            assertExact(a.add(b), s(4), INT32, 9, -5, 5, -9);
            assertExact(a.mul(b), s(4), INT32, 14, -14, -14, 14);
            assertExact(t(INT32, s(2), 1, 2).mean(), s(), INT32, 1); // integer mean truncates, as TF
            assertExact(t(INT32, s(3), 2, 3, 4).pow(t(INT32, s(3), 3, 2, 0)), s(3), INT32, 8, 9, 1);
            assertExact(t(INT32, s(3), 5, -4, 0).relu(), s(3), INT32, 5, 0, 0);
            assertEquals(Integer.MAX_VALUE, Spool.constant(Integer.MAX_VALUE).intValue());
        });
        row("int64 beyond 2^53", d -> {
            long big = (1L << 53) + 1; // the first integer a double cannot hold
            Tensor x = Spool.constant(new long[] {big, -big, 1L << 62});
            assertMeta(x, s(3), INT64);
            assertArrayEquals(new long[] {big + 1, -big + 1, (1L << 62) + 1}, x.add(Spool.constant(1L)).toLongArray());
            assertArrayEquals(new long[] {big - 2, -big - 2, (1L << 62) - 2}, x.sub(Spool.constant(2L)).toLongArray());
            assertArrayEquals(new long[] {-big, big, -(1L << 62)}, x.neg().toLongArray());
            assertArrayEquals(new long[] {big, big, 1L << 62}, x.abs().toLongArray());
            assertArrayEquals(new long[] {1, -1, 1}, x.sign().toLongArray());
            assertArrayEquals(new long[] {big, 0, 1L << 62}, x.relu().toLongArray());
            assertArrayEquals(new long[] {big / 2, -big / 2, 1L << 61}, x.div(Spool.constant(2L)).toLongArray());
            long m = 3037000499L; // m * m < 2^63
            assertEquals(m * m, Spool.constant(m).mul(Spool.constant(m)).longValue());
            assertEquals(big, Spool.constant(big).longValue()); // a filled scalar stays exact
            assertArrayEquals(new long[] {big, -big + 2}, Spool.constant(new long[] {big - 1, -big + 1})
                    .add(Spool.constant(new long[] {1, 1})).toLongArray());
            // big and big - 1 are the same double: only exact integer arithmetic tells them apart.
            Tensor near = Spool.constant(new long[] {big - 1, big});
            assertArrayEquals(new boolean[] {false, true}, near.equal(Spool.constant(big)).toBooleanArray());
            assertArrayEquals(new boolean[] {true, false}, near.less(Spool.constant(big)).toBooleanArray());
            assertEquals(big, near.max().longValue());
            assertEquals(big - 1, near.min().longValue());
            assertEquals(2 * big - 1, near.sum().longValue());
            assertEquals(1L, near.argMax(0).longValue());
            assertEquals(big, Spool.maximum(near, Spool.constant(big - 1)).max().longValue());
            assertEquals((1L << 62) + 2, Spool.constant(new long[] {1L << 61, 1L << 61, 1, 1}).sum().longValue());
            assertEquals(big, near.cast(INT64).max().longValue());
            assertArrayEquals(new long[] {big, big}, near.reshape(2, 1).gather(Spool.constant(new int[] {1, 1}), 0)
                    .toLongArray());
        });
    }

    private static void comparisonRows() {
        row("comparisons", d -> {
            double[] av = {1, 2, 3, 4, 5, 6};
            double[] bv = {2, 2, 5};
            Tensor a = f(s(2, 3), av);
            Tensor b = f(s(3), bv);
            Object[][] cases = {
                {"equal", a.equal(b), (DoubleBinaryOperator) (x, y) -> x == y ? 1 : 0},
                {"notEqual", a.notEqual(b), (DoubleBinaryOperator) (x, y) -> x != y ? 1 : 0},
                {"less", a.less(b), (DoubleBinaryOperator) (x, y) -> x < y ? 1 : 0},
                {"lessEqual", a.lessEqual(b), (DoubleBinaryOperator) (x, y) -> x <= y ? 1 : 0},
                {"greater", a.greater(b), (DoubleBinaryOperator) (x, y) -> x > y ? 1 : 0},
                {"greaterEqual", a.greaterEqual(b), (DoubleBinaryOperator) (x, y) -> x >= y ? 1 : 0},
            };
            for (Object[] c : cases) {
                Nd expected = HostRef.zip(new Nd(av, new int[] {2, 3}), new Nd(bv, new int[] {3}),
                        (DoubleBinaryOperator) c[2]);
                assertExact((Tensor) c[1], s(2, 3), BOOL, expected.data());
            }
            Tensor i = t(INT32, s(3), 1, 5, 3);
            assertExact(Spool.lessEqual(i, t(INT32, s(), 3)), s(3), BOOL, 1, 0, 1);
            assertExact(Spool.notEqual(i, t(INT32, s(), 3)), s(3), BOOL, 1, 1, 0);
            Tensor yes = Spool.constant(new boolean[] {true, false, true});
            assertExact(yes.equal(Spool.constant(true)), s(3), BOOL, 1, 0, 1);
            assertExact(yes.notEqual(Spool.constant(new boolean[] {true, true, false})), s(3), BOOL, 0, 1, 1);
            assertExact(yes.logicalNot(), s(3), BOOL, 0, 1, 0);
            Tensor nan = f(s(2), Double.NaN, 1);
            assertExact(nan.equal(nan), s(2), BOOL, 0, 1); // NaN equals nothing, itself included
            assertExact(nan.notEqual(nan), s(2), BOOL, 1, 0);
        });
        row("where", d -> {
            Tensor cond = Spool.constant(new boolean[][] {{true}, {false}});          // (2, 1)
            Tensor a = f(s(1, 3), 1, 2, 3);                                            // (1, 3)
            Tensor b = f(s(), -1);                                                     // ()
            assertExact(Spool.where(cond, a, b), s(2, 3), FLOAT32, 1, 2, 3, -1, -1, -1);
            Tensor c2 = Spool.constant(new boolean[] {true, false, true});
            assertExact(Spool.where(c2, t(INT64, s(3), 1, 2, 3), t(INT64, s(3), 7, 8, 9)), s(3), INT64, 1, 8, 3);
            Tensor x = f(s(2, 2), -1, 2, -3, 4);
            assertExact(Spool.where(x.greater(0), x, x.neg()), s(2, 2), FLOAT32, 1, 2, 3, 4);
            Tensor bools = Spool.where(c2, Spool.constant(new boolean[] {false, false, false}), Spool.constant(true));
            assertExact(bools, s(3), BOOL, 0, 1, 0);
        });
    }

    // ---- reductions -------------------------------------------------------------------------

    /** A reduction and its reference: the fold, its identity, and whether the result divides by the count (mean). */
    record Reduction(String name, double init, DoubleBinaryOperator fold, boolean mean) {
    }

    private static final List<Reduction> REDUCTIONS = List.of(
            new Reduction("sum", 0, Double::sum, false),
            new Reduction("mean", 0, Double::sum, true),
            new Reduction("max", Double.NEGATIVE_INFINITY, Math::max, false),
            new Reduction("min", Double.POSITIVE_INFINITY, Math::min, false),
            new Reduction("prod", 1, (x, y) -> x * y, false));

    static Tensor reduce(String name, Tensor x, int[] axes, boolean keepDims) {
        return switch (name) {
            case "sum" -> Spool.reduceSum(x, axes, keepDims);
            case "mean" -> Spool.reduceMean(x, axes, keepDims);
            case "max" -> Spool.reduceMax(x, axes, keepDims);
            case "min" -> Spool.reduceMin(x, axes, keepDims);
            case "prod" -> Spool.reduceProd(x, axes, keepDims);
            default -> throw new IllegalArgumentException(name);
        };
    }

    // null: every axis (TF's axis=None); {}: no axis (TF's axis=[], the values unchanged)
    private static final int[][] AXES = {null, {}, {0}, {1}, {2}, {-1}, {0, 2}, {2, 0}, {0, 1, 2}, {1, -1}};

    private static void reductionRows() {
        for (Reduction red : REDUCTIONS) {
            row(red.name(), d -> {
                int[] dims = {2, 3, 4};
                // Values near 1 keep products tame; distinct values make max/min unambiguous.
                double[] v = f32(HostRef.uniform(ElementwiseTable.seed(red.name()), 24, 0.5, 1.5));
                Tensor x = f(Shape.of(dims), v);
                Tensor xt = x.transpose(2, 0, 1); // non-contiguous, shape (4, 2, 3)
                Nd xtRef = HostRef.transpose(new Nd(v, dims), 2, 0, 1);
                for (int[] axes : AXES) {
                    for (boolean keep : new boolean[] {false, true}) {
                        for (boolean strided : new boolean[] {false, true}) {
                            Nd in = strided ? xtRef : new Nd(v, dims);
                            Nd ref = HostRef.reduce(in, axes, red.init(), red.fold());
                            double[] expected = ref.data().clone();
                            if (red.mean()) {
                                int count = in.data().length / Math.max(1, expected.length);
                                for (int i = 0; i < expected.length; i++) {
                                    expected[i] /= count;
                                }
                            }
                            Shape shape = keep ? keptShape(in.shape(), axes) : Shape.of(ref.shape());
                            Tensor y = reduce(red.name(), strided ? xt : x, axes, keep);
                            assertClose(y, shape, FLOAT32, expected, 1e-5, 1e-6);
                        }
                    }
                }
                // No axes given means all of them, through the Operand methods too.
                assertMeta(switch (red.name()) {
                    case "sum" -> x.sum();
                    case "mean" -> x.mean();
                    case "max" -> x.max();
                    case "min" -> x.min();
                    default -> x.prod();
                }, s(), FLOAT32);
                if (d.supportsFloat64()) {
                    Tensor x64 = t(FLOAT64, Shape.of(dims), v);
                    Nd ref = HostRef.reduce(new Nd(v, dims), new int[] {1}, red.init(), red.fold());
                    double[] expected = ref.data().clone();
                    if (red.mean()) {
                        for (int i = 0; i < expected.length; i++) {
                            expected[i] /= 3;
                        }
                    }
                    assertClose(reduce(red.name(), x64, new int[] {1}, false), s(2, 4), FLOAT64, expected, 1e-12, 0);
                }
                // Integer reductions are exact.
                Tensor ints = t(INT32, s(2, 3), 1, -2, 3, 4, 5, -6);
                Nd iref = HostRef.reduce(new Nd(new double[] {1, -2, 3, 4, 5, -6}, new int[] {2, 3}), new int[] {1},
                        red.init(), red.fold());
                double[] iexp = iref.data().clone();
                if (red.mean()) {
                    iexp = new double[] {0, 1}; // 2/3 and 3/3, truncated
                }
                assertExact(reduce(red.name(), ints, new int[] {1}, false), s(2), INT32, iexp);
            });
        }
        row("reductions over an empty axis", d -> {
            Tensor e = f(s(2, 0));
            assertExact(e.sum(new int[] {1}, false), s(2), FLOAT32, 0, 0);
            assertExact(e.prod(new int[] {1}, false), s(2), FLOAT32, 1, 1);
            assertExact(e.max(new int[] {1}, false), s(2), FLOAT32, Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY);
            assertExact(e.min(new int[] {1}, true), s(2, 1), FLOAT32, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY);
            assertExact(e.sum(new int[] {0}, false), s(0), FLOAT32);
            assertExact(e.sum(), s(), FLOAT32, 0);
            assertExact(t(INT32, s(0)).max(), s(), INT32, Integer.MIN_VALUE);
            assertExact(t(INT64, s(0)).min(), s(), INT64, Long.MAX_VALUE);
        });
        row("argMax argMin", d -> {
            // Ties: the first index wins.
            Tensor x = f(s(2, 4), 3, 7, 7, 1, 5, 5, 0, 9);
            assertExact(x.argMax(1), s(2), INT64, 1, 3);
            assertExact(x.argMin(1), s(2), INT64, 3, 2);
            assertExact(x.argMax(-1), s(2), INT64, 1, 3);
            assertExact(x.argMax(0), s(4), INT64, 1, 0, 0, 1);
            assertExact(x.argMin(0), s(4), INT64, 0, 1, 1, 0);
            assertExact(Spool.argMax(x.transpose(), 0), s(2), INT64, 1, 3); // strided
            assertExact(Spool.argMin(t(INT64, s(3), 4, -2, -2), 0), s(), INT64, 1);
            Tensor x3 = f(s(2, 2, 3), iota(12));
            assertExact(x3.argMax(1), s(2, 3), INT64, 1, 1, 1, 1, 1, 1);
            assertExact(x3.neg().argMax(2), s(2, 2), INT64, 0, 0, 0, 0);
        });
    }

    static Shape keptShape(int[] dims, int[] axes) {
        int[] out = dims.clone();
        if (axes == null) {
            Arrays.fill(out, 1);
            axes = new int[0];
        }
        for (int a : axes) {
            out[a < 0 ? a + dims.length : a] = 1;
        }
        return Shape.of(out);
    }

    // ---- linear algebra ---------------------------------------------------------------------

    /** (a shape, b shape, transposeA, transposeB). */
    private static final Object[][] MATMULS = {
        {s(3, 4), s(4, 5), false, false},
        {s(1, 1), s(1, 1), false, false},
        {s(4, 3), s(4, 5), true, false},
        {s(3, 4), s(5, 4), false, true},
        {s(4, 3), s(5, 4), true, true},
        {s(2, 3, 4), s(2, 4, 5), false, false},
        {s(2, 1, 3, 4), s(3, 4, 2), false, false},
        {s(3, 4), s(2, 4, 5), false, false},
        {s(2, 4, 3), s(5, 4), true, true},
        {s(3, 0), s(0, 2), false, false},
        {s(0, 4), s(4, 2), false, false},
        // a transposed B whose last panel of columns (of 2 vectors) holds 6: 70 = 64 + 6, 38 = 32 + 6
        {s(70, 16), s(70, 16), false, true},
        {s(40, 8), s(38, 8), false, true},
    };

    private static void matmulRows() {
        row("matmul", d -> {
            Random r = new Random(5);
            for (Object[] c : MATMULS) {
                Shape as = (Shape) c[0];
                Shape bs = (Shape) c[1];
                boolean ta = (Boolean) c[2];
                boolean tb = (Boolean) c[3];
                double[] av = f32(ElementwiseTable.Domain.ANY.sample(r, (int) as.size()));
                double[] bv = f32(ElementwiseTable.Domain.ANY.sample(r, (int) bs.size()));
                Nd expected = HostRef.matmul(new Nd(av, as.toArray()), new Nd(bv, bs.toArray()), ta, tb);
                Tensor y = Spool.matmul(f(as, av), f(bs, bv), ta, tb);
                assertClose(y, Shape.of(expected.shape()), FLOAT32, expected.data(), 1e-5, 1e-5);
                if (as.rank() == 2 && bs.rank() == 2 && as.size() > 1) {
                    // The same product from transposed views instead of flags.
                    Tensor a2 = ta ? transposedView(FLOAT32, s(as.dim(1), as.dim(0)),
                            HostRef.swapLastTwo(new Nd(av, as.toArray())).data()) : f(as, av);
                    Tensor b2 = tb ? transposedView(FLOAT32, s(bs.dim(1), bs.dim(0)),
                            HostRef.swapLastTwo(new Nd(bv, bs.toArray())).data()) : f(bs, bv);
                    assertClose(a2.matmul(b2), Shape.of(expected.shape()), FLOAT32, expected.data(), 1e-5, 1e-5);
                }
            }
            assertExact(f(s(2, 2), 1, 2, 3, 4).matmul(f(s(2, 2), 5, 6, 7, 8)), s(2, 2), FLOAT32, 19, 22, 43, 50);
            if (d.supportsFloat64()) {
                assertExact(t(FLOAT64, s(1, 2), 1, 2).matmul(t(FLOAT64, s(2, 1), 3, 4)), s(1, 1), FLOAT64, 11);
            }
        });
    }

    // ---- shapes -----------------------------------------------------------------------------

    private static void shapeRows() {
        row("reshape", d -> {
            Tensor x = f(s(2, 3), iota(6));
            assertExact(x.reshape(3, 2), s(3, 2), FLOAT32, iota(6));
            assertExact(x.reshape(-1), s(6), FLOAT32, iota(6));
            assertExact(x.reshape(2, -1, 1), s(2, 3, 1), FLOAT32, iota(6));
            assertExact(x.reshape(1, 6), s(1, 6), FLOAT32, iota(6));
            assertExact(f(s(1), 5).reshape(), s(), FLOAT32, 5);
            assertExact(f(s(0, 3)).reshape(3, 0), s(3, 0), FLOAT32);
            assertExact(f(s(0, 3)).reshape(-1), s(0), FLOAT32);
            // A non-contiguous tensor is copied in logical order.
            assertExact(x.transpose().reshape(6), s(6), FLOAT32, 0, 3, 1, 4, 2, 5);
            assertExact(Spool.reshape(x.transpose(), -1, 2), s(3, 2), FLOAT32, 0, 3, 1, 4, 2, 5);
            assertExact(t(INT64, s(4), 1, 2, 3, 4).reshape(2, 2), s(2, 2), INT64, 1, 2, 3, 4);
        });
        row("transpose", d -> {
            Tensor x = f(s(2, 3), iota(6));
            assertExact(x.transpose(), s(3, 2), FLOAT32, 0, 3, 1, 4, 2, 5);
            assertExact(x.transpose(1, 0), s(3, 2), FLOAT32, 0, 3, 1, 4, 2, 5);
            assertExact(x.transpose(0, 1), s(2, 3), FLOAT32, iota(6));
            assertExact(x.transpose().transpose(), s(2, 3), FLOAT32, iota(6));
            Tensor x3 = f(s(2, 3, 4), iota(24));
            for (int[] perm : new int[][] {{2, 0, 1}, {1, 2, 0}, {0, 2, 1}, {2, 1, 0}}) {
                Nd ref = HostRef.transpose(new Nd(iota(24), new int[] {2, 3, 4}), perm);
                assertExact(Spool.transpose(x3, perm), Shape.of(ref.shape()), FLOAT32, ref.data());
            }
            assertExact(x3.transpose(-1, 0, 1), s(4, 2, 3), FLOAT32,
                    HostRef.transpose(new Nd(iota(24), new int[] {2, 3, 4}), 2, 0, 1).data());
            assertExact(x3.transpose(), s(4, 3, 2), FLOAT32,
                    HostRef.transpose(new Nd(iota(24), new int[] {2, 3, 4}), 2, 1, 0).data());
            assertExact(f(s(3), 1, 2, 3).transpose(), s(3), FLOAT32, 1, 2, 3);
            assertExact(f(s(), 7).transpose(), s(), FLOAT32, 7);
        });
        row("expandDims", d -> {
            Tensor x = f(s(2, 3), iota(6));
            assertExact(x.expandDims(0), s(1, 2, 3), FLOAT32, iota(6));
            assertExact(x.expandDims(1), s(2, 1, 3), FLOAT32, iota(6));
            assertExact(x.expandDims(2), s(2, 3, 1), FLOAT32, iota(6));
            assertExact(Spool.expandDims(x, -1), s(2, 3, 1), FLOAT32, iota(6));
            assertExact(x.expandDims(-3), s(1, 2, 3), FLOAT32, iota(6));
            assertExact(f(s(), 4).expandDims(0), s(1), FLOAT32, 4);
            assertExact(x.transpose().expandDims(1), s(3, 1, 2), FLOAT32, 0, 3, 1, 4, 2, 5);
        });
        row("squeeze", d -> {
            Tensor x = f(s(1, 2, 1, 3), iota(6));
            assertExact(x.squeeze(), s(2, 3), FLOAT32, iota(6));
            assertExact(x.squeeze(2), s(1, 2, 3), FLOAT32, iota(6));
            assertExact(x.squeeze(-4), s(2, 1, 3), FLOAT32, iota(6));
            assertExact(Spool.squeeze(x, 0, 2), s(2, 3), FLOAT32, iota(6));
            assertExact(f(s(1, 1), 9).squeeze(), s(), FLOAT32, 9);
            assertExact(f(s(2, 3), iota(6)).squeeze(), s(2, 3), FLOAT32, iota(6));
        });
        row("broadcastTo", d -> {
            assertExact(f(s(3), 1, 2, 3).broadcastTo(2, 3), s(2, 3), FLOAT32, 1, 2, 3, 1, 2, 3);
            assertExact(f(s(2, 1), 1, 2).broadcastTo(2, 3), s(2, 3), FLOAT32, 1, 1, 1, 2, 2, 2);
            assertExact(Spool.broadcastTo(f(s(), 5), 2, 2), s(2, 2), FLOAT32, 5, 5, 5, 5);
            assertExact(f(s(1, 2), 1, 2).broadcastTo(2, 2, 2), s(2, 2, 2), FLOAT32, 1, 2, 1, 2, 1, 2, 1, 2);
            assertExact(f(s(2, 3), iota(6)).broadcastTo(2, 3), s(2, 3), FLOAT32, iota(6));
            assertExact(f(s(1), 3).broadcastTo(0), s(0), FLOAT32);
            // Ops on a broadcast (stride-0) view read it correctly.
            assertExact(f(s(3), 1, 2, 3).broadcastTo(2, 3).add(f(s(2, 1), 10, 20)), s(2, 3), FLOAT32,
                    11, 12, 13, 21, 22, 23);
            assertExact(f(s(2, 1), 1, 2).broadcastTo(2, 3).sum(0), s(3), FLOAT32, 3, 3, 3);
        });
        row("concat", d -> {
            Tensor a = f(s(1, 2), 1, 2);
            Tensor b = f(s(2, 2), 3, 4, 5, 6);
            assertExact(Spool.concat(List.of(a, b), 0), s(3, 2), FLOAT32, 1, 2, 3, 4, 5, 6);
            Tensor c = f(s(2, 1), 7, 8);
            assertExact(Spool.concat(List.of(c, b), 1), s(2, 3), FLOAT32, 7, 3, 4, 8, 5, 6);
            assertExact(Spool.concat(List.of(b, c), -1), s(2, 3), FLOAT32, 3, 4, 7, 5, 6, 8);
            assertExact(Spool.concat(List.of(f(s(0, 2)), a, f(s(0, 2))), 0), s(1, 2), FLOAT32, 1, 2);
            assertExact(Spool.concat(List.of(b.transpose(), c.transpose()), 0), s(3, 2), FLOAT32, 3, 5, 4, 6, 7, 8);
            assertExact(Spool.concat(List.of(f(s(2), 1, 2)), 0), s(2), FLOAT32, 1, 2);
            assertExact(Spool.concat(List.of(t(INT32, s(1), 1), t(INT32, s(2), 2, 3)), 0), s(3), INT32, 1, 2, 3);
            Tensor x3 = f(s(2, 2, 2), iota(8));
            assertExact(Spool.concat(List.of(x3, x3), 1), s(2, 4, 2), FLOAT32,
                    0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7);
        });
        row("stack", d -> {
            Tensor a = f(s(2), 1, 2);
            Tensor b = f(s(2), 3, 4);
            assertExact(Spool.stack(List.of(a, b), 0), s(2, 2), FLOAT32, 1, 2, 3, 4);
            assertExact(Spool.stack(List.of(a, b), 1), s(2, 2), FLOAT32, 1, 3, 2, 4);
            assertExact(Spool.stack(List.of(a, b, a), -1), s(2, 3), FLOAT32, 1, 3, 1, 2, 4, 2);
            assertExact(Spool.stack(List.of(f(s(), 1), f(s(), 2), f(s(), 3)), 0), s(3), FLOAT32, 1, 2, 3);
            Tensor m = f(s(2, 2), 1, 2, 3, 4);
            assertExact(Spool.stack(List.of(m, m.transpose()), 1), s(2, 2, 2), FLOAT32, 1, 2, 1, 3, 3, 4, 2, 4);
        });
        row("slice", d -> {
            Tensor x = f(s(3, 4), iota(12));
            assertExact(x.slice(new int[] {1, 1}, new int[] {2, 2}), s(2, 2), FLOAT32, 5, 6, 9, 10);
            assertExact(Spool.slice(x, new int[] {1, 0}, new int[] {-1, 2}), s(2, 2), FLOAT32, 4, 5, 8, 9);
            assertExact(x.slice(new int[] {0, 3}, new int[] {3, 1}), s(3, 1), FLOAT32, 3, 7, 11);
            assertExact(x.slice(new int[] {2, 0}, new int[] {0, 4}), s(0, 4), FLOAT32);
            assertExact(x.slice(new int[] {0, 0}, new int[] {-1, -1}), s(3, 4), FLOAT32, iota(12));
            Tensor inner = x.slice(new int[] {1, 1}, new int[] {2, 3}).slice(new int[] {1, 1}, new int[] {1, 2});
            assertExact(inner, s(1, 2), FLOAT32, 10, 11);
            assertExact(x.transpose().slice(new int[] {1, 0}, new int[] {2, 2}), s(2, 2), FLOAT32, 1, 5, 2, 6);
            // Ops on a slice read from its offset.
            assertExact(x.slice(new int[] {1, 1}, new int[] {2, 2}).mul(f(s(), 2)), s(2, 2), FLOAT32, 10, 12, 18, 20);
            assertExact(x.slice(new int[] {1, 0}, new int[] {2, 4}).sum(1), s(2), FLOAT32, 22, 38);
        });
        row("tile", d -> {
            assertExact(f(s(2), 1, 2).tile(3), s(6), FLOAT32, 1, 2, 1, 2, 1, 2);
            Tensor m = f(s(2, 2), 1, 2, 3, 4);
            assertExact(m.tile(2, 1), s(4, 2), FLOAT32, 1, 2, 3, 4, 1, 2, 3, 4);
            assertExact(Spool.tile(m, 1, 2), s(2, 4), FLOAT32, 1, 2, 1, 2, 3, 4, 3, 4);
            assertExact(m.tile(1, 1), s(2, 2), FLOAT32, 1, 2, 3, 4);
            assertExact(f(s(2), 1, 2).tile(0), s(0), FLOAT32);
            assertExact(m.transpose().tile(1, 2), s(2, 4), FLOAT32, 1, 3, 1, 3, 2, 4, 2, 4);
            assertExact(t(INT32, s(1), 7).tile(3), s(3), INT32, 7, 7, 7);
        });
    }

    private static void indexingRows() {
        row("gather", d -> {
            Tensor p = f(s(4, 2), 0, 1, 10, 11, 20, 21, 30, 31);
            assertExact(p.gather(Spool.constant(new int[] {3, 0, 3}), 0), s(3, 2), FLOAT32, 30, 31, 0, 1, 30, 31);
            assertExact(p.gather(Spool.constant(new long[] {3, 0, 3}), 0), s(3, 2), FLOAT32, 30, 31, 0, 1, 30, 31);
            assertExact(Spool.gather(p, Spool.constant(new int[][] {{0, 1}, {2, 3}}), 0), s(2, 2, 2), FLOAT32,
                    0, 1, 10, 11, 20, 21, 30, 31);
            assertExact(p.gather(Spool.constant(2), 0), s(2), FLOAT32, 20, 21); // a scalar index drops the axis
            Tensor q = f(s(2, 3), 0, 1, 2, 10, 11, 12);
            assertExact(q.gather(Spool.constant(new int[] {2, 0}), 1), s(2, 2), FLOAT32, 2, 0, 12, 10);
            assertExact(q.gather(Spool.constant(new long[] {1, 1, 2}), -1), s(2, 3), FLOAT32, 1, 1, 2, 11, 11, 12);
            Tensor r3 = f(s(2, 3, 2), iota(12));
            assertExact(r3.gather(Spool.constant(new int[][] {{2}, {0}}), 1), s(2, 2, 1, 2), FLOAT32,
                    4, 5, 0, 1, 10, 11, 6, 7);
            assertExact(q.transpose().gather(Spool.constant(new int[] {1}), 1), s(3, 1), FLOAT32, 10, 11, 12);
            assertExact(t(INT64, s(3), 5, 6, 7).gather(Spool.constant(new int[] {2, 2, 0}), 0), s(3), INT64, 7, 7, 5);
            assertExact(p.gather(Spool.constant(new int[0]), 0), s(0, 2), FLOAT32);
            // Out-of-range indices give zeros (TensorFlow's GPU behaviour).
            assertExact(p.gather(Spool.constant(new int[] {4, -1, 1}), 0), s(3, 2), FLOAT32, 0, 0, 0, 0, 10, 11);
        });
        row("oneHot", d -> {
            assertExact(Spool.oneHot(Spool.constant(new int[] {0, 2, 1}), 3), s(3, 3), FLOAT32, 1, 0, 0, 0, 0, 1, 0, 1, 0);
            assertExact(Spool.oneHot(Spool.constant(new long[] {1, 0}), 2), s(2, 2), FLOAT32, 0, 1, 1, 0);
            assertExact(Spool.oneHot(Spool.constant(new int[][] {{0, 1}, {1, 0}}), 2), s(2, 2, 2), FLOAT32,
                    1, 0, 0, 1, 0, 1, 1, 0);
            assertExact(Spool.oneHot(Spool.constant(new int[] {3, -1, 1}), 3), s(3, 3), FLOAT32, 0, 0, 0, 0, 0, 0, 0, 1, 0);
            assertExact(Spool.oneHot(Spool.constant(new int[] {1, 3}), 4, 5, -1, INT32), s(2, 4), INT32,
                    -1, 5, -1, -1, -1, -1, -1, 5);
            assertExact(Spool.oneHot(Spool.constant(2), 3), s(3), FLOAT32, 0, 0, 1);
        });
    }

    // ---- nn ---------------------------------------------------------------------------------

    static double[] softmaxRef(double[] v, int rows, int cols) {
        double[] out = new double[v.length];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, v[r * cols + c]);
            }
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += Math.exp(v[r * cols + c] - max);
            }
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] = Math.exp(v[r * cols + c] - max) / sum;
            }
        }
        return out;
    }

    private static void nnRows() {
        double[] logits = f32(0.5, -1, 2, 3, 3, -2);
        row("softmax", d -> {
            Tensor x = f(s(2, 3), logits);
            assertClose(x.softmax(-1), s(2, 3), FLOAT32, softmaxRef(logits, 2, 3), 1e-5, 1e-7);
            assertClose(Spool.softmax(x, 1), s(2, 3), FLOAT32, softmaxRef(logits, 2, 3), 1e-5, 1e-7);
            double[] byColumn = HostRef.transpose(new Nd(softmaxRef(
                    HostRef.transpose(new Nd(logits, new int[] {2, 3}), 1, 0).data(), 3, 2), new int[] {3, 2}), 1, 0).data();
            assertClose(x.softmax(0), s(2, 3), FLOAT32, byColumn, 1e-5, 1e-7);
            assertClose(x.softmax(-1).sum(1), s(2), FLOAT32, new double[] {1, 1}, 1e-6, 0);
            // Shifted by the max: huge logits give the same answer, not inf/inf.
            assertClose(f(s(3), 1000, 1001, 1002).softmax(0), s(3), FLOAT32, softmaxRef(new double[] {0, 1, 2}, 1, 3),
                    1e-5, 1e-7);
            assertClose(f(s(2), -1000, 0).softmax(0), s(2), FLOAT32, new double[] {0, 1}, 0, 0);
        });
        row("logSoftmax", d -> {
            Tensor x = f(s(2, 3), logits);
            double[] expected = HostRef.map(softmaxRef(logits, 2, 3), Math::log);
            assertClose(x.logSoftmax(-1), s(2, 3), FLOAT32, expected, 1e-5, 1e-6);
            assertClose(Spool.logSoftmax(f(s(2), 1000, 0), 0), s(2), FLOAT32, new double[] {0, -1000}, 1e-6, 0);
        });
        row("softmaxCrossEntropyWithLogits", d -> {
            double[] labels = {0, 0, 1, 0.25, 0.75, 0};
            double[] logSm = HostRef.map(softmaxRef(logits, 2, 3), Math::log);
            double[] expected = new double[2];
            for (int i = 0; i < 6; i++) {
                expected[i / 3] -= labels[i] * logSm[i];
            }
            Tensor loss = Spool.softmaxCrossEntropyWithLogits(f(s(2, 3), labels), f(s(2, 3), logits));
            assertClose(loss, s(2), FLOAT32, expected, 1e-5, 1e-6);
            Tensor one = Spool.softmaxCrossEntropyWithLogits(f(s(2), 1, 0), f(s(2), 1000, 0));
            assertClose(one, s(), FLOAT32, new double[] {0}, 0, 1e-6);
        });
    }

    // ---- dtypes -----------------------------------------------------------------------------

    private static final double[] FLOAT_VALUES = {-2.75, -1, 0, 0.5, 3.25};
    private static final double[] INT_VALUES = {-3, -1, 0, 1, 7};
    private static final double[] BOOL_VALUES = {1, 0, 1, 1, 0};

    static double convert(double v, DType to) {
        return switch (to) {
            case FLOAT32 -> (float) v;
            case FLOAT64 -> v;
            case INT32, INT64 -> (long) v; // truncation toward zero
            case BOOL -> v != 0 ? 1 : 0;
        };
    }

    /** The same values as a non-contiguous (1, n) view: row 0 of a transposed (n, 2) tensor. */
    static Tensor strided(Tensor x) {
        int n = x.shape().dim(0);
        Tensor view = Spool.stack(List.of(x, x), 1).transpose().slice(new int[] {0, 0}, new int[] {1, n});
        assertMeta(view, s(1, n), x.dtype());
        return view;
    }

    private static void dtypeRows() {
        for (DType from : DType.values()) {
            row("cast from " + from, d -> {
                double[] in = from.isFloating() ? FLOAT_VALUES : from.isInteger() ? INT_VALUES : BOOL_VALUES;
                if (from == FLOAT64 && !d.supportsFloat64()) {
                    // Nothing to cast on this device: it must refuse float64 instead.
                    assertThrows(DTypeException.class, () -> t(FLOAT64, s(5), in));
                    return;
                }
                Tensor x = from == BOOL ? Spool.constant(new boolean[] {true, false, true, true, false})
                        : t(from, s(5), in);
                for (DType to : DType.values()) {
                    if (to == FLOAT64 && !d.supportsFloat64()) {
                        continue;
                    }
                    double[] expected = Arrays.stream(in).map(v -> convert(v, to)).toArray();
                    assertExact(x.cast(to), s(5), to, expected);
                    assertExact(Spool.cast(strided(x), to), s(1, 5), to, expected);
                }
            });
        }
        row("cast rounding and int64 precision", d -> {
            if (d.supportsFloat64()) {
                double third = 1.0 / 3;
                assertExact(t(FLOAT64, s(1), third).cast(FLOAT32), s(1), FLOAT32, (float) third);
                long big = (1L << 53) + 1;
                assertExact(Spool.constant(new long[] {big}).cast(FLOAT64), s(1), FLOAT64, (double) big);
                assertArrayEquals(new long[] {1L << 60}, t(FLOAT64, s(1), 0x1p60).cast(INT64).toLongArray());
            }
            assertArrayEquals(new int[] {16777216}, t(INT32, s(1), 16777217).cast(FLOAT32).toIntArray());
        });
        row("cast saturates out-of-range floats, NaN to int is 0", d -> {
            // The SPI contract (as OpenCL's convert_T_rtz_sat, and Java's casts).
            Tensor x = f(s(4), 1e10, -1e10, Double.NaN, Double.POSITIVE_INFINITY);
            assertArrayEquals(new int[] {Integer.MAX_VALUE, Integer.MIN_VALUE, 0, Integer.MAX_VALUE},
                    x.cast(INT32).toIntArray());
            assertArrayEquals(new long[] {10_000_000_000L, -10_000_000_000L, 0, Long.MAX_VALUE},
                    x.cast(INT64).toLongArray());
            assertArrayEquals(new boolean[] {true, true, true, true}, x.cast(BOOL).toBooleanArray());
            assertArrayEquals(new long[] {Long.MIN_VALUE}, f(s(1), -1e30).cast(INT64).toLongArray());
        });
        row("stopGradient identity", d -> {
            Tensor x = f(s(2, 2), 1, 2, 3, 4);
            assertExact(x.stopGradient(), s(2, 2), FLOAT32, 1, 2, 3, 4);
            assertExact(Spool.stopGradient(x.transpose()), s(2, 2), FLOAT32, 1, 3, 2, 4);
            assertExact(Spool.identity(x), s(2, 2), FLOAT32, 1, 2, 3, 4);
            assertExact(t(INT64, s(2), 5, 6).identity(), s(2), INT64, 5, 6);
            assertExact(x.cast(FLOAT32), s(2, 2), FLOAT32, 1, 2, 3, 4);
        });
    }

    // ---- factories --------------------------------------------------------------------------

    private static void factoryRows() {
        row("constant scalars", d -> {
            assertExact(Spool.constant(3f), s(), FLOAT32, 3);
            assertExact(Spool.constant(2.5), s(), FLOAT32, 2.5); // a Java double makes float32, as in TF
            assertExact(Spool.constant(0.1), s(), FLOAT32, (float) 0.1);
            assertExact(Spool.constant(7), s(), INT32, 7);
            assertExact(Spool.constant(-7L), s(), INT64, -7);
            assertExact(Spool.constant(true), s(), BOOL, 1);
            assertExact(Spool.constant(false), s(), BOOL, 0);
            assertExact(Spool.constant(9.75, INT32), s(), INT32, 9);
            assertExact(Spool.convertToTensor(2.0), s(), FLOAT32, 2);
            assertExact(Spool.convertToTensor(3), s(), INT32, 3);
            assertExact(Spool.convertToTensor(new int[] {1, 2}), s(2), INT32, 1, 2);
            Tensor x = f(s(2), 1, 2);
            assertExact(Spool.convertToTensor(x), s(2), FLOAT32, 1, 2);
            try (Variable v = new Variable(x)) {
                assertExact(Spool.convertToTensor(v), s(2), FLOAT32, 1, 2);
            }
            if (d.supportsFloat64()) {
                assertExact(Spool.constant(0.1, FLOAT64), s(), FLOAT64, 0.1);
            }
            assertEquals(d, x.device());
            assertEquals(3.0f, Spool.constant(3f).floatValue());
            assertEquals(7, Spool.constant(7).intValue());
            assertTrue(Spool.constant(true).booleanValue());
            assertEquals(3.5f, Spool.constant(3.5f).item());
            assertEquals(-7, Spool.constant(-7).item());
            assertEquals(1L << 40, Spool.constant(1L << 40).item());
            assertEquals(Boolean.FALSE, Spool.constant(false).item());
            if (d.supportsFloat64()) {
                assertEquals(0.1, Spool.constant(0.1, FLOAT64).item());
            }
            assertThrows(ShapeException.class, () -> Spool.ones(2).item());
        });
        row("constant arrays", d -> {
            assertExact(Spool.constant(new float[][] {{1, 2, 3}, {4, 5, 6}}), s(2, 3), FLOAT32, 1, 2, 3, 4, 5, 6);
            assertExact(Spool.constant(new int[][][] {{{1, 2}}, {{3, 4}}}), s(2, 1, 2), INT32, 1, 2, 3, 4);
            assertExact(Spool.constant(new long[] {-1, 1L << 40}), s(2), INT64, -1, 0x1p40);
            assertExact(Spool.constant(new boolean[][] {{true}, {false}}), s(2, 1), BOOL, 1, 0);
            assertExact(Spool.constant(new float[0]), s(0), FLOAT32);
            assertExact(Spool.constant(new double[] {1, 2, 3, 4}, s(2, 2), INT64), s(2, 2), INT64, 1, 2, 3, 4);
            assertExact(Spool.constant(new double[] {1.5, 2.5}, s(2), FLOAT32), s(2), FLOAT32, 1.5, 2.5);
            if (d.supportsFloat64()) {
                assertExact(Spool.constant(new double[] {0.1, 0.2}), s(2), FLOAT64, 0.1, 0.2);
            }
            Tensor m = Spool.constant(new float[][] {{1, 2}, {3, 4}});
            assertEquals(4.0f, m.getFloat(1, 1));
            assertEquals(2.0, m.getDouble(0, 1));
            assertEquals(3.0, m.transpose().getDouble(0, 1)); // indices are logical, strides applied
            assertEquals(4.0, m.slice(new int[] {1, 1}, new int[] {1, 1}).getDouble(0, 0));
            assertArrayEquals(new float[] {1, 3, 2, 4}, m.transpose().toFloatArray());
            assertArrayEquals(new int[] {1, 2, 3, 4}, m.toIntArray());
            assertEquals(2, m.rank());
            assertEquals(4, m.size());
        });
        row("zeros ones fill", d -> {
            assertExact(Spool.zeros(2, 3), s(2, 3), FLOAT32, new double[6]);
            assertExact(Spool.ones(2), s(2), FLOAT32, 1, 1);
            assertExact(Spool.ones(), s(), FLOAT32, 1);
            assertExact(Spool.zeros(s(2), INT64), s(2), INT64, 0, 0);
            assertExact(Spool.ones(s(3), INT32), s(3), INT32, 1, 1, 1);
            assertExact(Spool.ones(s(2), BOOL), s(2), BOOL, 1, 1);
            assertExact(Spool.zeros(s(0, 4), FLOAT32), s(0, 4), FLOAT32);
            assertExact(Spool.fill(s(2, 2), 7.5), s(2, 2), FLOAT32, 7.5, 7.5, 7.5, 7.5);
            assertExact(Spool.fill(s(2), -3, INT32), s(2), INT32, -3, -3);
            assertExact(Spool.fill(s(2), 0.5, BOOL), s(2), BOOL, 1, 1);
            assertExact(Spool.fill(s(1), Double.NaN), s(1), FLOAT32, Double.NaN);
            if (d.supportsFloat64()) {
                assertExact(Spool.fill(s(1), 0.1, FLOAT64), s(1), FLOAT64, 0.1);
            }
        });
        row("zerosLike onesLike", d -> {
            Tensor i = t(INT32, s(2, 1), 5, 6);
            assertExact(Spool.zerosLike(i), s(2, 1), INT32, 0, 0);
            assertExact(Spool.onesLike(i), s(2, 1), INT32, 1, 1);
            Tensor x = f(s(3), 1, 2, 3).transpose();
            assertExact(Spool.onesLike(x), s(3), FLOAT32, 1, 1, 1);
            try (Variable v = new Variable(f(s(2), 1, 2))) {
                assertExact(Spool.zerosLike(v), s(2), FLOAT32, 0, 0);
            }
        });
        row("range", d -> {
            assertExact(Spool.range(5), s(5), INT32, 0, 1, 2, 3, 4);
            assertExact(Spool.range(0), s(0), INT32);
            assertExact(Spool.range(1, 2, 0.25, FLOAT32), s(4), FLOAT32, 1, 1.25, 1.5, 1.75);
            assertExact(Spool.range(5, 0, -2, INT64), s(3), INT64, 5, 3, 1);
            assertExact(Spool.range(3, 3, 1, FLOAT32), s(0), FLOAT32);
            assertExact(Spool.range(3, 1, 1, INT32), s(0), INT32);
            assertThrows(ShapeException.class, () -> Spool.range(0, 1, 0, FLOAT32));
        });
        row("linspace", d -> {
            assertExact(Spool.linspace(0, 1, 5), s(5), FLOAT32, 0, 0.25, 0.5, 0.75, 1);
            assertExact(Spool.linspace(2, 2, 1), s(1), FLOAT32, 2);
            assertExact(Spool.linspace(3, -3, 3), s(3), FLOAT32, 3, 0, -3);
            assertExact(Spool.linspace(0, 1, 0), s(0), FLOAT32);
            if (d.supportsFloat64()) {
                assertExact(Spool.linspace(0, 1, 4, FLOAT64), s(4), FLOAT64, 0, 1.0 / 3, 2.0 / 3, 1);
            }
        });
        row("eye", d -> {
            assertExact(Spool.eye(3), s(3, 3), FLOAT32, 1, 0, 0, 0, 1, 0, 0, 0, 1);
            assertExact(Spool.eye(2, 3, INT32), s(2, 3), INT32, 1, 0, 0, 0, 1, 0);
            assertExact(Spool.eye(3, 1, INT64), s(3, 1), INT64, 1, 0, 0);
            assertExact(Spool.eye(0), s(0, 0), FLOAT32);
        });
    }

    // ---- random -----------------------------------------------------------------------------

    static double mean(double[] v) {
        return Arrays.stream(v).average().orElse(Double.NaN);
    }

    static double std(double[] v) {
        double m = mean(v);
        return Math.sqrt(Arrays.stream(v).map(x -> (x - m) * (x - m)).sum() / v.length);
    }

    private static void randomRows() {
        row("randomUniform", d -> {
            Shape shape = s(100, 100);
            double[] a = Spool.randomUniform(shape, 42).toDoubleArray();
            assertArrayEquals(a, Spool.randomUniform(shape, 42).toDoubleArray(), "same seed, same values");
            assertFalse(Arrays.equals(a, Spool.randomUniform(shape, 43).toDoubleArray()), "another seed, other values");
            for (int i = 0; i < a.length; i++) {
                // Bit for bit the reference generator, on every device.
                assertEquals(Philox.uniformFloat(42, i), (float) a[i], "element " + i);
                assertTrue(a[i] >= 0 && a[i] < 1, "element " + i + " = " + a[i]);
            }
            assertEquals(0.5, mean(a), 0.01);
            assertEquals(Math.sqrt(1.0 / 12), std(a), 0.01);
            assertMeta(Spool.randomUniform(shape, 42), shape, FLOAT32);
            // A prefix of a longer draw: element i depends only on (seed, i).
            double[] shortDraw = Spool.randomUniform(s(7), 42).toDoubleArray();
            assertArrayEquals(Arrays.copyOf(a, 7), shortDraw);
            Tensor ranged = Spool.randomUniform(s(1000), 7, -3, 5, FLOAT32);
            double[] r = ranged.toDoubleArray();
            for (int i = 0; i < r.length; i++) {
                assertTrue(r[i] >= -3 && r[i] <= 5, "element " + i + " = " + r[i]);
                assertEquals(-3 + 8.0 * Philox.uniformFloat(7, i), r[i], 1e-5);
            }
            if (d.supportsFloat64()) {
                double[] u64 = Spool.randomUniform(s(100), 9, 0, 1, FLOAT64).toDoubleArray();
                for (int i = 0; i < u64.length; i++) {
                    assertEquals(Philox.uniformDouble(9, i), u64[i], "element " + i);
                }
            }
            assertExact(Spool.randomUniform(s(0), 1), s(0), FLOAT32);
        });
        row("randomNormal", d -> {
            Shape shape = s(10_000);
            double[] z = Spool.randomNormal(shape, 11).toDoubleArray();
            assertArrayEquals(z, Spool.randomNormal(shape, 11).toDoubleArray(), "same seed, same values");
            assertFalse(Arrays.equals(z, Spool.randomNormal(shape, 12).toDoubleArray()), "another seed, other values");
            assertEquals(0, mean(z), 0.05);
            assertEquals(1, std(z), 0.05);
            // Box–Muller on the two halves of one Philox stream, as documented.
            int n = z.length;
            for (int i = 0; i < n; i += 97) {
                double u1 = Philox.uniformFloat(11, i);
                double u2 = Philox.uniformFloat(11, n + i);
                double expected = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos((float) (2 * Math.PI) * u2);
                assertEquals(expected, z[i], 1e-4 + 1e-4 * Math.abs(expected), "element " + i);
            }
            double[] shifted = Spool.randomNormal(s(10_000), 11, 10, 2, FLOAT32).toDoubleArray();
            assertEquals(10, mean(shifted), 0.1);
            assertEquals(2, std(shifted), 0.1);
            assertMeta(Spool.randomNormal(s(2, 3), 1), s(2, 3), FLOAT32);
        });
    }

    // ---- formatting -------------------------------------------------------------------------

    private static void formatRows() {
        row("toString", d -> {
            String dev = "device=" + d.id() + ")";
            assertEquals("Tensor(16.0, shape=(), dtype=float32, " + dev, Spool.constant(16f).toString());
            assertEquals("Tensor([[1.0 2.0]\n [3.0 4.0]], shape=(2, 2), dtype=float32, " + dev,
                    Spool.constant(new float[][] {{1, 2}, {3, 4}}).toString());
            assertEquals("Tensor([[1.0 3.0]\n [2.0 4.0]], shape=(2, 2), dtype=float32, " + dev,
                    Spool.constant(new float[][] {{1, 2}, {3, 4}}).transpose().toString());
            assertEquals("Tensor([1 2 3], shape=(3,), dtype=int32, " + dev, Spool.constant(new int[] {1, 2, 3}).toString());
            assertEquals("Tensor([True False], shape=(2,), dtype=bool, " + dev,
                    Spool.constant(new boolean[] {true, false}).toString());
            assertEquals("Tensor([0 1 2 ... 998 999 1000], shape=(1001,), dtype=int32, " + dev,
                    Spool.range(1001).toString());
            assertEquals("Tensor([], shape=(0,), dtype=float32, " + dev, Spool.zeros(0).toString());
            Tensor closed = Spool.ones(2);
            closed.close();
            assertEquals("Tensor(<closed>, shape=(2,), dtype=float32, " + dev, closed.toString());
            try (Variable v = new Variable(Spool.constant(1f), "v")) {
                assertEquals("<Variable 'v' shape=() dtype=float32 device=" + d.id() + ", numpy=1.0>", v.toString());
            }
        });
        row("cpu tensor toString", d -> {
            // The exact text of the tutorial's z on the CPU device, whatever device is under test.
            Tensor z = Spool.constant(16f).to(Device.cpu());
            assertEquals("Tensor(16.0, shape=(), dtype=float32, device=cpu)", z.toString());
            z.close();
        });
    }
}
