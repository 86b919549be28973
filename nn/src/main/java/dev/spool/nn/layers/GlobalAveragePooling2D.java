package dev.spool.nn.layers;

import dev.spool.Operand;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import java.util.Map;

/**
 * Keras's {@code GlobalAveragePooling2D}: the mean over height and width of a channels-last
 * image, {@code [batch, height, width, channels]} to {@code [batch, channels]}
 * ({@link Spool#globalAvgPool2d}).
 */
public final class GlobalAveragePooling2D implements Layer {

    @Override
    public Tensor call(Operand input, boolean training) {
        return Spool.globalAvgPool2d(NullChecks.nonNull(input, "GlobalAveragePooling2D.call", "input"));
    }

    @Override
    public String name() {
        return "global_average_pooling2d";
    }

    @Override
    public Map<String, Variable> variables() {
        return Map.of();
    }
}
