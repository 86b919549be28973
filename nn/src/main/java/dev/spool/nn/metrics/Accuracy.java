package dev.spool.nn.metrics;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.Operand;
import dev.spool.ShapeException;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.internal.NullChecks;

/**
 * The fraction of correct predictions since the last {@link #reset()}: Keras's
 * {@code SparseCategoricalAccuracy} (integer labels against per-class scores: correct when the
 * highest score is the label's) or {@code BinaryAccuracy} (0/1 labels against scores: correct
 * when {@code score > threshold} agrees with the label). Counting stays on the device.
 */
public final class Accuracy implements AutoCloseable {
    private final boolean sparse;
    private final double threshold;
    private final Mean hits = new Mean();

    private Accuracy(boolean sparse, double threshold) {
        this.sparse = sparse;
        this.threshold = threshold;
    }

    /** Labels {@code [n]} (int32/int64 class indices), predictions {@code [n, classes]} (logits or probabilities). */
    public static Accuracy sparseCategorical() {
        return new Accuracy(true, 0);
    }

    /**
     * Labels and predictions of the same shape; a prediction counts as 1 when above
     * {@code threshold} (0.5 for probabilities, 0 for logits), a label when above 0.5.
     */
    public static Accuracy binary(double threshold) {
        return new Accuracy(false, threshold);
    }

    public void update(Operand labels, Operand predictions) {
        NullChecks.nonNull(labels, "Accuracy.update", "labels");
        NullChecks.nonNull(predictions, "Accuracy.update", "predictions");
        try (TensorScope scope = new TensorScope()) {
            Tensor correct;
            if (sparse) {
                if (!labels.dtype().isInteger()) {
                    throw new DTypeException("accuracy: labels must be int32 or int64 class indices, got " + labels.dtype());
                }
                if (predictions.shape().rank() != 2 || labels.shape().rank() != 1
                        || labels.shape().dim(0) != predictions.shape().dim(0)) {
                    throw new ShapeException("accuracy: labels " + labels.shape() + " must be [n] for predictions "
                            + predictions.shape() + " of [n, classes]");
                }
                Tensor predicted = predictions.argMax(1);
                correct = predicted.equal(labels.cast(predicted.dtype()));
            } else {
                if (!labels.shape().equals(predictions.shape())) {
                    throw new ShapeException("accuracy: labels " + labels.shape() + " and predictions "
                            + predictions.shape() + " must have the same shape");
                }
                Tensor p = predictions.value();
                Tensor l = labels.value().cast(p.dtype());
                correct = p.greater(threshold).equal(l.greater(0.5));
            }
            hits.update(correct.cast(DType.FLOAT32));
        }
    }

    /** Correct predictions over all predictions so far (NaN before any). */
    public double result() {
        return hits.result();
    }

    public void reset() {
        hits.reset();
    }

    @Override
    public void close() {
        hits.close();
    }
}
