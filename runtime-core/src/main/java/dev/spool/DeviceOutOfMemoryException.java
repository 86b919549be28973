package dev.spool;

/**
 * A device has no room for an allocation: Spool's memory budget for it is used up by live
 * tensors, or its driver reported that memory ran out (CL_MEM_OBJECT_ALLOCATION_FAILURE,
 * CL_OUT_OF_RESOURCES, a full Java heap), even after tensors the garbage collector found
 * unreachable were released and the backend's caches emptied. The message names the device,
 * the request and the live statistics.
 *
 * <p>Backends throw it (with {@code requestedBytes} and the driver's reason) when their driver
 * fails an allocation; core then reclaims memory and retries before it gives up with its own.
 */
public class DeviceOutOfMemoryException extends BackendException {
    private final long requestedBytes;

    public DeviceOutOfMemoryException(String message, long requestedBytes) {
        super(message);
        this.requestedBytes = requestedBytes;
    }

    public DeviceOutOfMemoryException(String message, long requestedBytes, Throwable cause) {
        super(message, cause);
        this.requestedBytes = requestedBytes;
    }

    /** The size of the allocation that failed, in bytes. */
    public long requestedBytes() {
        return requestedBytes;
    }
}
