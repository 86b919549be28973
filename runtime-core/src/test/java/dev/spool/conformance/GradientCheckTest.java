package dev.spool.conformance;

import static dev.spool.DType.FLOAT32;
import static dev.spool.DType.FLOAT64;
import static dev.spool.DType.INT32;
import static dev.spool.DType.INT64;
import static dev.spool.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Moments;
import dev.spool.Padding;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.conformance.ElementwiseTable.Domain;
import dev.spool.testing.GradCheck;
import dev.spool.testing.GradCheck.Input;
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
 * Every differentiable op's tape gradient against central finite differences ({@link GradCheck}),
 * in float64, on random inputs: scalars, size-1 and size-0 axes, broadcasting, transposed
 * (non-contiguous) views and a random shape per op. Inputs stay away from kinks, ties and the
 * edges of each op's domain. A second, hand-checked table pins the gradient at exactly those
 * points to TensorFlow's conventions.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try") // scopes (device, tensors, pauses) are opened for their effect
class GradientCheckTest {

    /** One row: an op, a variant (shapes, axes, flags), the function and its inputs. */
    record Case(String op, String variant, GradCheck.Fn fn, List<Input> inputs) {
        @Override
        public String toString() {
            return op + " " + variant;
        }
    }

    static Stream<Arguments> table() {
        return TestDevices.withEach(cases());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("table")
    void gradientMatchesFiniteDifferences(Device device, Case c) {
        GradCheck.check(device, c.fn(), c.inputs());
    }

    // ---- the table --------------------------------------------------------------------------

    private static final List<Case> CASES = new ArrayList<>();

    static synchronized List<Case> cases() {
        if (CASES.isEmpty()) {
            unaryCases();
            binaryCases();
            whereCases();
            reductionCases();
            matmulCases();
            shapeCases();
            gatherCases();
            nnCases();
            biasAddCases();
            compositeCases();
            convCases();
            secondOrderCases();
        }
        return CASES;
    }

    private static void add(String op, String variant, GradCheck.Fn fn, Input... inputs) {
        CASES.add(new Case(op, variant, fn, List.of(inputs)));
    }

    private static Shape s(int... dims) {
        return Shape.of(dims);
    }

    private static Random rng(String op, String variant) {
        return new Random(ElementwiseTable.seed(op + "/" + variant));
    }

    private static Input in(Random r, Domain d, Shape shape) {
        return Input.of(shape, d.sample(r, (int) shape.size()));
    }

    private static Input any(Random r, int... dims) {
        return in(r, Domain.ANY, s(dims));
    }

    /** A random shape of rank 0 to 3 with dimensions 1 to 4. */
    private static Shape randomShape(Random r) {
        int[] dims = new int[r.nextInt(4)];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = 1 + r.nextInt(4);
        }
        return s(dims);
    }

    /** A shape that broadcasts to {@code full}: some leading dimensions dropped, some set to 1. */
    private static Shape broadcastableTo(Shape full, Random r) {
        int rank = r.nextInt(full.rank() + 1);
        int[] dims = new int[rank];
        for (int i = 0; i < rank; i++) {
            int d = full.dim(full.rank() - rank + i);
            dims[i] = r.nextInt(3) == 0 ? 1 : d;
        }
        return s(dims);
    }

    // ---- elementwise ------------------------------------------------------------------------

    /** Unary variants: scalar, size-1, vector, matrix, size-1 middle axis, empty, transposed view. */
    private static final Shape[] UNARY_SHAPES = {s(), s(1), s(5), s(2, 3), s(2, 1, 3), s(0, 3)};

    private static void unaryCases() {
        for (ElementwiseTable.Unary u : ElementwiseTable.UNARY) {
            GradCheck.Fn fn = x -> u.op().apply(x[0]);
            for (Shape shape : UNARY_SHAPES) {
                add(u.name(), shape.toString(), fn, in(rng(u.name(), shape.toString()), u.domain(), shape));
            }
            add(u.name(), "(3, 2)ᵀview", fn, in(rng(u.name(), "t"), u.domain(), s(3, 2)).asTransposedView());
            Random r = rng(u.name(), "random");
            Shape random = randomShape(r);
            add(u.name(), "random " + random, fn, in(r, u.domain(), random));
        }
    }

    /** Binary variants: (a shape, b shape, a as a transposed view, b as a transposed view). */
    private static final Object[][] BINARY_SHAPES = {
        {s(2, 3), s(2, 3), false, false},
        {s(2, 3), s(3), false, false},
        {s(3), s(2, 3), false, false},
        {s(2, 1), s(1, 3), false, false},
        {s(), s(2, 3), false, false},
        {s(2, 3), s(), false, false},
        {s(), s(), false, false},
        {s(1), s(4), false, false},
        {s(2, 1, 3), s(4, 1), false, false},
        {s(3, 2), s(2), true, false},
        {s(3, 2), s(3, 2), false, true},
        {s(2, 3), s(2, 1), false, false},
        {s(0, 3), s(3), false, false},
        {s(0, 3), s(0, 1), false, false},
    };

