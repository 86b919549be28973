package dev.spool;

/** Neural-network ops, all composites of other ops (so their gradients come for free). */
final class NnOps {
    private NnOps() {
    }

    /** exp(x - max) / sum(exp(x - max)) along {@code axis}; the max shift keeps exp finite. */
    static Tensor softmax(Tensor x, int axis) {
        Prims.requireFloating("softmax", x);
        Tensor shifted = ElementwiseOps.sub(x,
                ElementwiseOps.stopGradient(ReductionOps.max(x, true, axis)));
        Tensor e = ElementwiseOps.exp(shifted);
        return ElementwiseOps.div(e, ReductionOps.sum(e, true, axis));
    }

    /** x - max - log(sum(exp(x - max))) along {@code axis}. */
    static Tensor logSoftmax(Tensor x, int axis) {
        Prims.requireFloating("logSoftmax", x);
        Tensor shifted = ElementwiseOps.sub(x,
                ElementwiseOps.stopGradient(ReductionOps.max(x, true, axis)));
        Tensor logSum = ElementwiseOps.log(ReductionOps.sum(ElementwiseOps.exp(shifted), true, axis));
        return ElementwiseOps.sub(shifted, logSum);
    }

    /**
     * {@code -sum(labels * logSoftmax(logits), axis)}, as
     * {@code tf.nn.softmax_cross_entropy_with_logits}: one loss per row, differentiable in both.
     */
    static Tensor softmaxCrossEntropyWithLogits(Tensor labels, Tensor logits, int axis) {
        if (!labels.shape().equals(logits.shape())) {
            throw new ShapeException("softmaxCrossEntropyWithLogits: labels " + labels.shape()
                    + " and logits " + logits.shape() + " must have the same shape");
        }
        return ElementwiseOps.neg(ReductionOps.sum(
                ElementwiseOps.mul(labels, logSoftmax(logits, axis)), false, axis));
    }
}
