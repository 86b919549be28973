package dev.spool.nn.layers;

import dev.spool.Operand;
import dev.spool.ShapeException;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import java.util.Map;

/**
 * Keras's {@code Flatten}: each sample as one row, {@code [batch, d1, d2, ...]} to
 * {@code [batch, d1·d2·...]} in row-major (channels-last) order; {@code [batch]} becomes
 * {@code [batch, 1]}. A reshape: no copy.
 */
public final class Flatten implements Layer {

    @Override
    public Tensor call(Operand input, boolean training) {
        Tensor x = NullChecks.nonNull(input, "Flatten.call", "input").value();
        if (x.rank() < 1) {
            throw new ShapeException("Flatten: input shape " + x.shape() + " must have a batch axis");
        }
        long rest = 1;
        for (int i = 1; i < x.rank(); i++) {
            rest *= x.shape().dim(i);
        }
        if (rest > Integer.MAX_VALUE) {
            throw new ShapeException("Flatten: input shape " + x.shape() + " has more than 2^31 - 1 values per sample");
        }
        return x.reshape(x.shape().dim(0), (int) rest);
    }

    @Override
    public String name() {
        return "flatten";
    }

    @Override
    public Map<String, Variable> variables() {
        return Map.of();
    }
}