    private static void binaryCases() {
        for (ElementwiseTable.Binary b : ElementwiseTable.BINARY) {
            GradCheck.Fn fn = x -> b.op().apply(x[0], x[1]);
            for (Object[] c : BINARY_SHAPES) {
                Shape as = (Shape) c[0];
                Shape bs = (Shape) c[1];
                String variant = as + ((Boolean) c[2] ? "ᵀview" : "") + " " + bs + ((Boolean) c[3] ? "ᵀview" : "");
                Random r = rng(b.name(), variant);
                Input a = in(r, b.a(), as);
                Input bb = in(r, b.b(), bs);
                add(b.name(), variant, fn, (Boolean) c[2] ? a.asTransposedView() : a,
                        (Boolean) c[3] ? bb.asTransposedView() : bb);
            }
            Random r = rng(b.name(), "random");
            Shape full = randomShape(r);
            Shape other = broadcastableTo(full, r);
            boolean swap = r.nextBoolean();
            Shape as = swap ? other : full;
            Shape bs = swap ? full : other;
            add(b.name(), "random " + as + " " + bs, fn, in(r, b.a(), as), in(r, b.b(), bs));
            // The same tensor as both operands: both paths of the gradient add up.
            Random r2 = rng(b.name(), "same");
            Input x = in(r2, b.a().equals(Domain.ANY) ? b.b() : b.a(), s(2, 2));
            if (!b.name().equals("maximum") && !b.name().equals("minimum")) { // x vs x is a tie
                add(b.name(), "x with itself", v -> b.op().apply(v[0], v[0]), x);
            }
        }
        Random r = rng("scalar", "operands");
        add("scalar operands", "(2, 3)", x -> x[0].mul(3).add(1).sub(0.5).div(2).pow(2), any(r, 2, 3));
    }

    private static void whereCases() {
        Input cond = Input.of(s(2, 1), 1, 0);
        GradCheck.Fn fn = x -> Spool.where(x[0].greater(0), x[1], x[2]);
        Random r = rng("where", "broadcast");
        add("where", "cond (2, 1), a (1, 3), b ()", fn, cond.fixed(), any(r, 1, 3), any(r));
        Random r2 = rng("where", "same");
        Input c2 = Input.of(s(2, 3), 1, 0, 0, 1, 1, 0).fixed();
        add("where", "cond (2, 3), a (2, 3)ᵀview, b (2, 3)", fn, c2,
                in(r2, Domain.ANY, s(2, 3)).asTransposedView(), any(r2, 2, 3));
        add("where", "empty", fn, Input.of(s(0, 2)).fixed(), any(r2, 0, 2), any(r2, 2));
    }

    // ---- reductions -------------------------------------------------------------------------

    private static Tensor reduce(String op, Tensor x, int[] axes, boolean keep) {
        return OpForwardTest.reduce(op, x, axes, keep);
    }

    private static void reductionCases() {
        String[] ops = {"sum", "mean", "max", "min", "prod"};
        int[][] axesList = {null, {}, {0}, {-1}, {0, 2}, {1}}; // null: all axes; {}: none (TF)
        for (String op : ops) {
            // Distinct values (no ties in max/min); magnitudes near 1 keep prod well conditioned.
            Domain d = op.equals("prod") ? Domain.AWAY_FROM_ZERO : Domain.ANY;
            for (int[] axes : axesList) {
                for (boolean keep : new boolean[] {false, true}) {
                    String variant = "(2, 3, 4) axes " + Arrays.toString(axes) + (keep ? " keepDims" : "");
                    add(op, variant, x -> reduce(op, x[0], axes, keep), in(rng(op, variant), d, s(2, 3, 4)));
                }
            }
            add(op, "(4, 3)ᵀview axis 0", x -> reduce(op, x[0], new int[] {0}, false),
                    in(rng(op, "t"), d, s(4, 3)).asTransposedView());
            add(op, "(2, 1, 3) size-1 axis", x -> reduce(op, x[0], new int[] {1}, false),
                    in(rng(op, "one"), d, s(2, 1, 3)));
            add(op, "scalar", x -> reduce(op, x[0], null, false), in(rng(op, "scalar"), d, s()));
            add(op, "scalar no axis", x -> reduce(op, x[0], new int[0], false), in(rng(op, "scalar0"), d, s()));
            if (op.equals("sum") || op.equals("prod")) {
                // Reducing an empty axis gives 0 (sum) or 1 (prod) and an empty gradient.
                add(op, "(0, 3) axis 0", x -> reduce(op, x[0], new int[] {0}, false), Input.of(s(0, 3)));
                add(op, "(3, 0) axis 0", x -> reduce(op, x[0], new int[] {0}, true), Input.of(s(3, 0)));
            }
        }
        // prod is multilinear, so finite differences are exact even at zeros: one zero in the
        // first row (its element gets the product of the rest), two in the second (all zero).
        add("prod", "(2, 3) with zeros axis 1", x -> x[0].prod(1), Input.of(s(2, 3), 0, 2, -3, 0, 0, 1.5));
        add("prod", "(2, 3) with zeros all", x -> x[0].prod(), Input.of(s(2, 3), 0.5, 2, -3, 0, 1.2, 1.5));
        add("mean", "(2, 3) integer count", x -> x[0].mean(0), any(rng("mean", "c"), 2, 3));
    }

