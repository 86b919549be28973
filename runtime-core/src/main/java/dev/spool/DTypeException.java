package dev.spool;

/** A dtype an op cannot accept, or two dtypes that do not match; the message names both. */
public class DTypeException extends SpoolException {
    public DTypeException(String message) {
        super(message);
    }
}
