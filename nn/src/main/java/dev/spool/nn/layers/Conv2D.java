package dev.spool.nn.layers;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.Operand;
import dev.spool.Padding;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import java.util.Map;

/**
 * Keras's {@code Conv2D} over channels-last images: {@code activation(conv2d(x, kernel) + bias)}
 * with x {@code [batch, height, width, channels]}, a {@code [kh, kw, channels, filters]} kernel
 * and a {@code [filters]} bias ({@link Spool#conv2d}, TensorFlow's semantics). Defaults as Keras:
 * strides 1, {@link Padding#VALID}, dilation 1, a bias, Glorot-uniform kernel (fans
 * {@code kh·kw·channels} and {@code kh·kw·filters}), zero bias.
 *
 * <p>The input channels are given up front or, as Keras builds a layer, taken from the first
 * call, which then creates the variables on the input's device; until then the layer has none
 * ({@link #built()} is false). An activation that has a fused form runs in the bias-add's kernel.
 */
public final class Conv2D implements Layer {
    private final String name;
    private final int filters;
    private final int[] kernelSize;
    private final int[] strides;
    private final Padding padding;
    private final int[] dilationRate;
    private final Activation activation;
    private final boolean useBias;
    private final Initializer kernelInitializer;
    private final Initializer biasInitializer;
    private final DType dtype;
    private final long seed;
    private final InputSize channels;
    private final VariableSet vars;
    private Variable kernel;
    private Variable bias;

    /** Stride 1, VALID padding, a bias; input channels from the first call. {@code seed} fixes the kernel. */
    public Conv2D(int filters, int kernelSize, Activation activation, long seed) {
        this(filters, kernelSize, 1, Padding.VALID, activation, seed);
    }

    /** Square kernel and strides with the given padding, a bias; input channels from the first call. */
    public Conv2D(int filters, int kernelSize, int strides, Padding padding, Activation activation, long seed) {
        this("conv2d", 0, filters, new int[] {kernelSize}, new int[] {strides}, padding, new int[] {1}, activation,
                true, Initializer.GLOROT_UNIFORM, Initializer.ZEROS, DType.FLOAT32, seed);
    }

    /**
     * Every argument. {@code kernelSize}, {@code strides} and {@code dilationRate} are one size for
     * both axes or {@code {h, w}}, as Keras's int or tuple; {@code inputChannels} 0 takes them from
     * the first call. Without {@code useBias} there is no bias variable.
     */
    public Conv2D(String name, int inputChannels, int filters, int[] kernelSize, int[] strides, Padding padding,
            int[] dilationRate, Activation activation, boolean useBias, Initializer kernelInitializer,
            Initializer biasInitializer, DType dtype, long seed) {
        NullChecks.nonNull(name, "Conv2D", "name");
        NullChecks.nonNull(kernelSize, "Conv2D", "kernelSize");
        NullChecks.nonNull(strides, "Conv2D", "strides");
        NullChecks.nonNull(padding, "Conv2D", "padding");
        NullChecks.nonNull(dilationRate, "Conv2D", "dilationRate");
        NullChecks.nonNull(activation, "Conv2D", "activation");
        NullChecks.nonNull(kernelInitializer, "Conv2D", "kernelInitializer");
        NullChecks.nonNull(biasInitializer, "Conv2D", "biasInitializer");
        NullChecks.nonNull(dtype, "Conv2D", "dtype");
        if (filters <= 0) {
            throw new ShapeException("Conv2D: filters must be > 0, got " + filters);
        }
        this.name = name;
        this.filters = filters;
        this.kernelSize = Window.pair(kernelSize, "Conv2D", "kernelSize");
        this.strides = Window.pair(strides, "Conv2D", "strides");
        this.padding = padding;
        this.dilationRate = Window.pair(dilationRate, "Conv2D", "dilationRate");
        this.activation = activation;
        this.useBias = useBias;
        this.kernelInitializer = kernelInitializer;
        this.biasInitializer = biasInitializer;
        this.dtype = dtype;
        this.seed = seed;
        this.channels = new InputSize("Conv2D", "input channels", inputChannels);
        this.vars = new VariableSet(name);
        if (channels.known()) {
            build(Device.current());
        }
    }

    private void build(Device device) {
        try (Device.Scope on = Device.use(device)) {
            Shape shape = Shape.of(kernelSize[0], kernelSize[1], channels.get(), filters);
            kernel = vars.add("kernel", kernelInitializer.create(shape, dtype, seed), true);
            if (useBias) {
                bias = vars.add("bias", biasInitializer.create(Shape.of(filters), dtype, seed + 1), true);
            }
        }
    }

    /** The {@code [kh, kw, channels, filters]} kernel. */
    public Variable kernel() {
        if (!built()) {
            throw channels.notBuilt(name);
        }
        return kernel;
    }

    /** The {@code [filters]} bias, or null without {@code useBias}. */
    public Variable bias() {
        if (!built()) {
            throw channels.notBuilt(name);
        }
        return bias;
    }

    @Override
    public Tensor call(Operand input, boolean training) {
        Tensor x = NullChecks.nonNull(input, "Conv2D.call", "input").value();
        if (x.rank() != 4) {
            throw new ShapeException("Conv2D '" + name + "': input shape " + x.shape()
                    + " must be [batch, height, width, channels]");
        }
        if (channels.take(name, x.shape(), 3)) {
            build(x.device());
        }
        return Dense.addBiasAndActivate(Spool.conv2d(x, kernel, strides, padding, dilationRate), bias, activation);
    }

    @Override
    public boolean built() {
        return channels.known();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Map<String, Variable> variables() {
        if (!built()) {
            throw channels.notBuilt(name);
        }
        return vars.view();
    }
}
