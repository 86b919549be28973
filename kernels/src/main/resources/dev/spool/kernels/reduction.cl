/*
 * Spool reduction kernels: SUM, PROD, MAX, MIN and ARGMAX, ARGMIN over the trailing dims of a
 * strided view. The host describes the view as two layouts: `outer` (the kept dims, with the
 * view's offset) addresses the start of each output row, `inner` (the reduced dims, offset 0)
 * the elements of a row. A row of `len` elements is split into `chunks` chunks of `chunkLen`.
 *
 * Two strategies, picked by the host per device type:
 *   reduce_OP_chunks: one work-item per (row, chunk), reducing its contiguous block
 *                     sequentially (float16-style vector loads when rows are dense): CPUs.
 *   reduce_OP_wg:     one work-group per (row, chunk) with a tree in local memory: GPUs.
 *   reduce_OP_columns: 16 neighbouring rows per work-item along a strided reduced axis: CPUs.
 * Partial results (chunks > 1) are reduced by a second pass; ARGMAX/ARGMIN carry (value,
 * index) pairs, combined by reduce_ARGOP_partials.
 *
 * A work-item of reduce_OP_chunks and of reduce_OP_columns is a function (reduce_OP_chunk,
 * reduce_OP_column16), which the kernels call: a traced function's grouped reductions run
 * several independent single-pass reductions in one launch of a kernel the host generates
 * (reduce_group, after this file built with -DSPOOL_FUNCTIONS_ONLY, which leaves the kernels
 * out), and each member there is computed by the same function as alone, to the bit.
 *
 * Semantics (dev.spool.spi.ReduceOp): empty SUM 0, PROD 1, MAX -inf or the type's minimum,
 * MIN +inf or the type's maximum; MAX/MIN propagate NaN; ARG ops return the first extreme
 * index, the first NaN winning, and -1 for an empty row.
 *
 * Types: -DT=... flags as in elementwise.cl for the input (numeric types only); -DACC= the
 * accumulator type (float32 sums and products accumulate in double where the device has
 * cl_khr_fp64, as the CPU backend does, with -DACC_IS_DOUBLE=1); -DOUT= the type value
 * reductions write (ACC for partial results that a second pass reduces, else T).
 */
#ifndef T
#define T float
#define T_IS_FP 1
#endif
#ifndef ACC
#define ACC T
#endif
#ifndef OUT
#define OUT T
#endif
#if defined(T_IS_DOUBLE) || defined(ACC_IS_DOUBLE)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

/* layout_t, layout_offset and SPOOL_CAT come from prelude.cl, which the host prepends. */

#define V16 SPOOL_CAT(T, 16)
#define ACC16 SPOOL_CAT(ACC, 16)
#define TO_ACC16(v) SPOOL_CAT(convert_, ACC16)(v)

#ifdef T_IS_INT
#if T_IS_INT == 64
#define UT ulong
#define T_LOWEST LONG_MIN
#define T_HIGHEST LONG_MAX
#else
#define UT uint
#define T_LOWEST INT_MIN
#define T_HIGHEST INT_MAX
#endif
#define UV16 SPOOL_CAT(UT, 16)
/* wrapping sums and products: signed overflow is undefined in OpenCL C (ACC is T for ints) */
#define WRAP(expr) SPOOL_CAT(as_, T)((UT)(expr))
#define VWRAP(expr) SPOOL_CAT(as_, V16)(expr)
#else
#define T_LOWEST (-(ACC)INFINITY)
#define T_HIGHEST ((ACC)INFINITY)
#endif

/* ---- identities and combiners on ACC, scalar (comb_) and 16-wide (vcomb_) ------------ */
#define IDENT_SUM ((ACC)0)
#define IDENT_PROD ((ACC)1)
#define IDENT_MAX T_LOWEST
#define IDENT_MIN T_HIGHEST

