package dev.spool;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.List;

/** Conversions between Java arrays (flat or nested) and the flat host arrays of the SPI. */
final class HostArrays {
    private HostArrays() {
    }

    static double[] toDoubles(Object a) {
        int n = Array.getLength(a);
        double[] out = new double[n];
        if (a instanceof float[] f) {
            for (int i = 0; i < n; i++) {
                out[i] = f[i];
            }
        } else if (a instanceof double[] d) {
            System.arraycopy(d, 0, out, 0, n);
        } else if (a instanceof int[] x) {
            for (int i = 0; i < n; i++) {
                out[i] = x[i];
            }
        } else if (a instanceof long[] x) {
            for (int i = 0; i < n; i++) {
                out[i] = x[i];
            }
        } else if (a instanceof byte[] b) {
            for (int i = 0; i < n; i++) {
                out[i] = b[i] != 0 ? 1 : 0;
            }
        } else {
            throw new IllegalArgumentException("not a host array: " + a.getClass());
        }
        return out;
    }

    static float[] toFloats(Object a) {
        if (a instanceof float[] f) {
            return f;
        }
        double[] d = toDoubles(a);
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = (float) d[i];
        }
        return out;
    }

    static long[] toLongs(Object a) {
        if (a instanceof long[] l) {
            return l;
        }
        if (a instanceof int[] x) {
            long[] out = new long[x.length];
            for (int i = 0; i < x.length; i++) {
                out[i] = x[i];
            }
            return out;
        }
        double[] d = toDoubles(a);
        long[] out = new long[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = (long) d[i];
        }
        return out;
    }

    static int[] toInts(Object a) {
        if (a instanceof int[] x) {
            return x;
        }
        long[] l = toLongs(a);
        int[] out = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            out[i] = (int) l[i];
        }
        return out;
    }

    static boolean[] toBooleans(Object a) {
        double[] d = a instanceof byte[] ? null : toDoubles(a);
        int n = Array.getLength(a);
        boolean[] out = new boolean[n];
        for (int i = 0; i < n; i++) {
            out[i] = d == null ? ((byte[]) a)[i] != 0 : d[i] != 0;
        }
        return out;
    }

    /** A flat host array and its shape, read from a (possibly nested) rectangular Java array. */
    record Flat(Object array, DType dtype, Shape shape) {
    }

    /**
     * Flattens a Java array ({@code float[][]}, {@code long[]}, {@code boolean[][][]}, ...) into the
     * SPI host array of its element type. Element types: float, double, int, long, boolean.
     *
     * @throws ShapeException when the nesting is ragged
     */
    static Flat flatten(Object nested) {
        if (nested == null || !nested.getClass().isArray()) {
            throw new DTypeException("constant: expected a Java array of float, double, int, long or boolean, got "
                    + (nested == null ? "null" : nested.getClass().getName()));
        }
        List<Integer> dims = new ArrayList<>();
        Object probe = nested;
        Class<?> c = nested.getClass();
        while (c.isArray()) {
            dims.add(Array.getLength(probe));
            c = c.getComponentType();
            if (c.isArray()) {
                probe = Array.getLength(probe) > 0 ? Array.get(probe, 0) : Array.newInstance(c.getComponentType(), 0);
                if (probe == null) {
                    throw new ShapeException("constant: a null row at depth " + dims.size());
                }
            }
        }
        DType dtype;
        if (c == float.class) {
            dtype = DType.FLOAT32;
        } else if (c == double.class) {
            dtype = DType.FLOAT64;
        } else if (c == int.class) {
            dtype = DType.INT32;
        } else if (c == long.class) {
            dtype = DType.INT64;
        } else if (c == boolean.class) {
            dtype = DType.BOOL;
        } else {
            throw new DTypeException("unsupported element type " + c.getName()
                    + ": use float, double, int, long or boolean");
        }
        int[] shapeDims = dims.stream().mapToInt(Integer::intValue).toArray();
        Shape shape = Shape.of(shapeDims);
        Object flat = dtype.newHostArray(shape.sizeAsInt("constant"));
        int[] pos = {0};
        copyInto(nested, 0, shapeDims, flat, pos, dtype);
        return new Flat(flat, dtype, shape);
    }

    private static void copyInto(Object src, int depth, int[] dims, Object flat, int[] pos, DType dtype) {
        if (src == null) {
            throw new ShapeException("constant: a null row at depth " + depth);
        }
        int n = Array.getLength(src);
        if (n != dims[depth]) {
            throw new ShapeException("constant: ragged nested array, expected length " + dims[depth]
                    + " at depth " + depth + " but found " + n);
        }
        if (depth == dims.length - 1) {
            if (dtype == DType.BOOL) {
                boolean[] b = (boolean[]) src;
                byte[] out = (byte[]) flat;
                for (int i = 0; i < n; i++) {
                    out[pos[0] + i] = (byte) (b[i] ? 1 : 0);
                }
            } else {
                System.arraycopy(src, 0, flat, pos[0], n);
            }
            pos[0] += n;
            return;
        }
        for (int i = 0; i < n; i++) {
            copyInto(Array.get(src, i), depth + 1, dims, flat, pos, dtype);
        }
    }
}
