package dev.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a tape keeps alive: one alias per tape id its records name, shared by the records (a
 * chain of ops names each intermediate twice, a constant operand once per op), holding the
 * values after their owners are closed and releasing them on reset. Holding an unwatched input
 * does not make the tape track it.
 */
class TapeHoldingsTest {
    private final Device device = new Device(new DeviceMemoryTest.FakeBackend(1L << 30));

    @AfterEach
    void shutdown() {
        device.shutdown();
    }

    @Test
    void aChainHoldsOneAliasPerTensorAndReleasesThemOnReset() {
        int ops = 10;
        try (Device.Scope on = Device.use(device)) {
            long baseline = device.stats().liveBuffers();
            GradientTape tape = new GradientTape(true);
            Tensor x;
            try (tape; TensorScope scope = new TensorScope()) {
                x = Spool.zeros(4);
                Tensor c = Spool.zeros(4);
                tape.watch(x);
                Tensor y = x;
                for (int i = 0; i < ops; i++) {
                    y = y.mul(c);
                }
                // x, c and each result: the records name 2 * ops inputs and ops results
                assertEquals(ops + 2, tape.heldAliases());
                assertEquals(baseline + ops + 2, device.stats().liveBuffers());
                c.mul(c); // c is held (an input of recorded ops) but not watched: not recorded
                assertEquals(ops + 2, tape.heldAliases());
            }
            // the scope closed every tensor; the tape still holds all of them
            assertEquals(baseline + ops + 2, device.stats().liveBuffers());
            assertTrue(x.isClosed());
            tape.reset();
            assertEquals(0, tape.heldAliases());
            assertEquals(baseline, device.stats().liveBuffers());
        }
    }
}
