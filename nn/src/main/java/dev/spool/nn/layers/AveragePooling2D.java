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
 * Keras's {@code AveragePooling2D}: the mean of each window of a channels-last image, per channel
 * ({@link Spool#avgPool2d}). Padded cells are not counted (TensorFlow's rule). Defaults as Keras: a 2x2 pool, strides equal to the
 * pool size, {@link Padding#VALID}.
 */
public final class AveragePooling2D implements Layer {
    private final int[] poolSize;
    private final int[] strides;
    private final Padding padding;

    /** A 2x2 pool with stride 2, VALID. */
    public AveragePooling2D() {
        this(2);
    }

    /** A square pool, strides equal to it, VALID. */
    public AveragePooling2D(int poolSize) {
        this(new int[] {poolSize}, new int[] {poolSize}, Padding.VALID);
    }

    /** Pool size and strides are one size for both axes or {@code {h, w}}. */
    public AveragePooling2D(int[] poolSize, int[] strides, Padding padding) {
        NullChecks.nonNull(poolSize, "AveragePooling2D", "poolSize");
        NullChecks.nonNull(strides, "AveragePooling2D", "strides");
        this.padding = NullChecks.nonNull(padding, "AveragePooling2D", "padding");
        this.poolSize = Window.pair(poolSize, "AveragePooling2D", "poolSize");
        this.strides = Window.pair(strides, "AveragePooling2D", "strides");
    }

    @Override
    public Tensor call(Operand input, boolean training) {
        Tensor x = NullChecks.nonNull(input, "AveragePooling2D.call", "input").value();
        if (x.rank() != 4) {
            throw new ShapeException("AveragePooling2D: input shape " + x.shape()
                    + " must be [batch, height, width, channels]");
        }
        return Spool.avgPool2d(x, poolSize, strides, padding);
    }

    @Override
    public String name() {
        return "average_pooling2d";
    }

    @Override
    public Map<String, Variable> variables() {
        return Map.of();
    }
}
