package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.Philox;
import dev.spool.spi.View;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** randomUniform is dev.spool.spi.Philox, bit for bit. */
@ExtendWith(TestDevices.class)
class RandomTest {
    static final long[] SEEDS = {0, 1, 42, -1, 0x123456789ABCDEFL, Long.MIN_VALUE};

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void float32MatchesPhiloxBitForBit(OpenClBackend b) {
        for (long seed : SEEDS) {
            for (int n : new int[] {1, 1001}) {
                DeviceBuffer out = b.allocate(DType.FLOAT32, n);
                b.randomUniform(out, seed);
                float[] got = new float[n];
                b.read(View.contiguous(out, n), got);
                for (int i = 0; i < n; i++) {
                    assertEquals(Float.floatToRawIntBits(Philox.uniformFloat(seed, i)), Float.floatToRawIntBits(got[i]),
                            "seed " + seed + " element " + i);
                }
                b.release(out);
            }
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void float64MatchesPhiloxBitForBit(OpenClBackend b) {
        if (!b.info().fp64()) {
            // Nothing to compare on this device: it must refuse float64 instead.
            assertThrows(DTypeException.class, () -> b.allocate(DType.FLOAT64, 1));
            return;
        }
        for (long seed : SEEDS) {
            int n = 777;
            DeviceBuffer out = b.allocate(DType.FLOAT64, n);
            b.randomUniform(out, seed);
            double[] got = new double[n];
            b.read(View.contiguous(out, n), got);
            for (int i = 0; i < n; i++) {
                assertEquals(Double.doubleToRawLongBits(Philox.uniformDouble(seed, i)),
                        Double.doubleToRawLongBits(got[i]), "seed " + seed + " element " + i);
            }
            b.release(out);
        }
    }
}
