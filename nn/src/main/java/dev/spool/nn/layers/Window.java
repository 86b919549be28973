package dev.spool.nn.layers;

import dev.spool.ShapeException;
import dev.spool.internal.NullChecks;
import java.util.Arrays;

/** Keras's window arguments (kernel and pool sizes, strides, dilation rates): one size for both axes, or two. */
final class Window {
    private Window() {
    }

    /** {@code {h, w}} from {@code {n}} or {@code {h, w}}, each > 0. */
    static int[] pair(int[] values, String layer, String name) {
        NullChecks.nonNull(values, layer, name);
        if (values.length != 1 && values.length != 2 || Arrays.stream(values).anyMatch(v -> v <= 0)) {
            throw new ShapeException(layer + ": " + name + " must be one size > 0 or two ({h, w}), got "
                    + Arrays.toString(values));
        }
        return values.length == 1 ? new int[] {values[0], values[0]} : values.clone();
    }
}
