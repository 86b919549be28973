package dev.spool.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.AttentionTesting;
import dev.spool.DType;
import dev.spool.Device;
import dev.spool.DeviceStats;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UnconnectedGradients;
import dev.spool.testing.TestDevices;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fused attention's device memory (issue #21): forward and backward at T = 2048 (B = 1, H = 1,
 * d = 64, float32) hold the output, its lse, and the three gradients: memory linear in T, where
 * the ops version needs at least B·H·T² floats for the scores alone (16 MiB here). Measured in
 * bytes with the device's own counters as nn's ConvMemoryTest does (a ballast first raises the
 * live bytes to the high-water mark, so the new mark less the live bytes before is the code's
 * own peak); the fused version again at T = 512 (a quarter: linear), and the ops version there.
 *
 * <p>What the counters see: tensors' buffers. Not a backend's private memory: the cpu device's
 * Java-heap tiles (a few 32 × 64 blocks per thread, and two floats per query row for lse and D in
 * the backward), or OpenCL scratch from the backend's pool (D: one value per query row; under
 * Rusticl's loop limit, two per work-item for the forward's split state): linear in T as well.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try")
class AttentionMemoryTest {
    private static final Logger log = LoggerFactory.getLogger(AttentionMemoryTest.class);
    private static final int D = 64;
    private static final int FLOAT = 4;

    static java.util.stream.Stream<Device> devices() {
        return TestDevices.underTest();
    }

    /** Peak bytes beyond what was live before, of forward + backward under a tape. */
    private static long peak(Device d, Supplier<List<Tensor>> work) {
        for (int attempt = 0; attempt < 5; attempt++) {
            System.gc();
            try (TensorScope scope = new TensorScope()) {
                // the peak since the device opened may be far above what is live now (gigabytes
                // after the memory-budget tests): start it again from here
                d.resetPeakMemoryStats();
                DeviceStats start = d.stats();
                if (start.liveBytes() < start.peakLiveBytes()) {
                    continue; // a collected tensor freed between the reads: measure again
                }
                work.get();
                d.synchronize();
                DeviceStats end = d.stats();
                if (end.leakedTensors() != start.leakedTensors()) {
                    continue;
                }
                return end.peakLiveBytes() - start.liveBytes();
            }
        }
        throw new AssertionError("no quiet measurement on " + d.id());
    }

    private static Supplier<List<Tensor>> forwardBackward(int t, boolean fused) {
        return () -> {
            Tensor q = Spool.randomUniform(Shape.of(1, 1, t, D), 1, -1, 1, DType.FLOAT32);
            Tensor k = Spool.randomUniform(Shape.of(1, 1, t, D), 2, -1, 1, DType.FLOAT32);
            Tensor v = Spool.randomUniform(Shape.of(1, 1, t, D), 3, -1, 1, DType.FLOAT32);
            Tensor dy = Spool.randomUniform(Shape.of(1, 1, t, D), 4, -1, 1, DType.FLOAT32);
            GradientTape tape = new GradientTape();
            Tensor y;
            try (tape) {
                tape.watch(q, k, v);
                y = fused ? Spool.scaledDotProductAttention(q, k, v, null, true)
                        : AttentionTesting.reference(q, k, v, null, true, 1 / Math.sqrt(D));
            }
            return tape.gradient(y, List.of(q, k, v), dy, UnconnectedGradients.NONE);
        };
    }

    /** q, k, v and dy, created inside the measurement. */
    private static long inputBytes(int t) {
        return 4L * t * D * FLOAT;
    }

    /** out, lse, dq, dk, dv. */
    private static long outputBytes(int t) {
        return (4L * t * D + t) * FLOAT;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void fusedForwardAndBackwardGrowLinearlyInT(Device d) {
        try (TestDevices.On on = TestDevices.on(d)) {
            long t0 = System.nanoTime();
            long fused512 = peak(d, forwardBackward(512, true)) - inputBytes(512);
            long t1 = System.nanoTime();
            long fused2048 = peak(d, forwardBackward(2048, true)) - inputBytes(2048);
            long t2 = System.nanoTime();
            long ops512 = peak(d, forwardBackward(512, false)) - inputBytes(512);
            long t3 = System.nanoTime();
            long scores2048 = 2048L * 2048 * FLOAT;
            String report = (String.format(Locale.ROOT, "attention memory on %s (B = 1, H = 1, d = 64, float32, causal), peak"
                    + " beyond q, k, v and dy: fused forward+backward %,d bytes at T = 512, %,d at T = 2048 (x%.2f;"
                    + " out, lse, dq, dk, dv are %,d); the ops version %,d at T = 512 (x%.1f the fused), and"
                    + " B·H·T² floats = %,d for its scores alone at T = 2048 (x%.1f the fused peak there); took"
                    + " %d, %d and %d ms", d.id(), fused512, fused2048, (double) fused2048 / fused512,
                    outputBytes(2048), ops512, (double) ops512 / fused512, scores2048,
                    (double) scores2048 / fused2048, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000,
                    (t3 - t2) / 1_000_000));
            log.info(report);
            if (Boolean.getBoolean("spool.test.report")) {
                System.out.println(report);
            }
            assertTrue(fused2048 <= outputBytes(2048) + 4096, "fused peak at T = 2048: " + fused2048
                    + " bytes beyond the inputs, more than its outputs and gradients, " + outputBytes(2048));
            assertTrue(fused2048 <= 4.1 * fused512, "not linear: " + fused512 + " then " + fused2048);
            assertTrue(fused2048 < scores2048 / 4, "fused peak " + fused2048 + " vs one score matrix " + scores2048);
            assertTrue(ops512 >= 512L * 512 * FLOAT, "the ops version holds at least its scores: " + ops512);
        }
    }
}
