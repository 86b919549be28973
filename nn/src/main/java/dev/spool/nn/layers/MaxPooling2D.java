package dev.spool.nn.layers;

import dev.spool.Operand;
import dev.spool.Padding;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import java.util.Map;

/**
 * Keras's {@code MaxPooling2D}: the maximum of each window of a channels-last image, per channel
 * ({@link Spool#maxPool2d}). The gradient goes to one cell of each window, the first maximal one, as TensorFlow's. Defaults as Keras: a 2x2 pool, strides equal to the
 * pool size, {@link Padding#VALID}.
 */
public final class MaxPooling2D implements Layer {
    private final int[] poolSize;
    private final int[] strides;
    private final Padding padding;

    /** A 2x2 pool with stride 2, VALID. */
    public MaxPooling2D() {
        this(2);
    }

    /** A square pool, strides equal to it, VALID. */
    public MaxPooling2D(int poolSize) {
        this(new int[] {poolSize}, new int[] {poolSize}, Padding.VALID);
    }

    /** Pool size and strides are one size for both axes or {@code {h, w}}. */
    public MaxPooling2D(int[] poolSize, int[] strides, Padding padding) {
        NullChecks.nonNull(poolSize, "MaxPooling2D", "poolSize");
        NullChecks.nonNull(strides, "MaxPooling2D", "strides");
        this.padding = NullChecks.nonNull(padding, "MaxPooling2D", "padding");
        this.poolSize = Window.pair(poolSize, "MaxPooling2D", "poolSize");
        this.strides = Window.pair(strides, "MaxPooling2D", "strides");
    }

    @Override
    public Tensor call(Operand input, boolean training) {
        Tensor x = NullChecks.nonNull(input, "MaxPooling2D.call", "input").value();
        if (x.rank() != 4) {
            throw new ShapeException("MaxPooling2D: input shape " + x.shape()
                    + " must be [batch, height, width, channels]");
        }
        return Spool.maxPool2d(x, poolSize, strides, padding);
    }

    @Override
    public String name() {
        return "max_pooling2d";
    }

    @Override
    public Map<String, Variable> variables() {
        return Map.of();
    }
}
