package dev.spool.nn.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.Device;
import dev.spool.Spool;
import dev.spool.TensorScope;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class MetricsTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void accuracyAndMeanAccumulateUntilReset(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope();
                Accuracy acc = Accuracy.sparseCategorical(); Mean mean = new Mean();
                Accuracy bin = Accuracy.binary(0.0)) {
            assertTrue(Double.isNaN(acc.result()));
            // argmax per row: 1, 0, 2 against labels 1, 2, 2 -> 2 of 3
            acc.update(Spool.constant(new int[] {1, 2, 2}), Spool.constant(new float[][] {{0, 5, 1}, {3, 2, 1}, {0, 0, 9}}));
            assertEquals(2.0 / 3, acc.result(), 1e-7);
            acc.update(Spool.constant(new long[] {0}), Spool.constant(new float[][] {{4, 1, 1}}));
            assertEquals(3.0 / 4, acc.result(), 1e-7);
            acc.reset();
            acc.update(Spool.constant(new int[] {0}), Spool.constant(new float[][] {{0, 1, 1}}));
            assertEquals(0.0, acc.result());

            mean.update(Spool.constant(new float[] {1, 2, 3}));
            mean.update(Spool.constant(10f));
            assertEquals(4.0, mean.result(), 1e-6);
            assertEquals(4, mean.count());
            mean.reset();
            mean.update(Spool.constant(-1f));
            assertEquals(-1.0, mean.result(), 1e-7);

            // logits against 0/1 labels: (2 > 0) = 1 ok, (-1 > 0) = 0 vs 1 wrong, (-3 > 0) = 0 ok
            bin.update(Spool.constant(new float[] {1, 1, 0}), Spool.constant(new float[] {2, -1, -3}));
            assertEquals(2.0 / 3, bin.result(), 1e-7);
            assertThrows(dev.spool.DTypeException.class,
                    () -> acc.update(Spool.constant(new float[] {0}), Spool.constant(new float[][] {{1, 0}})));
        }
    }
}
