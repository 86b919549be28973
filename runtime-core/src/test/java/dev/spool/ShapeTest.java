package dev.spool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ShapeTest {

    static Stream<Arguments> notation() {
        return Stream.of(
                Arguments.of(Shape.of(), "()"),
                Arguments.of(Shape.scalar(), "()"),
                Arguments.of(Shape.of(3), "(3,)"),
                Arguments.of(Shape.of(0), "(0,)"),
                Arguments.of(Shape.of(2, 2), "(2, 2)"),
                Arguments.of(Shape.of(1, 0, 7), "(1, 0, 7)"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("notation")
    void toStringUsesTensorFlowNotation(Shape shape, String expected) {
        assertEquals(expected, shape.toString());
    }

    static Stream<Arguments> sizes() {
        return Stream.of(
                Arguments.of(Shape.of(), 0, 1L),
                Arguments.of(Shape.of(5), 1, 5L),
                Arguments.of(Shape.of(2, 3, 4), 3, 24L),
                Arguments.of(Shape.of(2, 0, 4), 3, 0L),
                Arguments.of(Shape.of(65536, 65536), 2, 4294967296L));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sizes")
    void rankAndSize(Shape shape, int rank, long size) {
        assertEquals(rank, shape.rank());
        assertEquals(size, shape.size());
    }

    /** (a, b, broadcast result) — NumPy's rules: align right, equal or 1. */
    static Stream<Arguments> broadcasts() {
        return Stream.of(
                Arguments.of(Shape.of(2, 3), Shape.of(2, 3), Shape.of(2, 3)),
                Arguments.of(Shape.of(2, 3), Shape.of(), Shape.of(2, 3)),
                Arguments.of(Shape.of(), Shape.of(4), Shape.of(4)),
                Arguments.of(Shape.of(2, 3), Shape.of(3), Shape.of(2, 3)),
                Arguments.of(Shape.of(2, 1), Shape.of(1, 3), Shape.of(2, 3)),
                Arguments.of(Shape.of(5, 1, 4), Shape.of(3, 1), Shape.of(5, 3, 4)),
                Arguments.of(Shape.of(1), Shape.of(0), Shape.of(0)),
                Arguments.of(Shape.of(0, 3), Shape.of(1, 3), Shape.of(0, 3)),
                Arguments.of(Shape.of(1, 1), Shape.of(7), Shape.of(1, 7)));
    }

    @ParameterizedTest(name = "{0} with {1} -> {2}")
    @MethodSource("broadcasts")
    void broadcastIsSymmetric(Shape a, Shape b, Shape expected) {
        assertEquals(expected, Shape.broadcast("op", a, b));
        assertEquals(expected, Shape.broadcast("op", b, a));
    }

    static Stream<Arguments> incompatible() {
        return Stream.of(
                Arguments.of(Shape.of(2, 3), Shape.of(4)),
                Arguments.of(Shape.of(2, 3), Shape.of(3, 2)),
                Arguments.of(Shape.of(0), Shape.of(2)),
                Arguments.of(Shape.of(5, 2, 4), Shape.of(3, 4)));
    }

    @ParameterizedTest(name = "{0} with {1}")
    @MethodSource("incompatible")
    void broadcastErrorNamesOpAndBothShapes(Shape a, Shape b) {
        ShapeException e = assertThrows(ShapeException.class, () -> Shape.broadcast("add", a, b));
        assertTrue(e.getMessage().startsWith("add:"), e.getMessage());
        assertTrue(e.getMessage().contains(a.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(b.toString()), e.getMessage());
    }

    @Test
    void negativeAxesCountFromTheEnd() {
        Shape s = Shape.of(2, 3, 4);
        assertEquals(4, s.dim(-1));
        assertEquals(2, s.dim(-3));
        assertEquals(3, s.dim(1));
        ShapeException e = assertThrows(ShapeException.class, () -> s.dim(3));
        assertTrue(e.getMessage().contains("axis 3") && e.getMessage().contains("rank 3"), e.getMessage());
        assertThrows(ShapeException.class, () -> s.dim(-4));
    }

    @Test
    void negativeDimensionIsRejected() {
        ShapeException e = assertThrows(ShapeException.class, () -> Shape.of(2, -1));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
    }

    @Test
    void valueSemantics() {
        int[] dims = {2, 3};
        Shape s = Shape.of(dims);
        dims[0] = 9; // the shape copied its argument
        assertEquals(Shape.of(2, 3), s);
        assertEquals(Shape.of(2, 3).hashCode(), s.hashCode());
        assertNotEquals(Shape.of(3, 2), s);
        int[] out = s.toArray();
        out[0] = 9; // and hands out copies
        assertArrayEquals(new int[] {2, 3}, s.toArray());
        assertSame(Shape.scalar(), Shape.of());
    }
}
