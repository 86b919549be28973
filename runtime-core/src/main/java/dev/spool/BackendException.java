package dev.spool;

/**
 * A backend failed: a driver error (with its symbolic name, e.g. {@code CL_OUT_OF_RESOURCES}),
 * a kernel that did not build (with the build log), an allocation the device cannot satisfy.
 */
public class BackendException extends SpoolException {
    public BackendException(String message) {
        super(message);
    }

    public BackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