#ifdef T_IS_FP
ACC comb_SUM(ACC a, ACC b) { return a + b; }
ACC comb_PROD(ACC a, ACC b) { return a * b; }
ACC16 vcomb_SUM(ACC16 a, ACC16 b) { return a + b; }
ACC16 vcomb_PROD(ACC16 a, ACC16 b) { return a * b; }
/* NaN wins; -0 orders below +0 (as elementwise MAX/MIN) */
ACC comb_MAX(ACC a, ACC b) {
    if (isnan(a) || isnan(b)) {
        return a + b;
    }
    if (a == b) {
        return signbit(a) ? b : a;
    }
    return a > b ? a : b;
}
ACC comb_MIN(ACC a, ACC b) {
    if (isnan(a) || isnan(b)) {
        return a + b;
    }
    if (a == b) {
        return signbit(a) ? a : b;
    }
    return a < b ? a : b;
}
ACC16 vcomb_MAX(ACC16 a, ACC16 b) {
    return select(a, b, isgreater(b, a) | isnan(b) | (isequal(b, a) & signbit(a)));
}
ACC16 vcomb_MIN(ACC16 a, ACC16 b) {
    return select(a, b, isless(b, a) | isnan(b) | (isequal(b, a) & signbit(b)));
}
#else
ACC comb_SUM(ACC a, ACC b) { return WRAP((UT)a + (UT)b); }
ACC comb_PROD(ACC a, ACC b) { return WRAP((UT)a * (UT)b); }
ACC16 vcomb_SUM(ACC16 a, ACC16 b) { return VWRAP(SPOOL_CAT(as_, UV16)(a) + SPOOL_CAT(as_, UV16)(b)); }
ACC16 vcomb_PROD(ACC16 a, ACC16 b) { return VWRAP(SPOOL_CAT(as_, UV16)(a) * SPOOL_CAT(as_, UV16)(b)); }
ACC comb_MAX(ACC a, ACC b) { return a > b ? a : b; }
ACC comb_MIN(ACC a, ACC b) { return a < b ? a : b; }
ACC16 vcomb_MAX(ACC16 a, ACC16 b) { return select(a, b, b > a); }
ACC16 vcomb_MIN(ACC16 a, ACC16 b) { return select(a, b, b < a); }
#endif

/* Whether (vb, jb) should replace (va, ja) in an ARGMAX (max != 0) or ARGMIN: j < 0 marks "no
 * element yet"; a NaN beats any number and the first NaN wins; ties go to the lower index. */
int better_arg(int max, T va, long ja, T vb, long jb) {
    if (jb < 0) {
        return 0;
    }
    if (ja < 0) {
        return 1;
    }
#ifdef T_IS_FP
    if (isnan(va)) {
        return isnan(vb) && jb < ja;
    }
    if (isnan(vb)) {
        return 1;
    }
#endif
    return (max ? vb > va : vb < va) || (vb == va && jb < ja);
}
int better_ARGMAX(T va, long ja, T vb, long jb) { return better_arg(1, va, ja, vb, jb); }
int better_ARGMIN(T va, long ja, T vb, long jb) { return better_arg(0, va, ja, vb, jb); }

/* Rows whose reduced elements are dense (stride 1) take the vector path. */
int dense_rows(const layout_t* inner) {
    return inner->rank == 0 || (inner->rank == 1 && inner->strides[0] == 1);
}

/* reduce_OP_chunks reads dense runs 16 at a time on CPU devices, the builds with SPOOL_CHUNK > 1
 * (prelude.cl): explicit SIMD inside the work-item. GPUs run it only for short rows, where each
 * work-item is one lane and the 16-wide accumulators only cost registers (clang for gfx90a,
 * float32 MAX accumulated in double: 112 VGPRs, 4 waves per SIMD, against 26 and 8 without). */
#if SPOOL_CHUNK > 1
#define REDUCE_VLOAD16 1
#else
#define REDUCE_VLOAD16 0
#endif

