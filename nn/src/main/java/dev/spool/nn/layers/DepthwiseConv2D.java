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
 * Keras's {@code DepthwiseConv2D}: each input channel convolved with its own
 * {@code depthMultiplier} filters ({@link Spool#depthwiseConv2d}), output channel
 * {@code c * depthMultiplier + m}, then bias and activation. Variables {@code depthwise_kernel}
 * {@code [kh, kw, channels, depthMultiplier]} (Glorot uniform, fans {@code kh·kw·channels} and
 * {@code kh·kw·depthMultiplier}, as Keras computes them for this shape) and {@code bias}
 * {@code [channels · depthMultiplier]} (zeros). Defaults as Keras: strides 1, VALID, depth
 * multiplier 1, dilation 1, a bias. The input channels are given up front or taken from the first
 * call, as {@link Conv2D}'s.
 */
public final class DepthwiseConv2D implements Layer {
    private final String name;
    private final int[] kernelSize;
    private final int[] strides;
    private final Padding padding;
    private final int depthMultiplier;
    private final int[] dilationRate;
    private final Activation activation;
    private final boolean useBias;
    private final Initializer depthwiseInitializer;
    private final Initializer biasInitializer;
    private final DType dtype;
    private final long seed;
    private final InputSize channels;
    private final VariableSet vars;
    private Variable depthwiseKernel;
    private Variable bias;

    /** Stride 1, VALID padding, depth multiplier 1, a bias; input channels from the first call. */
    public DepthwiseConv2D(int kernelSize, Activation activation, long seed) {
        this(kernelSize, 1, Padding.VALID, 1, activation, seed);
    }

    /** Square kernel and strides; input channels from the first call. */
    public DepthwiseConv2D(int kernelSize, int strides, Padding padding, int depthMultiplier, Activation activation,
            long seed) {
        this("depthwise_conv2d", 0, new int[] {kernelSize}, new int[] {strides}, padding, depthMultiplier,
                new int[] {1}, activation, true, Initializer.GLOROT_UNIFORM, Initializer.ZEROS, DType.FLOAT32, seed);
    }

    /**
     * Every argument; window arguments are one size or {@code {h, w}}, {@code inputChannels} 0
     * takes them from the first call.
     */
    public DepthwiseConv2D(String name, int inputChannels, int[] kernelSize, int[] strides, Padding padding,
            int depthMultiplier, int[] dilationRate, Activation activation, boolean useBias,
            Initializer depthwiseInitializer, Initializer biasInitializer, DType dtype, long seed) {
        NullChecks.nonNull(name, "DepthwiseConv2D", "name");
        NullChecks.nonNull(kernelSize, "DepthwiseConv2D", "kernelSize");
        NullChecks.nonNull(strides, "DepthwiseConv2D", "strides");
        NullChecks.nonNull(padding, "DepthwiseConv2D", "padding");
        NullChecks.nonNull(dilationRate, "DepthwiseConv2D", "dilationRate");
        NullChecks.nonNull(activation, "DepthwiseConv2D", "activation");
        NullChecks.nonNull(depthwiseInitializer, "DepthwiseConv2D", "depthwiseInitializer");
        NullChecks.nonNull(biasInitializer, "DepthwiseConv2D", "biasInitializer");
        NullChecks.nonNull(dtype, "DepthwiseConv2D", "dtype");
        if (depthMultiplier <= 0) {
            throw new ShapeException("DepthwiseConv2D: depthMultiplier must be > 0, got " + depthMultiplier);
        }
        this.name = name;
        this.kernelSize = Window.pair(kernelSize, "DepthwiseConv2D", "kernelSize");
        this.strides = Window.pair(strides, "DepthwiseConv2D", "strides");
        this.padding = padding;
        this.depthMultiplier = depthMultiplier;
        this.dilationRate = Window.pair(dilationRate, "DepthwiseConv2D", "dilationRate");
        this.activation = activation;
        this.useBias = useBias;
        this.depthwiseInitializer = depthwiseInitializer;
        this.biasInitializer = biasInitializer;
        this.dtype = dtype;
        this.seed = seed;
        this.channels = new InputSize("DepthwiseConv2D", "input channels", inputChannels);
        this.vars = new VariableSet(name);
        if (channels.known()) {
            build(Device.current());
        }
    }

    private void build(Device device) {
        try (Device.Scope on = Device.use(device)) {
            Shape shape = Shape.of(kernelSize[0], kernelSize[1], channels.get(), depthMultiplier);
            depthwiseKernel = vars.add("depthwise_kernel", depthwiseInitializer.create(shape, dtype, seed), true);
            if (useBias) {
                Shape biasShape = Shape.of(channels.get() * depthMultiplier);
                bias = vars.add("bias", biasInitializer.create(biasShape, dtype, seed + 1), true);
            }
        }
    }

    /** The {@code [kh, kw, channels, depthMultiplier]} kernel. */
    public Variable depthwiseKernel() {
        if (!built()) {
            throw channels.notBuilt(name);
        }
        return depthwiseKernel;
    }

    /** The {@code [channels · depthMultiplier]} bias, or null without {@code useBias}. */
    public Variable bias() {
        if (!built()) {
            throw channels.notBuilt(name);
        }
        return bias;
    }

    @Override
    public Tensor call(Operand input, boolean training) {
        Tensor x = NullChecks.nonNull(input, "DepthwiseConv2D.call", "input").value();
        if (x.rank() != 4) {
            throw new ShapeException("DepthwiseConv2D '" + name + "': input shape " + x.shape()
                    + " must be [batch, height, width, channels]");
        }
        if (channels.take(name, x.shape(), 3)) {
            build(x.device());
        }
        Tensor z = Spool.depthwiseConv2d(x, depthwiseKernel, strides, padding, dilationRate);
        return Dense.addBiasAndActivate(z, bias, activation);
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
