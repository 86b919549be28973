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
 * {@code fanOut = out}; for a vector both are its length; for a convolution kernel
 * {@code [kh, kw, in, out]} (any rank from 3) each is multiplied by the receptive field, the
 * product of the leading dimensions: {@code fanIn = kh·kw·in}, {@code fanOut = kh·kw·out}. The
 * initializers here refuse a null
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

    /**
     * Receptive inputs of a weight: its first dimension for a matrix, its length for a vector,
     * the receptive field times the next-to-last dimension from rank 3 on.
     */
    static double fanIn(Shape shape) {
        NullChecks.nonNull(shape, "Initializer.fanIn", "shape");
        int r = shape.rank();
        return r == 0 ? 1 : r <= 2 ? shape.dim(0) : receptiveField(shape) * shape.dim(r - 2);
    }

    /**
     * Receptive outputs of a weight: its last dimension (its length for a vector), times the
     * receptive field from rank 3 on.
     */
    static double fanOut(Shape shape) {
        NullChecks.nonNull(shape, "Initializer.fanOut", "shape");
        int r = shape.rank();
        return r == 0 ? 1 : (r <= 2 ? 1 : receptiveField(shape)) * shape.dim(r - 1);
    }

    /** The product of all dimensions but the last two (a kernel's window size). */
    private static double receptiveField(Shape shape) {
        double field = 1;
        for (int i = 0; i < shape.rank() - 2; i++) {
            field *= shape.dim(i);
        }
        return field;
    }
}
