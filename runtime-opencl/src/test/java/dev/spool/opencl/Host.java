package dev.spool.opencl;

import dev.spool.DType;
import dev.spool.spi.Backend;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;

/** Moving test data between plain Java values and a backend. */
final class Host {
    private Host() {
    }

    /** A host array of {@code dtype} holding {@code values} converted as Java casts do. */
    static Object array(DType dtype, double... values) {
        Object a = dtype.newHostArray(values.length);
        for (int i = 0; i < values.length; i++) {
            double v = values[i];
            switch (dtype) {
                case FLOAT32 -> ((float[]) a)[i] = (float) v;
                case FLOAT64 -> ((double[]) a)[i] = v;
                case INT32 -> ((int[]) a)[i] = (int) v;
                case INT64 -> ((long[]) a)[i] = (long) v;
                case BOOL -> ((byte[]) a)[i] = (byte) (v != 0 ? 1 : 0);
            }
        }
        return a;
    }

    static double[] doubles(Object array) {
        int n = java.lang.reflect.Array.getLength(array);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            if (array instanceof float[] a) {
                out[i] = a[i];
            } else if (array instanceof double[] a) {
                out[i] = a[i];
            } else if (array instanceof int[] a) {
                out[i] = a[i];
            } else if (array instanceof long[] a) {
                out[i] = a[i];
            } else {
                out[i] = ((byte[]) array)[i];
            }
        }
        return out;
    }

    /** A new buffer holding {@code values}. */
    static DeviceBuffer upload(Backend b, DType dtype, double... values) {
        DeviceBuffer buf = b.allocate(dtype, values.length);
        b.write(buf, array(dtype, values));
        return buf;
    }

    static DeviceBuffer uploadArray(Backend b, DType dtype, Object array) {
        DeviceBuffer buf = b.allocate(dtype, java.lang.reflect.Array.getLength(array));
        b.write(buf, array);
        return buf;
    }

    /** The elements of {@code v} in row-major order, as doubles. */
    static double[] read(Backend b, View v) {
        Object a = v.dtype().newHostArray((int) v.size());
        b.read(v, a);
        return doubles(a);
    }

    static Object readArray(Backend b, View v) {
        Object a = v.dtype().newHostArray((int) v.size());
        b.read(v, a);
        return a;
    }

    /** The whole buffer as doubles. */
    static double[] read(Backend b, DeviceBuffer buf) {
        return read(b, View.contiguous(buf, (int) buf.size()));
    }

    static double[] range(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = i;
        }
        return v;
    }
}
