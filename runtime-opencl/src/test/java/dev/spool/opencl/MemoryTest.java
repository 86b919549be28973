package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.Backend;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.util.List;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Allocation, the buffer pool, size-0 buffers, failure paths and shutdown. */
@ExtendWith(TestDevices.class)
class MemoryTest {

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void tooLargeAllocationIsAClearErrorAndTheBackendStaysUsable(OpenClBackend b) {
        long maxAlloc = b.info().maxAllocBytes();
        long elements = maxAlloc / 4 + 1;
        BackendException e = assertThrows(BackendException.class, () -> b.allocate(DType.FLOAT32, elements));
        assertTrue(e.getMessage().contains(Long.toString(elements * 4)), e.getMessage());
        assertTrue(e.getMessage().contains(Long.toString(maxAlloc)), e.getMessage());
        assertTrue(e.getMessage().contains("CL_DEVICE_MAX_MEM_ALLOC_SIZE"), e.getMessage());
        DeviceBuffer x = Host.upload(b, DType.FLOAT32, 1, 2, 3);
        DeviceBuffer y = b.allocate(DType.FLOAT32, 3);
        b.unary(UnaryOp.NEG, View.contiguous(x, 3), y);
        assertArrayEquals(new double[] {-1, -2, -3}, Host.read(b, y));
        b.release(x);
        b.release(y);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void zeroSizedBuffersWorkEverywhere(OpenClBackend b) {
        for (DType t : KernelCatalog.types(KernelCatalog.ALL, b.info().fp64())) {
            DeviceBuffer e = b.allocate(t, 0);
            DeviceBuffer f = b.allocate(t, 0);
            b.write(e, t.newHostArray(0));
            b.read(View.contiguous(e, 0), t.newHostArray(0));
            b.read(View.contiguous(e, 0, 5), t.newHostArray(0));
            b.fill(e, 1);
            b.copy(View.contiguous(e, 0), View.contiguous(f, 0));
            b.binary(BinaryOp.EQUAL, View.contiguous(e, 0), View.contiguous(f, 0), b.allocate(DType.BOOL, 0));
            if (t.isFloating()) {
                b.unary(UnaryOp.EXP, View.contiguous(e, 4, 0), f);
                b.randomUniform(e, 1);
            }
            b.release(e);
            b.release(f);
        }
        b.synchronize();
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void releasedBuffersAreReused(OpenClBackend b) {
        DeviceBuffer first = b.allocate(DType.FLOAT32, 12_345);
        b.release(first);
        long before = b.pool().driverAllocations();
        DeviceBuffer again = b.allocate(DType.FLOAT32, 12_340); // same bucket
        assertEquals(before, b.pool().driverAllocations(), "served from the pool");
        b.release(again);
        assertEquals(BufferPool.MIN_BUCKET, BufferPool.bucket(0));
        assertEquals(1280, BufferPool.bucket(1025));
        assertEquals(1024, BufferPool.bucket(1024));
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void misuseIsReported(OpenClBackend b) {
        DeviceBuffer x = b.allocate(DType.FLOAT32, 4);
        b.release(x);
        assertThrows(IllegalStateException.class, () -> b.release(x));
        assertThrows(BackendException.class, () -> b.fill(x, 1));
        OpenClBackend other = TestDevices.otherStyle().get(0);
        DeviceBuffer foreign = other.allocate(DType.FLOAT32, 4);
        BackendException e = assertThrows(BackendException.class, () -> b.fill(foreign, 1));
        assertTrue(e.getMessage().contains("does not belong"), e.getMessage());
        other.release(foreign);
        DeviceBuffer small = b.allocate(DType.FLOAT32, 4);
        DeviceBuffer out = b.allocate(DType.FLOAT32, 8);
        e = assertThrows(BackendException.class,
                () -> b.unary(UnaryOp.NEG, new View(small, new int[] {8}, new long[] {1}, 0), out));
        assertTrue(e.getMessage().contains("outside its buffer"), e.getMessage());
        b.release(small);
        b.release(out);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void rankAboveEightIsAClearErrorUnlessDimsMerge(OpenClBackend b) {
        int[] shape = {2, 2, 2, 2, 2, 2, 2, 2, 2};
        long[] strides = new long[9];
        long s = 1;
        for (int d = 8; d >= 0; d--) {
            strides[d] = s;
            s *= 3; // gaps between dims: nothing merges
        }
        DeviceBuffer x = b.allocate(DType.FLOAT32, (int) (s / 3 * 2));
        b.fill(x, 2);
        DeviceBuffer out = b.allocate(DType.FLOAT32, 512);
        BackendException e = assertThrows(BackendException.class,
                () -> b.unary(UnaryOp.NEG, new View(x, shape, strides, 0), out));
        assertTrue(e.getMessage().contains("rank up to 8"), e.getMessage());
        b.unary(UnaryOp.NEG, View.contiguous(x, shape), out); // contiguous rank 9 collapses to rank 1
        b.reduce(ReduceOp.SUM, View.contiguous(out, 512), 1, x);
        assertEquals(-1024, Host.read(b, View.contiguous(x, 1))[0]);
        b.release(x);
        b.release(out);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void closeFreesEverythingAndLaterCallsThrow(OpenClBackend shared) {
        List<Backend> fresh = new OpenClBackendProvider().discover();
        OpenClBackend b = (OpenClBackend) fresh.stream().filter(f -> f.info().index() == shared.info().index())
                .findFirst().orElseThrow();
        fresh.stream().filter(f -> f != b).forEach(Backend::close);
        DeviceBuffer x = Host.upload(b, DType.FLOAT32, 1, 2, 3);
        DeviceBuffer y = b.allocate(DType.FLOAT32, 3);
        b.unary(UnaryOp.EXP, View.contiguous(x, 3), y); // queued, maybe not run yet
        b.release(x);
        assertEquals(1, b.liveBuffers());
        b.close();
        assertEquals(0, b.liveBuffers());
        assertEquals(0, b.programs().size());
        BackendException e = assertThrows(BackendException.class, () -> b.allocate(DType.FLOAT32, 1));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        b.release(y); // after close: a no-op, as core may still drop tensors
        b.close(); // idempotent
    }
}
