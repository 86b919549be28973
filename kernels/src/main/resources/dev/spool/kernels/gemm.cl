/*
 * The tile loops of Spool's GEMM-shaped kernels, written once: matmul.cl's tiled and packed
 * kernels and conv_gemm.cl's implicit-GEMM convolutions call these, and differ only in how they
 * reach their operands. The host puts this file between the prelude and each of those files
 * (KernelSources), so that one set of -D options (GemmConfig) sizes every kernel of the family.
 *
 *   tiled (GPUs): a work-group computes a TSM x TSN tile of C from TSK-deep slices of A and B
 *                 staged in local memory, As[TSK][TSM + 1] and Bs[TSK][TSN + 1] (+1 column of
 *                 padding: the loads write columns of these arrays); each work-item keeps
 *                 WPTM x WPTN outputs in registers. Work-group (TSN / WPTN, TSM / WPTM, 1).
 *   packed (CPUs, after GotoBLAS/BLIS): a one-item work-group computes an MB x NB block of C, K
 *                 in KC-deep slices; each slice of B is packed into local memory as VW-wide
 *                 panels, [KC][VW] each, and ROWS x VW register tiles accumulate over a slice.
 *
 * The fixed-count loops over a work-item's rows and columns carry #pragma unroll: PoCL's LLVM
 * left them rolled, with the accumulators on the stack (matmul_vec 4x8 on PoCL, 128x784x256:
 * 2.2 ms rolled, 0.9 ms unrolled). The helpers are forced inline: a GPU compiler that called
 * them would pass the accumulator arrays through scratch memory.
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
/* The packed kernels' block: the host always passes its own (GemmConfig). These defaults also
 * size the packed kernels' local arrays in the programs built for the other kernels, where they
 * must still fit every device: 64 x 32 elements, 16 KiB in float64 (OpenCL guarantees 32 KiB of
 * local memory). 256 x 64 (64 KiB in float32, 128 KiB in float64) made clang for AMD GPUs reject
 * every float64 matmul program (docs/GPU-RESOURCES.md), and is more than NVIDIA's 48 KiB. */
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
/* work-items of a tiled work-group */
#define TILED_ITEMS (RTSM * RTSN)

#if defined(__has_attribute)
#if __has_attribute(always_inline)
#define GEMM_INLINE inline __attribute__((always_inline))
#endif
#endif
#ifndef GEMM_INLINE
#define GEMM_INLINE inline
#endif

/* ---- tiled ---------------------------------------------------------------------------------- */

GEMM_INLINE void tiled_zero(T acc[WPTM][WPTN]) {
    #pragma unroll
    for (int wm = 0; wm < WPTM; wm++) {
        #pragma unroll
        for (int wn = 0; wn < WPTN; wn++) {
            acc[wm][wn] = (T)0;
        }
    }
}

/* Bs[kk][nn] = B[bbase + k * sbk + n * sbn] for k = k0 + kk < K and n = n0 + nn < N, else zero;
 * consecutive work-items load consecutive addresses whichever way B is laid out. */
GEMM_INLINE void tiled_load_b(local T Bs[TSK][TSN + 1], global const T* B, long bbase, long sbk, long sbn,
                              long k0, long n0, long K, long N, int tid) {
    const int bAlongN = sbn == 1 || sbk != 1;
    for (int e = tid; e < TSK * TSN; e += TILED_ITEMS) {
        int nn = bAlongN ? e % TSN : e / TSK;
        int kk = bAlongN ? e / TSN : e % TSK;
        long n = n0 + nn;
        long k = k0 + kk;
        Bs[kk][nn] = n < N && k < K ? B[bbase + k * sbk + n * sbn] : (T)0;
    }
}

/* The tile loop: acc[wm][wn] += As[kk][tm + wm * RTSM] * Bs[kk][tn + wn * RTSN] over the slice. */
GEMM_INLINE void tiled_multiply(T acc[WPTM][WPTN], local T As[TSK][TSM + 1], local T Bs[TSK][TSN + 1],
                                int tm, int tn) {
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
}

/* C[cbase + m * ldc + n] = acc for the work-item's outputs inside M x N. */
GEMM_INLINE void tiled_store(global T* C, long cbase, long ldc, long m0, long n0, long M, long N,
                             T acc[WPTM][WPTN], int tm, int tn) {
    #pragma unroll
    for (int wm = 0; wm < WPTM; wm++) {
        long m = m0 + tm + wm * RTSM;
        #pragma unroll
        for (int wn = 0; wn < WPTN; wn++) {
            long n = n0 + tn + wn * RTSN;
            if (m < M && n < N) {
                C[cbase + m * ldc + n] = acc[wm][wn];
            }
        }
    }
}

/* ---- packed --------------------------------------------------------------------------------- */

/* Packs rows [k0, k0 + kc) of B's columns [n0, n0 + nb) into Bp as VW-wide panels, panel p
 * holding columns n0 + p * VW.. as [kc][VW], zeros past N. */
GEMM_INLINE void packed_pack_b(local T* Bp, global const T* B, long bbase, long sbk, long sbn, long k0, int kc,
                               long n0, int nb, long N) {
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
}

/*
 * The tile loop: acc[r] += a[r][koff(k)] * panel[k] (VW wide) for k < kc, where koff(k) is
 * k * sak, or ktab[k] when a table is given (a convolution's window cells are not evenly spaced
 * in memory; callers without one pass a constant null, which the compiler folds away). Row
 * pointers rather than offsets: each row's loads are then one address register and an index.
 */
GEMM_INLINE void packed_tile(VT acc[ROWS], global const T* const a[ROWS], long sak, local const int* ktab,
                             local const T* panel, int kc) {
    for (int k = 0; k < kc; k++) {
        VT b = VLOAD(k, panel);
        const long at = ktab ? (long)ktab[k] : k * sak;
        #pragma unroll
        for (int r = 0; r < ROWS; r++) {
            acc[r] += a[r][at] * b;
        }
    }
}

/* Rows r < rows of C from c0, ldc apart: C[c0 + r * ldc + nc + v] = acc[r][v] (+= when add),
 * for columns nc + v < N. */
GEMM_INLINE void packed_store(global T* C, long c0, long ldc, int rows, long nc, long N, VT acc[ROWS], int add) {
    #pragma unroll
    for (int r = 0; r < ROWS; r++) {
        if (r < rows) {
            global T* c = C + c0 + r * ldc + nc;
            if (nc + VW <= N) {
                VSTORE(add ? acc[r] + VLOAD(0, c) : acc[r], 0, c);
            } else {
                T out[VW];
                VSTORE(acc[r], 0, out);
                for (int v = 0; v < VW && nc + v < N; v++) {
                    c[v] = add ? c[v] + out[v] : out[v];
                }
            }
        }
    }
}
