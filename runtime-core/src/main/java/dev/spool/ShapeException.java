package dev.spool;

/** Shapes that an op cannot accept; the message names the op and the shapes. */
public class ShapeException extends SpoolException {
    public ShapeException(String message) {
        super(message);
    }
}
