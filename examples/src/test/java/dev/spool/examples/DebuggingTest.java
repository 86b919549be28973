package dev.spool.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.Device;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The README's "Debugging" section ({@link Debugging}) on every device: what it prints is what the README shows. */
class DebuggingTest {

    static Stream<Device> devices() {
        return Device.list().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void theDebuggingSectionIsTrue(Device device) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Debugging.Result r = new Debugging(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run(device);
        assertEquals("sqrt", r.forwardOp());
        assertTrue(r.nan().startsWith("check-numerics: op 'div' produced NaN (first at flat index 0 of its float32 (3,)"
                + " output) from inputs [float32 (3,), float32 (3,)], in the backward pass: the VJP of forward op"
                + " 'sqrt', recorded at dev.spool.examples.Debugging.run(Debugging.java:"), r.nan());
        assertEquals("sparseSoftmaxCrossEntropy: labels[1] = 3 is not in [0, 3)", r.label());
        assertEquals(0, r.buffersLeftBySteps());
        assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("live buffers left by 10 steps: 0"));
    }
}
