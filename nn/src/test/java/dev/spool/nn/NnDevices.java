package dev.spool.nn;

import dev.spool.Device;
import java.util.List;
import java.util.stream.Stream;

/**
 * The devices the nn tests run on: every device Spool finds ({@code cpu}, and each OpenCL
 * device, PoCL included). With {@code SPOOL_REQUIRE_OPENCL=1} (CI) a machine without OpenCL
 * fails here instead of quietly testing the CPU alone; {@link OpenClPresenceTest} reports the
 * skip visibly otherwise.
 */
public final class NnDevices {
    private NnDevices() {
    }

    public static List<Device> all() {
        List<Device> devices = Device.list();
        boolean openCl = devices.stream().anyMatch(NnDevices::isOpenCl);
        if (!openCl && "1".equals(System.getenv("SPOOL_REQUIRE_OPENCL"))) {
            throw new AssertionError("SPOOL_REQUIRE_OPENCL=1 but no OpenCL device was found: " + devices);
        }
        return devices;
    }

    /** Source for {@code @MethodSource("dev.spool.nn.NnDevices#devices")}. */
    public static Stream<Device> devices() {
        return all().stream();
    }

    static boolean isOpenCl(Device d) {
        return d.info().backend().equals("opencl");
    }
}
