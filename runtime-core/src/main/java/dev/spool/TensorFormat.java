package dev.spool;

import java.lang.reflect.Array;

/** Formats tensor values as TensorFlow/NumPy do: nested brackets, elided when large. */
final class TensorFormat {
    /** Beyond this many elements only the first and last {@link #EDGE} of each dimension show. */
    static final int ELIDE_THRESHOLD = 1000;
    static final int EDGE = 3;

    private TensorFormat() {
    }

    static String format(Shape shape, DType dtype, Object flat) {
        if (shape.rank() == 0) {
            return element(dtype, flat, 0);
        }
        StringBuilder sb = new StringBuilder();
        boolean elide = shape.size() > ELIDE_THRESHOLD;
        append(sb, shape.dimsUnsafe(), 0, 0, dtype, flat, elide);
        return sb.toString();
    }

    private static void append(StringBuilder sb, int[] dims, int depth, long base, DType dtype,
                               Object flat, boolean elide) {
        long stride = 1;
        for (int i = depth + 1; i < dims.length; i++) {
            stride *= dims[i];
        }
        sb.append('[');
        int n = dims[depth];
        for (int i = 0; i < n; i++) {
            if (elide && n > 2 * EDGE && i == EDGE) {
                sb.append(depth == dims.length - 1 ? "... " : "...\n" + " ".repeat(depth + 1));
                i = n - EDGE - 1;
                continue;
            }
            if (depth == dims.length - 1) {
                sb.append(element(dtype, flat, (int) (base + i)));
                if (i < n - 1) {
                    sb.append(' ');
                }
            } else {
                append(sb, dims, depth + 1, base + i * stride, dtype, flat, elide);
                if (i < n - 1) {
                    sb.append('\n').append(" ".repeat(depth + 1));
                }
            }
        }
        sb.append(']');
    }

    private static String element(DType dtype, Object flat, int i) {
        return switch (dtype) {
            case FLOAT32 -> Float.toString(Array.getFloat(flat, i));
            case FLOAT64 -> Double.toString(Array.getDouble(flat, i));
            case INT32 -> Integer.toString(Array.getInt(flat, i));
            case INT64 -> Long.toString(Array.getLong(flat, i));
            case BOOL -> Array.getByte(flat, i) != 0 ? "True" : "False";
        };
    }
}
