package dev.spool.nn.losses;

import dev.spool.DTypeException;
import dev.spool.IndexOutOfRangeException;
import dev.spool.Operand;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.internal.NullChecks;

/**
 * Loss functions, as Keras's and {@code tf.nn}'s, composed from Spool ops (so the tape
 * differentiates them). The first axis indexes samples; a sample's loss is the mean (for
 * elementwise losses) or the sum over classes (cross-entropies) of the other axes; a
 * {@link Reduction} then combines the samples. Each is stable for any finite logits (tested at
 * ±1000): cross-entropies go through {@code logSoftmax} (a max shift) and {@code softplus}
 * ({@code max(x, 0) + log1p(exp(-|x|))}), never through {@code log(softmax)}.
 */
public final class Losses {
    private Losses() {
    }

    /** {@code (yPred - yTrue)²}, averaged over each sample's elements. */
    public static Tensor meanSquaredError(Operand yTrue, Operand yPred, Reduction reduction) {
        NullChecks.nonNull(yTrue, "Losses.meanSquaredError", "yTrue");
        NullChecks.nonNull(yPred, "Losses.meanSquaredError", "yPred");
        NullChecks.nonNull(reduction, "Losses.meanSquaredError", "reduction");
        requireSameShape("meanSquaredError", yTrue, yPred);
        return reduction.apply(perSampleMean(yPred.sub(yTrue).square()));
    }

    /**
     * Binary cross-entropy of labels in [0, 1] against logits, as
     * {@code tf.nn.sigmoid_cross_entropy_with_logits}: {@code softplus(x) - x·z}, which equals
     * {@code max(x, 0) - x·z + log(1 + exp(-|x|))}; averaged over each sample's elements.
     */
    public static Tensor binaryCrossEntropyFromLogits(Operand labels, Operand logits, Reduction reduction) {
        NullChecks.nonNull(labels, "Losses.binaryCrossEntropyFromLogits", "labels");
        NullChecks.nonNull(logits, "Losses.binaryCrossEntropyFromLogits", "logits");
        NullChecks.nonNull(reduction, "Losses.binaryCrossEntropyFromLogits", "reduction");
        requireSameShape("binaryCrossEntropyFromLogits", labels, logits);
        Tensor x = logits.value();
        return reduction.apply(perSampleMean(x.softplus().sub(x.mul(labels))));
    }

    /**
     * Softmax cross-entropy of a probability distribution per row ({@code [n, classes]}, e.g.
     * one-hot) against logits of the same shape: {@code -Σ labels · logSoftmax(logits)}.
     */
    public static Tensor softmaxCrossEntropy(Operand labels, Operand logits, Reduction reduction) {
        NullChecks.nonNull(labels, "Losses.softmaxCrossEntropy", "labels");
        NullChecks.nonNull(logits, "Losses.softmaxCrossEntropy", "logits");
        NullChecks.nonNull(reduction, "Losses.softmaxCrossEntropy", "reduction");
        requireSameShape("softmaxCrossEntropy", labels, logits);
        requireRank2("softmaxCrossEntropy", logits);
        return reduction.apply(Spool.softmaxCrossEntropyWithLogits(labels, logits));
    }

    /**
     * Softmax cross-entropy of integer class labels ({@code [n]}, int32 or int64) against
     * logits {@code [n, classes]}: {@code -logSoftmax(logits)[i, label_i]}. As on TF's GPU
     * kernels, label values are not checked against the class count (that would read them back
     * to the host every step); a label outside {@code [0, classes)} contributes a loss of zero.
     * With checked indices on ({@link Spool#enableCheckIndices()}) the first such label throws
     * {@link IndexOutOfRangeException} naming it and its position, as TF's CPU kernels.
     */
    public static Tensor sparseSoftmaxCrossEntropy(Operand labels, Operand logits, Reduction reduction) {
        NullChecks.nonNull(labels, "Losses.sparseSoftmaxCrossEntropy", "labels");
        NullChecks.nonNull(logits, "Losses.sparseSoftmaxCrossEntropy", "logits");
        NullChecks.nonNull(reduction, "Losses.sparseSoftmaxCrossEntropy", "reduction");
        requireRank2("sparseSoftmaxCrossEntropy", logits);
        if (!labels.dtype().isInteger()) {
            throw new DTypeException("sparseSoftmaxCrossEntropy: labels must be int32 or int64, got " + labels.dtype());
        }
        if (labels.shape().rank() != 1 || labels.shape().dim(0) != logits.shape().dim(0)) {
            throw new ShapeException("sparseSoftmaxCrossEntropy: labels " + labels.shape()
                    + " must be [n] for logits " + logits.shape());
        }
        int classes = logits.shape().dim(1);
        Tensor oneHot;
        try {
            oneHot = Spool.oneHot(labels, classes, 1, 0, logits.dtype());
        } catch (IndexOutOfRangeException e) { // checked indices: name the labels, not oneHot's indices
            throw new IndexOutOfRangeException("sparseSoftmaxCrossEntropy", "labels", e.index(), e.position(),
                    e.bound());
        }
        return reduction.apply(Spool.softmaxCrossEntropyWithLogits(oneHot, logits));
    }

    /** Mean over every axis but the first; rank 0 and 1 tensors are already per sample. */
    private static Tensor perSampleMean(Tensor elementwise) {
        int rank = elementwise.rank();
        if (rank <= 1) {
            return elementwise;
        }
        int[] axes = new int[rank - 1];
        for (int i = 0; i < axes.length; i++) {
            axes[i] = i + 1;
        }
        return elementwise.mean(axes);
    }

    private static void requireSameShape(String op, Operand a, Operand b) {
        if (!a.shape().equals(b.shape())) {
            throw new ShapeException(op + ": labels " + a.shape() + " and predictions " + b.shape()
                    + " must have the same shape");
        }
    }

    private static void requireRank2(String op, Operand logits) {
        if (logits.shape().rank() != 2) {
            throw new ShapeException(op + ": logits must be [n, classes], got " + logits.shape());
        }
    }
}
