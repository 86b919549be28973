package dev.spool.opencl;

import dev.spool.spi.DeviceInfo;
import java.util.List;

/**
 * What device discovery reads from the OpenCL runtime: the platforms, each platform's devices,
 * and opening a device. {@link JoclPlatforms} is the real one; tests drive
 * {@link OpenClBackendProvider} with platforms that fail in each way a driver can.
 *
 * <p>Every method may throw what the driver answers ({@code CLException}, or any other
 * {@code RuntimeException}); discovery catches it per platform and per device.
 */
interface ClPlatformSource {

    /**
     * The installed platforms, in the ICD loader's order. Throws {@code LinkageError} when the
     * ICD loader itself cannot be loaded, {@code CLException} when it finds no platform.
     */
    List<Platform> platforms();

    /** One OpenCL platform (driver). */
    interface Platform {
        /** CL_PLATFORM_NAME, e.g. {@code Portable Computing Language}, {@code rusticl}. */
        String name();

        /** CL_PLATFORM_VERSION, e.g. {@code OpenCL 3.0 PoCL 3.1 ...}. */
        String version();

        /** Its devices of every type; empty when it has none (CL_DEVICE_NOT_FOUND). */
        List<Candidate> devices();
    }

    /** A device of a platform, not yet opened. */
    interface Candidate {
        /** CL_DEVICE_NAME. */
        String name();

        /** CL_DEVICE_TYPE as Spool's device type. */
        DeviceInfo.DeviceType type();

        /** Opens it as {@code opencl:index}: context, queue, backend. Releases what it made on failure. */
        OpenClBackend open(int index);
    }
}
