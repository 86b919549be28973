/*
 * Spool copy kernels: strided copy with dtype conversion (also used for casts and for reading
 * strided views back to the host) and fill.
 *
 * One program per (source type S, destination type D), chosen with -D options like those of
 * elementwise.cl with an S_ or D_ prefix, e.g. -DS=float -DS_IS_FP=1 -DD=int -DD_IS_INT=32.
 * Conversions follow dev.spool.spi.Backend#copy: float to int truncates toward zero
 * (saturating, NaN to 0, as Java's casts), anything to bool is != 0, bool to number is 0 or 1.
 */
#ifndef S
#define S float
#define S_IS_FP 1
#endif
#ifndef D
#define D float
#define D_IS_FP 1
#endif
#if defined(S_IS_DOUBLE) || defined(D_IS_DOUBLE)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

/* layout_t, layout_offset and SPOOL_CAT come from prelude.cl, which the host prepends. */

D convert_value(S v) {
#if defined(D_IS_BOOL)
    return v != (S)0 ? (D)1 : (D)0;
#elif defined(D_IS_INT) && defined(S_IS_FP)
    return isnan(v) ? (D)0 : SPOOL_CAT(SPOOL_CAT(convert_, D), _sat_rtz)(v);
#else
    return (D)v;
#endif
}

kernel void copy_contig(global const S* src, long soff, global D* dst, long doff, long n) {
    SPOOL_FOR_CHUNK(i, n) {
        dst[doff + i] = convert_value(src[soff + i]);
    }
}

kernel void copy_strided(global const S* src, layout_t sl, global D* dst, layout_t dl, long n) {
    SPOOL_FOR_CHUNK(i, n) {
        dst[layout_offset(&dl, i)] = convert_value(src[layout_offset(&sl, i)]);
    }
}

kernel void fill(global D* dst, D value, long n) {
    SPOOL_FOR_CHUNK(i, n) {
        dst[i] = value;
    }
}
