package dev.spool.nn.losses;

import dev.spool.Tensor;

/** How per-sample losses become the loss: Keras's reductions. */
public enum Reduction {
    /** The mean over samples (Keras's default {@code sum_over_batch_size}). */
    MEAN,
    /** The sum over samples. */
    SUM,
    /** One loss per sample. */
    NONE;

    Tensor apply(Tensor perSample) {
        return switch (this) {
            case MEAN -> perSample.mean();
            case SUM -> perSample.sum();
            case NONE -> perSample;
        };
    }
}
