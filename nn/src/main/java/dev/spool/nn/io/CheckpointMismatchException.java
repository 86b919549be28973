package dev.spool.nn.io;

import dev.spool.SpoolException;

/**
 * A checkpoint whose array names are not the model's variable names: the message lists the
 * missing and the unexpected ones. (A shape or dtype that differs is a
 * {@link dev.spool.ShapeException} or {@link dev.spool.DTypeException}.)
 */
public final class CheckpointMismatchException extends SpoolException {
    public CheckpointMismatchException(String message) {
        super(message);
    }
}
