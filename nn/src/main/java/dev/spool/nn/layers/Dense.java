package dev.spool.nn.layers;

import dev.spool.DType;
import dev.spool.Device;
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
 *
 * <p>The number of inputs is given up front, or ({@link #Dense(int, Activation, long)}) taken
 * from the first call as Keras builds a layer, which then creates the variables on the input's
 * device.
 */
public final class Dense implements Layer {
    private final String name;
    private final InputSize inputs;
    private final int units;
    private final Activation activation;
    private final Initializer kernelInitializer;
    private final Initializer biasInitializer;
    private final DType dtype;
    private final long seed;
    private final VariableSet vars;
    private Variable kernel;
    private Variable bias;

    /** A float32 layer with Keras's default initializers; {@code seed} fixes the kernel's values. */
    public Dense(int inputs, int units, Activation activation, long seed) {
        this("dense", inputs, units, activation, Initializer.GLOROT_UNIFORM, Initializer.ZEROS, DType.FLOAT32, seed);
    }

    /** As Keras's {@code Dense(units, activation)}: the number of inputs comes from the first call. */
    public Dense(int units, Activation activation, long seed) {
        this("dense", 0, units, activation, Initializer.GLOROT_UNIFORM, Initializer.ZEROS, DType.FLOAT32, seed, true);
    }

    public Dense(String name, int inputs, int units, Activation activation, Initializer kernelInitializer,
            Initializer biasInitializer, DType dtype, long seed) {
        this(name, inputs, units, activation, kernelInitializer, biasInitializer, dtype, seed, false);
    }

    private Dense(String name, int inputs, int units, Activation activation, Initializer kernelInitializer,
            Initializer biasInitializer, DType dtype, long seed, boolean inputsFromFirstCall) {
        NullChecks.nonNull(name, "Dense", "name");
        NullChecks.nonNull(activation, "Dense", "activation");
        NullChecks.nonNull(kernelInitializer, "Dense", "kernelInitializer");
        NullChecks.nonNull(biasInitializer, "Dense", "biasInitializer");
        NullChecks.nonNull(dtype, "Dense", "dtype");
        if ((inputs <= 0 && !inputsFromFirstCall) || units <= 0) {
            throw new ShapeException("Dense: inputs and units must be > 0, got " + inputs + " and " + units);
        }
        this.name = name;
        this.inputs = new InputSize("Dense", "inputs", inputs);
        this.units = units;
        this.activation = activation;
        this.kernelInitializer = kernelInitializer;
        this.biasInitializer = biasInitializer;
        this.dtype = dtype;
        this.seed = seed;
        this.vars = new VariableSet(name);
        if (this.inputs.known()) {
            build(Device.current());
        }
    }

    private void build(Device device) {
        try (Device.Scope on = Device.use(device)) {
            kernel = vars.add("kernel", kernelInitializer.create(Shape.of(inputs.get(), units), dtype, seed), true);
            bias = vars.add("bias", biasInitializer.create(Shape.of(units), dtype, seed + 1), true);
        }
    }

    public Variable kernel() {
        if (!built()) {
            throw inputs.notBuilt(name);
        }
        return kernel;
    }

    public Variable bias() {
        if (!built()) {
            throw inputs.notBuilt(name);
        }
        return bias;
    }

    @Override
    public Tensor call(Operand input, boolean training) {
        NullChecks.nonNull(input, "Dense.call", "input");
        Shape s = input.shape();
        if (s.rank() < 1) {
            throw new ShapeException("Dense '" + name + "': input shape " + s + " must have an axis of inputs");
        }
        if (inputs.take(name, s, s.rank() - 1)) {
            build(input.device());
        }
        return addBiasAndActivate(input.value().matmul(kernel), bias, activation);
    }

    /**
     * {@code activation(z + bias)} over z's last axis, as one launch where the activation can run
     * in the bias-add's kernel ({@code relu(z + b)}); {@code activation(z)} without a bias.
     */
    static Tensor addBiasAndActivate(Tensor z, Variable bias, Activation activation) {
        if (bias == null) {
            return activation.apply(z);
        }
        FusedActivation fused = activation.fused();
        return fused != null ? Spool.biasAdd(z, bias, fused) : activation.apply(Spool.biasAdd(z, bias));
    }

    @Override
    public boolean built() {
        return inputs.known();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Map<String, Variable> variables() {
        if (!built()) {
            throw inputs.notBuilt(name);
        }
        return vars.view();
    }
}
