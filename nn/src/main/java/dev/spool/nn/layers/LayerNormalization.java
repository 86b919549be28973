package dev.spool.nn.layers;

import dev.spool.DType;
import dev.spool.Operand;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import dev.spool.nn.internal.NnArgs;
import java.util.Map;

/**
 * Keras's {@code LayerNormalization} over the last axis:
 * {@code gamma * (x - mean) / sqrt(variance + epsilon) + beta}, with the (biased) mean and
 * variance of each row, {@code gamma} starting at ones and {@code beta} at zeros. Composed from
 * existing ops (mean, square, rsqrt), so its gradient comes from theirs; epsilon defaults to
 * Keras's 1e-3.
 */
public final class LayerNormalization implements Layer {
    private final String name;
    private final int features;
    private final double epsilon;
    private final VariableSet vars;
    private final Variable gamma;
    private final Variable beta;

    public LayerNormalization(int features) {
        this("layer_normalization", features, 1e-3, DType.FLOAT32);
    }

    public LayerNormalization(String name, int features, double epsilon, DType dtype) {
        NullChecks.nonNull(name, "LayerNormalization", "name");
        NullChecks.nonNull(dtype, "LayerNormalization", "dtype");
        if (features <= 0) {
            throw new ShapeException("LayerNormalization: features must be > 0, got " + features);
        }
        NnArgs.nonNegative(epsilon, "LayerNormalization", "epsilon");
        this.name = name;
        this.features = features;
        this.epsilon = epsilon;
        this.vars = new VariableSet(name);
        this.gamma = vars.add("gamma", Initializer.ONES.create(Shape.of(features), dtype, 0), true);
        this.beta = vars.add("beta", Initializer.ZEROS.create(Shape.of(features), dtype, 0), true);
    }

    public Variable gamma() {
        return gamma;
    }

    public Variable beta() {
        return beta;
    }

    @Override
    public Tensor call(Operand input, boolean training) {
        Tensor x = NullChecks.nonNull(input, "LayerNormalization.call", "input").value();
        int last = x.rank() - 1;
        if (last < 0 || x.shape().dim(last) != features) {
            throw new ShapeException("LayerNormalization '" + name + "': input shape " + x.shape()
                    + " must end in " + features);
        }
        int[] axis = {last};
        Tensor centred = x.sub(x.mean(axis, true));
        Tensor variance = centred.square().mean(axis, true);
        return centred.mul(variance.add(epsilon).rsqrt()).mul(gamma).add(beta);
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
