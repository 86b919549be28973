package dev.spool.nn.layers;

import dev.spool.DType;
import dev.spool.Operand;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Layers applied in order, Keras's {@code Sequential}. Its variables are its layers' variables,
 * layer by layer, named {@code layer/variable}; layers of the same name are numbered as Keras
 * numbers them ({@code dense}, {@code dense_1}, {@code dense_2}), so that a model built the same
 * way always has the same names (what a checkpoint is keyed by). A layer that appears twice
 * shares its variables, which are listed once.
 *
 * <p>Layers that take their input size from their first call ({@code new Conv2D(32, 3, ...)})
 * make the model's variables exist only after its first call: call it once, or
 * {@link #build(Shape, DType)} it (Keras's {@code model.build}), before reading
 * {@link #variables()} (or its trainable ones) and before restoring a checkpoint.
 */
public final class Sequential implements Layer {
    private final String name;
    private final List<Layer> layers;

    public Sequential(Layer... layers) {
        this("sequential", List.of(NullChecks.elements(layers, "Sequential", "layers")));
    }

    public Sequential(String name, List<Layer> layers) {
        this.name = NullChecks.nonNull(name, "Sequential", "name");
        this.layers = List.copyOf(NullChecks.elements(layers, "Sequential", "layers"));
    }

    /**
     * Creates the variables of every layer that takes its input size from its first call, by
     * calling the model once in inference mode on zeros of {@code inputShape} (the batch may be
     * 1: {@code Shape.of(1, 28, 28, 1)}), as Keras's {@code model.build(input_shape)}. Nothing
     * else changes: inference updates no statistics. Returns this model.
     */
    public Sequential build(Shape inputShape, DType dtype) {
        NullChecks.nonNull(inputShape, "Sequential.build", "inputShape");
        NullChecks.nonNull(dtype, "Sequential.build", "dtype");
        try (TensorScope scope = new TensorScope()) {
            call(Spool.zeros(inputShape, dtype), false);
        }
        return this;
    }

    public List<Layer> layers() {
        return layers;
    }

    @Override
    public Tensor call(Operand input, boolean training) {
        Tensor x = NullChecks.nonNull(input, "Sequential.call", "input").value();
        for (Layer layer : layers) {
            x = layer.call(x, training);
        }
        return x;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean built() {
        return layers.stream().allMatch(Layer::built);
    }

    /** Listed afresh on each call, so layers built by a first call appear in their place. */
    @Override
    public Map<String, Variable> variables() {
        Map<String, Integer> seen = new HashMap<>();
        Map<String, Variable> vars = new LinkedHashMap<>();
        Set<Layer> added = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Layer layer : layers) {
            if (!added.add(layer)) {
                continue; // a layer used twice shares its variables: list them once
            }
            int n = seen.merge(layer.name(), 1, Integer::sum);
            String prefix = n == 1 ? layer.name() : layer.name() + "_" + (n - 1);
            for (Map.Entry<String, Variable> e : layer.variables().entrySet()) {
                vars.put(prefix + "/" + e.getKey(), e.getValue());
            }
        }
        return Collections.unmodifiableMap(vars);
    }
}
