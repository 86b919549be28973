package dev.spool.nn.layers;

import dev.spool.DType;
import dev.spool.FusedActivation;
import dev.spool.Operand;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import java.util.Map;

/**
 * A fully connected layer, Keras's {@code Dense}: {@code activation(x · kernel + bias)} with a
 * {@code [inputs, units]} kernel and a {@code [units]} bias, over the last axis of {@code x}.
 * Defaults as Keras: Glorot-uniform kernel, zero bias.
 */
public final class Dense implements Layer {
    private final String name;
    private final int inputs;
    private final Activation activation;
    private final VariableSet vars;
    private final Variable kernel;
    private final Variable bias;

    /** A float32 layer with Keras's default initializers; {@code seed} fixes the kernel's values. */
    public Dense(int inputs, int units, Activation activation, long seed) {
        this("dense", inputs, units, activation, Initializer.GLOROT_UNIFORM, Initializer.ZEROS, DType.FLOAT32, seed);
    }

    public Dense(String name, int inputs, int units, Activation activation, Initializer kernelInitializer,
            Initializer biasInitializer, DType dtype, long seed) {
        NullChecks.nonNull(name, "Dense", "name");
        NullChecks.nonNull(activation, "Dense", "activation");
        NullChecks.nonNull(kernelInitializer, "Dense", "kernelInitializer");
        NullChecks.nonNull(biasInitializer, "Dense", "biasInitializer");
        NullChecks.nonNull(dtype, "Dense", "dtype");
        if (inputs <= 0 || units <= 0) {
            throw new ShapeException("Dense: inputs and units must be > 0, got " + inputs + " and " + units);
        }
        this.name = name;
        this.inputs = inputs;
        this.activation = activation;
        this.vars = new VariableSet(name);
        this.kernel = vars.add("kernel", kernelInitializer.create(Shape.of(inputs, units), dtype, seed), true);
        this.bias = vars.add("bias", biasInitializer.create(Shape.of(units), dtype, seed + 1), true);
    }

    public Variable kernel() {
        return kernel;
    }

    public Variable bias() {
        return bias;
    }

    @Override
    public Tensor call(Operand input, boolean training) {
        NullChecks.nonNull(input, "Dense.call", "input");
        Shape s = input.shape();
        if (s.rank() < 1 || s.dim(s.rank() - 1) != inputs) {
            throw new ShapeException("Dense '" + name + "': input shape " + s + " must end in " + inputs);
        }
        Tensor z = input.value().matmul(kernel);
        FusedActivation fused = activation.fused();
        // relu(z + b) as one launch where the activation can run in the bias-add's kernel
        return fused != null ? Spool.biasAdd(z, bias, fused) : activation.apply(Spool.biasAdd(z, bias));
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
