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
 * The dims d of a layout of rank `rank`, innermost first: SPOOL_FOR_DIMS(d, rank) { ... }.
 * GPU builds (SPOOL_CHUNK 1): all 8 dims, unrolled, skipping those past the rank. With every
 * index into shape and strides a constant, GPU compilers keep a layout argument's fields in
 * registers, where a loop to the rank indexed them at run time from a copy in scratch memory
 * (clang for AMD GPUs: 152 bytes of scratch per layout argument, in every strided kernel;
 * docs/GPU-RESOURCES.md). CPU builds keep the loop to the rank, as before: a CPU compiler has
 * no such problem, and the unrolled form doubles compile time (clang for AMD GPUs, every program:
 * 3 CPU-minutes before it, 6.4 after), which PoCL would pay at each kernel's first launch.
 */
#if SPOOL_CHUNK > 1
#define SPOOL_FOR_DIMS(d, rank) for (int d = (rank) - 1; d >= 0; d--)
#else
#define SPOOL_FOR_DIMS(d, rank) _Pragma("unroll") for (int d = 7; d >= 0; d--) if (d < (rank))
#endif

/* Element offset of the i-th element, in row-major order, of a strided view. */
long layout_offset(const layout_t* l, long i) {
    if (l->rank == 1) {
        return l->offset + i * l->strides[0];
    }
    long off = l->offset;
    int rank = (int)l->rank;
    if (i <= (long)UINT_MAX) {
        /* 32-bit division is several times cheaper than 64-bit on GPUs */
        uint r = (uint)i;
        SPOOL_FOR_DIMS(d, rank) {
            uint s = (uint)l->shape[d];
            uint q = r / s;
            off += (long)(r - q * s) * l->strides[d];
            r = q;
        }
    } else {
        long r = i;
        SPOOL_FOR_DIMS(d, rank) {
            long q = r / l->shape[d];
            off += (r - q * l->shape[d]) * l->strides[d];
            r = q;
        }
    }
    return off;
}