/* ---- value reductions --------------------------------------------------------------------- */
/* Work-item g of reduce_OP_chunks: chunk g % chunks of row g / chunks. */
#define REDUCE_CHUNK(OP)                                                                        \
SPOOL_INLINE void reduce_##OP##_chunk(global const T* x, const layout_t* outer, const layout_t* inner, \
                                      long rows, long len, long chunks, long chunkLen,          \
                                      global OUT* out, long g) {                                \
    if (g < rows * chunks) {                                                                    \
        long row = g / chunks;                                                                  \
        long start = (g - row * chunks) * chunkLen;                                             \
        long end = min(len, start + chunkLen);                                                  \
        long base = layout_offset(outer, row);                                                  \
        ACC acc = IDENT_##OP;                                                                     \
        long j = start;                                                                         \
        if (dense_rows(inner)) {                                                                \
            if (REDUCE_VLOAD16 && end - start >= 32) {                                          \
                ACC16 v = (ACC16)(IDENT_##OP);                                                      \
                for (; j + 16 <= end; j += 16) {                                                \
                    v = vcomb_##OP(v, TO_ACC16(vload16(0, x + base + j)));                                \
                }                                                                               \
                ACC lanes[16];                                                                    \
                vstore16(v, 0, lanes);                                                          \
                for (int k = 0; k < 16; k++) {                                                  \
                    acc = comb_##OP(acc, lanes[k]);                                             \
                }                                                                               \
            }                                                                                   \
            for (; j < end; j++) {                                                              \
                acc = comb_##OP(acc, (ACC)x[base + j]);                                              \
            }                                                                                   \
        } else {                                                                                \
            for (; j < end; j++) {                                                              \
                acc = comb_##OP(acc, (ACC)x[base + layout_offset(inner, j)]);                        \
            }                                                                                   \
        }                                                                                       \
        out[g] = (OUT)acc;                                                                           \
    }                                                                                           \
}

#define REDUCE(OP)                                                                              \
kernel void reduce_##OP##_chunks(global const T* x, layout_t outer, layout_t inner, long rows, \
                                 long len, long chunks, long chunkLen, global OUT* out) {         \
    reduce_##OP##_chunk(x, &outer, &inner, rows, len, chunks, chunkLen, out, (long)get_global_id(0)); \
}                                                                                               \
kernel void reduce_##OP##_wg(global const T* x, layout_t outer, layout_t inner, long rows,     \
                             long len, long chunks, long chunkLen, global OUT* out,               \
                             local ACC* scratch) {                                                \
    long g = (long)get_group_id(0);                                                             \
    int lid = (int)get_local_id(0);                                                             \
    int ls = (int)get_local_size(0);                                                            \
    long row = g / chunks;                                                                      \
    long start = (g - row * chunks) * chunkLen;                                                 \
    long end = min(len, start + chunkLen);                                                      \
    long base = layout_offset(&outer, row);                                                     \
    ACC acc = IDENT_##OP;                                                                         \
    if (dense_rows(&inner)) {                                                                   \
        for (long j = start + lid; j < end; j += ls) {                                          \
            acc = comb_##OP(acc, (ACC)x[base + j]);                                                  \
        }                                                                                       \
    } else {                                                                                    \
        for (long j = start + lid; j < end; j += ls) {                                          \
            acc = comb_##OP(acc, (ACC)x[base + layout_offset(&inner, j)]);                           \
        }                                                                                       \
    }                                                                                           \
    scratch[lid] = acc;                                                                         \
    barrier(CLK_LOCAL_MEM_FENCE);                                                               \
    for (int s = ls >> 1; s > 0; s >>= 1) {                                                     \
        if (lid < s) {                                                                          \
            scratch[lid] = comb_##OP(scratch[lid], scratch[lid + s]);                           \
        }                                                                                       \
        barrier(CLK_LOCAL_MEM_FENCE);                                                           \
    }                                                                                           \
    if (lid == 0) {                                                                             \
        out[g] = (OUT)scratch[0];                                                                    \
    }                                                                                           \
}

/* CPU devices, rows that lie side by side (outer stride 1) reduced along a strided axis: the
 * column sums of a bias gradient. Each work-item reduces 16 neighbouring rows at once, walking
 * the reduced axis with one 16-wide load per step, where reduce_OP_chunks would read one element
 * per cache line in each work-item (PoCL, [4096, 1024] along axis 0: 19 ms, 9x the cpu device).
 * Each row is still reduced in order, one element after the other. reduce_OP_column16 is
 * work-item g: rows 16g to 16g + 15. */
#define REDUCE_COLUMN16(OP)                                                                    \
SPOOL_INLINE void reduce_##OP##_column16(global const T* x, long base, long stride, long rows, \
                                         long len, global OUT* out, long g) {                  \
    long r0 = g * 16;                                                                          \
    if (r0 + 16 <= rows) {                                                                     \
        ACC16 v = (ACC16)(IDENT_##OP);                                                         \
        for (long j = 0; j < len; j++) {                                                       \
            v = vcomb_##OP(v, TO_ACC16(vload16(0, x + base + r0 + j * stride)));               \
        }                                                                                      \
        ACC lanes[16];                                                                         \
        vstore16(v, 0, lanes);                                                                 \
        for (int k = 0; k < 16; k++) {                                                         \
            out[r0 + k] = (OUT)lanes[k];                                                       \
        }                                                                                      \
    } else {                                                                                   \
        for (long r = r0; r < rows; r++) {                                                     \
            ACC acc = IDENT_##OP;                                                              \
            for (long j = 0; j < len; j++) {                                                   \
                acc = comb_##OP(acc, (ACC)x[base + r + j * stride]);                           \
            }                                                                                  \
            out[r] = (OUT)acc;                                                                 \
        }                                                                                      \
    }                                                                                          \
}
#define REDUCE_COLUMNS(OP)                                                                     \
kernel void reduce_##OP##_columns(global const T* x, long base, long stride, long rows,       \
                                  long len, global OUT* out) {                                 \
    reduce_##OP##_column16(x, base, stride, rows, len, out, (long)get_global_id(0));            \
}

/* A one-dimensional layout (the others set to a size-1 dimension): a reduce_group member's outer
 * or inner layout, which the host passes as offset, size and stride. Filled through a pointer:
 * an inlined function that returns a struct leaves llvm.experimental.noalias.scope.decl calls
 * in the program at -O0, which Oclgrind cannot run. */
