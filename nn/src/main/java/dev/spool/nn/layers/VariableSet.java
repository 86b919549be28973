package dev.spool.nn.layers;

import dev.spool.Tensor;
import dev.spool.UsageException;
import dev.spool.Variable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** A layer's own variables by local name, in creation order. */
final class VariableSet {
    private final String owner;
    private final Map<String, Variable> byName = new LinkedHashMap<>();

    VariableSet(String owner) {
        this.owner = owner;
    }

    /** A new variable holding {@code initial}, which is closed (the variable keeps its own copy). */
    Variable add(String name, Tensor initial, boolean trainable) {
        if (byName.containsKey(name)) {
            throw new UsageException(owner + ": a variable named '" + name + "' already exists");
        }
        try (initial) {
            Variable v = new Variable(initial, owner + "/" + name, trainable);
            byName.put(name, v);
            return v;
        }
    }

    Map<String, Variable> view() {
        return Collections.unmodifiableMap(byName);
    }
}
