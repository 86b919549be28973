package dev.spool.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.Device;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The tutorial, on every device Spool finds: every value of DESIGN.md's table must match. */
class AutodiffTutorialTest {

    static Stream<Device> devices() {
        return Device.list().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void tutorialValuesMatchOn(Device device) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        List<String> failures = new AutodiffTutorial(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run(device);
        assertEquals(List.of(), failures);
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("Tensor(16.0, shape=(), dtype=float32, device=" + device + ")"), printed);
        assertTrue(printed.contains("d2y_dx2 = Tensor(6.0, shape=(), dtype=float32"), printed);
    }

    @Test
    void openClIsPresentWhenRequired() {
        boolean required = "1".equals(System.getenv("SPOOL_REQUIRE_OPENCL"));
        boolean found = Device.list().stream().anyMatch(d -> d.info().backend().equals("opencl"));
        assertTrue(found || !required, "SPOOL_REQUIRE_OPENCL=1 but no OpenCL device was found: " + Device.list());
        assertFalse(Device.list().isEmpty(), "at least the CPU backend must be present");
    }
}
