/*
 * Spool batched matrix product: C[z] = A[z] @ B[z] with A [M, K] and B [K, N] strided (a
 * transposed operand is just swapped strides), C contiguous [batch, M, N]. The batch dims of
 * A and B are described by layouts (broadcast batches have stride 0); get_global_id(2) is the
 * batch index. K == 0 gives zeros.
 *
 *   matmul_tiled:  for GPUs: gemm.cl's tiled loop, A and B read where they lie.
 *   matmul_rows:   for CPUs. Each work-item computes ROWS outputs of one column of C; work-items
 *                  of a group run along N, so B loads are contiguous and vectorise across them.
 *   matmul_vec:    for CPUs. Each work-item computes ROWS x VW outputs (VW consecutive columns)
 *                  with VW-wide vector loads of B and vector accumulators: explicit SIMD, which
 *                  a CPU runtime cannot derive across work-items whose bodies loop over K.
 *   matmul_packed: for CPUs: gemm.cl's packed loop; a transposed or strided B is read once per
 *                  slice, into the panels, and A in place.
 *
 * The host builds it after gemm.cl (tile sizes, VT, the tile loops) and the prelude (layout_t,
 * layout_offset, SPOOL_CAT). -DT=float -DT_IS_FP=1 (default) or -DT=double -DT_IS_FP=1
 * -DT_IS_DOUBLE=1; tile sizes are -D options too (gemm.cl).
 *
 * Epilogues (a traced function's matmul fusion): built with -DMM_EPI_BIN=ADD (a bin_ function of
 * elementwise.cl, whose functions then come first) and optionally -DMM_EPI_UN=RELU (an op_
 * function), every kernel takes E and its layout el after K, and stores element i of C as
 * op(bin(product, E[layout_offset(&el, i)])): what matmul then binary (then unary) compute, as
 * the product is stored. The product itself is computed exactly as without an epilogue. Such a
 * program is built for one kernel: -DMM_ONLY -DMM_ONLY_matmul_vec (say) leaves the others out,
 * which takes most of its build time off (PoCL: seconds per program).
 */
#ifdef MM_EPI_BIN
#define MM_EPI_ARGS , global const T* E, layout_t el
#ifdef MM_EPI_UN
#define MM_EPI_OF(c, e) SPOOL_CAT(op_, MM_EPI_UN)(SPOOL_CAT(bin_, MM_EPI_BIN)((c), (e)))
#else
#define MM_EPI_OF(c, e) SPOOL_CAT(bin_, MM_EPI_BIN)((c), (e))
#endif
#define MM_EPI(c, i) MM_EPI_OF(c, E[layout_offset(&el, (i))])
#else
#define MM_EPI_ARGS
#define MM_EPI(c, i) (c)
#endif

#ifdef MM_EPI_BIN
#define MM_EPI_INNER(d)                                                                       \
    if ((d) == el->rank - 1) {                                                                \
        *size = el->shape[d];                                                                 \
        *stride = el->strides[d];                                                             \
    }
/* The innermost dimension of E's layout, size and stride; a rank-0 layout (one element for all)
 * as stride 0 over every index. Constant offsets into the layout, as layout_offset reads it. */
SPOOL_INLINE void mm_epi_inner(const layout_t* el, long* size, long* stride) {
    *size = LONG_MAX;
    *stride = 0;
    MM_EPI_INNER(7) MM_EPI_INNER(6) MM_EPI_INNER(5) MM_EPI_INNER(4)
    MM_EPI_INNER(3) MM_EPI_INNER(2) MM_EPI_INNER(1) MM_EPI_INNER(0)
}

/* Stores VW consecutive elements of C from index i0 as MM_EPI of acc. Where E's VW elements
 * lie along its innermost dimension, contiguous or broadcast (a bias, a same-shape operand, a
 * scalar), they are one vector load or one broadcast and the epilogue straight-line code the
 * compiler vectorises; element by element through layout_offset it was scalar: a matmul with
 * a multiply epilogue took 2.5x the plain one on PoCL. The same op per element either way. */
SPOOL_INLINE void mm_epi_store(global T* C, long i0, long n, long N, VT acc, global const T* E,
                               const layout_t* el, long isize, long istride) {
    T out[VW];
    VSTORE(acc, 0, out);
    /* where in E's innermost dimension i0 falls, without a 64-bit division per store where
       that is known: anywhere for rank <= 1, column n when that dimension is a row of C */
    const long at = el->rank <= 1 ? 0 : isize == N ? n : i0 % isize;
    if ((istride == 0 || istride == 1) && at + VW <= isize) {
        const long e0 = layout_offset(el, i0);
        T ev[VW];
        VSTORE(istride == 1 ? VLOAD(0, E + e0) : (VT)(E[e0]), 0, ev);
        #pragma unroll
        for (int v = 0; v < VW; v++) {
            out[v] = MM_EPI_OF(out[v], ev[v]);
        }
    } else {
        #pragma unroll
        for (int v = 0; v < VW; v++) {
            out[v] = MM_EPI_OF(out[v], E[layout_offset(el, i0 + v)]);
        }
    }
    VSTORE(VLOAD(0, out), 0, C + i0);
}
#endif

