/*
 * Spool random kernels: uniform [0, 1) from the counter-based Philox4x32-10 generator, bit for
 * bit the same as the reference dev.spool.spi.Philox: element i uses the counter
 * (low32(i), high32(i), 0, 0) and the key (low32(seed), high32(seed)).
 *
 * -DT=float -DT_IS_FP=1 (default) or -DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1.
 */
#ifndef T
#define T float
#define T_IS_FP 1
#endif
#ifdef T_IS_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* The first two of the four output words for element i. */
uint2 philox_words(ulong i, uint k0, uint k1) {
    uint c0 = (uint)i;
    uint c1 = (uint)(i >> 32);
    uint c2 = 0u;
    uint c3 = 0u;
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        uint hi0 = mul_hi(PHILOX_M0, c0);
        uint lo0 = PHILOX_M0 * c0;
        uint hi1 = mul_hi(PHILOX_M1, c2);
        uint lo1 = PHILOX_M1 * c2;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    return (uint2)(c0, c1);
}

kernel void random_uniform(global T* out, long n, uint k0, uint k1) {
    long i = (long)get_global_id(0);
    if (i < n) {
        uint2 w = philox_words((ulong)i, k0, k1);
#ifdef T_IS_DOUBLE
        /* 32 bits of word 0, then the top 21 of word 1: 53 bits, exact in a double */
        ulong bits = ((ulong)w.x << 21) | ((ulong)w.y >> 11);
        out[i] = (double)bits * 0x1.0p-53;
#else
        /* the top 24 bits of word 0, exact in a float */
        out[i] = (float)(w.x >> 8) * 0x1.0p-24f;
#endif
    }
}
