package dev.spool;

/**
 * An object used against its contract, whatever the values: a non-persistent
 * {@link GradientTape} asked for a second gradient, a tape used from a thread other than the
 * one that created it, scopes closed out of order or on another thread.
 */
public class UsageException extends SpoolException {
    public UsageException(String message) {
        super(message);
    }
}
