package dev.spool.opencl;

import static org.jocl.CL.CL_DRIVER_VERSION;

import dev.spool.spi.Backend;
import dev.spool.spi.DeviceInfo;
import java.util.List;

/** Prints the OpenCL devices Spool finds here, or why it finds none (used by scripts/gpu-check.sh). */
public final class DeviceReport {
    private DeviceReport() {
    }

    public static void main(String[] args) {
        OpenClBackendProvider provider = new OpenClBackendProvider();
        List<Backend> devices = provider.discover();
        if (devices.isEmpty()) {
            System.out.println("no OpenCL device: " + provider.unavailableReason());
            System.exit(1);
        }
        for (Backend b : devices) {
            DeviceInfo i = b.info();
            OpenClDevice d = ((OpenClBackend) b).device();
            System.out.printf("%s  %s (%s)  %s, %d compute units, %d MiB, largest buffer %d MiB, float64 %s, %s kernels%n",
                    i.id(), i.name(), i.vendor(), i.type(), i.computeUnits(), i.globalMemBytes() >> 20,
                    i.maxAllocBytes() >> 20, i.fp64() ? "yes" : "no", ((OpenClBackend) b).strategy());
            System.out.printf("%s  platform %s, %s, driver %s%n", i.id(), d.platformName, d.version,
                    OpenClDevice.string(d.id, CL_DRIVER_VERSION));
            b.close();
        }
    }
}
