package dev.spool;

import dev.spool.spi.Backend;
import dev.spool.spi.BackendProvider;
import dev.spool.spi.DeviceInfo.DeviceType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Finds backends with {@link ServiceLoader} and discovers each one's devices lazily, once. */
final class DeviceRegistry {
    private static final Logger log = LoggerFactory.getLogger(DeviceRegistry.class);

    private static final Map<String, BackendProvider> PROVIDERS = new LinkedHashMap<>();
    private static final Map<String, List<Device>> DISCOVERED = new LinkedHashMap<>();
    private static volatile Device defaultDevice;
    /** Backends whose choice for a name without an index has been logged. */
    private static final java.util.Set<String> ANNOUNCED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            PROVIDERS.putIfAbsent(p.name(), p);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(DeviceRegistry::closeAll, "spool-shutdown"));
    }

    private DeviceRegistry() {
    }

    /** Devices of one backend, discovering them on first use. */
    private static synchronized List<Device> devicesOf(BackendProvider provider) {
        return DISCOVERED.computeIfAbsent(provider.name(), name -> {
            List<Device> devices = new ArrayList<>();
            for (Backend b : provider.discover()) {
                devices.add(new Device(b));
            }
            log.debug("backend {}: {} device(s) {}", name, devices.size(), devices);
            return List.copyOf(devices);
        });
    }

    static synchronized List<Device> all() {
        List<Device> all = new ArrayList<>();
        for (BackendProvider p : PROVIDERS.values()) {
            all.addAll(devicesOf(p));
        }
        return all;
    }

    static Device get(String spec) {
        String s = spec.trim().toLowerCase(java.util.Locale.ROOT);
        int colon = s.indexOf(':');
        String name = colon < 0 ? s : s.substring(0, colon);
        BackendProvider provider = PROVIDERS.get(name);
        if (provider == null) {
            throw new DeviceException("unknown device '" + spec + "': backends on the class path are "
                    + PROVIDERS.keySet() + (name.equals("opencl")
                    ? " (add the runtime-opencl jar for OpenCL)" : ""));
        }
        List<Device> devices = devicesOf(provider);
        if (devices.isEmpty()) {
            throw new DeviceException("device '" + spec + "' is not available: "
                    + provider.unavailableReason());
        }
        if (colon < 0) {
            Device chosen = devices.get(provider.preferredIndex(devices.stream().map(Device::backend).toList()));
            if (ANNOUNCED.add(name)) {
                log.info("'{}' is {} ({}, {}), the best of {} device(s) {}", name, chosen, chosen.info().name(),
                        chosen.info().type(), devices.size(), devices);
            }
            return chosen;
        }
        int index;
        try {
            index = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new DeviceException("bad device '" + spec + "': expected NAME or NAME:INDEX");
        }
        if (index < 0 || index >= devices.size()) {
            throw new DeviceException("device '" + spec + "' does not exist: " + name + " has "
                    + devices.size() + " device(s) " + devices);
        }
        return devices.get(index);
    }

    /** spool.device, then SPOOL_DEVICE, then {@link #best()}; resolved once. */
    static Device defaultDevice() {
        Device d = defaultDevice;
        if (d == null) {
            synchronized (DeviceRegistry.class) {
                if (defaultDevice == null) {
                    String prop = System.getProperty("spool.device");
                    String env = System.getenv("SPOOL_DEVICE");
                    if (prop != null && !prop.isBlank()) {
                        defaultDevice = get(prop);
                    } else if (env != null && !env.isBlank()) {
                        defaultDevice = get(env);
                    } else {
                        defaultDevice = best();
                    }
                    log.info("default device: {} ({})", defaultDevice, defaultDevice.info().name());
                }
                d = defaultDevice;
            }
        }
        return d;
    }

    /** The first GPU of any backend, else the CPU backend, else whatever exists. */
    static synchronized Device best() {
        for (BackendProvider p : PROVIDERS.values()) {
            if (p.name().equals("cpu")) {
                continue;
            }
            for (Device d : devicesOf(p)) {
                if (d.info().type() == DeviceType.GPU) {
                    return d;
                }
            }
        }
        if (PROVIDERS.containsKey("cpu")) {
            return get("cpu");
        }
        List<Device> all = all();
        if (all.isEmpty()) {
            throw new DeviceException("no Spool backend on the class path: add runtime-cpu "
                    + "(and runtime-opencl for GPUs)");
        }
        return all.get(0);
    }

    /**
     * Every backend on the class path, what it found (discovering it), and what it skipped: for
     * {@link Device#report()}.
     */
    static synchronized String report() {
        StringBuilder s = new StringBuilder();
        for (BackendProvider p : PROVIDERS.values()) {
            List<Device> devices = devicesOf(p);
            String more = p.report();
            if (more != null) {
                s.append(more.strip()).append('\n');
                continue;
            }
            s.append(p.name()).append(": ");
            if (devices.isEmpty()) {
                s.append("not available: ").append(p.unavailableReason()).append('\n');
                continue;
            }
            s.append(devices.size()).append(" device(s)\n");
            for (Device d : devices) {
                s.append("  ").append(d.id()).append("  ").append(d.info().name()).append(", ")
                        .append(d.info().type()).append(", ").append(d.info().computeUnits())
                        .append(" compute units, float64 ").append(d.supportsFloat64() ? "yes" : "no").append('\n');
            }
        }
        return s.toString();
    }

    private static synchronized void closeAll() {
        for (List<Device> devices : DISCOVERED.values()) {
            for (Device d : devices) {
                try {
                    d.shutdown();
                } catch (RuntimeException e) {
                    log.warn("closing device {} failed: {}", d, e.toString());
                }
            }
        }
    }
}
