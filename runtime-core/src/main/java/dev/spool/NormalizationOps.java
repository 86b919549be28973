package dev.spool;

/**
 * {@code tf.nn.moments} and {@code tf.nn.batch_normalization}, written with ordinary ops (their
 * gradients, and gradients of gradients, come from those ops), with TensorFlow's formulas.
 */
final class NormalizationOps {
    private NormalizationOps() {
    }

    /**
     * The mean and the biased variance (divided by the count, as TensorFlow's) over {@code axes}:
     * {@code mean = reduceMean(x)}, {@code variance = reduceMean(square(x - stopGradient(mean)))}
     * (the stop changes no gradient: the deviations sum to zero).
     */
    static Moments moments(Tensor x, int[] axes, boolean keepDims) {
        dev.spool.internal.NullChecks.nonNull(axes, "moments", "axes");
        Prims.requireFloating("moments", x);
        if (axes.length == 0) {
            throw new ShapeException("moments: axes must name at least one axis of x, shape " + x.shape());
        }
        Tensor mean = ReductionOps.mean(x, true, axes);
        Tensor variance = ReductionOps.mean(
                ElementwiseOps.square(ElementwiseOps.sub(x, ElementwiseOps.stopGradient(mean))), keepDims, axes);
        return new Moments(keepDims ? mean : ShapeOps.reshape(mean, variance.shape().toArray()), variance);
    }

    /**
     * {@code (x - mean) * scale / sqrt(variance + epsilon) + offset}, computed as TensorFlow does:
     * {@code inv = rsqrt(variance + epsilon) * scale}, {@code x * inv + (offset - mean * inv)}.
     * mean, variance, offset and scale broadcast against x (per channel: shape {@code [C]}). Any
     * epsilon is taken, as TensorFlow does (a negative one can make the root NaN).
     */
    static Tensor batchNormalization(Tensor x, Tensor mean, Tensor variance, Tensor offset, Tensor scale,
                                     double epsilon) {
        String op = "batchNormalization";
        Prims.requireFloating(op, x);
        Shape shape = x.shape();
        for (Tensor t : new Tensor[] {mean, variance, offset, scale}) {
            Prims.requireSameDType(op, x, t);
            shape = Shape.broadcast(op, shape, t.shape());
        }
        if (!shape.equals(x.shape())) {
            throw new ShapeException(op + ": mean, variance, offset and scale (shapes " + mean.shape() + ", "
                    + variance.shape() + ", " + offset.shape() + ", " + scale.shape()
                    + ") must broadcast to x's shape " + x.shape() + ", not beyond it");
        }
        Prims.deviceOf(op, x, mean, variance, offset, scale);
        Tensor inv = ElementwiseOps.mul(
                ElementwiseOps.rsqrt(ElementwiseOps.add(variance, Creation.scalarLike(variance, epsilon))), scale);
        Tensor y = ElementwiseOps.add(ElementwiseOps.mul(x, inv), ElementwiseOps.sub(offset,
                ElementwiseOps.mul(mean, inv)));
        return y;
    }
}
