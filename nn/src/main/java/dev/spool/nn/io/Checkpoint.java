package dev.spool.nn.io;

import dev.spool.DTypeException;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import dev.spool.nn.layers.Layer;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;

/**
 * Saves a model's variables as one {@code .npz}, keyed by their names in
 * {@link Layer#variables()} ({@code dense/kernel}, ...), so that {@code numpy.load(path)}
 * opens them by name; and restores them into a model built the same way.
 */
public final class Checkpoint {
    private Checkpoint() {
    }

    public static void save(Path file, Layer model) {
        NullChecks.nonNull(file, "Checkpoint.save", "file");
        NullChecks.nonNull(model, "Checkpoint.save", "model");
        Npz.write(file, model.variables());
    }

    /**
     * Assigns each variable of {@code model} the array of the same name, on the variable's own
     * device. The names, shapes and dtypes must match exactly: a missing or extra array, or a
     * shape or dtype that differs, is an error that names it ({@link CheckpointMismatchException},
     * {@link ShapeException}, {@link DTypeException}), and then nothing is assigned.
     */
    public static void restore(Path file, Layer model) {
        NullChecks.nonNull(file, "Checkpoint.restore", "file");
        NullChecks.nonNull(model, "Checkpoint.restore", "model");
        Map<String, NpyArray> arrays = Npz.read(file);
        Map<String, Variable> vars = model.variables();
        TreeSet<String> missing = new TreeSet<>(vars.keySet());
        missing.removeAll(arrays.keySet());
        TreeSet<String> extra = new TreeSet<>(arrays.keySet());
        extra.removeAll(vars.keySet());
        if (!missing.isEmpty() || !extra.isEmpty()) {
            throw new CheckpointMismatchException("restore " + file + ": the checkpoint does not match the model"
                    + (missing.isEmpty() ? "" : "; missing " + missing) + (extra.isEmpty() ? "" : "; unexpected " + extra));
        }
        for (Map.Entry<String, Variable> e : vars.entrySet()) {
            NpyArray a = arrays.get(e.getKey());
            Variable v = e.getValue();
            if (!Shape.of(a.shape()).equals(v.shape())) {
                throw new ShapeException("restore " + file + ": '" + e.getKey() + "' has shape " + Shape.of(a.shape())
                        + " in the checkpoint and " + v.shape() + " in the model");
            }
            if (a.dtype() != v.dtype()) {
                throw new DTypeException("restore " + file + ": '" + e.getKey() + "' is " + a.dtype()
                        + " in the checkpoint and " + v.dtype() + " in the model");
            }
        }
        try (TensorScope scope = new TensorScope()) {
            for (Map.Entry<String, Variable> e : vars.entrySet()) {
                Variable v = e.getValue();
                Tensor t = arrays.get(e.getKey()).toTensor(v.device());
                v.assign(t);
            }
        }
    }
}
