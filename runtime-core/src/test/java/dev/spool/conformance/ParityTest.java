package dev.spool.conformance;

import static dev.spool.DType.BOOL;
import static dev.spool.DType.FLOAT32;
import static dev.spool.DType.FLOAT64;
import static dev.spool.DType.INT32;
import static dev.spool.DType.INT64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Moments;
import dev.spool.Padding;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.UnconnectedGradients;
import dev.spool.conformance.ElementwiseTable.Domain;
import dev.spool.testing.GradCheck;
import dev.spool.testing.GradCheck.Input;
import dev.spool.testing.TensorAssert;
import dev.spool.testing.TestDevices;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every op on the device under test against the same op on the pure-Java CPU device, on the
 * same random inputs: sizes that are not multiples of a work-group (0, 1, 7, 1000, 4099, 67x61),
 * broadcasting, and non-contiguous (transposed) inputs. Differentiable rows also compare the
 * tape gradients of {@code sum(f(x) * w)}.
 *
 * <p>Meaningful only for devices other than the CPU device: the backend modules other than
 * runtime-cpu run it (runtime-cpu excludes it, since it would compare the CPU device with itself).
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try") // scopes (device, tensors, pauses) are opened for their effect
class ParityTest {

    /** One row: an op on given inputs, the tolerance of its float32 results, whether to compare gradients. */
    record Row(String name, GradCheck.Fn fn, List<Input> inputs, double rtol, double atol, boolean gradients,
               boolean float64) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> table() {
        return TestDevices.withEach(rows());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("table")
    void matchesTheCpuDevice(Device device, Row row) {
        Device cpu = Device.cpu();
        try (TestDevices.On on = TestDevices.on(device)) {
            if (row.float64() && !device.supportsFloat64()) {
                // Nothing to compare: the device must refuse float64 instead.
                assertThrows(DTypeException.class, () -> Spool.zeros(s(1), FLOAT64));
                return;
            }
            Tensor[] here = GradCheck.materialize(row.inputs(), FLOAT32);
            Tensor[] ref;
            Tensor expected;
            try (Device.Scope c = Device.use(cpu)) { // factories in a row create on the current device
                ref = GradCheck.materialize(row.inputs(), FLOAT32);
                expected = row.fn().apply(ref);
            }
            Tensor actual = row.fn().apply(here);
            assertEquals(device, actual.device());
            assertEquals(cpu, expected.device());
            assertEquals(expected.shape(), actual.shape(), "shape");
            assertEquals(expected.dtype(), actual.dtype(), "dtype");
            TensorAssert.assertClose(expected.toDoubleArray(), actual.toDoubleArray(), row.rtol(), row.atol(),
                    row.name() + " on " + device + " vs cpu");
            if (row.gradients()) {
                List<Tensor> gExpected = gradients(row, ref, expected.shape());
                List<Tensor> gActual = gradients(row, here, expected.shape());
                for (int i = 0; i < gExpected.size(); i++) {
                    Tensor e = gExpected.get(i);
                    Tensor a = gActual.get(i);
                    assertNotNull(a, "gradient of input " + i + " on " + device);
                    assertEquals(device, a.device());
                    assertEquals(e.shape(), a.shape());
                    // Even exact ops sum gradients (tile, broadcast): a device may sum in another order.
                    TensorAssert.assertClose(e.toDoubleArray(), a.toDoubleArray(),
                            Math.max(10 * row.rtol(), RTOL), Math.max(10 * row.atol(), ATOL),
                            "gradient of input " + i + " on " + device + " vs cpu");
                }
            }
        }
    }

    /** Gradients of {@code sum(f(x) * w)} for the float inputs, on the inputs' device. */
    private static List<Tensor> gradients(Row row, Tensor[] xs, Shape outShape) {
        List<Tensor> sources = new ArrayList<>();
        for (int i = 0; i < xs.length; i++) {
            if (row.inputs().get(i).differentiable()) {
                sources.add(xs[i]);
            }
        }
        Device d = xs[0].device();
        try (Device.Scope scope = Device.use(d)) {
            GradientTape tape = new GradientTape();
            Tensor loss;
            try (tape) {
                tape.watch(sources.toArray(new Tensor[0]));
                Tensor y = row.fn().apply(xs);
                loss = y.mul(Spool.randomUniform(outShape, 99, -1, 1, FLOAT32)).sum();
            }
            return tape.gradient(loss, sources, null, UnconnectedGradients.ZERO);
        }
    }

    // ---- the table --------------------------------------------------------------------------

    private static final List<Row> ROWS = new ArrayList<>();
    private static final double RTOL = 2e-5;
    private static final double ATOL = 1e-5;

    static synchronized List<Row> rows() {
        if (ROWS.isEmpty()) {
            elementwiseRows();
            reductionRows();
            matmulRows();
            shapeRows();
            nnRows();
            fusedRows();
            convRows();
            dtypeAndFactoryRows();
        }
        return ROWS;
    }

    private static void add(String name, GradCheck.Fn fn, double rtol, double atol, boolean gradients, Input... inputs) {
        ROWS.add(new Row(name, fn, List.of(inputs), rtol, atol, gradients, false));
    }

    private static void addFloat64(String name, GradCheck.Fn fn, double atol, Input... inputs) {
        ROWS.add(new Row(name, fn, List.of(inputs), 0, atol, false, true));
    }

    private static Shape s(int... dims) {
        return Shape.of(dims);
    }

    private static int[] ints(int... v) {
        return v;
    }

    /**
     * Convolutions and pooling at the sizes of a small CNN (Keras's Fashion-MNIST model, batch 4)
     * and odd ones; sums of hundreds of float32 products, in another order on each device.
     */
    private static void convRows() {
        double rtol = 1e-4;
        double atol = 1e-4;
        Random r = rng("conv");
        add("conv2d 28x28x1 to 32, 3x3 VALID", x -> Spool.conv2d(x[0], x[1], ints(1), Padding.VALID), rtol, atol, true,
                in(r, Domain.ANY, s(4, 28, 28, 1)), in(r, Domain.ANY, s(3, 3, 1, 32)));
        add("conv2d 13x13x32 to 64, 3x3 VALID", x -> Spool.conv2d(x[0], x[1], ints(1), Padding.VALID), rtol, atol,
                true, in(r, Domain.ANY, s(2, 13, 13, 32)), in(r, Domain.ANY, s(3, 3, 32, 64)));
        add("conv2d 3 groups, stride 2 SAME, dilation 1x2", x -> Spool.conv2d(x[0], x[1], ints(2), Padding.SAME,
                ints(1, 2)), rtol, atol, true, in(r, Domain.ANY, s(3, 11, 9, 6)), in(r, Domain.ANY, s(3, 3, 2, 9)));
        add("depthwiseConv2d 5x5 SAME, multiplier 3", x -> Spool.depthwiseConv2d(x[0], x[1], ints(1), Padding.SAME),
                rtol, atol, true, in(r, Domain.ANY, s(2, 9, 10, 5)), in(r, Domain.ANY, s(5, 5, 5, 3)));
        add("conv2dTranspose stride 2", x -> Spool.conv2dTranspose(x[0], x[1], ints(2, 14, 14, 8), ints(2),
                Padding.SAME), rtol, atol, true, in(r, Domain.ANY, s(2, 7, 7, 16)), in(r, Domain.ANY, s(3, 3, 8, 16)));
        add("maxPool2d 2x2 of (4, 26, 26, 32)", x -> Spool.maxPool2d(x[0], ints(2), ints(2), Padding.VALID), 0, 0, true,
                in(r, Domain.ANY, s(4, 26, 26, 32)));
        add("maxPool2d 3x3 stride 2 SAME", x -> Spool.maxPool2d(x[0], ints(3), ints(2), Padding.SAME), 0, 0, true,
                in(r, Domain.ANY, s(2, 15, 14, 7)));
        add("avgPool2d 3x3 stride 2 SAME", x -> Spool.avgPool2d(x[0], ints(3), ints(2), Padding.SAME), RTOL, ATOL, true,
                in(r, Domain.ANY, s(2, 15, 14, 7)));
        add("fusedBatchNorm over (64, 5, 5, 16)", x -> Spool.fusedBatchNorm(x[0], x[1], x[2], 1e-3).y(), rtol, atol,
                true, in(r, Domain.ANY, s(64, 5, 5, 16)), in(r, Domain.ANY, s(16)), in(r, Domain.ANY, s(16)));
        add("batch normalization over (64, 5, 5, 16)", x -> {
            Moments m = Spool.moments(x[0], ints(0, 1, 2), false);
            return Spool.batchNormalization(x[0], m.mean(), m.variance(), x[1], x[2], 1e-3);
        }, rtol, atol, true, in(r, Domain.ANY, s(64, 5, 5, 16)), in(r, Domain.ANY, s(16)), in(r, Domain.ANY, s(16)));
    }

    private static Random rng(String name) {
        return new Random(ElementwiseTable.seed("parity/" + name));
    }

    private static Input in(Random r, Domain d, Shape shape) {
        return Input.of(shape, d.sample(r, (int) shape.size()));
    }

    private static Input ints(Random r, DType dtype, Shape shape, int bound) {
        long[] v = new long[(int) shape.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (long) (r.nextDouble() * (2L * bound + 1)) - bound;
        }
        return Input.indices(shape, dtype, v);
    }

    private static final Shape[] UNARY_SHAPES = {s(0), s(1), s(7), s(1000), s(4099), s(3, 1367)};

    private static final Object[][] BINARY_SHAPES = {
        {s(4099), s(4099), false},
        {s(4099), s(1), false},
        {s(), s(1000), false},
        {s(67, 61), s(61), false},
        {s(67, 1), s(1, 61), false},
        {s(61, 67), s(61, 1), true},
        {s(7), s(7), false},
        {s(1), s(1), false},
        {s(0), s(0), false},
    };

    private static void elementwiseRows() {
        for (ElementwiseTable.Unary u : ElementwiseTable.UNARY) {
            GradCheck.Fn fn = x -> u.op().apply(x[0]);
            for (Shape shape : UNARY_SHAPES) {
                String name = u.name() + " " + shape;
                add(name, fn, RTOL, ATOL, true, in(rng(name), u.domain(), shape));
            }
            String name = u.name() + " (61, 67)ᵀview";
            add(name, fn, RTOL, ATOL, true, in(rng(name), u.domain(), s(61, 67)).asTransposedView());
            if (u.integers()) {
                for (DType dt : new DType[] {INT32, INT64}) {
                    add(u.name() + " " + dt, fn, 0, 0, false, ints(rng(u.name() + dt), dt, s(4099), 1000));
                }
            }
        }
        for (ElementwiseTable.Binary b : ElementwiseTable.BINARY) {
            GradCheck.Fn fn = x -> b.op().apply(x[0], x[1]);
            for (Object[] c : BINARY_SHAPES) {
                String name = b.name() + " " + c[0] + ((Boolean) c[2] ? "ᵀview" : "") + " " + c[1];
                Random r = rng(name);
                Input a = in(r, b.a(), (Shape) c[0]);
                add(name, fn, RTOL, ATOL, true, (Boolean) c[2] ? a.asTransposedView() : a, in(r, b.b(), (Shape) c[1]));
            }
            if (b.integers()) {
                for (DType dt : new DType[] {INT32, INT64}) {
                    Random r = rng(b.name() + dt);
                    add(b.name() + " " + dt, fn, 0, 0, false, ints(r, dt, s(67, 61), 1000), ints(r, dt, s(61), 1000));
                }
            }
        }
        for (DType dt : new DType[] {INT32, INT64}) {
            Random r = rng("div" + dt);
            long[] divisors = new long[61];
            for (int i = 0; i < divisors.length; i++) {
                divisors[i] = (r.nextBoolean() ? 1 : -1) * (1 + r.nextInt(9));
            }
            add("div " + dt + " truncates", x -> x[0].div(x[1]), 0, 0, false, ints(r, dt, s(67, 61), 1000),
                    Input.indices(s(61), dt, divisors));
        }
        // Comparisons on a coarse grid, so that equal elements occur.
        Random r = rng("comparisons");
        Input a = Input.of(s(67, 61), Arrays.stream(Domain.ANY.sample(r, 67 * 61)).map(Math::rint).toArray()).fixed();
        Input bb = Input.of(s(61), Arrays.stream(Domain.ANY.sample(r, 61)).map(Math::rint).toArray()).fixed();
        add("equal", x -> x[0].equal(x[1]), 0, 0, false, a, bb);
        add("notEqual", x -> x[0].notEqual(x[1]), 0, 0, false, a, bb);
        add("less", x -> x[0].less(x[1]), 0, 0, false, a, bb);
        add("lessEqual", x -> x[0].lessEqual(x[1]), 0, 0, false, a, bb);
        add("greater", x -> x[0].greater(x[1]), 0, 0, false, a, bb);
        add("greaterEqual", x -> x[0].greaterEqual(x[1]), 0, 0, false, a, bb);
        add("logicalNot", x -> x[0].less(x[1]).logicalNot(), 0, 0, false, a, bb);
        add("equal bool", x -> x[0].less(x[1]).equal(x[0].greater(x[1])), 0, 0, false, a, bb);
        add("where", x -> Spool.where(x[0].greater(x[1]), x[2], x[3]), RTOL, ATOL, true, a, bb,
                in(r, Domain.ANY, s(61)), in(r, Domain.ANY, s(67, 1)));
        add("where int64", x -> Spool.where(x[0].greater(x[1]), x[2], x[3]), 0, 0, false, a, bb,
                ints(r, INT64, s(61), 100), ints(r, INT64, s(), 100));
    }

    private static void reductionRows() {
        Object[][] cases = {
            {s(4099), null, false},
            {s(67, 61), new int[0], false}, // no axis (TF's axis=[]): the values unchanged
            {s(67, 61), new int[0], true},
            {s(67, 61), new int[] {0}, false},
            {s(67, 61), new int[] {1}, true},
            {s(7, 1000), new int[] {-1}, false},
            {s(3, 5, 7), new int[] {0, 2}, false},
            {s(3, 0), new int[] {1}, false},
            {s(0), null, false},
        };
        for (String op : new String[] {"sum", "mean", "max", "min", "prod"}) {
            for (Object[] c : cases) {
                Shape shape = (Shape) c[0];
                int[] axes = (int[]) c[1];
                boolean keep = (Boolean) c[2];
                String name = op + " " + shape + " axes " + Arrays.toString(axes) + (keep ? " keepDims" : "");
                Random r = rng(name);
                // Positive addends (no cancellation); factors near 1 (no overflow over 4099 of them).
                double[] v = op.equals("prod")
                        ? Arrays.stream(Domain.ANY.sample(r, (int) shape.size())).map(x -> 1 + x / 2000).toArray()
                        : Domain.POSITIVE.sample(r, (int) shape.size());
                boolean grads = !op.equals("prod") || shape.size() < 1000; // prod's gradient over 4099 factors is ill-conditioned
                add(name, x -> OpForwardTest.reduce(op, x[0], axes, keep), 1e-4, 1e-4, grads, Input.of(shape, v));
            }
            String name = op + " (61, 67)ᵀview axis 0";
            double[] v = Domain.POSITIVE.sample(rng(name), 61 * 67);
            if (op.equals("prod")) {
                v = Arrays.stream(v).map(x -> 1 + (x - 1.5) / 100).toArray();
            }
            add(name, x -> OpForwardTest.reduce(op, x[0], new int[] {0}, false), 1e-4, 1e-4, true,
                    Input.of(s(61, 67), v).asTransposedView());
        }
        for (String op : new String[] {"sum", "max", "min", "prod"}) {
            Random r = rng(op + " int");
            add(op + " int64", x -> OpForwardTest.reduce(op, x[0], new int[] {1}, false), 0, 0, false,
                    ints(r, INT64, s(67, 7), 9));
            add(op + " int32", x -> OpForwardTest.reduce(op, x[0], new int[] {0}, false), 0, 0, false,
                    ints(r, INT32, s(7, 67), 9));
        }
        Random r = rng("arg");
        Input x = in(r, Domain.ANY, s(67, 61));
        add("argMax axis 0", v -> v[0].argMax(0), 0, 0, false, x);
        add("argMax axis 1", v -> v[0].argMax(1), 0, 0, false, x);
        add("argMin axis 0", v -> v[0].argMin(0), 0, 0, false, x);
        add("argMin (4099,)", v -> v[0].argMin(0), 0, 0, false, in(r, Domain.ANY, s(4099)));
        add("argMax (61, 67)ᵀview axis 1", v -> v[0].argMax(1), 0, 0, false,
                in(r, Domain.ANY, s(61, 67)).asTransposedView());
        add("argMax ties int32", v -> v[0].argMax(1), 0, 0, false, ints(r, INT32, s(67, 61), 2));
    }

    private static void matmulRows() {
        Object[][] cases = {
            {s(1, 1), s(1, 1), false, false},
            {s(7, 1000), s(1000, 7), false, false},
            {s(65, 67), s(67, 63), false, false},
            {s(67, 65), s(67, 63), true, false},
            {s(65, 67), s(63, 67), false, true},
            {s(67, 65), s(63, 67), true, true},
            {s(3, 17, 19), s(19, 23), false, false},
            {s(2, 1, 17, 19), s(3, 19, 23), false, false},
            {s(5, 0), s(0, 7), false, false},
            {s(1, 4099), s(4099, 1), false, false},
        };
        for (Object[] c : cases) {
            Shape as = (Shape) c[0];
            Shape bs = (Shape) c[1];
            boolean ta = (Boolean) c[2];
            boolean tb = (Boolean) c[3];
            int k = ta ? as.dim(-2) : as.dim(-1);
            String name = "matmul " + as + (ta ? "ᵀ" : "") + " @ " + bs + (tb ? "ᵀ" : "");
            Random r = rng(name);
            add(name, x -> Spool.matmul(x[0], x[1], ta, tb), 1e-4, 1e-6 * k + 1e-5, true,
                    in(r, Domain.ANY, as), in(r, Domain.ANY, bs));
        }
        Random r = rng("matmul views");
        add("matmul (67, 65)ᵀview @ (63, 67)ᵀview", x -> x[0].matmul(x[1]), 1e-4, 1e-4, true,
                in(r, Domain.ANY, s(65, 67)).asTransposedView(), in(r, Domain.ANY, s(67, 63)).asTransposedView());
    }

    private static void shapeRows() {
        Random r = rng("shape");
        Input m = in(r, Domain.ANY, s(67, 61));
        Input mt = in(r, Domain.ANY, s(67, 61)).asTransposedView();
        add("reshape of a transposed view (copy)", x -> x[0].reshape(-1), 0, 0, true, mt);
        add("transpose rank 3 then reshape", x -> x[0].reshape(7, 13, 45).transpose(2, 0, 1).reshape(-1), 0, 0, true,
                in(r, Domain.ANY, s(4095)));
        add("concat axis 0", x -> Spool.concat(List.of(x[0], x[1], x[2]), 0), 0, 0, true,
                in(r, Domain.ANY, s(1000, 7)), in(r, Domain.ANY, s(3, 7)), in(r, Domain.ANY, s(0, 7)));
        add("concat axis 1 with a view", x -> Spool.concat(List.of(x[0], x[1]), 1), 0, 0, true, m, mt);
        add("stack axis 1", x -> Spool.stack(List.of(x[0], x[1]), 1), 0, 0, true, m, mt);
        add("slice", x -> x[0].slice(new int[] {3, 5}, new int[] {50, 41}).exp(), RTOL, ATOL, true, m);
        add("slice of a view", x -> x[0].slice(new int[] {3, 5}, new int[] {50, 41}).mul(2), 0, 0, true, mt);
        add("tile", x -> x[0].tile(600), 0, 0, true, in(r, Domain.ANY, s(7)));
        add("broadcastTo then mul", x -> x[0].broadcastTo(67, 61).mul(x[1]), 0, 0, true, in(r, Domain.ANY, s(61)), m);
        add("squeeze expandDims", x -> x[0].expandDims(1).squeeze(1).add(1), 0, 0, true, mt);
        long[] idx = new long[4099];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = r.nextInt(1010) - 5; // a few out of range: zeros
        }
        add("gather axis 0 int32", x -> x[0].gather(x[1], 0), 0, 0, true, in(r, Domain.ANY, s(1000, 7)),
                Input.indices(s(4099), INT32, idx));
        add("gather axis 1 int64 (2-D indices)", x -> x[0].gather(x[1], 1), 0, 1e-5, true, m,
                Input.indices(s(2, 3), INT64, 60, 0, 7, 7, 7, 59));
        add("gather a view", x -> x[0].gather(x[1], 0), 0, 1e-5, true, mt, Input.indices(s(5), INT32, 66, 0, 3, 3, 1));
        add("gather int64 params", x -> x[0].gather(x[1], 0), 0, 0, false, ints(r, INT64, s(1000), 1 << 29),
                Input.indices(s(4099), INT32, idx));
        add("oneHot", x -> Spool.oneHot(x[0], 7), 0, 0, false, ints(r, INT32, s(4099), 8));
        add("oneHot int64 to int32", x -> Spool.oneHot(x[0], 1000, 3, -1, INT32), 0, 0, false,
                Input.indices(s(7), INT64, 0, 999, 1000, -1, 500, 3, 3));
    }

