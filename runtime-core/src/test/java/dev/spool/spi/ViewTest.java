package dev.spool.spi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.spool.DType;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ViewTest {
    /** A buffer that is only a size: views never look inside. */
    private record FakeBuffer(DType dtype, long size) implements DeviceBuffer {
    }

    private static final DeviceBuffer BUF = new FakeBuffer(DType.FLOAT32, 64);

    /** (description, shape, strides, contiguous?). */
    static Stream<Arguments> layouts() {
        return Stream.of(
                Arguments.of("scalar", new int[0], new long[0], true),
                Arguments.of("row-major matrix", new int[] {2, 3}, new long[] {3, 1}, true),
                Arguments.of("transposed matrix", new int[] {3, 2}, new long[] {1, 3}, false),
                Arguments.of("column slice", new int[] {2, 2}, new long[] {3, 1}, false),
                Arguments.of("row slice", new int[] {1, 3}, new long[] {3, 1}, true),
                Arguments.of("broadcast row", new int[] {4, 3}, new long[] {0, 1}, false),
                Arguments.of("size-1 dims ignore their stride", new int[] {1, 3, 1}, new long[] {99, 1, 42}, true),
                Arguments.of("strided vector", new int[] {3}, new long[] {2}, false),
                Arguments.of("rank 3 row-major", new int[] {2, 3, 4}, new long[] {12, 4, 1}, true),
                Arguments.of("rank 3 permuted", new int[] {2, 4, 3}, new long[] {12, 1, 4}, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void isContiguous(String description, int[] shape, long[] strides, boolean contiguous) {
        assertEquals(contiguous, new View(BUF, shape, strides, 5).isContiguous());
    }

    @Test
    void rowMajorStridesAndSize() {
        assertArrayEquals(new long[] {12, 4, 1}, View.rowMajorStrides(new int[] {2, 3, 4}));
        assertArrayEquals(new long[0], View.rowMajorStrides(new int[0]));
        View v = View.contiguous(BUF, 2, 3, 4);
        assertEquals(24, v.size());
        assertEquals(3, v.rank());
        assertEquals(0, v.offset());
        assertEquals(DType.FLOAT32, v.dtype());
        assertEquals(1, View.contiguous(BUF).size());
        assertEquals(0, View.contiguous(BUF, 3, 0).size());
    }

    @Test
    void shapeAndStridesMustHaveTheSameRank() {
        assertThrows(IllegalArgumentException.class, () -> new View(BUF, new int[] {2}, new long[] {1, 1}, 0));
    }
}
