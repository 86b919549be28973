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

/* Element offset of the i-th element, in row-major order, of a strided view. */
long layout_offset(const layout_t* l, long i) {
    if (l->rank == 1) {
        return l->offset + i * l->strides[0];
    }
    long off = l->offset;
    if (i <= (long)UINT_MAX) {
        /* 32-bit division is several times cheaper than 64-bit on GPUs */
        uint r = (uint)i;
        for (int d = (int)l->rank - 1; d >= 0; d--) {
            uint s = (uint)l->shape[d];
            uint q = r / s;
            off += (long)(r - q * s) * l->strides[d];
            r = q;
        }
    } else {
        long r = i;
        for (int d = (int)l->rank - 1; d >= 0; d--) {
            long q = r / l->shape[d];
            off += (r - q * l->shape[d]) * l->strides[d];
            r = q;
        }
    }
    return off;
}
