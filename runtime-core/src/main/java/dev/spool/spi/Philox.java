package dev.spool.spi;

/**
 * The reference Philox4x32-10 generator (Salmon et al., "Parallel random numbers: as easy as
 * 1, 2, 3", SC 2011). Counter-based: element {@code i} of a random tensor is a pure function of
 * {@code (seed, i)}, so every backend produces the same values, in any order, on any number of
 * threads. The OpenCL kernel in {@code random.cl} mirrors this code; a conformance test checks
 * that they agree bit for bit.
 *
 * <p>Key {@code (k0, k1)} = low and high 32 bits of the seed. Counter for element {@code i} =
 * {@code (low32(i), high32(i), 0, 0)}. Ten rounds; the key is bumped by the Weyl constants
 * between rounds.
 */
public final class Philox {
    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;

    private Philox() {
    }

    /** The four output words for counter {@code (low32(i), high32(i), 0, 0)} under {@code seed}. */
    public static int[] block(long seed, long i) {
        int c0 = (int) i;
        int c1 = (int) (i >>> 32);
        int c2 = 0;
        int c3 = 0;
        int k0 = (int) seed;
        int k1 = (int) (seed >>> 32);
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32);
            int lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32);
            int lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
        }
        return new int[] {c0, c1, c2, c3};
    }

    /** Uniform float in [0, 1): the top 24 bits of word 0, times 2^-24. */
    public static float uniformFloat(long seed, long i) {
        int w0 = block(seed, i)[0];
        return (w0 >>> 8) * 0x1.0p-24f;
    }

    /** Uniform double in [0, 1): 32 bits of word 0 then the top 21 of word 1, times 2^-53. */
    public static double uniformDouble(long seed, long i) {
        int[] w = block(seed, i);
        long bits = ((w[0] & 0xFFFFFFFFL) << 21) | ((w[1] & 0xFFFFFFFFL) >>> 11);
        return bits * 0x1.0p-53;
    }
}