    // ---- matmul -----------------------------------------------------------------------------

    private static void matmulCases() {
        Object[][] shapes = {
            {s(3, 4), s(4, 2), false, false},
            {s(4, 3), s(4, 2), true, false},
            {s(3, 4), s(2, 4), false, true},
            {s(4, 3), s(2, 4), true, true},
            {s(1, 1), s(1, 3), false, false},
            {s(2, 3, 4), s(2, 4, 2), false, false},
            {s(2, 1, 3, 2), s(3, 2, 2), false, false},
            {s(3, 2), s(2, 2, 4), false, false},
            {s(2, 2, 3), s(4, 2), true, true},
            {s(2, 0), s(0, 3), false, false},
        };
        for (Object[] c : shapes) {
            boolean ta = (Boolean) c[2];
            boolean tb = (Boolean) c[3];
            String variant = c[0] + (ta ? "ᵀ" : "") + " @ " + c[1] + (tb ? "ᵀ" : "");
            Random r = rng("matmul", variant);
            add("matmul", variant, x -> Spool.matmul(x[0], x[1], ta, tb), in(r, Domain.ANY, (Shape) c[0]),
                    in(r, Domain.ANY, (Shape) c[1]));
        }
        Random r = rng("matmul", "views");
        add("matmul", "(3, 4)ᵀview @ (4, 2)ᵀview", x -> x[0].matmul(x[1]),
                in(r, Domain.ANY, s(3, 4)).asTransposedView(), in(r, Domain.ANY, s(4, 2)).asTransposedView());
        add("matmul", "x @ xᵀ", x -> x[0].matmul(x[0], false, true), any(r, 2, 3));
    }

    // ---- shape ops --------------------------------------------------------------------------

