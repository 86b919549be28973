package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.spi.Conv2dGeometry;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.View;
import java.util.List;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenCL scratch memory of a convolution's forward pass and both gradients (issue #20: at most
 * one workspace of one im2col tile, never the whole im2col matrix). Scratch comes from the
 * backend's buffer pool, not from tensors, so {@code Device.stats()} (nn's ConvMemoryTest) does
 * not see it; this test reads the pool.
 *
 * <p>How: the three primitives run once first (a first call may tune kernels on scratch of its
 * own, as the GEMM tuner does); then the pool is emptied, so every scratch block the measured
 * calls take is a new one, and each returns to the pool when freed. The pool's bytes afterwards
 * are the sum of those blocks: at least the most scratch held at once. Each primitive frees its
 * scratch before it returns, so each is measured alone and the largest is what is bounded (the
 * input gradient's flipped filter and the filter gradient's partial sums are never held together). The bound is one im2col
 * tile, {@value #TILE_ROWS} rows of {@code kh·kw·cin} floats (the tallest M tile of the GEMM
 * family), in the pool's bucket size. Both kernel styles on every device: the GPU style's kernels
 * may be the ones that take a workspace.
 */
@ExtendWith(TestDevices.class)
class ConvScratchTest {
    private static final Logger log = LoggerFactory.getLogger(ConvScratchTest.class);
    static final int TILE_ROWS = 128;

    /** The Fashion-MNIST CNN's second convolution at batch 8, and a strided SAME one. */
    static final List<Conv2dGeometry> GEOMETRIES = List.of(
            new Conv2dGeometry(8, 13, 13, 32, 3, 3, 64, 1, 11, 11, 1, 1, 1, 1, 0, 0),
            new Conv2dGeometry(8, 17, 17, 16, 3, 3, 32, 1, 9, 9, 2, 2, 1, 1, 1, 1));

    /** Scratch bytes the pool gained while {@code work} ran, from an emptied pool. */
    private static long scratchOf(OpenClBackend b, Runnable work) {
        b.synchronize();
        b.pool().flush();
        assertEquals(0, b.pool().pooledBytes(), "the pool is empty before the measured calls");
        work.run();
        b.synchronize();
        return b.pool().pooledBytes();
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void convolutionScratchIsAtMostOneIm2colTile(OpenClBackend b) {
        for (Conv2dGeometry g : GEOMETRIES) {
            DeviceBuffer x = b.allocate(DType.FLOAT32, g.inputSize());
            DeviceBuffer f = b.allocate(DType.FLOAT32, g.filterSize());
            DeviceBuffer dy = b.allocate(DType.FLOAT32, g.outputSize());
            DeviceBuffer y = b.allocate(DType.FLOAT32, g.outputSize());
            DeviceBuffer dx = b.allocate(DType.FLOAT32, g.inputSize());
            DeviceBuffer df = b.allocate(DType.FLOAT32, g.filterSize());
            try {
                b.randomUniform(x, 1);
                b.randomUniform(f, 2);
                b.randomUniform(dy, 3);
                View xv = View.contiguous(x, g.batch(), g.inHeight(), g.inWidth(), g.inChannels());
                View fv = View.contiguous(f, g.filterHeight(), g.filterWidth(), g.inChannels(), g.outChannels());
                View dyv = View.contiguous(dy, g.batch(), g.outHeight(), g.outWidth(), g.outChannels());
                Runnable[] passes = {
                    () -> b.conv2d(xv, fv, g, y),
                    () -> b.conv2dBackpropInput(dyv, fv, g, dx),
                    () -> b.conv2dBackpropFilter(xv, dyv, g, df)
                };
                for (Runnable pass : passes) {
                    pass.run(); // first use: kernels built, tuned where they are tuned
                }
                // each primitive returns its scratch before the next runs: the most held at once
                // is the largest of the three, each measured alone
                long scratch = 0;
                for (Runnable pass : passes) {
                    scratch = Math.max(scratch, scratchOf(b, pass));
                }
                long k = (long) g.filterHeight() * g.filterWidth() * g.inChannels();
                long tile = BufferPool.bucket(TILE_ROWS * k * Float.BYTES);
                long im2col = g.outputSize() / g.outChannels() * k * Float.BYTES;
                log.info("conv2d and both gradients, {} on {}: {} bytes of scratch; bound {} (one im2col tile), "
                        + "the whole im2col matrix {}", g, b, scratch, tile, im2col);
                assertTrue(scratch <= tile, g + ": " + scratch + " bytes of scratch > one im2col tile of "
                        + TILE_ROWS + " rows (" + tile + " bytes); the whole im2col matrix is " + im2col);
            } finally {
                for (DeviceBuffer buf : new DeviceBuffer[] {x, f, dy, y, dx, df}) {
                    b.release(buf);
                }
            }
        }
    }

    /** The measure sees scratch: a sum over a long vector reduces chunks into a scratch buffer of partials. */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void theMeasureSeesScratch(OpenClBackend b) {
        int n = 1 << 22;
        DeviceBuffer x = b.allocate(DType.FLOAT32, n);
        DeviceBuffer out = b.allocate(DType.FLOAT32, 1);
        try {
            b.fill(x, 1);
            Runnable sum = () -> b.reduce(ReduceOp.SUM, View.contiguous(x, n), 1, out);
            sum.run();
            assertTrue(scratchOf(b, sum) > 0, "a chunked sum's partials are scratch");
            assertEquals(n, Host.read(b, View.contiguous(out, 1))[0]);
        } finally {
            b.release(x);
            b.release(out);
        }
    }
}
