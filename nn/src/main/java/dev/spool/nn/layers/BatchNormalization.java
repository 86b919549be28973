package dev.spool.nn.layers;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.FusedBatchNorm;
import dev.spool.Moments;
import dev.spool.Operand;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import dev.spool.nn.internal.NnArgs;
import java.util.Map;

/**
 * Keras's {@code BatchNormalization} over one feature axis (the last by default: channels of an
 * NHWC image, features of a {@code [batch, features]} matrix):
 * {@code gamma * (x - mean) / sqrt(variance + epsilon) + beta} per feature
 * ({@link Spool#batchNormalization}).
 *
 * <ul>
 * <li>Training ({@code call(x, true)}): mean and variance are the batch's, over every axis but the
 * feature axis, the variance biased (divided by the count n, {@link Spool#moments}); gradients
 * flow through them. With the features last (NHWC images, {@code [batch, features]}) this is
 * {@link Spool#fusedBatchNorm}, one primitive forward and one backward; another axis takes
 * {@link Spool#moments} and {@link Spool#batchNormalization}. The call then updates the moving statistics, outside any tape:
 * {@code moving_mean = moving_mean·momentum + mean·(1 - momentum)} and
 * {@code moving_variance = moving_variance·momentum + variance·n/(n-1)·(1 - momentum)}.</li>
 * <li>Inference ({@code call(x, false)}): the moving statistics instead; nothing is updated.</li>
 * </ul>
 *
 * <p>The moving variance records the batch variance with Bessel's correction, {@code n/(n-1)}
 * (1 when n is 1), as TensorFlow's fused kernel {@code FusedBatchNormV3} does: it normalises with
 * the biased variance and returns the unbiased one, and tf.keras (Keras 2) takes that kernel for
 * 4-D input on the feature axis, the convolutional case, storing what it returns. So a Keras 2
 * CNN's moving variance is the one here, and PyTorch's {@code running_var} is the same estimate.
 * (tf.keras's unfused path for other ranks, and Keras 3 always, record the biased variance
 * instead; the two differ by n/(n-1), 1.00008 for a batch of 128 28x28 maps.) This layer applies
 * the correction at every rank, one rule for all inputs.
 *
 * <p>Defaults as Keras: axis -1, momentum 0.99, epsilon 1e-3, {@code center} (a {@code beta},
 * zeros) and {@code scale} (a {@code gamma}, ones); moving mean zeros, moving variance ones.
 * Variables, in Keras's order: {@code gamma}, {@code beta} (trainable), {@code moving_mean},
 * {@code moving_variance} (not trainable, so optimizers leave them alone and checkpoints keep them
 * by name). The number of features is given up front or taken from the first call.
 */
public final class BatchNormalization implements Layer {
    private final String name;
    private final int axis;
    private final double momentum;
    private final double epsilon;
    private final boolean center;
    private final boolean scale;
    private final DType dtype;
    private final InputSize features;
    private final VariableSet vars;
    private Variable gamma;
    private Variable beta;
    private Variable movingMean;
    private Variable movingVariance;

    /** Keras's defaults; the features come from the first call. */
    public BatchNormalization() {
        this("batch_normalization", -1, 0.99, 1e-3, true, true, 0, DType.FLOAT32);
    }

    /**
     * Every argument: {@code axis} (negative counts from the end) is the feature axis, never the
     * batch axis 0; {@code features} 0 takes its size from the first call.
     */
    public BatchNormalization(String name, int axis, double momentum, double epsilon, boolean center, boolean scale,
            int features, DType dtype) {
        NullChecks.nonNull(name, "BatchNormalization", "name");
        NullChecks.nonNull(dtype, "BatchNormalization", "dtype");
        this.name = name;
        this.axis = axis;
        this.momentum = NnArgs.unit(momentum, "BatchNormalization", "momentum");
        this.epsilon = NnArgs.nonNegative(epsilon, "BatchNormalization", "epsilon");
        this.center = center;
        this.scale = scale;
        this.dtype = dtype;
        this.features = new InputSize("BatchNormalization", "features", features);
        this.vars = new VariableSet(name);
        if (this.features.known()) {
            build(Device.current());
        }
    }

