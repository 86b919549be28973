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
 * create their variables when constructed (on {@link dev.spool.Device#current()}), so a model's
 * variables exist, in a fixed order, before the first call.
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
     * Every variable of this layer by name, in a stable order (creation order; for containers, the
     * order of their layers). Names are what a checkpoint stores: {@code kernel}, {@code bias}, and
     * for a {@link Sequential} {@code dense/kernel}, {@code dense_1/kernel}, ...
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
