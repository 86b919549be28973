package dev.spool.nn.io;

import dev.spool.SpoolException;

/**
 * A {@code .npy}/{@code .npz} file that is malformed or holds what Spool cannot read, or an array
 * that cannot be written as one (an empty name in an {@code .npz}).
 */
public final class NpyFormatException extends SpoolException {
    public NpyFormatException(String message) {
        super(message);
    }
}
