package dev.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TensorFormatTest {

    /** (shape, dtype, flat host array, expected text). */
    static Stream<Arguments> formats() {
        return Stream.of(
                Arguments.of(Shape.of(), DType.FLOAT32, new float[] {16}, "16.0"),
                Arguments.of(Shape.of(), DType.INT64, new long[] {(1L << 53) + 1}, "9007199254740993"),
                Arguments.of(Shape.of(3), DType.INT32, new int[] {1, -2, 3}, "[1 -2 3]"),
                Arguments.of(Shape.of(2), DType.BOOL, new byte[] {1, 0}, "[True False]"),
                Arguments.of(Shape.of(2), DType.FLOAT64, new double[] {0.5, -1}, "[0.5 -1.0]"),
                Arguments.of(Shape.of(2, 2), DType.FLOAT32, new float[] {1, 2, 3, 4}, "[[1.0 2.0]\n [3.0 4.0]]"),
                Arguments.of(Shape.of(2, 1, 2), DType.INT32, new int[] {1, 2, 3, 4}, "[[[1 2]]\n [[3 4]]]"),
                Arguments.of(Shape.of(0), DType.FLOAT32, new float[0], "[]"),
                Arguments.of(Shape.of(2, 0), DType.FLOAT32, new float[0], "[[]\n []]"),
                Arguments.of(Shape.of(1), DType.FLOAT32, new float[] {Float.NaN}, "[NaN]"),
                Arguments.of(Shape.of(2), DType.FLOAT32, new float[] {Float.POSITIVE_INFINITY,
                        Float.NEGATIVE_INFINITY}, "[Infinity -Infinity]"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("formats")
    void formatsNestedByDimension(Shape shape, DType dtype, Object flat, String expected) {
        assertEquals(expected, TensorFormat.format(shape, dtype, flat));
    }

    @Test
    void thousandElementsAreNotElided() {
        int[] v = new int[1000];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        String s = TensorFormat.format(Shape.of(1000), DType.INT32, v);
        assertFalse(s.contains("..."), s);
        assertTrue(s.contains(" 500 "), s);
    }

    @Test
    void moreThanThousandElementsAreElidedInTheMiddle() {
        int[] v = new int[1001];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        assertEquals("[0 1 2 ... 998 999 1000]", TensorFormat.format(Shape.of(1001), DType.INT32, v));
    }

    @Test
    void elisionAppliesToEveryDimension() {
        int rows = 40;
        int cols = 30;
        int[] v = new int[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        String s = TensorFormat.format(Shape.of(rows, cols), DType.INT32, v);
        String[] lines = s.split("\n");
        assertEquals(7, lines.length, s); // 3 rows, "...", 3 rows
        assertEquals("[[0 1 2 ... 27 28 29]", lines[0]);
        assertEquals(" ...", lines[3]);
        assertEquals(" [1170 1171 1172 ... 1197 1198 1199]]", lines[6]);
    }
}