    private void build(Device device) {
        try (Device.Scope on = Device.use(device)) {
            Shape shape = Shape.of(features.get());
            if (scale) {
                gamma = vars.add("gamma", Initializer.ONES.create(shape, dtype, 0), true);
            }
            if (center) {
                beta = vars.add("beta", Initializer.ZEROS.create(shape, dtype, 0), true);
            }
            movingMean = vars.add("moving_mean", Initializer.ZEROS.create(shape, dtype, 0), false);
            movingVariance = vars.add("moving_variance", Initializer.ONES.create(shape, dtype, 0), false);
        }
    }

    /** The scale, or null without {@code scale}. */
    public Variable gamma() {
        return built(gamma);
    }

    /** The offset, or null without {@code center}. */
    public Variable beta() {
        return built(beta);
    }

    public Variable movingMean() {
        return built(movingMean);
    }

    public Variable movingVariance() {
        return built(movingVariance);
    }

    private Variable built(Variable v) {
        if (!built()) {
            throw features.notBuilt(name);
        }
        return v;
    }

    @Override
    public Tensor call(Operand input, boolean training) {
        Tensor x = NullChecks.nonNull(input, "BatchNormalization.call", "input").value();
        int rank = x.rank();
        int a = axis < 0 ? axis + rank : axis;
        if (a < 1 || a >= rank) {
            throw new ShapeException("BatchNormalization '" + name + "': axis " + axis + " of input shape " + x.shape()
                    + " must be a feature axis, not the batch axis 0 nor outside the shape");
        }
        if (features.take(name, x.shape(), a)) {
            build(x.device());
        }
        Tensor offset = along(beta != null ? beta.value() : Spool.zerosLike(movingMean), rank, a);
        Tensor scaling = along(gamma != null ? gamma.value() : Spool.onesLike(movingMean), rank, a);
        if (!training) {
            return Spool.batchNormalization(x, along(movingMean.value(), rank, a), along(movingVariance.value(), rank, a),
                    offset, scaling, epsilon);
        }
        int[] reduced = new int[rank - 1];
        for (int i = 0, j = 0; i < rank; i++) {
            if (i != a) {
                reduced[j++] = i;
            }
        }
        long n = x.shape().size() / features.get();
        Tensor y;
        Tensor batchMean;
        Tensor batchVariance;
        if (a == rank - 1 && n > 0) {
            // features last (NHWC, [batch, features]): TF's fused kernel, one primitive each way
            FusedBatchNorm fused = Spool.fusedBatchNorm(x, scaling, offset, epsilon);
            y = fused.y();
            batchMean = fused.mean();
            batchVariance = fused.variance();
        } else {
            Moments batch = Spool.moments(x, reduced, false);
            y = Spool.batchNormalization(x, along(batch.mean(), rank, a), along(batch.variance(), rank, a), offset,
                    scaling, epsilon);
            batchMean = batch.mean();
            batchVariance = batch.variance();
        }
        if (n > 0) { // an empty batch has no statistics: the moving ones stay (as Keras)
            double bessel = n > 1 ? n / (n - 1.0) : 1.0;
            // stopGradient: no tape records the update (its inputs are then untracked)
            movingMean.assign(movingMean.value().mul(momentum).add(batchMean.stopGradient().mul(1 - momentum)));
            movingVariance.assign(movingVariance.value().mul(momentum)
                    .add(batchVariance.stopGradient().mul(bessel * (1 - momentum))));
        }
        return y;
    }

    /** A {@code [features]} vector shaped to broadcast along {@code axis} of a rank-{@code rank} tensor. */
    private static Tensor along(Tensor v, int rank, int axis) {
        if (axis == rank - 1) {
            return v;
        }
        int[] dims = new int[rank];
        java.util.Arrays.fill(dims, 1);
        dims[axis] = v.shape().dim(0);
        return v.reshape(dims);
    }

    @Override
    public boolean built() {
        return features.known();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Map<String, Variable> variables() {
        if (!built()) {
            throw features.notBuilt(name);
        }
        return vars.view();
    }
}
