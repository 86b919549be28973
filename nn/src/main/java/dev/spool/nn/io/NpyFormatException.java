package dev.spool.nn.io;

import dev.spool.SpoolException;

/** A {@code .npy}/{@code .npz} file that is malformed or holds what Spool cannot read. */
public final class NpyFormatException extends SpoolException {
    public NpyFormatException(String message) {
        super(message);
    }
}
