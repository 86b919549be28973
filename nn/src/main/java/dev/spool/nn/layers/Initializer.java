package dev.spool.nn.layers;

import dev.spool.DType;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.internal.NullChecks;

/**
 * Initial values of a variable, from Spool's seeded random ops (Philox: the same values on every
 * device for the same seed), created on {@link dev.spool.Device#current()}.
 *
 * <p>Fans follow Keras: for a matrix {@code [in, out]}, {@code fanIn = in} and
 * {@code fanOut = out}; for a vector both are its length. The initializers here refuse a null
 * {@code shape} or {@code dtype} with {@code "Initializer.create: shape is null"}.
 */
@FunctionalInterface
public interface Initializer {

    Tensor create(Shape shape, DType dtype, long seed);

    /** Zeros (Keras's default for biases). */
    Initializer ZEROS = (shape, dtype, seed) -> Spool.zeros(checked(shape, dtype), dtype);

    /** Ones (LayerNormalization's default scale). */
    Initializer ONES = (shape, dtype, seed) -> Spool.ones(checked(shape, dtype), dtype);

    /**
     * Glorot (Xavier) uniform, Keras's default for kernels: {@code U(-limit, limit)} with
     * {@code limit = sqrt(6 / (fanIn + fanOut))}.
     */
    Initializer GLOROT_UNIFORM = (shape, dtype, seed) -> {
        double limit = Math.sqrt(6.0 / (fanIn(checked(shape, dtype)) + fanOut(shape)));
        return Spool.randomUniform(shape, seed, -limit, limit, dtype);
    };

    /**
     * He normal: {@code N(0, sqrt(2 / fanIn))}, as in He et al. (2015) and PyTorch's
     * {@code kaiming_normal_}. Keras draws from a normal truncated at two standard deviations
     * instead; Spool has no truncated-normal op, so this is the untruncated distribution.
     */
    Initializer HE_NORMAL = (shape, dtype, seed) ->
            Spool.randomNormal(shape, seed, 0.0, Math.sqrt(2.0 / fanIn(checked(shape, dtype))), dtype);

    /** Uniform in {@code [min, max)} (Keras's Embedding default is {@code uniform(-0.05, 0.05)}). */
    static Initializer uniform(double min, double max) {
        return (shape, dtype, seed) -> Spool.randomUniform(checked(shape, dtype), seed, min, max, dtype);
    }

    private static Shape checked(Shape shape, DType dtype) {
        NullChecks.nonNull(shape, "Initializer.create", "shape");
        NullChecks.nonNull(dtype, "Initializer.create", "dtype");
        return shape;
    }

    /** Receptive inputs of a weight: its first dimension (its length for a vector). */
    static double fanIn(Shape shape) {
        NullChecks.nonNull(shape, "Initializer.fanIn", "shape");
        return shape.rank() == 0 ? 1 : shape.dim(0);
    }

    /** Receptive outputs of a weight: its last dimension (its length for a vector). */
    static double fanOut(Shape shape) {
        NullChecks.nonNull(shape, "Initializer.fanOut", "shape");
        return shape.rank() == 0 ? 1 : shape.dim(shape.rank() - 1);
    }
}
