package dev.spool.cpu;

import dev.spool.spi.Backend;
import dev.spool.spi.BackendProvider;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The pure-Java backend: always available, one device ({@code cpu}). */
public final class CpuBackendProvider implements BackendProvider {
    private static final Logger LOG = LoggerFactory.getLogger(CpuBackendProvider.class);

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public List<Backend> discover() {
        CpuBackend backend = new CpuBackend();
        LOG.debug("cpu backend: {}", backend.info());
        return List.of(backend);
    }

    @Override
    public String unavailableReason() {
        return null;
    }
}