    private static void shapeCases() {
        Random r = rng("shape", "ops");
        add("reshape", "(2, 3) to (3, 2)", x -> x[0].reshape(3, 2), any(r, 2, 3));
        add("reshape", "(2, 3) to -1", x -> x[0].reshape(-1), any(r, 2, 3));
        add("reshape", "(2, 3)ᵀview to (6,) (a copy)", x -> x[0].reshape(6), any(r, 2, 3).asTransposedView());
        add("reshape", "() to (1, 1)", x -> x[0].reshape(1, 1), any(r));
        add("reshape", "(0, 3) to (3, 0)", x -> x[0].reshape(3, 0), any(r, 0, 3));
        add("transpose", "(2, 3, 4) perm (2, 0, 1)", x -> x[0].transpose(2, 0, 1), any(r, 2, 3, 4));
        add("transpose", "(2, 3) reversed", x -> x[0].transpose(), any(r, 2, 3));
        add("transpose", "(3, 2)ᵀview back", x -> x[0].transpose(), any(r, 3, 2).asTransposedView());
        add("expandDims", "(2, 3) axis 1", x -> x[0].expandDims(1), any(r, 2, 3));
        add("expandDims", "() axis 0", x -> x[0].expandDims(-1), any(r));
        add("squeeze", "(1, 2, 1, 3)", x -> x[0].squeeze(), any(r, 1, 2, 1, 3));
        add("squeeze", "(2, 1) axis -1", x -> x[0].squeeze(-1), any(r, 2, 1));
        add("broadcastTo", "(3,) to (2, 3)", x -> x[0].broadcastTo(2, 3), any(r, 3));
        add("broadcastTo", "(2, 1) to (2, 2, 3)", x -> x[0].broadcastTo(2, 2, 3), any(r, 2, 1));
        add("broadcastTo", "() to (2, 2)", x -> x[0].broadcastTo(2, 2), any(r));
        add("broadcastTo", "(1,) to (0,)", x -> x[0].broadcastTo(0), any(r, 1));
        add("slice", "(3, 4) [1:3, 1:3]", x -> x[0].slice(new int[] {1, 1}, new int[] {2, 2}), any(r, 3, 4));
        add("slice", "(3, 4) [1:, :] with -1", x -> x[0].slice(new int[] {1, 0}, new int[] {-1, -1}), any(r, 3, 4));
        add("slice", "(4, 3)ᵀview", x -> x[0].slice(new int[] {0, 1}, new int[] {3, 2}), any(r, 4, 3).asTransposedView());
        add("slice", "empty", x -> x[0].slice(new int[] {1, 0}, new int[] {0, 3}), any(r, 2, 3));
        add("slice", "of a slice", x -> x[0].slice(new int[] {1, 1}, new int[] {3, 3})
                .slice(new int[] {1, 0}, new int[] {2, 2}), any(r, 4, 4));
        add("concat", "axis 0", x -> Spool.concat(List.of(x[0], x[1]), 0), any(r, 1, 3), any(r, 2, 3));
        add("concat", "axis -1, three parts, one empty", x -> Spool.concat(List.of(x[0], x[1], x[2]), -1),
                any(r, 2, 2), any(r, 2, 0), any(r, 2, 1));
        add("concat", "transposed view part", x -> Spool.concat(List.of(x[0], x[1]), 1),
                any(r, 2, 3).asTransposedView(), any(r, 2, 2));
        add("concat", "x with itself", x -> Spool.concat(List.of(x[0], x[0]), 0), any(r, 2));
        add("stack", "axis 0", x -> Spool.stack(List.of(x[0], x[1]), 0), any(r, 2, 3), any(r, 2, 3));
        add("stack", "axis -1 of scalars", x -> Spool.stack(List.of(x[0], x[1], x[0]), 0), any(r), any(r));
        add("stack", "axis 1", x -> Spool.stack(List.of(x[0], x[1]), 1), any(r, 3), any(r, 3));
        add("tile", "(2,) x 3", x -> x[0].tile(3), any(r, 2));
        add("tile", "(2, 2) x (2, 3)", x -> x[0].tile(2, 3), any(r, 2, 2));
        add("tile", "(2, 3)ᵀview x (1, 2)", x -> x[0].tile(1, 2), any(r, 2, 3).asTransposedView());
        add("identity", "(2, 3)ᵀview", x -> x[0].identity(), any(r, 2, 3).asTransposedView());
        add("cast", "to the same dtype", x -> x[0].cast(x[0].dtype()), any(r, 3));
    }

    private static void gatherCases() {
        Random r = rng("gather", "cases");
        for (DType it : new DType[] {INT32, INT64}) {
            add("gather", "axis 0, " + it + " indices, repeated", x -> x[0].gather(x[1], 0),
                    any(r, 4, 3), Input.indices(s(5), it, 3, 0, 3, 1, 3));
        }
        add("gather", "(2, 2) indices", x -> x[0].gather(x[1], 0), any(r, 4, 2),
                Input.indices(s(2, 2), INT32, 1, 2, 2, 0));
        add("gather", "axis 1", x -> x[0].gather(x[1], 1), any(r, 2, 4, 3), Input.indices(s(3), INT64, 3, 3, 0));
        add("gather", "axis -1, 2-D indices", x -> x[0].gather(x[1], -1), any(r, 3, 4),
                Input.indices(s(2, 3), INT32, 0, 1, 1, 3, 3, 3));
        add("gather", "scalar index", x -> x[0].gather(x[1], 0), any(r, 3, 2), Input.indices(s(), INT32, 2));
        add("gather", "transposed params", x -> x[0].gather(x[1], 1), any(r, 3, 4).asTransposedView(),
                Input.indices(s(2), INT32, 2, 0));
        add("gather", "out-of-range index", x -> x[0].gather(x[1], 0), any(r, 3, 2),
                Input.indices(s(3), INT32, 5, 1, -1));
        add("gather", "empty indices", x -> x[0].gather(x[1], 0), any(r, 3, 2), Input.indices(s(0), INT32));
    }

    // ---- nn ---------------------------------------------------------------------------------

    /** x away from 0 and a bias below 0.1 in size: no sum near relu's kink. */
    private static void biasAddCases() {
        Random r = rng("biasAdd", "cases");
        add("biasAdd", "(3, 4) + (4,)", x -> Spool.biasAdd(x[0], x[1]), any(r, 3, 4), any(r, 4));
        for (dev.spool.FusedActivation a : dev.spool.FusedActivation.values()) {
            GradCheck.Fn fn = x -> Spool.biasAdd(x[0], x[1], a);
            Input bias = Input.of(s(4), Arrays.stream(Domain.ANY.sample(r, 4)).map(v -> v / 20).toArray());
            add("biasAdd+" + a, "(3, 4) + (4,)", fn, in(r, Domain.AWAY_FROM_ZERO, s(3, 4)), bias);
            add("biasAdd+" + a, "(2, 3, 4) + (4,)", fn, in(r, Domain.AWAY_FROM_ZERO, s(2, 3, 4)), bias);
            add("biasAdd+" + a, "(4, 3)ᵀview + (3,)", fn, in(r, Domain.AWAY_FROM_ZERO, s(4, 3)).asTransposedView(),
                    Input.of(s(3), 0.05, -0.02, 0.08));
            // second order: the VJP (from the result) is itself differentiated by an outer tape
            add("biasAdd+" + a, "second order", x -> innerGradient(x[0], v -> Spool.biasAdd(v, x[1], a).mul(v)),
                    in(r, Domain.AWAY_FROM_ZERO, s(2, 3)), Input.of(s(3), 0.05, -0.02, 0.08));
        }
    }

