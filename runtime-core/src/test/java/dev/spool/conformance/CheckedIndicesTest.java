package dev.spool.conformance;

import static dev.spool.DType.FLOAT32;
import static dev.spool.testing.TensorAssert.assertExact;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.IndexOutOfRangeException;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.testing.TestDevices;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checked indices on every device: with {@link Spool#enableCheckIndices()} gather, oneHot and the
 * scatter-add of gather's gradient throw with the first bad index and its position (TF's CPU
 * kernels); without it an index out of range gives zeros (TF's GPU kernels), as before.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try") // scopes are opened for their effect
class CheckedIndicesTest {
    private static final double[] P = {0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42};

    @AfterEach
    void off() {
        Spool.disableCheckIndices();
    }

    private static Tensor params() {
        return Spool.constant(P, Shape.of(5, 3), FLOAT32);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void uncheckedIndicesOutOfRangeGiveZeros(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor idx = Spool.constant(new int[][] {{4, 0}, {7, -1}});
            assertExact(Spool.gather(params(), idx, 0), Shape.of(2, 2, 3), FLOAT32,
                    40, 41, 42, 0, 1, 2, 0, 0, 0, 0, 0, 0);
            assertExact(Spool.oneHot(Spool.constant(new int[] {1, 3, -1}), 3), Shape.of(3, 3), FLOAT32,
                    0, 1, 0, 0, 0, 0, 0, 0, 0);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void checkedGatherThrowsWithTheFirstBadIndexAndItsPosition(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Spool.enableCheckIndices();
            Tensor idx = Spool.constant(new long[][] {{4, 0}, {7, -1}});
            IndexOutOfRangeException e = assertThrows(IndexOutOfRangeException.class,
                    () -> Spool.gather(params(), idx, 0));
            assertEquals("gather: indices[1, 0] = 7 is not in [0, 5)", e.getMessage());
            assertEquals(7, e.index());
            assertArrayEquals(new int[] {1, 0}, e.position());
            assertEquals(5, e.bound());
            IndexOutOfRangeException neg = assertThrows(IndexOutOfRangeException.class,
                    () -> params().gather(Spool.constant(new int[] {0, 2, -1}), 1));
            assertEquals("gather: indices[2] = -1 is not in [0, 3)", neg.getMessage());
            // in range: the same values as unchecked
            assertExact(Spool.gather(params(), Spool.constant(new int[] {4, 0}), 0), Shape.of(2, 3), FLOAT32,
                    40, 41, 42, 0, 1, 2);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void checkedOneHotThrowsWithTheFirstBadIndex(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Spool.enableCheckIndices();
            IndexOutOfRangeException e = assertThrows(IndexOutOfRangeException.class,
                    () -> Spool.oneHot(Spool.constant(new int[] {1, 2, 3, 9}), 3));
            assertEquals("oneHot: indices[2] = 3 is not in [0, 3)", e.getMessage());
            assertExact(Spool.oneHot(Spool.constant(new int[] {2, 0}), 3), Shape.of(2, 3), FLOAT32, 0, 0, 1, 1, 0, 0);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void checkedScatterAddInGathersGradientThrows(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor p = params();
            Tensor idx = Spool.constant(new int[] {1, 5});
            GradientTape tape = new GradientTape();
            Tensor y;
            try (tape) {
                tape.watch(p);
                y = Spool.gather(p, idx, 0).sum(); // recorded unchecked
            }
            Spool.enableCheckIndices();
            IndexOutOfRangeException e = assertThrows(IndexOutOfRangeException.class, () -> tape.gradient(y, p));
            assertEquals("scatterAdd: indices[1] = 5 is not in [0, 5)", e.getMessage());
        }
    }
}
