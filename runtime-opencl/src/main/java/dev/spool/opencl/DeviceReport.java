package dev.spool.opencl;

import dev.spool.spi.Backend;
import java.io.PrintStream;
import java.util.List;

/**
 * Prints every OpenCL platform and device Spool finds here, every one it skips with the reason,
 * and which device {@code opencl} selects. Exits with status 1 when no device is usable.
 *
 * <pre>java -cp ... dev.spool.opencl.DeviceReport</pre>
 *
 * (the examples jar: {@code java -cp examples/target/spool-examples.jar dev.spool.opencl.DeviceReport};
 * {@code scripts/gpu-check.sh} runs it first on a GPU machine).
 */
public final class DeviceReport {
    private DeviceReport() {
    }

    public static void main(String[] args) {
        System.exit(print(new OpenClBackendProvider(), System.out) ? 0 : 1);
    }

    /** Discovers with {@code provider}, prints its report, closes what it opened; whether a device was usable. */
    static boolean print(OpenClBackendProvider provider, PrintStream out) {
        List<Backend> devices = provider.discover();
        try {
            out.println(provider.report());
        } finally {
            devices.forEach(Backend::close);
        }
        return !devices.isEmpty();
    }
}