    private static void nnCases() {
        Random r = rng("nn", "cases");
        add("softmax", "(2, 4) axis -1", x -> x[0].softmax(-1), any(r, 2, 4));
        add("softmax", "(3, 2) axis 0", x -> x[0].softmax(0), any(r, 3, 2));
        add("softmax", "(2, 3)ᵀview axis 1", x -> x[0].softmax(1), any(r, 2, 3).asTransposedView());
        add("logSoftmax", "(2, 4) axis -1", x -> x[0].logSoftmax(-1), any(r, 2, 4));
        add("logSoftmax", "(3, 2) axis 0", x -> x[0].logSoftmax(0), any(r, 3, 2));
        add("logSoftmax", "(5,) shifted far", x -> x[0].add(50).logSoftmax(0), any(r, 5));
        Input labels = Input.of(s(2, 3), 0.2, 0.3, 0.5, 1, 0, 0);
        add("softmaxCrossEntropyWithLogits", "labels and logits", x -> Spool.softmaxCrossEntropyWithLogits(x[0], x[1]),
                labels, any(r, 2, 3));
        add("softmaxCrossEntropyWithLogits", "(4,) one row", x -> Spool.softmaxCrossEntropyWithLogits(x[0], x[1]),
                Input.of(s(4), 0, 1, 0, 0).fixed(), any(r, 4));
        // the fused primitives on other shapes: rank 3, rows of one, a strided (transposed) input,
        // labels that do not sum to 1 (the gradient must not assume they do)
        add("softmax", "(2, 3, 4) axis -1", x -> x[0].softmax(-1), any(r, 2, 3, 4));
        add("softmax", "(2, 3, 4) axis 1", x -> x[0].softmax(1), any(r, 2, 3, 4));
        add("softmax", "(3, 1) rows of one", x -> x[0].softmax(-1), any(r, 3, 1));
        add("logSoftmax", "(2, 3, 4) axis -1", x -> x[0].logSoftmax(-1), any(r, 2, 3, 4));
        add("logSoftmax", "(3, 2)ᵀview axis -1", x -> x[0].logSoftmax(-1), any(r, 3, 2).asTransposedView());
        add("softmaxCrossEntropyWithLogits", "(2, 2, 3) labels not normalised",
                x -> Spool.softmaxCrossEntropyWithLogits(x[0], x[1]), in(r, Domain.POSITIVE, s(2, 2, 3)), any(r, 2, 2, 3));
        add("softmaxCrossEntropyWithLogits", "(3, 1) rows of one",
                x -> Spool.softmaxCrossEntropyWithLogits(x[0], x[1]), any(r, 3, 1), any(r, 3, 1));
    }

    // ---- composites -------------------------------------------------------------------------

    private static void compositeCases() {
        Random r = rng("composite", "cases");
        add("mlp loss", "matmul, bias, tanh, relu, softmax cross-entropy, mean", x -> {
            Tensor h = x[0].matmul(x[1]).add(x[2]).tanh();
            Tensor logits = h.matmul(x[3]).relu().add(h.matmul(x[3]).mul(0.1));
            return Spool.softmaxCrossEntropyWithLogits(x[4], logits).mean();
        }, any(r, 4, 3), any(r, 3, 5), any(r, 5), any(r, 5, 2), Input.of(s(4, 2), 1, 0, 0, 1, 1, 0, 0, 1).fixed());
        add("normalize", "x / sqrt(sum(x^2))", x -> x[0].div(x[0].square().sum().sqrt()), any(r, 2, 3));
        add("logsumexp", "max + log(sum(exp(x - max)))", x -> {
            Tensor m = x[0].max(new int[] {1}, true);
            return m.add(x[0].sub(m).exp().sum(new int[] {1}, true).log());
        }, any(r, 3, 4));
        add("polynomial", "x^3 - 2xy + y^2 / x", x -> x[0].pow(3).sub(x[0].mul(x[1]).mul(2))
                .add(x[1].square().div(x[0])), in(r, Domain.POSITIVE, s(3)), any(r, 3));
        add("reuse", "an intermediate used many times", x -> {
            Tensor y = x[0].sin();
            return y.mul(y).add(y.exp()).mul(y.sum());
        }, any(r, 2, 2));
    }

