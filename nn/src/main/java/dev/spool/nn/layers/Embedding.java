package dev.spool.nn.layers;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.Operand;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import java.util.Map;

/**
 * Keras's {@code Embedding}: row {@code i} of an {@code [inputDim, outputDim]} table for each
 * integer index {@code i} of the input (a gather, whose gradient scatters back into the table).
 * Initialised uniformly in {@code [-0.05, 0.05)}, as Keras does. An index outside
 * {@code [0, inputDim)} embeds as zeros (TF's GPU kernels) unless checked indices are on
 * ({@link dev.spool.Spool#enableCheckIndices()}), which make it an {@code IndexOutOfRangeException}.
 */
public final class Embedding implements Layer {
    private final String name;
    private final VariableSet vars;
    private final Variable embeddings;

    public Embedding(int inputDim, int outputDim, long seed) {
        this("embedding", inputDim, outputDim, Initializer.uniform(-0.05, 0.05), DType.FLOAT32, seed);
    }

    public Embedding(String name, int inputDim, int outputDim, Initializer initializer, DType dtype, long seed) {
        NullChecks.nonNull(name, "Embedding", "name");
        NullChecks.nonNull(initializer, "Embedding", "initializer");
        NullChecks.nonNull(dtype, "Embedding", "dtype");
        if (inputDim <= 0 || outputDim <= 0) {
            throw new ShapeException("Embedding: inputDim and outputDim must be > 0, got " + inputDim + " and "
                    + outputDim);
        }
        this.name = name;
        this.vars = new VariableSet(name);
        this.embeddings = vars.add("embeddings", initializer.create(Shape.of(inputDim, outputDim), dtype, seed), true);
    }

    public Variable embeddings() {
        return embeddings;
    }

    /** {@code input}: int32 or int64 indices of any shape; the result has one more axis. */
    @Override
    public Tensor call(Operand input, boolean training) {
        NullChecks.nonNull(input, "Embedding.call", "input");
        if (!input.dtype().isInteger()) {
            throw new DTypeException("Embedding '" + name + "': indices must be int32 or int64, got " + input.dtype());
        }
        return embeddings.gather(input, 0);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Map<String, Variable> variables() {
        return vars.view();
    }
}
