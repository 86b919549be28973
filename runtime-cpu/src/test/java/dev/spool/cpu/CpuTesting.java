package dev.spool.cpu;

import dev.spool.DType;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;

/** Builds buffers and views on a backend, and reads them back, for the SPI-level tests. */
final class CpuTesting {
    /** More threads than this machine may have, so that the parallel paths run everywhere. */
    static final CpuBackend CPU = new CpuBackend(4);
    /** Everything on the calling thread: the reference for "splitting changes nothing". */
    static final CpuBackend SERIAL = new CpuBackend(1);

    private CpuTesting() {
    }

    static DeviceBuffer buffer(CpuBackend be, DType dtype, Object host) {
        DeviceBuffer b = be.allocate(dtype, java.lang.reflect.Array.getLength(host));
        be.write(b, host);
        return b;
    }

    static DeviceBuffer f32(float... v) {
        return buffer(CPU, DType.FLOAT32, v);
    }

    static DeviceBuffer f64(double... v) {
        return buffer(CPU, DType.FLOAT64, v);
    }

    static DeviceBuffer i32(int... v) {
        return buffer(CPU, DType.INT32, v);
    }

    static DeviceBuffer i64(long... v) {
        return buffer(CPU, DType.INT64, v);
    }

    static DeviceBuffer bool(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return buffer(CPU, DType.BOOL, b);
    }

    /** The whole buffer as a rank-1 view. */
    static View flat(DeviceBuffer b) {
        return View.contiguous(b, (int) b.size());
    }

    static View view(DeviceBuffer b, int[] shape, long[] strides, long offset) {
        return new View(b, shape, strides, offset);
    }

    static int[] shape(int... s) {
        return s;
    }

    static long[] strides(long... s) {
        return s;
    }

    static DeviceBuffer out(DType dtype, long size) {
        return CPU.allocate(dtype, size);
    }

    /** Every element of a buffer, as its host array type. */
    static Object read(CpuBackend be, DeviceBuffer b) {
        Object host = b.dtype().newHostArray((int) b.size());
        be.read(flat(b), host);
        return host;
    }

    static float[] readF32(DeviceBuffer b) {
        return (float[]) read(CPU, b);
    }

    static double[] readF64(DeviceBuffer b) {
        return (double[]) read(CPU, b);
    }

    static int[] readI32(DeviceBuffer b) {
        return (int[]) read(CPU, b);
    }

    static long[] readI64(DeviceBuffer b) {
        return (long[]) read(CPU, b);
    }

    static byte[] readBool(DeviceBuffer b) {
        return (byte[]) read(CPU, b);
    }

    static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    /** Deterministic pseudo-random floats in [-1, 1). */
    static float[] randomFloats(int n, long seed) {
        java.util.Random r = new java.util.Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextFloat() * 2 - 1;
        }
        return v;
    }

    static double[] randomDoubles(int n, long seed) {
        java.util.Random r = new java.util.Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextDouble() * 2 - 1;
        }
        return v;
    }
}