SPOOL_INLINE void layout_1d(layout_t* l, long offset, long n, long stride) {
    for (int d = 0; d < 8; d++) {
        l->shape[d] = 1;
        l->strides[d] = 0;
    }
    l->rank = 1;
    l->offset = offset;
    l->shape[0] = n;
    l->strides[0] = stride;
}

REDUCE_CHUNK(SUM) REDUCE_CHUNK(PROD) REDUCE_CHUNK(MAX) REDUCE_CHUNK(MIN)
REDUCE_COLUMN16(SUM) REDUCE_COLUMN16(PROD) REDUCE_COLUMN16(MAX) REDUCE_COLUMN16(MIN)
#ifndef SPOOL_FUNCTIONS_ONLY
REDUCE(SUM) REDUCE(PROD) REDUCE(MAX) REDUCE(MIN)
REDUCE_COLUMNS(SUM) REDUCE_COLUMNS(PROD) REDUCE_COLUMNS(MAX) REDUCE_COLUMNS(MIN)

/* ---- index reductions --------------------------------------------------------------------- */
#define ARG_REDUCE(OP)                                                                          \
kernel void reduce_##OP##_chunks(global const T* x, layout_t outer, layout_t inner, long rows, \
                                 long len, long chunks, long chunkLen, global T* vals,          \
                                 global long* idx) {                                            \
    long g = (long)get_global_id(0);                                                            \
    if (g < rows * chunks) {                                                                    \
        long row = g / chunks;                                                                  \
        long start = (g - row * chunks) * chunkLen;                                             \
        long end = min(len, start + chunkLen);                                                  \
        long base = layout_offset(&outer, row);                                                 \
        T best = (T)0;                                                                          \
        long bj = -1;                                                                           \
        for (long j = start; j < end; j++) {                                                    \
            T v = x[base + layout_offset(&inner, j)];                                           \
            if (better_##OP(best, bj, v, j)) {                                                  \
                best = v;                                                                       \
                bj = j;                                                                         \
            }                                                                                   \
        }                                                                                       \
        vals[g] = best;                                                                         \
        idx[g] = bj;                                                                            \
    }                                                                                           \
}                                                                                               \
kernel void reduce_##OP##_wg(global const T* x, layout_t outer, layout_t inner, long rows,     \
                             long len, long chunks, long chunkLen, global T* vals,              \
                             global long* idx, local T* sv, local long* si) {                   \
    long g = (long)get_group_id(0);                                                             \
    int lid = (int)get_local_id(0);                                                             \
    int ls = (int)get_local_size(0);                                                            \
    long row = g / chunks;                                                                      \
    long start = (g - row * chunks) * chunkLen;                                                 \
    long end = min(len, start + chunkLen);                                                      \
    long base = layout_offset(&outer, row);                                                     \
    T best = (T)0;                                                                              \
    long bj = -1;                                                                               \
    for (long j = start + lid; j < end; j += ls) {                                              \
        T v = x[base + layout_offset(&inner, j)];                                               \
        if (better_##OP(best, bj, v, j)) {                                                      \
            best = v;                                                                           \
            bj = j;                                                                             \
        }                                                                                       \
    }                                                                                           \
    sv[lid] = best;                                                                             \
    si[lid] = bj;                                                                               \
    barrier(CLK_LOCAL_MEM_FENCE);                                                               \
    for (int s = ls >> 1; s > 0; s >>= 1) {                                                     \
        if (lid < s && better_##OP(sv[lid], si[lid], sv[lid + s], si[lid + s])) {               \
            sv[lid] = sv[lid + s];                                                              \
            si[lid] = si[lid + s];                                                              \
        }                                                                                       \
        barrier(CLK_LOCAL_MEM_FENCE);                                                           \
    }                                                                                           \
    if (lid == 0) {                                                                             \
        vals[g] = sv[0];                                                                        \
        idx[g] = si[0];                                                                         \
    }                                                                                           \
}                                                                                               \
kernel void reduce_##OP##_partials(global const T* vals, global const long* idx, long rows,    \
                                   long chunks, global long* out) {                             \
    long row = (long)get_global_id(0);                                                          \
    if (row < rows) {                                                                           \
        T best = (T)0;                                                                          \
        long bj = -1;                                                                           \
        for (long c = row * chunks; c < (row + 1) * chunks; c++) {                              \
            if (better_##OP(best, bj, vals[c], idx[c])) {                                       \
                best = vals[c];                                                                 \
                bj = idx[c];                                                                    \
            }                                                                                   \
        }                                                                                       \
        out[row] = bj;                                                                          \
    }                                                                                           \
}

ARG_REDUCE(ARGMAX) ARG_REDUCE(ARGMIN)
#endif /* SPOOL_FUNCTIONS_ONLY */