    /** Nested tapes: each function takes an inner gradient, which the outer check differentiates. */
    /** Distinct values (a shuffled ladder, steps of 0.1): max pooling's choice never sits on a tie. */
    private static Input distinct(Random r, int... dims) {
        Shape shape = s(dims);
        double[] v = new double[(int) shape.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i - v.length / 2.0) * 0.1;
        }
        for (int i = v.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            double t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        return Input.of(shape, v);
    }

    private static int[] ints(int... v) {
        return v;
    }

    private static void convCases() {
        Random r = rng("conv", "cases");
        add("conv2d", "3x3 SAME", x -> Spool.conv2d(x[0], x[1], ints(1), Padding.SAME), any(r, 2, 5, 4, 3),
                any(r, 3, 3, 3, 2));
        add("conv2d", "2x3 VALID strides 2x1", x -> Spool.conv2d(x[0], x[1], ints(2, 1), Padding.VALID),
                any(r, 1, 6, 5, 2), any(r, 2, 3, 2, 3));
        add("conv2d", "3x3 explicit pads, dilation 2", x -> Spool.conv2d(x[0], x[1], ints(1, 2),
                Padding.explicit(1, 0, 2, 1), ints(2)), any(r, 2, 6, 6, 2), any(r, 3, 3, 2, 2));
        add("conv2d", "2 groups", x -> Spool.conv2d(x[0], x[1], ints(1), Padding.SAME), any(r, 1, 4, 4, 4),
                any(r, 2, 2, 2, 4));
        add("conv2d", "1x1, x a transposed view", x -> Spool.conv2d(x[0], x[1], ints(1), Padding.VALID),
                any(r, 2, 3, 3, 3).asTransposedView(), any(r, 1, 1, 3, 2));
        add("depthwiseConv2d", "3x3 SAME stride 2, multiplier 2",
                x -> Spool.depthwiseConv2d(x[0], x[1], ints(2), Padding.SAME), any(r, 2, 5, 5, 3), any(r, 3, 3, 3, 2));
        add("conv2dTranspose", "3x3 stride 2 SAME", x -> Spool.conv2dTranspose(x[0], x[1], ints(1, 5, 5, 4), ints(2),
                Padding.SAME), any(r, 1, 3, 3, 2), any(r, 3, 3, 4, 2));
        add("maxPool2d", "2x2 stride 2 VALID", x -> Spool.maxPool2d(x[0], ints(2), ints(2), Padding.VALID),
                distinct(r, 2, 4, 5, 3));
        add("maxPool2d", "3x3 stride 2 SAME (overlapping)", x -> Spool.maxPool2d(x[0], ints(3), ints(2), Padding.SAME),
                distinct(r, 1, 5, 6, 2));
        add("avgPool2d", "3x3 stride 2 SAME", x -> Spool.avgPool2d(x[0], ints(3), ints(2), Padding.SAME),
                any(r, 2, 5, 5, 2));
        add("avgPool2d", "2x2 VALID", x -> Spool.avgPool2d(x[0], ints(2), ints(2), Padding.VALID), any(r, 1, 4, 4, 3));
        add("globalAvgPool2d", "(2, 3, 4, 2)", x -> Spool.globalAvgPool2d(x[0]), any(r, 2, 3, 4, 2));
        add("batchNormalization", "training: batch moments", x -> {
            Moments m = Spool.moments(x[0], ints(0, 1, 2), false);
            return Spool.batchNormalization(x[0], m.mean(), m.variance(), x[1], x[2], 1e-3);
        }, any(r, 4, 3, 3, 2), any(r, 2), any(r, 2));
        add("batchNormalization", "inference: given moments", x -> Spool.batchNormalization(x[0], x[1], x[2], x[3], x[4],
                1e-3), any(r, 2, 2, 3, 3), any(r, 3), in(r, Domain.POSITIVE, s(3)), any(r, 3), any(r, 3));
        add("fusedBatchNorm", "(3, 2, 2, 3) in x, scale and offset", x -> Spool.fusedBatchNorm(x[0], x[1], x[2], 1e-3)
                .y(), any(r, 3, 2, 2, 3), any(r, 3), any(r, 3));
        add("second order", "fusedBatchNorm", x -> innerGradient(x[0],
                v -> Spool.fusedBatchNorm(v, x[1], x[2], 1e-3).y().tanh()), any(r, 4, 3), any(r, 3), any(r, 3));
        add("moments", "variance over (0, 1)", x -> Spool.moments(x[0], ints(0, 1), true).variance(), any(r, 3, 4, 2));
        // gradients of gradients, once per primitive: each VJP differentiated through the next one
        add("second order", "conv2d, in x and the filter", x -> innerGradient(x[0],
                v -> Spool.conv2d(v, x[1], ints(2), Padding.SAME).square()), any(r, 1, 4, 5, 2), any(r, 2, 3, 2, 2));
        add("second order", "conv2d, the filter gradient", x -> innerGradient(x[1],
                w -> Spool.conv2d(x[0], w, ints(1), Padding.VALID).square()), any(r, 2, 4, 4, 2), any(r, 2, 2, 2, 3));
        add("second order", "depthwiseConv2d", x -> innerGradient(x[0],
                v -> Spool.depthwiseConv2d(v, x[1], ints(1), Padding.SAME).tanh()), any(r, 1, 3, 4, 2),
                any(r, 2, 2, 2, 1));
        add("second order", "maxPool2d", x -> innerGradient(x[0],
                v -> Spool.maxPool2d(v, ints(2), ints(1), Padding.SAME).square()), distinct(r, 1, 3, 4, 2));
        add("second order", "avgPool2d", x -> innerGradient(x[0],
                v -> Spool.avgPool2d(v, ints(2), ints(1), Padding.SAME).square()), any(r, 1, 3, 4, 2));
    }

