package dev.spool.nn.layers;

import dev.spool.FusedActivation;
import dev.spool.Tensor;
import dev.spool.internal.NullChecks;

/**
 * An elementwise (or, for softmax, last-axis) function applied after a layer. The constants
 * refuse a null {@code x} with {@code "Activation.apply: x is null"}.
 */
@FunctionalInterface
public interface Activation {
    Tensor apply(Tensor x);

    /**
     * The same function as a {@link FusedActivation}, which a layer can run in the kernel of its
     * bias-add ({@link dev.spool.Spool#biasAdd(dev.spool.Operand, dev.spool.Operand, FusedActivation)}),
     * or null if it has none.
     */
    default FusedActivation fused() {
        return null;
    }

    /** The identity (Keras's {@code activation=None}). */
    Activation LINEAR = x -> NullChecks.nonNull(x, "Activation.apply", "x");
    Activation RELU = fusable(FusedActivation.RELU, Tensor::relu);
    Activation TANH = fusable(FusedActivation.TANH, Tensor::tanh);
    Activation SIGMOID = fusable(FusedActivation.SIGMOID, Tensor::sigmoid);
    /** Exact GELU, {@code x·Φ(x)} (Keras's {@code gelu}, {@code approximate=False}). */
    Activation GELU = x -> NullChecks.nonNull(x, "Activation.apply", "x").gelu(false);
    /** GELU's tanh approximation (Keras's {@code gelu(x, approximate=True)}, GPT-2's). */
    Activation GELU_TANH = x -> NullChecks.nonNull(x, "Activation.apply", "x").gelu(true);
    /** Softmax over the last axis. */
    Activation SOFTMAX = x -> NullChecks.nonNull(x, "Activation.apply", "x").softmax(x.rank() - 1);

    private static Activation fusable(FusedActivation fused, Activation plain) {
        return new Activation() {
            @Override
            public Tensor apply(Tensor x) {
                return plain.apply(NullChecks.nonNull(x, "Activation.apply", "x"));
            }

            @Override
            public FusedActivation fused() {
                return fused;
            }

            @Override
            public String toString() {
                return fused.name().toLowerCase(java.util.Locale.ROOT);
            }
        };
    }
}
