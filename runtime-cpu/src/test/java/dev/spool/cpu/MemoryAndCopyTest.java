package dev.spool.cpu;

import static dev.spool.cpu.CpuTesting.CPU;
import static dev.spool.cpu.CpuTesting.bool;
import static dev.spool.cpu.CpuTesting.bytes;
import static dev.spool.cpu.CpuTesting.f32;
import static dev.spool.cpu.CpuTesting.f64;
import static dev.spool.cpu.CpuTesting.flat;
import static dev.spool.cpu.CpuTesting.i32;
import static dev.spool.cpu.CpuTesting.i64;
import static dev.spool.cpu.CpuTesting.out;
import static dev.spool.cpu.CpuTesting.readBool;
import static dev.spool.cpu.CpuTesting.readF32;
import static dev.spool.cpu.CpuTesting.readF64;
import static dev.spool.cpu.CpuTesting.readI32;
import static dev.spool.cpu.CpuTesting.readI64;
import static dev.spool.cpu.CpuTesting.shape;
import static dev.spool.cpu.CpuTesting.strides;
import static dev.spool.cpu.CpuTesting.view;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.spi.BackendProvider;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.DeviceInfo;
import dev.spool.spi.View;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class MemoryAndCopyTest {
    private static final long BIG = (1L << 53) + 1;

    // ---- provider ------------------------------------------------------------------------

    @Test
    void providerIsFoundByServiceLoaderWithOneCpuDevice() {
        BackendProvider cpu = ServiceLoader.load(BackendProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("cpu"))
                .findFirst().orElseThrow();
        List<dev.spool.spi.Backend> devices = cpu.discover();
        assertEquals(1, devices.size());
        assertEquals(null, cpu.unavailableReason());
        DeviceInfo info = devices.get(0).info();
        assertEquals("cpu", info.backend());
        assertEquals("cpu", info.id());
        assertEquals(0, info.index());
        assertEquals(DeviceInfo.DeviceType.CPU, info.type());
        assertTrue(info.name().startsWith("Java " + Runtime.version()), info.name());
        assertTrue(info.name().endsWith(" threads)") || info.name().endsWith(" thread)"), info.name());
        assertEquals(Runtime.getRuntime().availableProcessors(), info.computeUnits());
        assertEquals(Runtime.getRuntime().maxMemory(), info.globalMemBytes());
        assertTrue(info.fp64());
        devices.get(0).close();
    }

    // ---- memory --------------------------------------------------------------------------

    @Test
    void writeThenReadRoundTripsEveryDtype() {
        assertArrayEquals(new float[] {1.5f, Float.NaN, -0f}, readF32(f32(1.5f, Float.NaN, -0f)));
        assertArrayEquals(new double[] {Math.PI, Double.NEGATIVE_INFINITY}, readF64(f64(Math.PI, Double.NEGATIVE_INFINITY)));
        assertArrayEquals(new int[] {Integer.MIN_VALUE, 7}, readI32(i32(Integer.MIN_VALUE, 7)));
        assertArrayEquals(new long[] {BIG, Long.MIN_VALUE}, readI64(i64(BIG, Long.MIN_VALUE)));
        assertArrayEquals(bytes(1, 0, 1), readBool(bool(1, 0, 1)));
    }

    @Test
    void writeCopiesTheHostArray() {
        float[] host = {1, 2};
        DeviceBuffer b = f32(host);
        host[0] = 99;
        assertArrayEquals(new float[] {1, 2}, readF32(b));
    }

    @Test
    void readsAStridedViewInRowMajorOrder() {
        DeviceBuffer b = i64(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        long[] host = new long[6];
        CPU.read(view(b, shape(3, 2), strides(1, 4), 1), host); // [[1,5],[2,6],[3,7]]
        assertArrayEquals(new long[] {1, 5, 2, 6, 3, 7}, host);
        CPU.read(view(b, shape(2, 3), strides(0, 1), 9), host); // a broadcast row
        assertArrayEquals(new long[] {9, 10, 11, 9, 10, 11}, host);
        long[] two = new long[2];
        CPU.read(view(b, shape(2), strides(1), 10), two); // a contiguous tail
        assertArrayEquals(new long[] {10, 11}, two);
    }

    @Test
    void sizeZeroBuffers() {
        DeviceBuffer b = CPU.allocate(DType.FLOAT64, 0);
        assertEquals(0, b.size());
        assertEquals(0, b.byteSize());
        CPU.write(b, new double[0]);
        CPU.fill(b, 3);
        CPU.read(flat(b), new double[0]);
        CPU.randomUniform(b, 1);
        CPU.copy(flat(b), flat(CPU.allocate(DType.INT32, 0)));
        CPU.release(b);
    }

    @Test
    void rejectsWhatJavaArraysCannotHold() {
        BackendException e = assertThrows(BackendException.class,
                () -> CPU.allocate(DType.FLOAT32, 3_000_000_000L));
        assertTrue(e.getMessage().contains("3000000000"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CPU.allocate(DType.FLOAT32, -1));
    }

    @Test
    void rejectsWrongHostArrays() {
        DeviceBuffer b = CPU.allocate(DType.FLOAT32, 2);
        assertThrows(IllegalArgumentException.class, () -> CPU.write(b, new double[2]));
        assertThrows(IllegalArgumentException.class, () -> CPU.write(b, new float[3]));
        assertThrows(IllegalArgumentException.class, () -> CPU.read(flat(b), new float[1]));
    }

    @Test
    void releasedBuffersAreUnusableAndCounted() {
        CpuBackend be = new CpuBackend(1);
        DeviceBuffer b = be.allocate(DType.INT64, 10);
        assertEquals(80, be.liveBytes());
        be.release(b);
        assertEquals(0, be.liveBytes());
        assertThrows(IllegalStateException.class, () -> be.read(flat(b), new long[10]));
        be.close();
        assertThrows(IllegalStateException.class, () -> be.allocate(DType.INT64, 1));
        be.close(); // idempotent
    }

    // ---- fill ----------------------------------------------------------------------------

    @Test
    void fillConvertsTheValue() {
        DeviceBuffer f = out(DType.FLOAT32, 2);
        CPU.fill(f, 0.1);
        assertArrayEquals(new float[] {0.1f, 0.1f}, readF32(f));
        DeviceBuffer i = out(DType.INT32, 2);
        CPU.fill(i, -3.7);
        assertArrayEquals(new int[] {-3, -3}, readI32(i));
        DeviceBuffer l = out(DType.INT64, 1);
        CPU.fill(l, BIG);
        assertArrayEquals(new long[] {BIG}, readI64(l));
        DeviceBuffer b = out(DType.BOOL, 1);
        CPU.fill(b, 0.5);
        assertArrayEquals(bytes(1), readBool(b));
        CPU.fill(b, 0);
        assertArrayEquals(bytes(0), readBool(b));
        CPU.fill(b, -2L);
        assertArrayEquals(bytes(1), readBool(b));
    }

    // ---- copy ----------------------------------------------------------------------------

    @Test
    void copyCastsFloatToIntTowardZero() {
        DeviceBuffer src = f32(2.7f, -2.7f, 0.5f, -0.5f, Float.NaN, 1e10f);
        DeviceBuffer i = out(DType.INT32, 6);
        CPU.copy(flat(src), flat(i));
        assertArrayEquals(new int[] {2, -2, 0, 0, 0, Integer.MAX_VALUE}, readI32(i));
        DeviceBuffer l = out(DType.INT64, 2);
        CPU.copy(flat(f64(-1e18, 9.99)), flat(l));
        assertArrayEquals(new long[] {-1_000_000_000_000_000_000L, 9}, readI64(l));
    }

    @Test
    void copyCastsToAndFromBool() {
        DeviceBuffer b = out(DType.BOOL, 5);
        CPU.copy(flat(f64(0, -0.0, 0.25, Double.NaN, -3)), flat(b));
        assertArrayEquals(bytes(0, 0, 1, 1, 1), readBool(b));
        CPU.copy(flat(i64(0, 1L << 40, 0, -1, 0)), flat(b));
        assertArrayEquals(bytes(0, 1, 0, 1, 0), readBool(b));
        DeviceBuffer f = out(DType.FLOAT32, 5);
        CPU.copy(flat(b), flat(f));
        assertArrayEquals(new float[] {0, 1, 0, 1, 0}, readF32(f));
        DeviceBuffer i = out(DType.INT32, 5);
        CPU.copy(flat(b), flat(i));
        assertArrayEquals(new int[] {0, 1, 0, 1, 0}, readI32(i));
    }

    @Test
    void copyBetweenIntegerAndFloatTypesRoundsOnce() {
        DeviceBuffer l = out(DType.INT64, 2);
        CPU.copy(flat(i32(-5, Integer.MAX_VALUE)), flat(l));
        assertArrayEquals(new long[] {-5, Integer.MAX_VALUE}, readI64(l));
        // 2^60 + 2^36 + 1 rounds to float directly; via double it would round twice.
        long v = (1L << 60) + (1L << 36) + 1;
        DeviceBuffer f = out(DType.FLOAT32, 1);
        CPU.copy(flat(i64(v)), flat(f));
        assertEquals((float) v, readF32(f)[0]);
        DeviceBuffer d = out(DType.FLOAT64, 2);
        CPU.copy(flat(f32(0.1f, Float.NaN)), flat(d));
        assertArrayEquals(new double[] {0.1f, Double.NaN}, readF64(d));
        DeviceBuffer narrowed = out(DType.FLOAT32, 2);
        CPU.copy(flat(f64(0.1, 1e300)), flat(narrowed));
        assertArrayEquals(new float[] {0.1f, Float.POSITIVE_INFINITY}, readF32(narrowed));
    }

    @Test
    void copyWithCastIntoAStridedDestination() {
        // Writes a 2x2 float64 block, cast to int64, into column 1..2 of a 2x4 int64 buffer.
        DeviceBuffer dst = i64(-1, -1, -1, -1, -1, -1, -1, -1);
        View block = view(dst, shape(2, 2), strides(4, 1), 1);
        CPU.copy(View.contiguous(f64(1.9, -2.9, 3.5, 4), 2, 2), block);
        assertArrayEquals(new long[] {-1, 1, -2, -1, -1, 3, 4, -1}, readI64(dst));

        // Transposed destination, broadcast source.
        DeviceBuffer t = out(DType.INT32, 6);
        CPU.copy(view(f32(7, 8), shape(3, 2), strides(0, 1), 0),
                view(t, shape(3, 2), strides(1, 3), 0));
        assertArrayEquals(new int[] {7, 7, 7, 8, 8, 8}, readI32(t));
    }

    @Test
    void int64CopiesStayExact() {
        long[] values = {BIG, BIG + 2, Long.MAX_VALUE, Long.MIN_VALUE + 1};
        DeviceBuffer dst = out(DType.INT64, 8);
        CPU.fill(dst, 0);
        CPU.copy(flat(i64(values)), view(dst, shape(4), strides(2), 1));
        assertArrayEquals(new long[] {0, BIG, 0, BIG + 2, 0, Long.MAX_VALUE, 0, Long.MIN_VALUE + 1},
                readI64(dst));
    }

    @Test
    void largeStridedCopyMatchesScalarLoop() {
        int rows = 400;
        int cols = 300;
        double[] x = CpuTesting.randomDoubles(rows * cols, 5);
        DeviceBuffer f = out(DType.FLOAT32, (long) rows * cols);
        CPU.copy(view(f64(x), shape(cols, rows), strides(1, cols), 0), View.contiguous(f, cols, rows));
        float[] got = readF32(f);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                assertEquals((float) x[i * cols + j], got[j * rows + i]);
            }
        }
    }
}
