package dev.spool.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.Device;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Makes a machine without OpenCL visible in the report: skipped with the reason, or failed in CI. */
class OpenClPresenceTest {

    @Test
    void theNnTestsRanOnOpenCl() {
        boolean found = NnDevices.all().stream().anyMatch(NnDevices::isOpenCl); // fails when required
        Assumptions.assumeTrue(found, "no OpenCL device: the nn tests ran on cpu only "
                + "(set SPOOL_REQUIRE_OPENCL=1 to make this a failure)");
        assertTrue(NnDevices.all().contains(Device.cpu()), "the cpu device is always tested");
    }
}