    /** Bias-add with each fused activation (and its gradients); each training update, three steps. */
    private static void fusedRows() {
        Random r = rng("fused");
        for (dev.spool.FusedActivation a : dev.spool.FusedActivation.values()) {
            add("biasAdd+" + a, x -> Spool.biasAdd(x[0], x[1], a), RTOL, ATOL, true,
                    in(r, Domain.ANY, s(67, 61)), in(r, Domain.ANY, s(61)));
            add("biasAdd+" + a + " (61, 67)ᵀview", x -> Spool.biasAdd(x[0], x[1], a), RTOL, ATOL, true,
                    in(r, Domain.ANY, s(61, 67)).asTransposedView(), in(r, Domain.ANY, s(67)));
        }
        Input w = in(r, Domain.ANY, s(67, 61));
        Input g = in(r, Domain.ANY, s(67, 61));
        Input slot = in(r, Domain.ANY, s(67, 61));
        Input positive = in(r, Domain.POSITIVE, s(67, 61));
        add("applyGradientDescent", x -> updated(x, 1, (vars, grad, t) -> Spool.applyGradientDescent(vars[0], 0.1, grad)),
                RTOL, ATOL, false, w, g);
        for (boolean keras : new boolean[] {false, true}) {
            for (boolean nesterov : new boolean[] {false, true}) {
                add((keras ? "applyKerasMomentum" : "applyMomentum") + (nesterov ? " nesterov" : ""), x -> updated(x, 2,
                        (vars, grad, t) -> {
                            if (keras) {
                                Spool.applyKerasMomentum(vars[0], vars[1], 0.1, grad, 0.9, nesterov);
                            } else {
                                Spool.applyMomentum(vars[0], vars[1], 0.1, grad, 0.9, nesterov);
                            }
                        }), RTOL, ATOL, false, w, slot, g);
            }
        }
        add("applyAdam", x -> updated(x, 3, (vars, grad, t) -> Spool.applyAdam(vars[0], vars[1], vars[2],
                Math.pow(0.9, t), Math.pow(0.999, t), 0.01, 0.9, 0.999, 1e-7, grad)), RTOL, ATOL, false, w, slot, positive, g);
    }

