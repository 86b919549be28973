package dev.spool;

/**
 * The result of {@link Spool#moments}: the mean and the biased variance (sum of squared
 * deviations divided by the count, as {@code tf.nn.moments}) over the reduced axes.
 */
public record Moments(Tensor mean, Tensor variance) {
}