#if !defined(MM_ONLY) || defined(MM_ONLY_matmul_tiled)
kernel __attribute__((reqd_work_group_size(RTSN, RTSM, 1)))
void matmul_tiled(global const T* A, layout_t ab, long sam, long sak,
                  global const T* B, layout_t bb, long sbk, long sbn,
                  global T* C, long M, long N, long K MM_EPI_ARGS) {
    local T As[TSK][TSM + 1];
    local T Bs[TSK][TSN + 1];
    const int tn = (int)get_local_id(0);
    const int tm = (int)get_local_id(1);
    const int tid = tm * RTSN + tn;
    const long n0 = (long)get_group_id(0) * TSN;
    const long m0 = (long)get_group_id(1) * TSM;
    const long z = (long)get_global_id(2);
    const long abase = layout_offset(&ab, z);
    const long bbase = layout_offset(&bb, z);
    /* consecutive work-items load consecutive addresses whichever way A is laid out */
    const int aAlongK = sak == 1;

    T acc[WPTM][WPTN];
    tiled_zero(acc);
    for (long k0 = 0; k0 < K; k0 += TSK) {
        for (int e = tid; e < TSM * TSK; e += TILED_ITEMS) {
            int mm = aAlongK ? e / TSK : e % TSM;
            int kk = aAlongK ? e % TSK : e / TSM;
            long m = m0 + mm;
            long k = k0 + kk;
            As[kk][mm] = m < M && k < K ? A[abase + m * sam + k * sak] : (T)0;
        }
        tiled_load_b(Bs, B, bbase, sbk, sbn, k0, n0, K, N, tid);
        barrier(CLK_LOCAL_MEM_FENCE);
        tiled_multiply(acc, As, Bs, tm, tn);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
#ifdef MM_EPI_BIN
    const long cbase = z * M * N;
    #pragma unroll
    for (int wm = 0; wm < WPTM; wm++) {
        const long m = m0 + tm + wm * RTSM;
        #pragma unroll
        for (int wn = 0; wn < WPTN; wn++) {
            const long n = n0 + tn + wn * RTSN;
            if (m < M && n < N) {
                const long i = cbase + m * N + n;
                C[i] = MM_EPI(acc[wm][wn], i);
            }
        }
    }
#else
    tiled_store(C, z * M * N, N, m0, n0, M, N, acc, tm, tn);
#endif
}
#endif

#if !defined(MM_ONLY) || defined(MM_ONLY_matmul_rows)
kernel void matmul_rows(global const T* A, layout_t ab, long sam, long sak,
                        global const T* B, layout_t bb, long sbk, long sbn,
                        global T* C, long M, long N, long K MM_EPI_ARGS) {
    const long n = (long)get_global_id(0);
    const long mb = (long)get_global_id(1) * ROWS;
    const long z = (long)get_global_id(2);
    if (n < N && mb < M) {
        const long abase = layout_offset(&ab, z);
        const long bcol = layout_offset(&bb, z) + n * sbn;
        long arow[ROWS];
        T acc[ROWS];
        #pragma unroll
        for (int r = 0; r < ROWS; r++) {
            /* rows past M repeat the last row: loads stay in bounds, stores are skipped */
            arow[r] = abase + min(mb + r, M - 1) * sam;
            acc[r] = (T)0;
        }
        for (long k = 0; k < K; k++) {
            T b = B[bcol + k * sbk];
            #pragma unroll
            for (int r = 0; r < ROWS; r++) {
                acc[r] += A[arow[r] + k * sak] * b;
            }
        }
        const long cbase = z * M * N;
        #pragma unroll
        for (int r = 0; r < ROWS; r++) {
            if (mb + r < M) {
                const long i = cbase + (mb + r) * N + n;
                C[i] = MM_EPI(acc[r], i);
            }
        }
    }
}
#endif

#if !defined(MM_ONLY) || defined(MM_ONLY_matmul_vec)
kernel void matmul_vec(global const T* A, layout_t ab, long sam, long sak,
                       global const T* B, layout_t bb, long sbk, long sbn,
                       global T* C, long M, long N, long K MM_EPI_ARGS) {
    const long n0 = (long)get_global_id(0) * VW;
    const long mb = (long)get_global_id(1) * ROWS;
    const long z = (long)get_global_id(2);
    if (n0 >= N || mb >= M) {
        return;
    }
    const long abase = layout_offset(&ab, z);
    const long bbase = layout_offset(&bb, z);
    long arow[ROWS];
    VT acc[ROWS];
    #pragma unroll
    for (int r = 0; r < ROWS; r++) {
        /* rows past M repeat the last row: loads stay in bounds, stores are skipped */
        arow[r] = abase + min(mb + r, M - 1) * sam;
        acc[r] = (VT)0;
    }
    if (n0 + VW <= N && sbn == 1) {
        /* the usual case: VW columns of a row-major B in one load */
        for (long k = 0; k < K; k++) {
            VT b = VLOAD(0, B + bbase + k * sbk + n0);
            #pragma unroll
            for (int r = 0; r < ROWS; r++) {
                acc[r] += A[arow[r] + k * sak] * b;
            }
        }
    } else {
        /* the last columns, or a transposed B: element by element, zeros past N */
        for (long k = 0; k < K; k++) {
            T bs[VW];
            #pragma unroll
            for (int v = 0; v < VW; v++) {
                bs[v] = n0 + v < N ? B[bbase + k * sbk + (n0 + v) * sbn] : (T)0;
            }
            VT b = VLOAD(0, bs);
            #pragma unroll
            for (int r = 0; r < ROWS; r++) {
                acc[r] += A[arow[r] + k * sak] * b;
            }
        }
    }
    const long cbase = z * M * N;
#ifdef MM_EPI_BIN
    long isize, istride;
    mm_epi_inner(&el, &isize, &istride);
#endif
    #pragma unroll
    for (int r = 0; r < ROWS; r++) {
        if (mb + r < M) {
            if (n0 + VW <= N) {
#ifdef MM_EPI_BIN
                mm_epi_store(C, cbase + (mb + r) * N + n0, n0, N, acc[r], E, &el, isize, istride);
#else
                VSTORE(acc[r], 0, C + cbase + (mb + r) * N + n0);
#endif
            } else {
                T out[VW];
                VSTORE(acc[r], 0, out);
                for (int v = 0; v < VW && n0 + v < N; v++) {
                    const long i = cbase + (mb + r) * N + n0 + v;
                    C[i] = MM_EPI(out[v], i);
                }
            }
        }
    }
}
#endif

#if !defined(MM_ONLY) || defined(MM_ONLY_matmul_packed)
kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void matmul_packed(global const T* A, layout_t ab, long sam, long sak,
                   global const T* B, layout_t bb, long sbk, long sbn,
                   global T* C, long M, long N, long K MM_EPI_ARGS) {
    /* NB / VW panels, each [KC][VW]: the slice of B this block multiplies */
    local T Bp[KC * NB];
    const long n0 = (long)get_group_id(0) * NB;
    const long m0 = (long)get_group_id(1) * MB;
    const long z = (long)get_global_id(2);
    const long abase = layout_offset(&ab, z);
    const long bbase = layout_offset(&bb, z);
    const long cbase = z * M * N;
#ifdef MM_EPI_BIN
    long isize, istride;
    mm_epi_inner(&el, &isize, &istride);
#endif
    const int nb = (int)min((long)NB, N - n0);
    const int mb = (int)min((long)MB, M - m0);
    /* one pass when K == 0, which stores zeros */
    for (long k0 = 0; k0 == 0 || k0 < K; k0 += KC) {
        const int kc = (int)min((long)KC, K - k0);
        packed_pack_b(Bp, B, bbase, sbk, sbn, k0, kc, n0, nb, N);
        for (int p = 0; p * VW < nb; p++) {
            local const T* panel = Bp + p * KC * VW;
            const long nc = n0 + p * VW;
            for (int i = 0; i < mb; i += ROWS) {
                global const T* a[ROWS];
                VT acc[ROWS];
                #pragma unroll
                for (int r = 0; r < ROWS; r++) {
                    /* rows past the block repeat its last row: loads stay in bounds, stores are skipped */
                    a[r] = A + abase + (m0 + min(i + r, mb - 1)) * sam + k0 * sak;
                    acc[r] = (VT)0;
                }
                packed_tile(acc, a, sak, 0, panel, kc);
#ifdef MM_EPI_BIN
                if (k0 + KC >= K) { /* the last slice: the epilogue as the product is stored */
                    #pragma unroll
                    for (int r = 0; r < ROWS; r++) {
                        const long e0 = cbase + (m0 + i + r) * N + nc;
                        if (i + r < mb && nc + VW <= N) {
                            /* the sum rounded first, as a store of it then a pass would */
                            mm_epi_store(C, e0, nc, N, k0 > 0 ? acc[r] + VLOAD(0, C + e0) : acc[r], E, &el,
                                         isize, istride);
                        } else if (i + r < mb) {
                            T out[VW];
                            VSTORE(acc[r], 0, out);
                            for (int v = 0; v < VW && nc + v < N; v++) {
                                C[e0 + v] = MM_EPI(k0 > 0 ? C[e0 + v] + out[v] : out[v], e0 + v);
                            }
                        }
                    }
                } else
#endif
                packed_store(C, cbase + (m0 + i) * N, N, mb - i, nc, N, acc, k0 > 0);
            }
        }
    }
}
#endif
