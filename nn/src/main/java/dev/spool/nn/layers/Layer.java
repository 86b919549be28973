package dev.spool.nn.layers;

import dev.spool.Operand;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A function of one tensor with its own variables, as a Keras layer or a PyTorch module. Layers
 * told the size of their input create their variables when constructed (on
 * {@link dev.spool.Device#current()}); layers that take it from their first call, as Keras builds
 * a layer ({@code new Conv2D(32, 3, ...)}, {@code new Dense(128, ...)}), create them then, on the
 * input's device, and until then are not {@link #built()}. Either way the variables have a fixed
 * order.
 *
 * <p>{@code training} says whether the call is part of training: {@link Dropout} drops only
 * then. Calls inside a {@link dev.spool.GradientTape} are differentiated through the variables,
 * which the tape watches when they are read.
 */
public interface Layer {

    /** Applies the layer. */
    Tensor call(Operand input, boolean training);

    /** {@link #call(Operand, boolean)} for inference ({@code training = false}). */
    default Tensor call(Operand input) {
        return call(NullChecks.nonNull(input, "Layer.call", "input"), false);
    }

    /** The name a container uses for this layer's variables ({@code dense}, {@code embedding}). */
    String name();

    /**
     * Whether the variables exist: true unless the layer takes its input size from a first call
     * that has not happened yet.
     */
    default boolean built() {
        return true;
    }

    /**
     * Every variable of this layer by name, in a stable order (creation order; for containers, the
     * order of their layers). Names are what a checkpoint stores: {@code kernel}, {@code bias}, and
     * for a {@link Sequential} {@code dense/kernel}, {@code dense_1/kernel}, ... A layer that is
     * not {@link #built()} has none yet and throws a {@link dev.spool.UsageException} that says so.
     */
    Map<String, Variable> variables();

    /** The trainable variables, in the order of {@link #variables()}. */
    default List<Variable> trainableVariables() {
        List<Variable> out = new ArrayList<>();
        for (Variable v : variables().values()) {
            if (v.trainable()) {
                out.add(v);
            }
        }
        return out;
    }
}
