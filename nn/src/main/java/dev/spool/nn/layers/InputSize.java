package dev.spool.nn.layers;

import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.UsageException;

/**
 * The size of the axis a layer's variables are shaped by (a convolution's input channels, a
 * dense layer's inputs, batch normalization's features): given up front, or taken from the
 * layer's first call, as Keras builds a layer. Until it is known the layer has no variables.
 */
final class InputSize {
    private final String layer;
    private final String what;
    private int size; // 0 until known

    /** {@code size} 0: taken from the first call. */
    InputSize(String layer, String what, int size) {
        if (size < 0) {
            throw new ShapeException(layer + ": " + what + " must be > 0, or 0 to take it from the first call, got "
                    + size);
        }
        this.layer = layer;
        this.what = what;
        this.size = size;
    }

    boolean known() {
        return size > 0;
    }

    int get() {
        return size;
    }

    /**
     * Checks {@code axis} of {@code input} against the size, or takes the size from it on the first
     * call: then returns true, and the caller creates its variables.
     */
    boolean take(String name, Shape input, int axis) {
        int n = input.dim(axis);
        if (size == 0) {
            if (n <= 0) {
                throw new ShapeException(layer + " '" + name + "': input shape " + input + " has no " + what);
            }
            size = n;
            return true;
        }
        if (n != size) {
            throw new ShapeException(layer + " '" + name + "': input shape " + input + " has " + n + " " + what
                    + " where the layer was built for " + size);
        }
        return false;
    }

    /** The error for reading the variables of a layer that has none yet. */
    UsageException notBuilt(String name) {
        return new UsageException(layer + " '" + name + "' takes its " + what + " from its first call and has no "
                + "variables yet: call it (or the model, or Sequential.build) once first, or give the " + what
                + " up front");
    }
}
