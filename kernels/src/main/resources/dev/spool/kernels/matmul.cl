/*
 * Spool batched matrix product: C[z] = A[z] @ B[z] with A [M, K] and B [K, N] strided (a
 * transposed operand is just swapped strides), C contiguous [batch, M, N]. The batch dims of
 * A and B are described by layouts (broadcast batches have stride 0); get_global_id(2) is the
 * batch index. K == 0 gives zeros.
 *
 *   matmul_tiled: for GPUs. A work-group computes a TSM x TSN tile of C, staging TSM x TSK
 *                 and TSK x TSN tiles of A and B in local memory; each work-item accumulates
 *                 WPTM x WPTN outputs in registers. Work-group size (TSN/WPTN, TSM/WPTM, 1).
 *   matmul_rows:  for CPUs. Each work-item computes ROWS outputs of one column of C; work-items
 *                 of a group run along N, so B loads are contiguous and vectorise across them.
 *   matmul_vec:   for CPUs. Each work-item computes ROWS x VW outputs (VW consecutive columns)
 *                 with VW-wide vector loads of B and vector accumulators: explicit SIMD, which
 *                 a CPU runtime cannot derive across work-items whose bodies loop over K.
 *   matmul_packed: for CPUs, in the structure of GotoBLAS/BLIS. A one-item work-group computes
 *                 an MB x NB block of C, K in KC-deep slices: each slice of B is packed into
 *                 local memory as VW-wide panels (so a transposed or strided B is read once,
 *                 and the inner loop streams contiguous memory that stays in L1), then ROWS x VW
 *                 register tiles accumulate over the slice and add into C.
 *
 * The fixed-count loops over a work-item's rows and columns carry #pragma unroll: PoCL's LLVM
 * left them rolled, with the accumulators on the stack (matmul_vec 4x8 on PoCL, 128x784x256:
 * 2.2 ms rolled, 0.9 ms unrolled).
 *
 * -DT=float -DT_IS_FP=1 (default) or -DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1; tile sizes are
 * -D options too, with the defaults below.
 */
#ifndef T
#define T float
#define T_IS_FP 1
#endif
#ifdef T_IS_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#ifndef TSM
#define TSM 64
#endif
#ifndef TSN
#define TSN 64
#endif
#ifndef TSK
#define TSK 16
#endif
#ifndef WPTM
#define WPTM 4
#endif
#ifndef WPTN
#define WPTN 4
#endif
#ifndef ROWS
#define ROWS 4
#endif
#ifndef VW
#define VW 8
#endif
/* The packed kernel's block: the host always passes its own (GemmConfig). These defaults also
 * size matmul_packed's local array in the programs built for the other kernels, where it must
 * still fit every device: 64 x 32 elements, 16 KiB in float64 (OpenCL guarantees 32 KiB of local
 * memory). 256 x 64 (64 KiB in float32, 128 KiB in float64) made clang for AMD GPUs reject every
 * float64 matmul program (docs/GPU-RESOURCES.md), and is more than NVIDIA's 48 KiB. */
#ifndef MB
#define MB 48
#endif
#ifndef NB
#define NB 32
#endif
#ifndef KC
#define KC 64
#endif
#define VT SPOOL_CAT(T, VW)
#define VLOAD SPOOL_CAT(vload, VW)
#define VSTORE SPOOL_CAT(vstore, VW)
#define RTSM (TSM / WPTM)
#define RTSN (TSN / WPTN)

/* layout_t, layout_offset and SPOOL_CAT come from prelude.cl, which the host prepends. */

