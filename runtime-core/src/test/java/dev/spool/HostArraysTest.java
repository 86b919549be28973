package dev.spool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class HostArraysTest {

    /** (nested Java array, dtype, shape, flat values as doubles). */
    static Stream<Arguments> flattening() {
        return Stream.of(
                Arguments.of(new float[] {1, 2, 3}, DType.FLOAT32, Shape.of(3), new double[] {1, 2, 3}),
                Arguments.of(new double[][] {{1, 2}, {3, 4}, {5, 6}}, DType.FLOAT64, Shape.of(3, 2),
                        new double[] {1, 2, 3, 4, 5, 6}),
                Arguments.of(new int[][][] {{{1}, {2}}, {{3}, {4}}}, DType.INT32, Shape.of(2, 2, 1),
                        new double[] {1, 2, 3, 4}),
                Arguments.of(new long[] {-5, 7}, DType.INT64, Shape.of(2), new double[] {-5, 7}),
                Arguments.of(new boolean[][] {{true, false}}, DType.BOOL, Shape.of(1, 2), new double[] {1, 0}),
                Arguments.of(new float[0], DType.FLOAT32, Shape.of(0), new double[0]),
                Arguments.of(new float[2][0], DType.FLOAT32, Shape.of(2, 0), new double[0]),
                // An empty outer array has no inner arrays to measure: the inner length is 0.
                Arguments.of(new float[0][3], DType.FLOAT32, Shape.of(0, 0), new double[0]));
    }

    @ParameterizedTest(name = "{1} {2}")
    @MethodSource("flattening")
    void flattensRowMajor(Object nested, DType dtype, Shape shape, double[] values) {
        HostArrays.Flat flat = HostArrays.flatten(nested);
        assertEquals(dtype, flat.dtype());
        assertEquals(shape, flat.shape());
        assertEquals(dtype.hostArrayType(), flat.array().getClass());
        assertArrayEquals(values, HostArrays.toDoubles(flat.array()));
    }

    @Test
    void raggedArrayIsAShapeError() {
        ShapeException e = assertThrows(ShapeException.class,
                () -> HostArrays.flatten(new float[][] {{1, 2}, {3}}));
        assertTrue(e.getMessage().contains("ragged"), e.getMessage());
        assertThrows(ShapeException.class, () -> HostArrays.flatten(new int[][][] {{{1, 2}}, {{3, 4}, {5, 6}}}));
    }

    @Test
    void unsupportedElementTypesAreDTypeErrors() {
        DTypeException e = assertThrows(DTypeException.class, () -> HostArrays.flatten(new short[] {1}));
        assertTrue(e.getMessage().contains("short"), e.getMessage());
        assertThrows(DTypeException.class, () -> HostArrays.flatten(new String[] {"a"}));
        assertThrows(DTypeException.class, () -> HostArrays.flatten(3.0f));
        assertThrows(DTypeException.class, () -> HostArrays.flatten(null));
    }

    @Test
    void conversionsFromEveryHostType() {
        assertArrayEquals(new float[] {1.5f, -2f}, HostArrays.toFloats(new double[] {1.5, -2}));
        assertArrayEquals(new int[] {2, -2, 0}, HostArrays.toInts(new float[] {2.9f, -2.9f, 0.4f}));
        long big = (1L << 53) + 1; // not representable as a double: int64 stays exact
        assertArrayEquals(new long[] {big}, HostArrays.toLongs(new long[] {big}));
        assertArrayEquals(new long[] {-3, 4}, HostArrays.toLongs(new int[] {-3, 4}));
        assertArrayEquals(new boolean[] {true, false, true}, HostArrays.toBooleans(new byte[] {1, 0, 1}));
        assertArrayEquals(new boolean[] {true, false}, HostArrays.toBooleans(new float[] {-0.5f, 0f}));
        assertArrayEquals(new double[] {1, 0}, HostArrays.toDoubles(new byte[] {1, 0}));
    }
}