    interface Update {
        void apply(dev.spool.Variable[] vars, Tensor grad, int step);
    }

    /** Variables from the first {@code n} inputs, three updates with the last as gradient; all values, concatenated. */
    private static Tensor updated(Tensor[] x, int n, Update update) {
        dev.spool.Variable[] vars = new dev.spool.Variable[n];
        for (int i = 0; i < n; i++) {
            vars[i] = new dev.spool.Variable(x[i]);
        }
        try {
            for (int t = 1; t <= 3; t++) {
                update.apply(vars, x[n].mul(1.0 / t), t);
            }
            List<Tensor> values = new ArrayList<>();
            for (dev.spool.Variable v : vars) {
                values.add(v.value());
            }
            return Spool.concat(values, 0);
        } finally {
            for (dev.spool.Variable v : vars) {
                v.close();
            }
        }
    }

    private static void nnRows() {
        Random r = rng("nn");
        Input logits = Input.of(s(67, 61), Arrays.stream(Domain.ANY.sample(r, 67 * 61)).map(v -> 5 * v).toArray());
        add("softmax axis -1", x -> x[0].softmax(-1), 1e-4, 1e-6, true, logits);
        add("softmax axis 0", x -> x[0].softmax(0), 1e-4, 1e-6, true, logits);
        // fused attention: tiles of neither side whole (Tq 37, Tk 70), dv != d, causal with a mask
        // [Tq, Tk] broadcast over batch and heads, and a transposed q ([..., d, T] stored)
        double[] attMask = new double[37 * 70];
        for (int i = 0; i < attMask.length; i++) {
            attMask[i] = r.nextDouble() < 0.8 ? 1 : 0;
        }
        add("scaledDotProductAttention causal + mask", x -> Spool.scaledDotProductAttention(x[0], x[1], x[2],
                Spool.constant(attMask, s(37, 70), BOOL), true), 1e-4, 1e-5, true,
                in(r, Domain.ANY, s(2, 3, 37, 16)).asTransposedView(), in(r, Domain.ANY, s(2, 3, 70, 16)),
                in(r, Domain.ANY, s(2, 3, 70, 12)));
        add("logSoftmax axis -1", x -> x[0].logSoftmax(-1), 1e-4, 1e-5, true, logits);
        double[] labels = new double[67 * 61];
        for (int i = 0; i < 67; i++) {
            labels[i * 61 + r.nextInt(61)] = 1;
        }
        add("softmaxCrossEntropyWithLogits", x -> Spool.softmaxCrossEntropyWithLogits(x[0], x[1]), 1e-4, 1e-5, true,
                Input.of(s(67, 61), labels), logits);
        // the fused primitives across both OpenCL strategies' sizes: rows of 1, of 1000 (rank 3) and of
        // 4096 (more than a work-group), a moved axis (strided rows), soft labels; float64 too
        Input wide = Input.of(s(3, 4096), Arrays.stream(Domain.ANY.sample(r, 3 * 4096)).map(v -> 8 * v).toArray());
        add("softmax (2, 5, 1000)", x -> x[0].softmax(-1), 1e-4, 1e-6, true, in(r, Domain.ANY, s(2, 5, 1000)));
        add("softmax (9, 1) rows of one", x -> x[0].softmax(-1), 1e-6, 1e-7, true, in(r, Domain.ANY, s(9, 1)));
        add("softmax axis 1 of (4, 300, 3)", x -> x[0].softmax(1), 1e-4, 1e-6, true, in(r, Domain.ANY, s(4, 300, 3)));
        add("logSoftmax (3, 4096)", x -> x[0].logSoftmax(-1), 1e-4, 1e-5, true, wide);
        double[] soft = Arrays.stream(Domain.POSITIVE.sample(r, 3 * 4096)).map(v -> v / 2048).toArray();
        add("softmaxCrossEntropyWithLogits (3, 4096) soft labels", x -> Spool.softmaxCrossEntropyWithLogits(x[0], x[1]),
                1e-4, 1e-5, true, Input.of(s(3, 4096), soft), wide);
        addFloat64("logSoftmax and cross-entropy float64", v -> {
            Tensor x = Spool.randomNormal(s(5, 1000), 3, 0, 4, FLOAT64);
            Tensor l = Spool.randomUniform(s(5, 1000), 4, 0, 1, FLOAT64);
            return x.logSoftmax(-1).sum(new int[] {1}, false).add(Spool.softmaxCrossEntropyWithLogits(l, x));
        }, 1e-7, Input.of(s(1), 0).fixed());
        add("mlp loss", x -> {
            Tensor h = x[0].matmul(x[1]).add(x[2]).tanh();
            Tensor out = h.matmul(x[3]).relu();
            return Spool.softmaxCrossEntropyWithLogits(x[4], out).mean();
        }, 1e-4, 1e-5, true, in(r, Domain.ANY, s(67, 33)), in(r, Domain.ANY, s(33, 65)), in(r, Domain.ANY, s(65)),
                in(r, Domain.ANY, s(65, 61)), Input.of(s(67, 61), labels).fixed());
    }

