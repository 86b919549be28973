package dev.spool.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.DeviceStats;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.testing.GradCheck;
import dev.spool.testing.TensorAssert;
import dev.spool.testing.TestDevices;
import java.util.Random;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code Spool.bandPart} ({@code tf.linalg.band_part}) and {@code Spool.bandMask} on every device:
 * against the definition evaluated on the host, over batches, non-square matrices, every kind of
 * bound (negative = unbounded, 0, inside, beyond the matrix), int and bool dtypes; its gradient
 * by finite differences; that it writes no matrix-sized host array; and that bool masks of
 * [T, T] and [B, 1, T, T] broadcast against [B, H, T, T] attention scores in {@code where}.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try")
class BandPartTest {
    private static final long[][] BOUNDS = {{-1, -1}, {-1, 0}, {0, -1}, {0, 0}, {1, 2}, {2, 1}, {10, 0}, {0, 10}};

    private static boolean inBand(int i, int j, long lower, long upper) {
        return (lower < 0 || i - j <= lower) && (upper < 0 || j - i <= upper);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void matchesTheDefinition(Device device) {
        int[][] shapes = {{4, 4}, {3, 5}, {5, 3}, {2, 3, 4, 4}, {1, 1}, {0, 3}, {7, 1}, {2, 17, 17}};
        Random r = new Random(21);
        try (TestDevices.On on = TestDevices.on(device)) {
            for (int[] dims : shapes) {
                Shape shape = Shape.of(dims);
                double[] x = new double[(int) shape.size()];
                for (int k = 0; k < x.length; k++) {
                    x[k] = 1 + r.nextInt(9);
                }
                int m = dims[dims.length - 2];
                int n = dims[dims.length - 1];
                for (long[] b : BOUNDS) {
                    double[] expected = new double[x.length];
                    for (int k = 0; k < x.length; k++) {
                        int i = (k / n) % m;
                        int j = k % n;
                        expected[k] = inBand(i, j, b[0], b[1]) ? x[k] : 0;
                    }
                    for (DType t : new DType[] {DType.FLOAT32, DType.INT32}) {
                        Tensor y = Spool.bandPart(Spool.constant(x, shape, t), b[0], b[1]);
                        TensorAssert.assertExact(y, shape, t, expected);
                    }
                    Tensor mask = Spool.bandMask(m, n, b[0], b[1]);
                    boolean[] got = mask.toBooleanArray();
                    for (int k = 0; k < m * n; k++) {
                        assertEquals(inBand(k / n, k % n, b[0], b[1]), got[k],
                                "bandMask(" + m + ", " + n + ", " + b[0] + ", " + b[1] + ") at " + k);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void boolAndTheCausalMask(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor lower = Spool.bandPart(Spool.ones(Shape.of(3, 3), DType.BOOL), -1, 0);
            assertArrayEquals(new boolean[] {true, false, false, true, true, false, true, true, true},
                    lower.toBooleanArray());
            assertArrayEquals(lower.toBooleanArray(), Spool.bandMask(3, 3, -1, 0).toBooleanArray());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void gradientPassesInsideTheBand(Device device) {
        GradCheck.check(device, x -> Spool.bandPart(x[0], 1, 0).square(),
                GradCheck.Input.random(Shape.of(2, 3, 4), 5, -2, 2));
        GradCheck.check(device, x -> Spool.bandPart(x[0], -1, 1).mul(x[0]),
                GradCheck.Input.random(Shape.of(4, 3), 6, -2, 2));
    }

    /** A 512 x 512 mask takes a few scalars from the host, not a quarter of a million booleans. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void writesNoMatrixSizedHostArray(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            DeviceStats before = device.stats();
            Tensor mask = Spool.bandMask(512, 512, -1, 0);
            Tensor x = Spool.bandPart(Spool.ones(Shape.of(2, 512, 512), DType.FLOAT32), 3, 3);
            device.synchronize();
            DeviceStats used = device.stats().minus(before);
            assertTrue(used.hostToDeviceBytes() < 1024, "host to device: " + used);
            assertTrue(mask.toBooleanArray()[513] && !mask.toBooleanArray()[1]);
            assertEquals(0.0, x.getDouble(0, 0, 4));
        }
    }

    /** Keras's masks: [T, S] (causal) and [B, 1, T, S] (per-example) select among [B, H, T, S] scores. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void boolMasksBroadcastAgainstAttentionScores(Device device) {
        int b = 2;
        int h = 3;
        int t = 4;
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor scores = Spool.randomUniform(Shape.of(b, h, t, t), 3, -1, 1, DType.FLOAT32);
            double[] s = scores.toDoubleArray();
            Tensor masked = Spool.fill(Shape.of(), -1e9, DType.FLOAT32);
            Tensor causal = Spool.where(Spool.bandMask(t, t, -1, 0), scores, masked);
            // per example: example 0 sees keys < 2, example 1 every key
            boolean[] keys = new boolean[b * t * t];
            for (int k = 0; k < keys.length; k++) {
                keys[k] = k / (t * t) == 1 || k % t < 2;
            }
            Tensor padding = Spool.constant(keys).reshape(b, 1, t, t);
            Tensor both = Spool.where(padding, causal, masked);
            assertEquals(Shape.of(b, h, t, t), both.shape());
            double[] got = both.toDoubleArray();
            for (int k = 0; k < got.length; k++) {
                int j = k % t;
                int i = (k / t) % t;
                int e = k / (h * t * t);
                boolean keep = j <= i && (e == 1 || j < 2);
                assertEquals(keep ? (float) s[k] : (float) -1e9, (float) got[k], "at " + k);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void refusesVectors(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            assertThrows(ShapeException.class, () -> Spool.bandPart(Spool.ones(3), 0, 0));
            assertThrows(ShapeException.class, () -> Spool.bandMask(-1, 3, 0, 0));
        }
    }
}
