package dev.spool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.spi.DeviceBuffer;
import org.junit.jupiter.api.Test;

class ArrayPoolTest {
    @Test
    void reusesOnlyTheSameDtypeAndLengthAboveTheThreshold() {
        ArrayPool pool = new ArrayPool(1000, 1 << 20, false);
        float[] big = new float[4096];
        pool.give(DType.FLOAT32, big, big.length);
        pool.give(DType.FLOAT32, new float[10], 10); // below the threshold: not kept
        assertEquals(4096L * 4, pool.pooledBytes());
        assertNull(pool.take(DType.FLOAT32, 4095));
        assertNull(pool.take(DType.INT32, 4096));
        assertNull(pool.take(DType.FLOAT32, 10));
        assertSame(big, pool.take(DType.FLOAT32, 4096));
        assertNull(pool.take(DType.FLOAT32, 4096), "an array is handed out once");
        assertEquals(0, pool.pooledBytes());
    }

    @Test
    void keepsAtMostItsCapAndClears() {
        ArrayPool pool = new ArrayPool(1, 3 * 4096 * 8, false);
        for (int i = 0; i < 5; i++) {
            pool.give(DType.FLOAT64, new double[4096], 4096);
        }
        assertEquals(3L * 4096 * 8, pool.pooledBytes());
        assertEquals(3L * 4096 * 8, pool.clear());
        assertNull(pool.take(DType.FLOAT64, 4096));
    }

    @Test
    void poisonFillsRecycledArraysWithGarbage() {
        ArrayPool pool = new ArrayPool(1, 1 << 20, true);
        pool.give(DType.FLOAT32, new float[8], 8);
        pool.give(DType.INT64, new long[8], 8);
        pool.give(DType.BOOL, new byte[8], 8);
        assertTrue(Float.isNaN(((float[]) pool.take(DType.FLOAT32, 8))[3]));
        assertTrue(((long[]) pool.take(DType.INT64, 8))[0] != 0);
        assertEquals(7, ((byte[]) pool.take(DType.BOOL, 8))[7]);
    }

    @Test
    void theBackendRecyclesReleasedBuffersAndGivesThemBackUnderPressure() {
        CpuBackend cpu = new CpuBackend(1);
        try {
            DeviceBuffer a = cpu.allocate(DType.FLOAT32, 1 << 17);
            Object array = CpuBuffer.of(a).data();
            cpu.release(a);
            DeviceBuffer b = cpu.allocate(DType.FLOAT32, 1 << 17);
            assertSame(array, CpuBuffer.of(b).data(), "a released large array is reused");
            cpu.release(b);
            assertTrue(cpu.releaseCachedMemory() >= (1 << 17) * 4L);
            DeviceBuffer c = cpu.allocate(DType.FLOAT32, 1 << 17);
            assertNotSame(array, CpuBuffer.of(c).data(), "after releaseCachedMemory a new array");
            cpu.release(c);
        } finally {
            cpu.close();
        }
    }
}