    private static void dtypeAndFactoryRows() {
        for (DType from : DType.values()) {
            for (DType to : DType.values()) {
                Random r = rng("cast " + from + " " + to);
                Input x = from.isFloating()
                        ? Input.of(s(4099), Arrays.stream(Domain.ANY.sample(r, 4099)).map(v -> 1000 * v).toArray()).fixed()
                        : ints(r, from == BOOL ? INT32 : from, s(4099), from == BOOL ? 1 : 1 << 20);
                GradCheck.Fn cast = v -> {
                    Tensor t = from == BOOL ? v[0].notEqual(Spool.zerosLike(v[0])) : v[0].cast(from);
                    return t.cast(to);
                };
                if (from == FLOAT64 || to == FLOAT64) {
                    addFloat64("cast " + from + " to " + to, cast, 0, x);
                } else {
                    add("cast " + from + " to " + to, cast, 0, 0, false, x);
                }
            }
        }
        Input dummy = Input.of(s(1), 0).fixed();
        add("randomUniform", v -> Spool.randomUniform(s(4099), 123), 0, 0, false, dummy);
        add("randomUniform range", v -> Spool.randomUniform(s(1000), 7, -3, 5, FLOAT32), 1e-6, 1e-6, false, dummy);
        add("randomNormal", v -> Spool.randomNormal(s(4099), 5), 1e-4, 1e-4, false, dummy);
        addFloat64("randomUniform float64", v -> Spool.randomUniform(s(4099), 11, 0, 1, FLOAT64), 0, dummy);
        addFloat64("matmul and softmax float64", v -> Spool.randomNormal(s(7, 1000), 1, 0, 1, FLOAT64)
                .matmul(Spool.randomNormal(s(1000, 5), 2, 0, 1, FLOAT64)).softmax(-1), 1e-12, dummy);
        add("fill zeros ones", v -> Spool.fill(s(4099), 0.1).add(Spool.ones(4099)).add(Spool.zeros(4099)), 0, 0, false,
                dummy);
        add("fill int64 bool", v -> Spool.fill(s(7), 3, INT64).cast(FLOAT32).add(Spool.ones(s(7), BOOL).cast(FLOAT32)),
                0, 0, false, dummy);
        add("range linspace eye", v -> Spool.concat(List.of(Spool.range(0, 1000, 0.5, FLOAT32),
                Spool.linspace(-1, 1, 4099), Spool.eye(67).reshape(-1)), 0), 0, 0, false, dummy);
    }
}
