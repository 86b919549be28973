package dev.spool.nn.layers;

import dev.spool.Tensor;

/** An elementwise (or, for softmax, last-axis) function applied after a layer. */
@FunctionalInterface
public interface Activation {
    Tensor apply(Tensor x);

    /** The identity (Keras's {@code activation=None}). */
    Activation LINEAR = x -> x;
    Activation RELU = Tensor::relu;
    Activation TANH = Tensor::tanh;
    Activation SIGMOID = Tensor::sigmoid;
    /** Softmax over the last axis. */
    Activation SOFTMAX = x -> x.softmax(x.rank() - 1);
}
