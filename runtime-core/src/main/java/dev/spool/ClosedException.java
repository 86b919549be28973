package dev.spool;

/**
 * A closed tensor or variable was used: its memory is released, so there is nothing to read.
 * The message names the tensor (id, shape, dtype, device) or the variable.
 */
public class ClosedException extends SpoolException {
    public ClosedException(String message) {
        super(message);
    }
}
