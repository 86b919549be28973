package dev.spool.cpu;

import static dev.spool.cpu.CpuTesting.CPU;
import static dev.spool.cpu.CpuTesting.out;
import static dev.spool.cpu.CpuTesting.readF32;
import static dev.spool.cpu.CpuTesting.readF64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.Philox;
import org.junit.jupiter.api.Test;

class RandomTest {
    private static final int N = 100_003; // split across threads

    @Test
    void float32IsPhiloxBitForBit() {
        long seed = 0x1234_5678_9ABC_DEF0L;
        DeviceBuffer o = out(DType.FLOAT32, N);
        CPU.randomUniform(o, seed);
        float[] got = readF32(o);
        for (int i = 0; i < N; i++) {
            assertEquals(Float.floatToRawIntBits(Philox.uniformFloat(seed, i)), Float.floatToRawIntBits(got[i]));
            assertTrue(got[i] >= 0 && got[i] < 1);
        }
    }

    @Test
    void float64IsPhiloxBitForBit() {
        long seed = -7;
        DeviceBuffer o = out(DType.FLOAT64, N);
        CPU.randomUniform(o, seed);
        double[] got = readF64(o);
        for (int i = 0; i < N; i++) {
            assertEquals(Double.doubleToRawLongBits(Philox.uniformDouble(seed, i)), Double.doubleToRawLongBits(got[i]));
        }
    }

    @Test
    void deterministicPerSeedAndIndependentOfThreads() {
        DeviceBuffer a = out(DType.FLOAT32, N);
        CPU.randomUniform(a, 42);
        DeviceBuffer b = CpuTesting.SERIAL.allocate(DType.FLOAT32, N);
        CpuTesting.SERIAL.randomUniform(b, 42);
        assertArrayEquals((float[]) CpuTesting.read(CpuTesting.SERIAL, b), readF32(a));
        DeviceBuffer c = out(DType.FLOAT32, N);
        CPU.randomUniform(c, 43);
        assertFalse(java.util.Arrays.equals(readF32(a), readF32(c)));
        // Mean of N uniforms: 0.5 within a few standard errors (1/sqrt(12 N) ~ 0.0009).
        double sum = 0;
        for (float v : readF32(a)) {
            sum += v;
        }
        assertEquals(0.5, sum / N, 0.005);
    }

    @Test
    void rejectsIntegerOutputs() {
        assertThrows(DTypeException.class, () -> CPU.randomUniform(out(DType.INT32, 3), 1));
    }
}
