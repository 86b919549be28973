package dev.spool;

import dev.spool.spi.ReduceOp;
import java.util.Arrays;

/**
 * Reductions over any set of axes, with keepDims, and their VJPs.
 *
 * <p>The axes rule is TensorFlow's: {@code null} (the forms without axes, TF's {@code axis=None})
 * means every axis; an explicit empty array means no axis, and the op returns its input's values
 * unchanged ({@code tf.reduce_sum(x, axis=[])} is {@code x}; keepDims changes nothing then).
 */
final class ReductionOps {
    private ReductionOps() {
    }

    /**
     * Normalised, sorted, distinct axes: {@code null} means all axes (TF's {@code axis=None}), an
     * empty array none (TF's {@code axis=[]}).
     */
    static int[] axes(String op, int rank, int... axes) {
        if (axes == null) {
            int[] all = new int[rank];
            for (int i = 0; i < rank; i++) {
                all[i] = i;
            }
            return all;
        }
        int[] out = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            out[i] = Shape.normalizeAxis(axes[i], rank, op);
        }
        return Arrays.stream(out).sorted().distinct().toArray();
    }

    /** The shape with reduced axes kept as 1. */
    static Shape keptShape(Shape s, int[] axes) {
        int[] dims = s.toArray();
        for (int a : axes) {
            dims[a] = 1;
        }
        return Shape.of(dims);
    }

    /** Every axis of a rank-{@code rank} tensor: what callers that mean "all" pass (never an empty array). */
    static int[] all(int rank) {
        return java.util.stream.IntStream.range(0, rank).toArray();
    }

    /** Reducing over no axis: x's values, recorded under the op's name with an identity VJP. */
    private static Tensor noAxis(String name, Tensor x) {
        Tensor y = x.freshAlias();
        GradientTape.record(name, (g, in, out, needs) -> new Tensor[] {g}, y, x);
        return y;
    }

    /** Runs a reduction primitive and reshapes to keepDims if asked; records nothing. */
    private static Tensor reduceRaw(ReduceOp op, Tensor x, int[] ax, boolean keepDims) {
        Tensor r = Prims.reduce(op, x, ax);
        if (!keepDims) {
            return r;
        }
        try (r) {
            return ShapeOps.viewAs(r, keptShape(x.shape(), ax));
        }
    }

    /** {@code grad} (reduced shape) broadcast back over x's shape. */
    private static Tensor expandBack(Tensor grad, Shape xShape, int[] ax) {
        return ShapeOps.broadcastTo(ShapeOps.reshape(grad, keptShape(xShape, ax).toArray()), xShape.toArray());
    }

    static Tensor sum(Tensor x, boolean keepDims, int... axes) {
        Prims.requireNumeric("sum", x);
        int[] ax = axes("sum", x.rank(), axes);
        if (ax.length == 0) {
            return noAxis("sum", x);
        }
        Tensor y = reduceRaw(ReduceOp.SUM, x, ax, keepDims);
        GradientTape.record("sum", (g, in, out, needs) -> new Tensor[] {expandBack(g, in[0].shape(), ax)}, y, x);
        return y;
    }

    /** Composite: sum / count. Integer means truncate, as in TF. */
    static Tensor mean(Tensor x, boolean keepDims, int... axes) {
        Prims.requireNumeric("mean", x);
        int[] ax = axes("mean", x.rank(), axes);
        if (ax.length == 0) {
            return noAxis("mean", x);
        }
        long count = 1;
        for (int a : ax) {
            count *= x.shape().dim(a);
        }
        return ElementwiseOps.div(sum(x, keepDims, ax), Creation.scalar(x.device(), x.dtype(), count));
    }

    static Tensor max(Tensor x, boolean keepDims, int... axes) {
        return extreme("max", ReduceOp.MAX, x, keepDims, axes);
    }

    static Tensor min(Tensor x, boolean keepDims, int... axes) {
        return extreme("min", ReduceOp.MIN, x, keepDims, axes);
    }

    /** Max or min; the gradient is split evenly among tied extremes, as TF does. */
    private static Tensor extreme(String name, ReduceOp op, Tensor x, boolean keepDims, int... axes) {
        Prims.requireNumeric(name, x);
        int[] ax = axes(name, x.rank(), axes);
        if (ax.length == 0) {
            return noAxis(name, x);
        }
        Tensor y = reduceRaw(op, x, ax, keepDims);
        GradientTape.record(name, (g, in, out, needs) -> {
            Shape xs = in[0].shape();
            Tensor hit = ElementwiseOps.cast(
                    ElementwiseOps.equal(in[0], expandBack(out, xs, ax)), g.dtype());
            Tensor ties = sum(hit, true, ax);
            return new Tensor[] {ElementwiseOps.mul(expandBack(g, xs, ax), ElementwiseOps.div(hit, ties))};
        }, y, x);
        return y;
    }

    /**
     * Product. Its gradient is the product of the other elements, computed without dividing by
     * x so that zeros are exact: with no zero in a group it is prod/x; with one zero, the zero's
     * element gets the product of the rest and the others 0; with two or more, all get 0.
     */
    static Tensor prod(Tensor x, boolean keepDims, int... axes) {
        Prims.requireNumeric("prod", x);
        int[] ax = axes("prod", x.rank(), axes);
        if (ax.length == 0) {
            return noAxis("prod", x);
        }
        Tensor y = reduceRaw(ReduceOp.PROD, x, ax, keepDims);
        GradientTape.record("prod", (g, in, out, needs) -> {
            Tensor v = in[0];
            Shape xs = v.shape();
            Tensor zero = Creation.scalarLike(v, 0);
            Tensor one = Creation.scalarLike(v, 1);
            Tensor isZero = ElementwiseOps.equal(v, zero);
            Tensor nonZero = ElementwiseOps.where(isZero, one, v);
            Tensor prodNonZero = expandBack(prod(nonZero, true, ax), xs, ax);
            Tensor zeros = expandBack(sum(ElementwiseOps.cast(isZero, v.dtype()), true, ax), xs, ax);
            Tensor noZero = ElementwiseOps.equal(zeros, zero);
            Tensor onlyZero = ElementwiseOps.cast(ElementwiseOps.equal(zeros, one), v.dtype());
            Tensor others = ElementwiseOps.where(noZero, ElementwiseOps.div(prodNonZero, nonZero),
                    ElementwiseOps.where(isZero, ElementwiseOps.mul(prodNonZero, onlyZero), zero));
            return new Tensor[] {ElementwiseOps.mul(expandBack(g, xs, ax), others)};
        }, y, x);
        return y;
    }

    /** Index (int64) of the largest element along {@code axis}; first one wins ties. */
    static Tensor argMax(Tensor x, int axis) {
        return arg("argMax", ReduceOp.ARGMAX, x, axis);
    }

    /** Index (int64) of the smallest element along {@code axis}; first one wins ties. */
    static Tensor argMin(Tensor x, int axis) {
        return arg("argMin", ReduceOp.ARGMIN, x, axis);
    }

    private static Tensor arg(String name, ReduceOp op, Tensor x, int axis) {
        Prims.requireNumeric(name, x);
        int a = Shape.normalizeAxis(axis, x.rank(), name);
        if (x.shape().dim(a) == 0) {
            throw new ShapeException(name + ": axis " + axis + " of shape " + x.shape() + " is empty");
        }
        return Prims.reduce(op, x, new int[] {a});
    }

    /**
     * Sums {@code g} down to {@code shape} over the dimensions broadcasting added: the one place
     * where gradients are un-broadcast (VJP rules never do it themselves).
     */
    static Tensor sumToShape(Tensor g, Shape shape) {
        if (g.shape().equals(shape)) {
            return g;
        }
        int lead = g.rank() - shape.rank();
        int[] ax = java.util.stream.IntStream.range(0, g.rank())
                .filter(i -> i < lead || (shape.dim(i - lead) == 1 && g.shape().dim(i) != 1))
                .toArray();
        Tensor s = ax.length == 0 ? g : sum(g, true, ax);
        return ShapeOps.reshape(s, shape.toArray());
    }
}
