/*
 * Spool's kernel prelude: the definitions every kernel file uses, written once. The host puts
 * this text in front of each kernel file when it builds a program (followed by #line 1, so that
 * build logs give the kernel file's own line numbers); scripts/oclgrind-check.sh lints the
 * files with clang -include prelude.cl the same way. OpenCL C 1.2; no element type needed.
 */

/* A strided view of up to 8 dimensions: element offset, shape and strides in elements. */
typedef struct {
    long rank;
    long offset;
    long shape[8];
    long strides[8];
} layout_t;

#define SPOOL_CAT_(a, b) a##b
#define SPOOL_CAT(a, b) SPOOL_CAT_(a, b)

/*
 * The elements an elementwise kernel computes in this work-item: SPOOL_FOR_CHUNK(i, n) { ... }.
 * GPUs (SPOOL_CHUNK 1, the default): element get_global_id(0), so that neighbouring work-items
 * touch neighbouring addresses. CPU devices (the host passes -DSPOOL_CHUNK, see Tuning): the
 * SPOOL_CHUNK consecutive elements from get_global_id(0) * SPOOL_CHUNK, a loop that the compiler
 * vectorises inside the work-item. On PoCL a one-element body vectorised across work-items ran
 * add 4M at 8-10 ms, the loop at 2.5 ms (neg: 5-8 ms against 1.4).
 */
#ifndef SPOOL_CHUNK
#define SPOOL_CHUNK 1
#endif
#define SPOOL_FOR_CHUNK(i, n)                                                                \
    for (long i = (long)get_global_id(0) * SPOOL_CHUNK, i##_end = min(i + SPOOL_CHUNK, (long)(n)); \
         i < i##_end; i++)

/*
 * Forces a helper inline: PoCL's inliner left big ones as calls (spool_sincos in elementwise.cl,
 * and layout_offset below: a call per element made unary_EXP_strided 12 % slower).
 */
#if defined(__has_attribute)
#if __has_attribute(always_inline)
#define SPOOL_INLINE __attribute__((always_inline))
#endif
#endif
#ifndef SPOOL_INLINE
#define SPOOL_INLINE
#endif

/*
 * Element offset of the i-th element, in row-major order, of a strided view: the dimensions from
 * the innermost (rank - 1) out, as eight steps d = 7..0 that each index the layout with a
 * constant. A loop over d would index l->shape[d] with a variable, and l points into a by-value
 * kernel argument: Mesa 22.3's llvmpipe (Rusticl) has no code for an argument load at a
 * variable offset and crashes in LLVM compiling the kernel (runtime-opencl/README.md,
 * "Rusticl"). Constant offsets suit GPUs too: argument loads at fixed offsets, no private array,
 * and the rank tests are the same for every work-item.
 */
#define SPOOL_LAYOUT_DIM(d, U)                                                                \
    if ((d) < l->rank) {                                                                      \
        U s = (U)l->shape[d];                                                                 \
        U q = r / s;                                                                          \
        off += (long)(r - q * s) * l->strides[d];                                             \
        r = q;                                                                                \
    }
#define SPOOL_LAYOUT_DIMS(U)                                                                  \
    SPOOL_LAYOUT_DIM(7, U) SPOOL_LAYOUT_DIM(6, U) SPOOL_LAYOUT_DIM(5, U) SPOOL_LAYOUT_DIM(4, U) \
    SPOOL_LAYOUT_DIM(3, U) SPOOL_LAYOUT_DIM(2, U) SPOOL_LAYOUT_DIM(1, U) SPOOL_LAYOUT_DIM(0, U)
SPOOL_INLINE long layout_offset(const layout_t* l, long i) {
    if (l->rank == 1) {
        return l->offset + i * l->strides[0];
    }
    long off = l->offset;
    if (i <= (long)UINT_MAX) {
        /* 32-bit division is several times cheaper than 64-bit on GPUs */
        uint r = (uint)i;
        SPOOL_LAYOUT_DIMS(uint)
    } else {
        long r = i;
        SPOOL_LAYOUT_DIMS(long)
    }
    return off;
}
