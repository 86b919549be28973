package dev.spool.nn.layers;

import dev.spool.Operand;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Layers applied in order, Keras's {@code Sequential}. Its variables are its layers' variables,
 * layer by layer, named {@code layer/variable}; layers of the same name are numbered as Keras
 * numbers them ({@code dense}, {@code dense_1}, {@code dense_2}), so that a model built the same
 * way always has the same names (what a checkpoint is keyed by). A layer that appears twice
 * shares its variables, which are listed once.
 */
public final class Sequential implements Layer {
    private final String name;
    private final List<Layer> layers;
    private final Map<String, Variable> variables;

    public Sequential(Layer... layers) {
        this("sequential", List.of(NullChecks.elements(layers, "Sequential", "layers")));
    }

    public Sequential(String name, List<Layer> layers) {
        this.name = NullChecks.nonNull(name, "Sequential", "name");
        this.layers = List.copyOf(NullChecks.elements(layers, "Sequential", "layers"));
        Map<String, Integer> seen = new HashMap<>();
        Map<String, Variable> vars = new LinkedHashMap<>();
        java.util.Set<Layer> added = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Layer layer : this.layers) {
            if (!added.add(layer)) {
                continue; // a layer used twice shares its variables: list them once
            }
            int n = seen.merge(layer.name(), 1, Integer::sum);
            String prefix = n == 1 ? layer.name() : layer.name() + "_" + (n - 1);
            for (Map.Entry<String, Variable> e : layer.variables().entrySet()) {
                vars.put(prefix + "/" + e.getKey(), e.getValue());
            }
        }
        this.variables = Collections.unmodifiableMap(vars);
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
    public Map<String, Variable> variables() {
        return variables;
    }
}
