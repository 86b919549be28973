package dev.spool;

/**
 * The result of {@link Spool#fusedBatchNorm}: the normalized tensor and the batch statistics it
 * used, the mean and the biased variance per channel. Only {@code y} is differentiable (as in
 * TensorFlow's FusedBatchNorm, whose statistics outputs carry no gradient).
 */
public record FusedBatchNorm(Tensor y, Tensor mean, Tensor variance) {
}
