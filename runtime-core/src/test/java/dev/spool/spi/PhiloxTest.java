package dev.spool.spi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PhiloxTest {

    /**
     * The Philox4x32-10 known answer from Random123 (kat_vectors): key (0, 0), counter (0, 0, 0, 0).
     * The other published vectors set counter words 2 and 3, which {@link Philox#block} fixes at 0.
     */
    @Test
    void matchesRandom123KnownAnswer() {
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, Philox.block(0, 0));
    }

    @Test
    void counterAndKeyWordsComeFromIndexAndSeed() {
        // Element 2^32 sets counter word 1 only; seed 2^32 sets key word 1 only: both must matter.
        assertNotEquals(Philox.block(0, 0)[0], Philox.block(0, 1L << 32)[0]);
        assertNotEquals(Philox.block(0, 0)[0], Philox.block(1L << 32, 0)[0]);
        assertArrayEquals(Philox.block(42, 7), Philox.block(42, 7));
    }

    @Test
    void uniformFloatIsTheTop24BitsOfWordZero() {
        for (long i = 0; i < 100; i++) {
            int w0 = Philox.block(123, i)[0];
            float u = Philox.uniformFloat(123, i);
            assertEquals((w0 >>> 8) / 16777216.0f, u);
            assertTrue(u >= 0 && u < 1);
        }
    }

    @Test
    void uniformDoubleUses53Bits() {
        for (long i = 0; i < 100; i++) {
            int[] w = Philox.block(9, i);
            double u = Philox.uniformDouble(9, i);
            long bits = ((w[0] & 0xFFFFFFFFL) << 21) | ((w[1] & 0xFFFFFFFFL) >>> 11);
            assertEquals(bits, (long) (u * 0x1.0p53));
            assertTrue(u >= 0 && u < 1);
        }
    }

    @Test
    void uniformValuesAreRoughlyUniform() {
        int n = 100_000;
        int[] buckets = new int[10];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float u = Philox.uniformFloat(2024, i);
            sum += u;
            buckets[(int) (u * 10)]++;
        }
        assertEquals(0.5, sum / n, 0.01);
        for (int b : buckets) {
            assertEquals(n / 10.0, b, n / 100.0); // each decile within 10% of its share
        }
    }
}
