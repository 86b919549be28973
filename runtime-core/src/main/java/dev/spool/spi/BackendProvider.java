package dev.spool.spi;

import java.util.List;

/**
 * Entry point of a backend, found with {@link java.util.ServiceLoader}: put a backend's jar on
 * the class path and its devices appear. Register an implementation in
 * {@code META-INF/services/dev.spool.spi.BackendProvider}.
 */
public interface BackendProvider {

    /** The backend's name, the prefix of device ids ({@code cpu}, {@code opencl}). */
    String name();

    /**
     * Finds this backend's devices. Called at most once per JVM, lazily. When the backend cannot
     * run here (no driver, no device) it returns an empty list and explains why in
     * {@link #unavailableReason()}; it must not throw for that.
     */
    List<Backend> discover();

    /** Why {@link #discover()} found nothing, with how to fix it; {@code null} when it did. */
    String unavailableReason();

    /**
     * What the last {@link #discover()} found, for people, when there is more to say than the
     * devices and {@link #unavailableReason()}: for OpenCL, every platform and every skipped
     * device with the reason. {@code null} (the default) when there is nothing more.
     */
    default String report() {
        return null;
    }

    /**
     * Index of the device chosen when a user asks for this backend by name without an index
     * (e.g. {@code opencl}): by default the first GPU, else the first device.
     */
    default int preferredIndex(List<Backend> devices) {
        for (int i = 0; i < devices.size(); i++) {
            if (devices.get(i).info().type() == DeviceInfo.DeviceType.GPU) {
                return i;
            }
        }
        return 0;
    }
}
