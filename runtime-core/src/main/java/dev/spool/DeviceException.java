package dev.spool;

/** A device that cannot be used: not found, not available, or mixed with another in one op. */
public class DeviceException extends SpoolException {
    public DeviceException(String message) {
        super(message);
    }

    public DeviceException(String message, Throwable cause) {
        super(message, cause);
    }
}
