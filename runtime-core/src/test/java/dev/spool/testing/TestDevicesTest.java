package dev.spool.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.Device;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/**
 * The device source of the conformance suite: a missing OpenCL device must fail the build when
 * SPOOL_REQUIRE_OPENCL=1 and skip the tests otherwise, never pass silently.
 */
class TestDevicesTest {
    private String saved;

    @BeforeEach
    void save() {
        saved = System.getProperty(TestDevices.BACKEND_PROPERTY);
    }

    @AfterEach
    void restore() {
        if (saved == null) {
            System.clearProperty(TestDevices.BACKEND_PROPERTY);
        } else {
            System.setProperty(TestDevices.BACKEND_PROPERTY, saved);
        }
    }

    @Test
    void withoutTheBackendPropertyTheSuiteIsSkipped() {
        System.clearProperty(TestDevices.BACKEND_PROPERTY);
        TestAbortedException e = assertThrows(TestAbortedException.class, TestDevices::devices);
        assertTrue(e.getMessage().contains(TestDevices.BACKEND_PROPERTY), e.getMessage());
    }

    @Test
    void openclDevicesOrAFailureWhenRequiredOrASkip() {
        System.setProperty(TestDevices.BACKEND_PROPERTY, "opencl");
        List<Device> opencl = Device.list().stream().filter(d -> d.info().backend().equals("opencl")).toList();
        if (!opencl.isEmpty()) {
            assertEquals(opencl, TestDevices.devices());
            return;
        }
        if ("1".equals(System.getenv(TestDevices.REQUIRE_OPENCL_ENV))) {
            AssertionError e = assertThrows(AssertionError.class, TestDevices::devices);
            assertTrue(e.getMessage().contains("OpenCL was required"), e.getMessage());
        } else {
            TestAbortedException e = assertThrows(TestAbortedException.class, TestDevices::devices);
            assertTrue(e.getMessage().contains(TestDevices.REQUIRE_OPENCL_ENV), e.getMessage());
        }
    }

    @Test
    void devicesOfTheNamedBackendOnly() {
        System.setProperty(TestDevices.BACKEND_PROPERTY, "nosuchbackend");
        TestAbortedException e = assertThrows(TestAbortedException.class, TestDevices::devices);
        assertTrue(e.getMessage().contains("nosuchbackend"), e.getMessage());
        for (Device d : Device.list()) {
            System.setProperty(TestDevices.BACKEND_PROPERTY, d.info().backend());
            List<Device> chosen = TestDevices.devices();
            assertFalse(chosen.isEmpty());
            assertTrue(chosen.stream().allMatch(c -> c.info().backend().equals(d.info().backend())));
        }
    }
}
