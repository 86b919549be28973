package dev.spool;

import dev.spool.spi.UnaryOp;

/**
 * An activation that runs in the same kernel as the op before it, as in
 * {@link Spool#biasAdd(Operand, Operand, FusedActivation)}: {@code relu(x + b)} in one launch
 * instead of two. Its gradient is computed from the fused op's result, so nothing between the
 * two ops needs to be kept.
 */
public enum FusedActivation {
    /** {@code max(x, 0)}, as {@link Spool#relu}; numeric dtypes. */
    RELU(UnaryOp.RELU),
    /** As {@link Spool#tanh}; float dtypes. */
    TANH(UnaryOp.TANH),
    /** As {@link Spool#sigmoid}; float dtypes. */
    SIGMOID(UnaryOp.SIGMOID);

    final UnaryOp op;

    FusedActivation(UnaryOp op) {
        this.op = op;
    }

    /** The gradient of the activation's input, from the upstream {@code g} and its result {@code y}. */
    Tensor grad(Tensor g, Tensor y) {
        return switch (this) {
            case RELU -> ElementwiseOps.reluGrad(g, y); // y > 0 exactly where the input is
            case TANH -> ElementwiseOps.tanhGrad(g, y);
            case SIGMOID -> ElementwiseOps.sigmoidGrad(g, y);
        };
    }
}