    private static void secondOrderCases() {
        Random r = rng("second", "order");
        for (ElementwiseTable.Unary u : ElementwiseTable.UNARY) {
            if (List.of("neg", "identity", "sign", "abs", "relu").contains(u.name())) {
                continue; // (piecewise) linear: the inner gradient is constant, unconnected to x
            }
            add("second order", u.name(), x -> innerGradient(x[0], v -> u.op().apply(v)),
                    in(r, u.domain(), s(4)));
        }
        // relu's VJP (one primitive) is itself differentiated here: d/dx of 2 relu(x) relu'(x).
        add("second order", "relu squared", x -> innerGradient(x[0], v -> v.relu().square()),
                in(r, Domain.AWAY_FROM_ZERO, s(4)));
        add("second order", "matmul", x -> innerGradient(x[0], v -> v.matmul(v, false, true).tanh()), any(r, 2, 3));
        add("second order", "softmax", x -> innerGradient(x[0], v -> v.softmax(-1).square()), any(r, 2, 3));
        add("second order", "logSoftmax", x -> innerGradient(x[0], v -> v.logSoftmax(-1).square()), any(r, 2, 3));
        add("second order", "softmax weighted", x -> innerGradient(x[0], v -> v.softmax(-1).mul(v)), any(r, 2, 3));
        // the loss's backward primitive differentiated in the logits, the labels and its incoming gradient
        add("second order", "softmax cross-entropy", x -> innerGradient(x[1],
                v -> Spool.softmaxCrossEntropyWithLogits(x[0], v).square()), in(r, Domain.POSITIVE, s(2, 3)), any(r, 2, 3));
        add("second order", "softmax cross-entropy in the labels", x -> innerGradient(x[1],
                v -> Spool.softmaxCrossEntropyWithLogits(x[0], v).mul(x[0].sum(new int[] {1}, false))),
                in(r, Domain.POSITIVE, s(2, 3)), any(r, 2, 3));
        add("second order", "softmax cross-entropy, labels' gradient",
                x -> innerGradient(x[0], v -> Spool.softmaxCrossEntropyWithLogits(v, x[1]).square()),
                in(r, Domain.POSITIVE, s(2, 3)), any(r, 2, 3));
        add("second order", "reductions", x -> innerGradient(x[0], v -> v.max(new int[] {1}, false).mul(v.prod())),
                in(r, Domain.AWAY_FROM_ZERO, s(2, 3)));
        add("second order", "gather", x -> innerGradient(x[0], v -> v.gather(Spool.constant(new int[] {2, 0, 2}), 0)
                .square()), any(r, 3, 2));
        add("second order", "pow", x -> innerGradient(x[0], v -> v.pow(v)), in(r, Domain.POSITIVE, s(3)));
    }

    /** d/dx sum(g(x) * c) with an inner tape, as a function of x (so an outer tape differentiates it). */
    private static Tensor innerGradient(Tensor x, java.util.function.UnaryOperator<Tensor> g) {
        GradientTape inner = new GradientTape();
        Tensor y;
        try (inner) {
            inner.watch(x);
            y = g.apply(x);
        }
        Tensor grad = inner.gradient(y, x);
        assertNotNull(grad, "inner gradient");
        return grad;
    }

    // ---- hand-checked gradients where finite differences do not apply -----------------------