kernel __attribute__((reqd_work_group_size(RTSN, RTSM, 1)))
void matmul_tiled(global const T* A, layout_t ab, long sam, long sak,
                  global const T* B, layout_t bb, long sbk, long sbn,
                  global T* C, long M, long N, long K) {
    /* +1 column of padding: the tile loads below write columns of these arrays */
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
    /* consecutive work-items load consecutive addresses whichever way an operand is laid out */
    const int aAlongK = sak == 1;
    const int bAlongN = sbn == 1 || sbk != 1;

    T acc[WPTM][WPTN];
    #pragma unroll
    for (int wm = 0; wm < WPTM; wm++) {
        #pragma unroll
        for (int wn = 0; wn < WPTN; wn++) {
            acc[wm][wn] = (T)0;
        }
    }
    for (long k0 = 0; k0 < K; k0 += TSK) {
        for (int e = tid; e < TSM * TSK; e += RTSM * RTSN) {
            int mm = aAlongK ? e / TSK : e % TSM;
            int kk = aAlongK ? e % TSK : e / TSM;
            long m = m0 + mm;
            long k = k0 + kk;
            As[kk][mm] = m < M && k < K ? A[abase + m * sam + k * sak] : (T)0;
        }
        for (int e = tid; e < TSK * TSN; e += RTSM * RTSN) {
            int nn = bAlongN ? e % TSN : e / TSK;
            int kk = bAlongN ? e / TSN : e % TSK;
            long n = n0 + nn;
            long k = k0 + kk;
            Bs[kk][nn] = n < N && k < K ? B[bbase + k * sbk + n * sbn] : (T)0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TSK; kk++) {
            T b[WPTN];
            #pragma unroll
            for (int wn = 0; wn < WPTN; wn++) {
                b[wn] = Bs[kk][tn + wn * RTSN];
            }
            #pragma unroll
            for (int wm = 0; wm < WPTM; wm++) {
                T a = As[kk][tm + wm * RTSM];
                #pragma unroll
                for (int wn = 0; wn < WPTN; wn++) {
                    acc[wm][wn] += a * b[wn];
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const long cbase = z * M * N;
    #pragma unroll
    for (int wm = 0; wm < WPTM; wm++) {
        long m = m0 + tm + wm * RTSM;
        #pragma unroll
        for (int wn = 0; wn < WPTN; wn++) {
            long n = n0 + tn + wn * RTSN;
            if (m < M && n < N) {
                C[cbase + m * N + n] = acc[wm][wn];
            }
        }
    }
}

kernel void matmul_rows(global const T* A, layout_t ab, long sam, long sak,
                        global const T* B, layout_t bb, long sbk, long sbn,
                        global T* C, long M, long N, long K) {
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
                C[cbase + (mb + r) * N + n] = acc[r];
            }
        }
    }
}

kernel void matmul_vec(global const T* A, layout_t ab, long sam, long sak,
                       global const T* B, layout_t bb, long sbk, long sbn,
                       global T* C, long M, long N, long K) {
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
    #pragma unroll
    for (int r = 0; r < ROWS; r++) {
        if (mb + r < M) {
            if (n0 + VW <= N) {
                VSTORE(acc[r], 0, C + cbase + (mb + r) * N + n0);
            } else {
                T out[VW];
                VSTORE(acc[r], 0, out);
                for (int v = 0; v < VW && n0 + v < N; v++) {
                    C[cbase + (mb + r) * N + n0 + v] = out[v];
                }
            }
        }
    }
}

kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void matmul_packed(global const T* A, layout_t ab, long sam, long sak,
                   global const T* B, layout_t bb, long sbk, long sbn,
                   global T* C, long M, long N, long K) {
    /* NB / VW panels, each [KC][VW]: the slice of B this block multiplies */
    local T Bp[KC * NB];
    const long n0 = (long)get_group_id(0) * NB;
    const long m0 = (long)get_group_id(1) * MB;
    const long z = (long)get_global_id(2);
    const long abase = layout_offset(&ab, z);
    const long bbase = layout_offset(&bb, z);
    const long cbase = z * M * N;
    const int nb = (int)min((long)NB, N - n0);
    const int mb = (int)min((long)MB, M - m0);
    /* one pass when K == 0, which stores zeros */
    for (long k0 = 0; k0 == 0 || k0 < K; k0 += KC) {
        const int kc = (int)min((long)KC, K - k0);
        for (int p = 0; p * VW < nb; p++) {
            local T* panel = Bp + p * KC * VW;
            const long nc = n0 + p * VW;
            if (sbn == 1 && nc + VW <= N) {
                for (int k = 0; k < kc; k++) {
                    VSTORE(VLOAD(0, B + bbase + (k0 + k) * sbk + nc), k, panel);
                }
            } else {
                /* a transposed B, or the last columns (zeros past N): along K, B's own order */
                for (int v = 0; v < VW; v++) {
                    const long n = nc + v;
                    for (int k = 0; k < kc; k++) {
                        panel[k * VW + v] = n < N ? B[bbase + (k0 + k) * sbk + n * sbn] : (T)0;
                    }
                }
            }
        }
        for (int p = 0; p * VW < nb; p++) {
            local const T* panel = Bp + p * KC * VW;
            const long nc = n0 + p * VW;
            for (int i = 0; i < mb; i += ROWS) {
                long arow[ROWS];
                VT acc[ROWS];
#pragma unroll
                for (int r = 0; r < ROWS; r++) {
                    /* rows past the block repeat its last row: loads stay in bounds, stores are skipped */
                    arow[r] = abase + (m0 + min(i + r, mb - 1)) * sam + k0 * sak;
                    acc[r] = (VT)0;
                }
                for (int k = 0; k < kc; k++) {
                    VT b = VLOAD(k, panel);
#pragma unroll
                    for (int r = 0; r < ROWS; r++) {
                        acc[r] += A[arow[r] + k * sak] * b;
                    }
                }
#pragma unroll
                for (int r = 0; r < ROWS; r++) {
                    if (i + r < mb) {
                        global T* c = C + cbase + (m0 + i + r) * N + nc;
                        if (nc + VW <= N) {
                            VSTORE(k0 == 0 ? acc[r] : acc[r] + VLOAD(0, c), 0, c);
                        } else {
                            T out[VW];
                            VSTORE(acc[r], 0, out);
                            for (int v = 0; v < VW && nc + v < N; v++) {
                                c[v] = k0 == 0 ? out[v] : c[v] + out[v];
                            }
                        }
                    }
                }
            }
        }
    }
}
