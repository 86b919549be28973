package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.spool.DType;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** copy (every dtype pair, strided both sides), fill, write and read. */
@ExtendWith(TestDevices.class)
class CopyTest {
    static final double[] FLOAT_VALUES = {-2.7, -1, -0.0, 0, 0.5, 1, 3.9, 1e10, -1e10, 1e20, Double.NaN,
        Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 16777217, 2147483647.0, -2147483648.0};
    static final double[] INT_VALUES = {-3, -1, 0, 1, 2, 255, 16777217, Integer.MAX_VALUE, Integer.MIN_VALUE};

    static Stream<Arguments> pairs() {
        List<Arguments> out = new ArrayList<>();
        for (OpenClBackend b : TestDevices.all()) {
            for (DType s : KernelCatalog.types(KernelCatalog.ALL, b.info().fp64())) {
                for (DType d : KernelCatalog.types(KernelCatalog.ALL, b.info().fp64())) {
                    out.add(Arguments.of(b, s, d));
                }
            }
        }
        return out.stream();
    }

    /** Java's conversion of a {@code src} value to {@code dst}, as the SPI specifies. */
    static double convert(DType src, DType dst, double v) {
        double s = Ref.cast(src, v);
        if (dst == DType.BOOL) {
            return s != 0 ? 1 : 0; // NaN is non-zero
        }
        return Ref.cast(dst, s);
    }

    @ParameterizedTest(name = "{1} -> {2} on {0}", autoCloseArguments = false)
    @MethodSource("pairs")
    void convertsLikeJava(OpenClBackend b, DType src, DType dst) {
        double[] v = src.isFloating() ? FLOAT_VALUES : src == DType.BOOL ? new double[] {0, 1, 1, 0} : INT_VALUES;
        DeviceBuffer sb = Host.upload(b, src, v);
        DeviceBuffer db = b.allocate(dst, v.length);
        b.copy(View.contiguous(sb, v.length), View.contiguous(db, v.length));
        Object got = Host.readArray(b, View.contiguous(db, v.length));
        for (int i = 0; i < v.length; i++) {
            String what = src + " " + Ref.cast(src, v[i]) + " to " + dst;
            if (dst == DType.INT64 && src.isFloating()) {
                double s = Ref.cast(src, v[i]);
                assertEquals((long) s, ((long[]) got)[i], what);
            } else {
                Ref.assertClose(dst, convert(src, dst, v[i]), Host.doubles(got)[i], 0, what);
            }
        }
        b.release(sb);
        b.release(db);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void copiesATransposedViewIntoASliceOfABiggerBuffer(OpenClBackend b) {
        // src: [3, 2] = transpose of a [2, 3] int buffer; dst: rows 1..3, cols 2..3 of a [4, 6] float buffer
        DeviceBuffer sb = Host.upload(b, DType.INT32, 1, 2, 3, 4, 5, 6);
        DeviceBuffer db = b.allocate(DType.FLOAT32, 24);
        b.fill(db, -1);
        View src = new View(sb, new int[] {3, 2}, new long[] {1, 3}, 0);
        View dst = new View(db, new int[] {3, 2}, new long[] {6, 1}, 8);
        b.copy(src, dst);
        double[] want = new double[24];
        java.util.Arrays.fill(want, -1);
        want[8] = 1;
        want[9] = 4;
        want[14] = 2;
        want[15] = 5;
        want[20] = 3;
        want[21] = 6;
        assertArrayEquals(want, Host.read(b, db));
        // a broadcast source (stride 0) into a dense destination
        DeviceBuffer one = Host.upload(b, DType.INT32, 9);
        DeviceBuffer four = b.allocate(DType.INT64, 4);
        b.copy(new View(one, new int[] {2, 2}, new long[] {0, 0}, 0), View.contiguous(four, 2, 2));
        assertArrayEquals(new double[] {9, 9, 9, 9}, Host.read(b, four));
        b.release(sb);
        b.release(db);
        b.release(one);
        b.release(four);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void fillConvertsTheValue(OpenClBackend b) {
        for (DType t : KernelCatalog.types(KernelCatalog.ALL, b.info().fp64())) {
            for (Number v : new Number[] {3.7, -2.5, 0, 1L << 33, Double.NaN, 2}) {
                DeviceBuffer buf = b.allocate(t, 1001);
                b.fill(buf, v);
                double expected = switch (t) {
                    case FLOAT32 -> v.floatValue();
                    case FLOAT64 -> v.doubleValue();
                    case INT32 -> v.intValue();
                    case INT64 -> v.longValue();
                    case BOOL -> v.doubleValue() != 0 ? 1 : 0;
                };
                for (double got : Host.read(b, buf)) {
                    Ref.assertClose(t, expected, got, 0, "fill " + t + " with " + v);
                }
                b.release(buf);
            }
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void writeCopiesTheHostArrayAndReadHandlesViews(OpenClBackend b) {
        float[] host = {1, 2, 3, 4, 5, 6};
        DeviceBuffer buf = b.allocate(DType.FLOAT32, 6);
        b.write(buf, host);
        host[0] = 100; // the backend must have taken its copy already
        float[] back = new float[6];
        b.read(View.contiguous(buf, 6), back);
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, back);
        // a transposed view and an offset slice, read in row-major order
        float[] t = new float[6];
        b.read(new View(buf, new int[] {3, 2}, new long[] {1, 3}, 0), t);
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, t);
        float[] slice = new float[2];
        b.read(new View(buf, new int[] {2}, new long[] {1}, 3), slice);
        assertArrayEquals(new float[] {4, 5}, slice);
        // bools: written as 0/1 whatever non-zero byte was given
        DeviceBuffer bools = b.allocate(DType.BOOL, 3);
        b.write(bools, new byte[] {0, 7, 1});
        byte[] bb = new byte[3];
        b.read(View.contiguous(bools, 3), bb);
        assertArrayEquals(new byte[] {0, 1, 1}, bb);
        // every dtype round-trips
        for (DType dt : KernelCatalog.types(KernelCatalog.ALL, b.info().fp64())) {
            double[] v = {0, 1, -1, 42};
            DeviceBuffer d = Host.upload(b, dt, v);
            assertArrayEquals(Host.doubles(Host.array(dt, v)), Host.read(b, d), dt.toString());
            b.release(d);
        }
        b.release(buf);
        b.release(bools);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void manyQueuedWritesAndKernelsThenOneRead(OpenClBackend b) {
        DeviceBuffer acc = b.allocate(DType.INT32, 1000);
        b.fill(acc, 0);
        int[] ones = new int[1000];
        java.util.Arrays.fill(ones, 1);
        DeviceBuffer inc = b.allocate(DType.INT32, 1000);
        DeviceBuffer tmp = b.allocate(DType.INT32, 1000);
        for (int step = 0; step < 50; step++) {
            b.write(inc, ones);
            b.binary(dev.spool.spi.BinaryOp.ADD, View.contiguous(acc, 1000), View.contiguous(inc, 1000), tmp);
            b.copy(View.contiguous(tmp, 1000), View.contiguous(acc, 1000));
        }
        for (double v : Host.read(b, acc)) {
            assertEquals(50, v);
        }
        b.release(acc);
        b.release(inc);
        b.release(tmp);
    }
}
