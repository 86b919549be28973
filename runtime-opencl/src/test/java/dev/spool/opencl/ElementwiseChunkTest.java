package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The elementwise kernels on CPU devices walk {@link Tuning#elementwiseChunk()} consecutive
 * elements per work-item (SPOOL_FOR_CHUNK in prelude.cl): every element is written once, at
 * every size around a chunk's edges, from offset views, for each kernel variant that loops so.
 * On GPU-style kernels (chunk 1) the same sizes run as the plain case.
 */
@ExtendWith(TestDevices.class)
class ElementwiseChunkTest {

    /** Sizes around one and several chunks of {@code b}'s tuning. */
    static Stream<Arguments> cases() {
        return TestDevices.bothStyles().flatMap(b -> {
            int c = b.tuning().elementwiseChunk();
            return IntStream.of(1, c - 1, c, c + 1, 3 * c + 5).distinct().mapToObj(n -> Arguments.of(b, n));
        });
    }

    @ParameterizedTest(name = "{0}: CPU kernels build with -DSPOOL_CHUNK", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void cpuStyleKernelsAreChunked(OpenClBackend b) {
        boolean cpu = b.strategy().equals("CPU");
        assertEquals(cpu ? Tuning.CPU_CHUNK : 1, b.tuning().elementwiseChunk());
        DeviceBuffer x = Host.upload(b, DType.FLOAT32, Host.range(10));
        DeviceBuffer out = b.allocate(DType.FLOAT32, 10);
        b.unary(UnaryOp.NEG, View.contiguous(x, 10), out);
        // the two styles of one device share its program cache: each must have built its own
        boolean built = b.programs().kernelsCreated().entrySet().stream()
                .anyMatch(e -> e.getValue().contains("unary_NEG_contig")
                        && e.getKey().options().contains("-DSPOOL_CHUNK=" + Tuning.CPU_CHUNK) == cpu);
        assertTrue(built, "a unary_NEG_contig " + (cpu ? "with" : "without") + " -DSPOOL_CHUNK built for " + b);
        ElementwiseTest.release(b, x, out);
    }

    @ParameterizedTest(name = "{0}, {1} elements", autoCloseArguments = false)
    @MethodSource("cases")
    void everyVariantWritesEveryElementOnce(OpenClBackend b, int n) {
        double[] a = new double[n + 3];
        double[] c = new double[n + 3];
        for (int i = 0; i < a.length; i++) {
            a[i] = (i % 17) - 8.5;
            c[i] = (i % 5) + 0.25;
        }
        DeviceBuffer ab = Host.upload(b, DType.FLOAT32, a);
        DeviceBuffer cb = Host.upload(b, DType.FLOAT32, c);
        DeviceBuffer out = b.allocate(DType.FLOAT32, n + 1);
        // each run first fills the output with a marker, then checks every element and the one past n
        View av = new View(ab, new int[] {n}, new long[] {1}, 3);
        View cv = new View(cb, new int[] {n}, new long[] {1}, 1);
        View scalar = new View(cb, new int[] {n}, new long[] {0}, 2);
        View reversed = new View(ab, new int[] {n}, new long[] {-1}, n + 2);

        run(b, out, n, () -> b.unary(UnaryOp.NEG, av, out), i -> -a[i + 3], "neg contig");
        run(b, out, n, () -> b.unary(UnaryOp.NEG, reversed, out), i -> -a[n + 2 - i], "neg strided");
        run(b, out, n, () -> b.binary(BinaryOp.SUB, av, cv, out), i -> a[i + 3] - c[i + 1], "sub contig");
        run(b, out, n, () -> b.binary(BinaryOp.SUB, av, scalar, out), i -> a[i + 3] - c[2], "sub scalar b");
        run(b, out, n, () -> b.binary(BinaryOp.SUB, scalar, av, out), i -> c[2] - a[i + 3], "sub scalar a");
        run(b, out, n, () -> b.binary(BinaryOp.SUB, reversed, cv, out), i -> a[n + 2 - i] - c[i + 1], "sub strided");
        run(b, out, n, () -> b.binaryUnary(BinaryOp.ADD, UnaryOp.RELU, av, scalar, out),
                i -> Math.max(0, a[i + 3] + c[2]), "add+relu scalar b");
        run(b, out, n, () -> b.copy(av, View.contiguous(out, n)), i -> a[i + 3], "copy contig");
        run(b, out, n, () -> b.applyGradientDescent(av, cv, 0.5, out), i -> a[i + 3] - 0.5f * (float) c[i + 1],
                "gradient descent");
        DeviceBuffer part = b.allocate(DType.FLOAT32, n);
        b.fill(part, 7);
        double[] filled = Host.read(b, part);
        assertTrue(IntStream.range(0, n).allMatch(i -> filled[i] == 7), "fill");
        ElementwiseTest.release(b, ab, cb, out, part);
    }

    /**
     * A dense [rows, cols] operand with one row of cols repeated (a bias: the _rows_b kernels),
     * where chunks start mid-row and rows are longer than a chunk; the result is the same as the
     * strided path's (the same op with the operands swapped, which runs it).
     */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void aRepeatedRowIsAddedToEveryRow(OpenClBackend b) {
        int[][] shapes = {{1, 1}, {3, 7}, {147, 7}, {300, 10}, {2, 1024}, {5, 1500}, {1, 2049}};
        for (int[] rc : shapes) {
            int rows = rc[0];
            int cols = rc[1];
            int n = rows * cols;
            double[] a = new double[n + 1];
            double[] bias = new double[cols + 2];
            for (int i = 0; i < a.length; i++) {
                a[i] = (i % 13) - 6.25;
            }
            for (int j = 0; j < bias.length; j++) {
                bias[j] = j % 5 - 2;
            }
            DeviceBuffer ab = Host.upload(b, DType.FLOAT32, a);
            DeviceBuffer bb = Host.upload(b, DType.FLOAT32, bias);
            DeviceBuffer out = b.allocate(DType.FLOAT32, n + 1);
            View av = new View(ab, new int[] {rows, cols}, new long[] {cols, 1}, 1);
            View row = new View(bb, new int[] {rows, cols}, new long[] {0, 1}, 2);
            String what = rows + "x" + cols;
            run(b, out, n, () -> b.binary(BinaryOp.SUB, av, row, out), i -> a[i + 1] - bias[i % cols + 2],
                    "sub, a repeated row, " + what);
            run(b, out, n, () -> b.binaryUnary(BinaryOp.ADD, UnaryOp.RELU, av, row, out),
                    i -> Math.max(0, a[i + 1] + bias[i % cols + 2]), "add+relu, a repeated row, " + what);
            run(b, out, n, () -> b.binary(BinaryOp.SUB, row, av, out), i -> bias[i % cols + 2] - a[i + 1],
                    "sub, the row first (strided), " + what);
            ElementwiseTest.release(b, ab, bb, out);
        }
    }

    /**
     * sin and cos skip Payne-Hanek for a chunk with no argument beyond 65536: one huge argument
     * in the second chunk (and NaN and Inf in the last) must still get the full reduction, and
     * the chunks around it the short one.
     */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void sinAndCosTakeTheFullReductionOnlyWhereNeeded(OpenClBackend b) {
        int chunk = b.tuning().elementwiseChunk();
        int n = 3 * Math.max(chunk, 64) + 9;
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) ((i % 401) * 0.037 - 7.4);
        }
        x[chunk + 7] = 1.0e6f;
        x[n - 2] = Double.NaN;
        x[n - 1] = Double.POSITIVE_INFINITY;
        DeviceBuffer in = Host.upload(b, DType.FLOAT32, x);
        DeviceBuffer out = b.allocate(DType.FLOAT32, n);
        for (UnaryOp op : new UnaryOp[] {UnaryOp.SIN, UnaryOp.COS}) {
            b.unary(op, View.contiguous(in, n), out);
            double[] got = Host.read(b, out);
            for (int i = 0; i < n; i++) {
                double expected = (float) (op == UnaryOp.SIN ? StrictMath.sin(x[i]) : StrictMath.cos(x[i]));
                Ref.assertClose(DType.FLOAT32, expected, got[i], 3, op + "(" + x[i] + ") at " + i);
            }
        }
        ElementwiseTest.release(b, in, out);
    }

    private static void run(OpenClBackend b, DeviceBuffer out, int n, Runnable op,
                            java.util.function.IntToDoubleFunction expected, String what) {
        b.fill(out, -12345);
        op.run();
        double[] got = Host.read(b, out);
        for (int i = 0; i < n; i++) {
            assertEquals((float) expected.applyAsDouble(i), got[i], 0, what + " at " + i + " of " + n);
        }
        assertEquals(-12345, got[n], 0, what + ": wrote past the end");
    }
}
