package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.spi.Backend;
import dev.spool.spi.BackendProvider;
import dev.spool.spi.DeviceInfo;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Discovery through ServiceLoader, device descriptions, and the "no OpenCL here" path. */
@ExtendWith(TestDevices.class)
class ProviderTest {

    @Test
    void serviceLoaderFindsTheOpenClProvider() {
        boolean found = false;
        Iterator<BackendProvider> it = ServiceLoader.load(BackendProvider.class).iterator();
        while (it.hasNext()) {
            try {
                BackendProvider p = it.next();
                found |= p.name().equals("opencl") && p instanceof OpenClBackendProvider;
            } catch (ServiceConfigurationError e) {
                // another module's provider that is not built yet: not ours to test
            }
        }
        assertTrue(found, "META-INF/services registers OpenClBackendProvider as 'opencl'");
    }

    @Test
    void devicesDescribeThemselves() {
        List<OpenClBackend> devices = TestDevices.all();
        assertFalse(devices.isEmpty());
        for (int i = 0; i < devices.size(); i++) {
            DeviceInfo info = devices.get(i).info();
            assertEquals("opencl", info.backend());
            assertEquals(i, info.index());
            assertEquals("opencl:" + i, info.id());
            assertFalse(info.name().isBlank());
            assertTrue(info.computeUnits() > 0);
            assertTrue(info.maxAllocBytes() > 0 && info.maxAllocBytes() <= info.globalMemBytes());
        }
        int preferred = new OpenClBackendProvider().preferredIndex(List.copyOf(devices));
        assertTrue(preferred >= 0 && preferred < devices.size());
    }

    @Test
    void aPlatformFilterThatMatchesNothingFindsNothingAndSaysWhy() {
        String old = System.getProperty(OpenClBackendProvider.PLATFORM_PROPERTY);
        System.setProperty(OpenClBackendProvider.PLATFORM_PROPERTY, "no-such-platform-xyz");
        try {
            OpenClBackendProvider p = new OpenClBackendProvider();
            List<Backend> found = p.discover();
            assertTrue(found.isEmpty());
            assertNotNull(p.unavailableReason());
            assertTrue(p.unavailableReason().contains("no-such-platform-xyz"), p.unavailableReason());
        } finally {
            if (old == null) {
                System.clearProperty(OpenClBackendProvider.PLATFORM_PROPERTY);
            } else {
                System.setProperty(OpenClBackendProvider.PLATFORM_PROPERTY, old);
            }
        }
    }

    @Test
    void noReasonWhenDevicesAreFound() {
        OpenClBackendProvider p = new OpenClBackendProvider();
        List<Backend> found = p.discover();
        try {
            assertFalse(found.isEmpty());
            assertNull(p.unavailableReason());
        } finally {
            found.forEach(Backend::close);
        }
    }
}