    /** One hand-checked gradient: a function of one float64 tensor and the expected gradient. */
    record Exact(String name, double[] x, Shape shape, GradCheck.Fn fn, double[] expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final List<Exact> EXACT = List.of(
            new Exact("relu at 0 is 0", new double[] {-1, 0, 2}, s(3), x -> x[0].relu(), new double[] {0, 0, 1}),
            new Exact("abs at 0 is 0", new double[] {-1, 0, 2}, s(3), x -> x[0].abs(), new double[] {-1, 0, 1}),
            new Exact("sign is 0", new double[] {-1, 0, 2}, s(3), x -> x[0].sign(), new double[] {0, 0, 0}),
            new Exact("maximum tie goes to a", new double[] {1, 2}, s(2),
                    x -> x[0].maximum(Spool.constant(new double[] {1, 3}, s(2), x[0].dtype())), new double[] {1, 0}),
            new Exact("maximum tie, x as b", new double[] {1, 2}, s(2),
                    x -> Spool.constant(new double[] {1, 3}, s(2), x[0].dtype()).maximum(x[0]), new double[] {0, 0}),
            new Exact("minimum tie goes to a", new double[] {1, 2}, s(2),
                    x -> x[0].minimum(Spool.constant(new double[] {1, 0}, s(2), x[0].dtype())), new double[] {1, 0}),
            new Exact("reduce max splits ties evenly", new double[] {1, 3, 3, 2}, s(4), x -> x[0].max(),
                    new double[] {0, 0.5, 0.5, 0}),
            new Exact("reduce min splits ties evenly per row", new double[] {1, 1, 1, 0, 2, 3}, s(2, 3),
                    x -> x[0].min(1), new double[] {1.0 / 3, 1.0 / 3, 1.0 / 3, 1, 0, 0}),
            new Exact("pow exponent at base <= 0 is 0", new double[] {-2, 0, 2}, s(3),
                    x -> Spool.constant(new double[] {-2, 0, 2}, s(3), x[0].dtype()).pow(x[0].mul(0).add(2)),
                    new double[] {0, 0, 0}),
            new Exact("pow exponent", new double[] {2}, s(1),
                    x -> Spool.constant(new double[] {3}, s(1), x[0].dtype()).pow(x[0]),
                    new double[] {9 * Math.log(3)}),
            new Exact("pow base at negative base", new double[] {-2, 0, 3}, s(3), x -> x[0].pow(2),
                    new double[] {-4, 0, 6}),
            new Exact("prod with one zero", new double[] {2, 0, 3}, s(3), x -> x[0].prod(), new double[] {0, 6, 0}),
            new Exact("where routes to the chosen branch", new double[] {-1, 2}, s(2),
                    x -> Spool.where(x[0].greater(0), x[0].mul(3), x[0].mul(-5)), new double[] {-5, 3}),
            new Exact("gather accumulates repeated indices", new double[] {1, 2, 3}, s(3),
                    x -> x[0].gather(Spool.constant(new int[] {2, 2, 0, 7}), 0), new double[] {1, 0, 2}),
            new Exact("stopGradient blocks", new double[] {3}, s(1), x -> x[0].mul(x[0].stopGradient()),
                    new double[] {3}),
            new Exact("cast to int stops the gradient", new double[] {2.5}, s(1),
                    x -> x[0].mul(x[0].cast(INT32).cast(x[0].dtype())), new double[] {2}));

    static Stream<Arguments> exactTable() {
        return TestDevices.withEach(EXACT);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("exactTable")
    void gradientAtNonDifferentiablePointsFollowsTensorFlow(Device device, Exact e) {
        try (TestDevices.On on = TestDevices.on(device)) {
            DType dt = device.supportsFloat64() ? FLOAT64 : FLOAT32;
            Tensor x = Spool.constant(e.x(), e.shape(), dt);
            GradientTape tape = new GradientTape();
            Tensor y;
            try (tape) {
                tape.watch(x);
                y = e.fn().apply(x);
            }
            Tensor g = tape.gradient(y, x);
            assertNotNull(g, "gradient");
            assertClose(g, e.shape(), dt, e.expected(), 1e-6, 1e-7);
        }
    }

    /** A float64 -> float32 cast is differentiable and the gradient comes back as float64. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void castBetweenFloatTypesCarriesTheGradient(Device device) {
        if (!device.supportsFloat64()) {
            // Nothing to cast between on this device: it must refuse float64 instead.
            try (TestDevices.On on = TestDevices.on(device)) {
                assertThrows(DTypeException.class, () -> Spool.constant(new double[] {0.1}));
            }
            return;
        }
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(new double[] {0.1, -2});
            GradientTape tape = new GradientTape();
            Tensor y;
            try (tape) {
                tape.watch(x);
                y = x.cast(FLOAT32).square().sum();
            }
            Tensor g = tape.gradient(y, x);
            assertClose(g, s(2), FLOAT64, new double[] {2 * (float) 0.1, -4}, 1e-7, 0);
        }
    }
}
