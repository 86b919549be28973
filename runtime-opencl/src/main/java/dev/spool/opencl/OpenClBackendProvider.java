package dev.spool.opencl;

import static org.jocl.CL.CL_DEVICE_NOT_FOUND;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.CL_PLATFORM_NOT_FOUND_KHR;
import static org.jocl.CL.clGetDeviceIDs;
import static org.jocl.CL.clGetPlatformIDs;

import dev.spool.spi.Backend;
import dev.spool.spi.BackendProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code opencl} backend: one {@link OpenClBackend} per device of every OpenCL platform.
 * When OpenCL cannot run here (no ICD loader, no driver, no device) it finds nothing, logs one
 * warning and says why in {@link #unavailableReason()}; it never throws for that.
 *
 * <p>Platforms can be narrowed with the system property {@code spool.opencl.platform} or the
 * environment variable {@code SPOOL_OPENCL_PLATFORM} (a case-insensitive part of the platform
 * name, e.g. {@code nvidia}, {@code portable}, {@code oclgrind}); the kernel strategy can be
 * forced with {@code spool.opencl.strategy=gpu|cpu}.
 */
public final class OpenClBackendProvider implements BackendProvider {
    private static final Logger log = LoggerFactory.getLogger(OpenClBackendProvider.class);
    static final String PLATFORM_PROPERTY = "spool.opencl.platform";
    static final String PLATFORM_ENV = "SPOOL_OPENCL_PLATFORM";
    private static final String INSTALL_HINT = "install a GPU driver with OpenCL support, or PoCL for "
            + "CPUs: apt-get install pocl-opencl-icd ocl-icd-opencl-dev";

    /**
     * CL_DEVICE_TYPE_ALL as the specification defines it. JOCL's constant is sign-extended to
     * 0xffffffffffffffff, which Mesa's Rusticl rejects with CL_INVALID_DEVICE_TYPE.
     */
    static final long DEVICE_TYPE_ALL = 0xFFFFFFFFL;

    private volatile String unavailableReason;

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public synchronized List<Backend> discover() {
        unavailableReason = null;
        List<Backend> found = new ArrayList<>();
        try {
            found.addAll(devices());
        } catch (LinkageError e) {
            unavailable("OpenCL is not available: the OpenCL ICD loader libOpenCL.so could not be loaded ("
                    + e.getMessage() + "); " + INSTALL_HINT);
        } catch (CLException e) {
            if (e.getStatus() == CL_PLATFORM_NOT_FOUND_KHR) {
                unavailable("OpenCL is not available: no OpenCL platform (driver) is installed "
                        + "(CL_PLATFORM_NOT_FOUND_KHR); " + INSTALL_HINT);
            } else {
                unavailable("OpenCL is not available: listing platforms failed with "
                        + ClErrors.name(e.getStatus()) + "; " + INSTALL_HINT);
            }
        }
        return found;
    }

    /** Every device of every matching platform, each as a backend. */
    List<OpenClBackend> devices() {
        CL.setExceptionsEnabled(true);
        int[] count = new int[1];
        clGetPlatformIDs(0, null, count);
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        clGetPlatformIDs(platforms.length, platforms, null);
        String filter = platformFilter();
        List<String> seen = new ArrayList<>();
        List<OpenClBackend> backends = new ArrayList<>();
        for (cl_platform_id platform : platforms) {
            String platformName = OpenClDevice.platformString(platform, CL_PLATFORM_NAME);
            seen.add(platformName);
            if (filter != null && !platformName.toLowerCase(Locale.ROOT).contains(filter)) {
                continue;
            }
            List<cl_device_id> ids;
            try {
                ids = deviceIds(platform);
            } catch (CLException e) {
                log.warn("skipping OpenCL platform {}: listing its devices failed with {}", platformName,
                        ClErrors.name(e.getStatus()));
                continue;
            }
            for (cl_device_id id : ids) {
                try {
                    backends.add(new OpenClBackend(new OpenClDevice(backends.size(), platform, id)));
                } catch (CLException e) {
                    log.warn("skipping OpenCL device {} of {}: {}", OpenClDevice.string(id, CL.CL_DEVICE_NAME),
                            platformName, ClErrors.name(e.getStatus()));
                }
            }
        }
        if (backends.isEmpty()) {
            if (platforms.length == 0) {
                unavailable("OpenCL is not available: no OpenCL platform (driver) is installed; " + INSTALL_HINT);
            } else if (filter != null) {
                unavailable("no OpenCL platform matches " + PLATFORM_PROPERTY + "/" + PLATFORM_ENV + "='" + filter
                        + "' (platforms: " + seen + ")");
            } else {
                unavailable("OpenCL platforms " + seen + " have no usable device; " + INSTALL_HINT);
            }
        }
        return backends;
    }

    @Override
    public String unavailableReason() {
        return unavailableReason;
    }

    private void unavailable(String reason) {
        unavailableReason = reason;
        log.warn("{}", reason);
    }

    private static List<cl_device_id> deviceIds(cl_platform_id platform) {
        int[] n = new int[1];
        try {
            clGetDeviceIDs(platform, DEVICE_TYPE_ALL, 0, null, n);
        } catch (CLException e) {
            if (e.getStatus() == CL_DEVICE_NOT_FOUND) {
                return List.of();
            }
            throw e;
        }
        cl_device_id[] ids = new cl_device_id[n[0]];
        clGetDeviceIDs(platform, DEVICE_TYPE_ALL, ids.length, ids, null);
        return List.of(ids);
    }

    private static String platformFilter() {
        String p = System.getProperty(PLATFORM_PROPERTY);
        if (p == null || p.isBlank()) {
            p = System.getenv(PLATFORM_ENV);
        }
        return p == null || p.isBlank() ? null : p.trim().toLowerCase(Locale.ROOT);
    }
}
