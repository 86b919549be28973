package dev.spool.opencl;

import static org.jocl.CL.CL_PLATFORM_NOT_FOUND_KHR;

import dev.spool.spi.Backend;
import dev.spool.spi.BackendProvider;
import dev.spool.spi.DeviceInfo;
import dev.spool.spi.DeviceInfo.DeviceType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.jocl.CLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code opencl} backend: one {@link OpenClBackend} per usable device of every OpenCL
 * platform.
 *
 * <p>Discovery survives any driver: each platform and each device is probed on its own, and one
 * that fails (an error listing its devices, a context that cannot be created) is skipped with one
 * WARN naming it and the error, while the rest are used. OpenCL is unavailable only when no
 * device anywhere is usable (no ICD loader, no driver, or every platform skipped); then
 * {@link #discover()} returns nothing, logs one warning, and {@link #unavailableReason()} lists
 * each platform with the reason it was skipped. It never throws for that.
 *
 * <p>Device indices: platforms are ordered by name and version (not by the ICD loader's order,
 * which follows the directory listing of {@code /etc/OpenCL/vendors}), devices in the order their
 * platform lists them, and usable devices are numbered from 0 in that order; so {@code opencl:N}
 * names the same device for a given set of drivers. {@code opencl} without an index is the best
 * device: GPU before accelerator before CPU, the lowest index among equals. {@link #report()}
 * shows every platform and device, and every skipped one with its reason (the tutorial's
 * {@code --devices} and {@link DeviceReport} print it).
 *
 * <p>Platforms can be narrowed with the system property {@code spool.opencl.platform} or the
 * environment variable {@code SPOOL_OPENCL_PLATFORM} (a case-insensitive part of the platform
 * name, e.g. {@code nvidia}, {@code portable}, {@code rusticl}); the kernel strategy can be
 * forced with {@code spool.opencl.strategy=gpu|cpu}.
 */
public final class OpenClBackendProvider implements BackendProvider {
    private static final Logger log = LoggerFactory.getLogger(OpenClBackendProvider.class);
    /**
     * CL_DEVICE_TYPE_ALL as the OpenCL specification defines it, for every {@code clGetDeviceIDs}
     * (benchmarks that call JOCL directly included). JOCL's {@code CL.CL_DEVICE_TYPE_ALL} is
     * sign-extended to 0xffffffffffffffff, which Mesa's Rusticl rejects with
     * CL_INVALID_DEVICE_TYPE (PoCL accepts both).
     */
    public static final long DEVICE_TYPE_ALL = 0xFFFFFFFFL;
    static final String PLATFORM_PROPERTY = "spool.opencl.platform";
    static final String PLATFORM_ENV = "SPOOL_OPENCL_PLATFORM";
    private static final String INSTALL_HINT = "install a GPU driver with OpenCL support, or PoCL for "
            + "CPUs: apt-get install pocl-opencl-icd ocl-icd-opencl-dev";

    private final ClPlatformSource source;
    /** Reads the platform filter at each discovery (null: no filter); tests pass none. */
    private final java.util.function.Supplier<String> filter;
    private volatile String unavailableReason;
    private volatile List<PlatformEntry> platforms = List.of();

    /**
     * The provider {@link java.util.ServiceLoader} creates: the OpenCL runtime installed here,
     * narrowed by {@code spool.opencl.platform} / {@code SPOOL_OPENCL_PLATFORM}.
     */
    public OpenClBackendProvider() {
        this(new JoclPlatforms(), OpenClBackendProvider::platformFilter);
    }

    /** Discovery over {@code source}, without a platform filter. */
    OpenClBackendProvider(ClPlatformSource source) {
        this(source, () -> null);
    }

    private OpenClBackendProvider(ClPlatformSource source, java.util.function.Supplier<String> filter) {
        this.source = source;
        this.filter = filter;
    }

    /** One platform as discovery saw it: its devices, or why it was skipped as a whole. */
    record PlatformEntry(String name, String version, List<DeviceEntry> devices, String skipped) {
    }

    /** One device: the id it got ({@code opencl:N}) and its description, or why it was skipped. */
    record DeviceEntry(String name, DeviceType type, String id, String description, String skipped) {
    }

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public synchronized List<Backend> discover() {
        unavailableReason = null;
        platforms = List.of();
        List<ClPlatformSource.Platform> installed;
        try {
            installed = source.platforms();
        } catch (LinkageError e) {
            unavailable("OpenCL is not available: the OpenCL ICD loader libOpenCL.so could not be loaded ("
                    + e.getMessage() + "); " + INSTALL_HINT);
            return List.of();
        } catch (CLException e) {
            unavailable(e.getStatus() == CL_PLATFORM_NOT_FOUND_KHR
                    ? "OpenCL is not available: no OpenCL platform (driver) is installed (CL_PLATFORM_NOT_FOUND_KHR); "
                            + INSTALL_HINT
                    : "OpenCL is not available: listing platforms failed with " + ClErrors.name(e.getStatus()) + "; "
                            + INSTALL_HINT);
            return List.of();
        } catch (RuntimeException e) {
            unavailable("OpenCL is not available: listing platforms failed: " + e + "; " + INSTALL_HINT);
            return List.of();
        }
        if (installed.isEmpty()) {
            unavailable("OpenCL is not available: no OpenCL platform (driver) is installed; " + INSTALL_HINT);
            return List.of();
        }
        String filter = this.filter.get();
        List<Named> named = new ArrayList<>();
        for (int i = 0; i < installed.size(); i++) {
            named.add(Named.of(installed.get(i), i));
        }
        named.sort(Named.ORDER);
        List<Backend> found = new ArrayList<>();
        List<PlatformEntry> entries = new ArrayList<>();
        for (Named p : named) {
            entries.add(probe(p, filter, found));
        }
        platforms = List.copyOf(entries);
        if (found.isEmpty()) {
            StringBuilder why = new StringBuilder(filter != null
                    ? "no OpenCL platform matching " + PLATFORM_PROPERTY + "/" + PLATFORM_ENV + "='" + filter
                            + "' has a usable device"
                    : "OpenCL is not available: no usable device on " + entries.size() + " platform(s)");
            for (PlatformEntry e : entries) {
                why.append("; ").append(e.name()).append(": ").append(platformSummary(e));
            }
            unavailable(why.append("; ").append(INSTALL_HINT).toString());
        } else if (log.isDebugEnabled()) {
            log.debug("OpenCL discovery:\n{}", report());
        }
        return found;
    }

    /** Probes one platform: lists its devices and opens each, appending the usable ones to {@code found}. */
    private static PlatformEntry probe(Named p, String filter, List<Backend> found) {
        if (p.error != null) {
            log.warn("skipping OpenCL platform {}: reading its name failed with {}", p.name, p.error);
            return new PlatformEntry(p.name, "", List.of(), "reading its name failed with " + p.error);
        }
        if (filter != null && !p.name.toLowerCase(Locale.ROOT).contains(filter)) {
            return new PlatformEntry(p.name, p.version, List.of(),
                    "not selected by " + PLATFORM_PROPERTY + "/" + PLATFORM_ENV + "='" + filter + "'");
        }
        List<ClPlatformSource.Candidate> candidates;
        try {
            candidates = p.platform.devices();
        } catch (RuntimeException e) {
            String why = "listing its devices failed with " + errorName(e);
            log.warn("skipping OpenCL platform {} ({}): {}", p.name, p.version, why);
            return new PlatformEntry(p.name, p.version, List.of(), why);
        }
        if (candidates.isEmpty()) {
            log.debug("OpenCL platform {} ({}) has no devices", p.name, p.version);
        }
        List<DeviceEntry> devices = new ArrayList<>();
        for (int j = 0; j < candidates.size(); j++) {
            devices.add(open(p, candidates.get(j), j, found));
        }
        return new PlatformEntry(p.name, p.version, List.copyOf(devices), null);
    }

    private static DeviceEntry open(Named p, ClPlatformSource.Candidate c, int j, List<Backend> found) {
        String name = "device #" + j;
        DeviceType type = DeviceType.OTHER;
        try {
            name = c.name();
            type = c.type();
            OpenClBackend b = c.open(found.size());
            found.add(b);
            return new DeviceEntry(name, type, b.info().id(), describe(b), null);
        } catch (RuntimeException e) {
            String why = "opening it failed with " + errorName(e);
            log.warn("skipping OpenCL device {} of platform {}: {}", name, p.name, why);
            return new DeviceEntry(name, type, null, null, why);
        }
    }

    @Override
    public String unavailableReason() {
        return unavailableReason;
    }

    /** GPU before accelerator before CPU; the lowest index among equals. */
    @Override
    public int preferredIndex(List<Backend> devices) {
        return preferred(devices.stream().map(b -> b.info().type()).toList());
    }

    /** The index {@link #preferredIndex} picks among devices of these types. */
    static int preferred(List<DeviceType> types) {
        int best = 0;
        for (int i = 1; i < types.size(); i++) {
            if (rank(types.get(i)) < rank(types.get(best))) {
                best = i;
            }
        }
        return best;
    }

    private static int rank(DeviceType t) {
        return switch (t) {
            case GPU -> 0;
            case ACCELERATOR -> 1;
            case CPU -> 2;
            case OTHER -> 3;
        };
    }

    /**
     * Every platform of the last {@link #discover()}, in index order, each device under it with
     * its id and description or the reason it was skipped; then which device {@code opencl}
     * selects, or why there is none.
     */
    @Override
    public String report() {
        List<PlatformEntry> ps = platforms;
        StringBuilder s = new StringBuilder("OpenCL: ").append(ps.size()).append(" platform(s)\n");
        List<DeviceType> usable = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (PlatformEntry p : ps) {
            s.append("  ").append(p.name());
            if (!p.version().isEmpty()) {
                s.append(" (").append(p.version()).append(')');
            }
            s.append('\n');
            if (p.skipped() != null) {
                s.append("    skipped: ").append(p.skipped()).append('\n');
            } else if (p.devices().isEmpty()) {
                s.append("    no devices\n");
            }
            for (DeviceEntry d : p.devices()) {
                if (d.skipped() != null) {
                    s.append("    skipped ").append(d.name()).append(" (").append(d.type()).append("): ")
                            .append(d.skipped()).append('\n');
                } else {
                    s.append("    ").append(d.id()).append("  ").append(d.description()).append('\n');
                    usable.add(d.type());
                    ids.add(d.id() + " (" + d.name() + ", " + d.type() + ")");
                }
            }
        }
        if (ids.isEmpty()) {
            s.append("no usable OpenCL device: ").append(unavailableReason);
        } else {
            s.append("'opencl' selects ").append(ids.get(preferred(usable)))
                    .append(": GPU before accelerator before CPU");
        }
        return s.toString();
    }

    /** The platforms of the last {@link #discover()} (for tests). */
    List<PlatformEntry> platforms() {
        return platforms;
    }

    private static String describe(OpenClBackend b) {
        DeviceInfo i = b.info();
        OpenClDevice d = b.device();
        return String.format(Locale.ROOT, "%s (%s), %s, %d compute units, %d MiB, largest buffer %d MiB, "
                        + "float64 %s, %s kernels, %s, driver %s", i.name(), i.vendor(), i.type(), i.computeUnits(),
                i.globalMemBytes() >> 20, i.maxAllocBytes() >> 20, i.fp64() ? "yes" : "no", b.strategy(), d.version,
                d.driverVersion);
    }

    private static String platformSummary(PlatformEntry e) {
        if (e.skipped() != null) {
            return "skipped, " + e.skipped();
        }
        if (e.devices().isEmpty()) {
            return "no devices";
        }
        List<String> parts = new ArrayList<>();
        for (DeviceEntry d : e.devices()) {
            parts.add(d.name() + " skipped, " + d.skipped());
        }
        return String.join(", ", parts);
    }

    private static String errorName(RuntimeException e) {
        return e instanceof CLException cl ? ClErrors.name(cl.getStatus()) : e.toString();
    }

    private void unavailable(String reason) {
        unavailableReason = reason;
        log.warn("{}", reason);
    }

    private static String platformFilter() {
        String p = System.getProperty(PLATFORM_PROPERTY);
        if (p == null || p.isBlank()) {
            p = System.getenv(PLATFORM_ENV);
        }
        return p == null || p.isBlank() ? null : p.trim().toLowerCase(Locale.ROOT);
    }

    /** A platform with its name and version read once (or the error reading them gave). */
    private record Named(ClPlatformSource.Platform platform, int loaderIndex, String name, String version, String error) {
        /** By name, then version; the loader's order among equals; unreadable ones last. */
        static final Comparator<Named> ORDER = Comparator.comparing((Named n) -> n.error != null)
                .thenComparing(Named::name).thenComparing(Named::version).thenComparingInt(Named::loaderIndex);

        static Named of(ClPlatformSource.Platform p, int loaderIndex) {
            try {
                String name = p.name();
                String version;
                try {
                    version = p.version();
                } catch (RuntimeException e) {
                    version = "";
                }
                return new Named(p, loaderIndex, name, version, null);
            } catch (RuntimeException e) {
                return new Named(p, loaderIndex, "platform #" + loaderIndex, "", errorName(e));
            }
        }
    }
}
