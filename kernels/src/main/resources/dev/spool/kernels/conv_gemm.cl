/*
 * Convolutions as implicit GEMMs on gemm.cl's tile loops, over channels-last (NHWC) data with
 * HWIO filters: the window values are read where they lie in the input, never copied into an
 * im2col matrix. The product's rows are the grid of windows (M = batch * out_h * out_w), its
 * depth the cells of a window (K = kh * kw * channels read), its columns the output channels of
 * a group; groups are get_group_id(2), each a product of its own. Built with the matmul family's
 * -D options (GemmConfig), which the tuner picks per shape class.
 *
 *   conv_gemm_tiled, conv_gemm_packed: C[m, n] = sum over k of window(m)[k] * B[k, n].
 *       conv2d: src = x, B = the filter ([K, out channels] as it lies), C = y.
 *       conv2dBackpropInput with stride 1 (a transposed convolution): src = dy, windows walked
 *       backwards (pads and dilations negated), B = the filter with in and out channels swapped
 *       per cell (the host copies it: [group][K][channels per group]), C = dx.
 *   conv_filter_tiled, conv_filter_packed: the filter gradient, sum over pixels m of
 *       window(m)[k] * dy[m, o], the pixels split into parts (split-K) that each write their own
 *       partial product; conv.cl's conv_filter_sum adds the parts in order. No atomics: every
 *       sum runs in an order fixed by the shape and the configuration.
 *
 * tiled (GPUs): the window values go through gemm.cl's local tiles, zero at padding.
 * packed (CPUs): conv_gemm_packed reads window values in place through a table of the slice's
 * cell offsets (ktab), as matmul_packed reads A through k * sak; a row tile whose windows reach
 * padding goes cell by cell, skipping the rows a cell puts on padding. conv_filter_packed
 * computes the transpose, dy's columns as the rows of the tile and the windows packed into
 * the panels (zeros at padding), so that padding costs nothing in the inner loop.
 */

/* The geometry of one implicit GEMM (the host's ConvGemmGeometry writes it, int by int). */
typedef struct {
    int src_h, src_w, src_c;          /* the windows' tensor: [batch, src_h, src_w, src_c] */
    int out_h, out_w, m;              /* the grid of windows: m = batch * out_h * out_w */
    int kh, kw, cread;                /* cells of a window, channels each reads (group g from g * cread) */
    int s_h, s_w, p_t, p_l, d_h, d_w; /* src row of window row y, cell row ky: y * s_h - p_t + ky * d_h */
    int n;                            /* columns of the product per group */
    int ldb, b_group;                 /* B's row stride, and where group g's B starts: g * b_group */
    int ldc, c_group;                 /* C's row stride, and where group g's C starts: g * c_group */
} conv_gemm_t;

/* Window (b, y, x) of the grid: its top-left cell in src, (y0, x0), and that cell's offset
 * (which lies outside src when the cell is padding: only cells inside are read). */
GEMM_INLINE long window_origin(const conv_gemm_t* g, int m, int* y0, int* x0) {
    int x = m % g->out_w;
    int q = m / g->out_w;
    int y = q % g->out_h;
    int b = q / g->out_h;
    *y0 = y * g->s_h - g->p_t;
    *x0 = x * g->s_w - g->p_l;
    return (((long)b * g->src_h + *y0) * g->src_w + *x0) * g->src_c;
}

/* Cell k of a window: its src row and column from the window's top-left, and its offset there. */
GEMM_INLINE int window_cell(const conv_gemm_t* g, int k, int* dy, int* dx) {
    int ci = k % g->cread;
    int cell = k / g->cread;
    *dy = cell / g->kw * g->d_h;
    *dx = cell % g->kw * g->d_w;
    return (*dy * g->src_w + *dx) * g->src_c + ci;
}

GEMM_INLINE bool inside(const conv_gemm_t* g, int y, int x) {
    return (uint)y < (uint)g->src_h && (uint)x < (uint)g->src_w;
}

/* Whether every cell of windows with top-left (y0, x0) lies inside src (dilations may be negative). */
GEMM_INLINE bool window_inside(const conv_gemm_t* g, int y0, int x0) {
    int ylast = (g->kh - 1) * g->d_h;
    int xlast = (g->kw - 1) * g->d_w;
    return inside(g, y0 + min(0, ylast), x0 + min(0, xlast)) && inside(g, y0 + max(0, ylast), x0 + max(0, xlast));
}

/* ---- tiled (GPUs) ------------------------------------------------------------------------------
 * Each work-item loads the A-tile slots e = tid + s * TILED_ITEMS, row e / TSK and column
 * e % TSK: consecutive work-items read consecutive channels of a cell. The host runs these only
 * with TILED_ITEMS a multiple of TSK and TSM * TSK a multiple of TILED_ITEMS (every tiled
 * candidate), so a work-item's column is the same in every slot and its rows the same in every
 * slice: each slot's window is found once, each slice's cell once per work-item. */
#define A_SLOTS (TSM * TSK / TILED_ITEMS)

kernel __attribute__((reqd_work_group_size(RTSN, RTSM, 1)))
void conv_gemm_tiled(global const T* src, long src_off, global const T* B, long b_off, global T* C, long c_off,
                     conv_gemm_t g) {
    local T As[TSK][TSM + 1];
    local T Bs[TSK][TSN + 1];
    const int tn = (int)get_local_id(0);
    const int tm = (int)get_local_id(1);
    const int tid = tm * RTSN + tn;
    const long n0 = (long)get_group_id(0) * TSN;
    const int m0 = (int)get_group_id(1) * TSM;
    const int grp = (int)get_group_id(2);
    const int K = g.kh * g.kw * g.cread;
    global const T* s = src + src_off + grp * g.cread;
    const int kk = tid % TSK;
    long origin[A_SLOTS];
    int y0[A_SLOTS];
    int x0[A_SLOTS];
    #pragma unroll
    for (int slot = 0; slot < A_SLOTS; slot++) {
        int m = m0 + (tid + slot * TILED_ITEMS) / TSK;
        origin[slot] = window_origin(&g, min(m, g.m - 1), &y0[slot], &x0[slot]);
        if (m >= g.m) {
            y0[slot] = -1 - max(0, (g.kh - 1) * g.d_h); /* past the grid: every cell reads as padding */
        }
    }
    T acc[WPTM][WPTN];
    tiled_zero(acc);
    for (int k0 = 0; k0 < K; k0 += TSK) {
        int dy = 0;
        int dx = 0;
        const int k = k0 + kk;
        const int at = k < K ? window_cell(&g, k, &dy, &dx) : 0;
        #pragma unroll
        for (int slot = 0; slot < A_SLOTS; slot++) {
            const int mm = (tid + slot * TILED_ITEMS) / TSK;
            As[kk][mm] = k < K && inside(&g, y0[slot] + dy, x0[slot] + dx) ? s[origin[slot] + at] : (T)0;
        }
        tiled_load_b(Bs, B, b_off + (long)grp * g.b_group, g.ldb, 1, k0, n0, K, g.n, tid);
        barrier(CLK_LOCAL_MEM_FENCE);
        tiled_multiply(acc, As, Bs, tm, tn);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    tiled_store(C, c_off + (long)grp * g.c_group, g.ldc, m0, n0, g.m, g.n, acc, tm, tn);
}

/*
 * The filter gradient's part z % parts of group z / parts: P[part][k, o] (P's rows k, ldc apart)
 * = sum over the part's pixels [part * chunk, ...) of window(pixel)[k] * dy[pixel, o]. A tiled
 * product with M = K (the window cells) and the pixels as its depth: A-tile slots run along M
 * (consecutive work-items, consecutive channels: the host needs TILED_ITEMS a multiple of TSM),
 * so a work-item's cell is fixed and only its pixels move, TSK per slice.
 */
#define F_SLOTS (TSM * TSK / TILED_ITEMS)

kernel __attribute__((reqd_work_group_size(RTSN, RTSM, 1)))
void conv_filter_tiled(global const T* src, long src_off, global const T* dy, long dy_off, global T* P,
                       long part_stride, conv_gemm_t g, int parts, int chunk) {
    local T As[TSK][TSM + 1];
    local T Bs[TSK][TSN + 1];
    const int tn = (int)get_local_id(0);
    const int tm = (int)get_local_id(1);
    const int tid = tm * RTSN + tn;
    const long n0 = (long)get_group_id(0) * TSN;
    const int m0 = (int)get_group_id(1) * TSM;
    const int grp = (int)get_group_id(2) / parts;
    const int part = (int)get_group_id(2) % parts;
    const int K = g.kh * g.kw * g.cread;
    const int first = part * chunk;
    const int pixels = min(chunk, g.m - first);
    global const T* s = src + src_off + grp * g.cread;
    /* this work-item's cell (its column of the A tile's slots) */
    const int k = m0 + tid % TSM;
    const int ci = k % g.cread;
    int cy = 0;
    int cx = 0;
    if (k < K) {
        window_cell(&g, k, &cy, &cx);
    }
    /* each slot's pixel, walked along the grid from slice to slice: column px, row py */
    int py[F_SLOTS];
    int px[F_SLOTS];
    #pragma unroll
    for (int slot = 0; slot < F_SLOTS; slot++) {
        int pix = first + (tid + slot * TILED_ITEMS) / TSM;
        px[slot] = pix % g.out_w;
        py[slot] = pix / g.out_w; /* b * out_h + y: the grid's rows of every image, in order */
    }
    T acc[WPTM][WPTN];
    tiled_zero(acc);
    for (int k0 = 0; k0 < pixels; k0 += TSK) {
        #pragma unroll
        for (int slot = 0; slot < F_SLOTS; slot++) {
            const int kk = (tid + slot * TILED_ITEMS) / TSM;
            const int y = py[slot] % g.out_h;
            const int b = py[slot] / g.out_h;
            const int iy = y * g.s_h - g.p_t + cy;
            const int ix = px[slot] * g.s_w - g.p_l + cx;
            As[kk][tid % TSM] = k < K && k0 + kk < pixels && inside(&g, iy, ix)
                    ? s[(((long)b * g.src_h + iy) * g.src_w + ix) * g.src_c + ci] : (T)0;
            /* on to the slot's pixel of the next slice */
            px[slot] += TSK;
            while (px[slot] >= g.out_w) {
                px[slot] -= g.out_w;
                py[slot]++;
            }
        }
        tiled_load_b(Bs, dy, dy_off + (long)grp * g.b_group + (long)first * g.ldb, g.ldb, 1, k0, n0, pixels, g.n,
                     tid);
        barrier(CLK_LOCAL_MEM_FENCE);
        tiled_multiply(acc, As, Bs, tm, tn);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    tiled_store(P, part * part_stride + (long)grp * g.c_group, g.ldc, m0, n0, K, g.n, acc, tm, tn);
}

/* ---- packed (CPUs) ------------------------------------------------------------------------------ */

kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void conv_gemm_packed(global const T* src, long src_off, global const T* B, long b_off, global T* C, long c_off,
                      conv_gemm_t g) {
    local T Bp[KC * NB];
    local int ktab[KC];     /* the slice's cells: offsets from a window's top-left */
    local long origin[MB];  /* the block's windows: top-left offsets in src, */
    local int corner[2 * MB]; /* and top-left cells (y0, x0) */
    local int whole[MB];    /* whether every cell of the window lies inside src */
    const long n0 = (long)get_group_id(0) * NB;
    const int m0 = (int)get_group_id(1) * MB;
    const int grp = (int)get_group_id(2);
    const int K = g.kh * g.kw * g.cread;
    const int nb = (int)min((long)NB, (long)g.n - n0);
    const int mb = min(MB, g.m - m0);
    global const T* s = src + src_off + grp * g.cread;
    for (int i = 0; i < mb; i++) {
        int y0;
        int x0;
        origin[i] = window_origin(&g, m0 + i, &y0, &x0);
        corner[2 * i] = y0;
        corner[2 * i + 1] = x0;
        whole[i] = window_inside(&g, y0, x0);
    }
    for (int k0 = 0; k0 < K; k0 += KC) {
        const int kc = min(KC, K - k0);
        packed_pack_b(Bp, B, b_off + (long)grp * g.b_group, g.ldb, 1, k0, kc, n0, nb, g.n);
        for (int k = 0; k < kc; k++) {
            int dy;
            int dx;
            ktab[k] = window_cell(&g, k0 + k, &dy, &dx);
        }
        for (int p = 0; p * VW < nb; p++) {
            local const T* panel = Bp + p * KC * VW;
            const long nc = n0 + p * VW;
            for (int i = 0; i < mb; i += ROWS) {
                global const T* a[ROWS];
                VT acc[ROWS];
                int all = 1;
                #pragma unroll
                for (int r = 0; r < ROWS; r++) {
                    /* rows past the block repeat its last row: stores are skipped */
                    const int row = min(i + r, mb - 1);
                    a[r] = s + origin[row];
                    all &= whole[row];
                    acc[r] = (VT)0;
                }
                if (all) {
                    packed_tile(acc, a, 0, ktab, panel, kc);
                } else {
                    /* cell by cell (a cell's channels are inside src or padding together); rows
                     * whose window puts the cell on padding run on another row's values, and get
                     * their sums from before the cell back: padding is skipped, as the plain kernel
                     * skips it, at the cost of ROWS selects per cell rather than per term */
                    for (int k = 0; k < kc;) {
                        const int cell = (k0 + k) / g.cread;
                        const int end = min(kc, (cell + 1) * g.cread - k0);
                        const int dy = cell / g.kw * g.d_h;
                        const int dx = cell % g.kw * g.d_w;
                        int in[ROWS];
                        int every = 1;
                        int some = -1;
                        #pragma unroll
                        for (int r = 0; r < ROWS; r++) {
                            const int row = min(i + r, mb - 1);
                            in[r] = inside(&g, corner[2 * row] + dy, corner[2 * row + 1] + dx);
                            every &= in[r];
                            some = in[r] ? r : some;
                        }
                        if (every) {
                            packed_tile(acc, a, 0, ktab + k, panel + k * VW, end - k);
                        } else if (some >= 0) {
                            global const T* b[ROWS];
                            VT before[ROWS];
                            #pragma unroll
                            for (int r = 0; r < ROWS; r++) {
                                b[r] = in[r] ? a[r] : a[some];
                                before[r] = acc[r];
                            }
                            packed_tile(acc, b, 0, ktab + k, panel + k * VW, end - k);
                            #pragma unroll
                            for (int r = 0; r < ROWS; r++) {
                                acc[r] = in[r] ? acc[r] : before[r];
                            }
                        }
                        k = end;
                    }
                }
                packed_store(C, c_off + (long)grp * g.c_group + (long)(m0 + i) * g.ldc, g.ldc, mb - i, nc, g.n, acc,
                             k0 > 0);
            }
        }
    }
}

/*
 * The filter gradient's part z % parts of group z / parts, transposed: P[part][o, k] (P's rows
 * o, ldc apart) = sum over the part's pixels of dy[pixel, o] * window(pixel)[k]. A work-group
 * takes MB columns o of dy as the rows of its tiles (read in place, ldb apart along the pixels)
 * and every cell k of the windows: for each slice of KC pixels, NB cells at a time are packed
 * as panels (zeros at padding), and the tiles add into P. The part's x and dy stay in cache
 * while every block of cells sweeps them.
 */
kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void conv_filter_packed(global const T* src, long src_off, global const T* dy, long dy_off, global T* P,
                        long part_stride, conv_gemm_t g, int parts, int chunk) {
    local T Bp[KC * NB];
    local long porigin[KC];  /* the slice's windows: top-left offsets, */
    local int pcorner[2 * KC]; /* top-left cells, */
    local int pwhole[KC];    /* and whether every cell lies inside src */
    local int koff[NB];      /* the block's cells: offsets from a window's top-left, */
    local int kcell[2 * NB]; /* and row and column there; a cell past K is far above: padding */
    const int o0 = (int)get_group_id(1) * MB;
    const int grp = (int)get_group_id(2) / parts;
    const int part = (int)get_group_id(2) % parts;
    const int K = g.kh * g.kw * g.cread;
    const int mb = min(MB, g.n - o0);
    const int first = part * chunk;
    const int last = min(g.m, first + chunk);
    global const T* s = src + src_off + grp * g.cread;
    global const T* d = dy + dy_off + (long)grp * g.b_group;
    global T* out = P + part * part_stride + (long)grp * g.c_group;
    for (int j0 = first; j0 < last; j0 += KC) {
        const int kc = min(KC, last - j0);
        for (int j = 0; j < kc; j++) {
            int y0;
            int x0;
            porigin[j] = window_origin(&g, j0 + j, &y0, &x0);
            pcorner[2 * j] = y0;
            pcorner[2 * j + 1] = x0;
            pwhole[j] = window_inside(&g, y0, x0);
        }
        for (int n0 = 0; n0 < K; n0 += NB) {
            const int nb = min(NB, K - n0);
            for (int c = 0; c < NB; c++) {
                int cy = INT_MIN / 2;
                int cx = 0;
                koff[c] = n0 + c < K ? window_cell(&g, n0 + c, &cy, &cx) : 0;
                kcell[2 * c] = cy;
                kcell[2 * c + 1] = cx;
            }
            for (int p = 0; p * VW < nb; p++) {
                local T* panel = Bp + p * KC * VW;
                const int c0 = p * VW;
                /* VW channels of one cell: one load per pixel */
                const bool run = n0 + c0 + VW <= K && koff[c0 + VW - 1] - koff[c0] == VW - 1
                        && kcell[2 * c0] == kcell[2 * (c0 + VW - 1)] && kcell[2 * c0 + 1] == kcell[2 * (c0 + VW - 1) + 1];
                for (int j = 0; j < kc; j++) {
                    const int y0 = pcorner[2 * j];
                    const int x0 = pcorner[2 * j + 1];
                    if (run) {
                        VT v = inside(&g, y0 + kcell[2 * c0], x0 + kcell[2 * c0 + 1])
                                ? VLOAD(0, s + porigin[j] + koff[c0]) : (VT)0;
                        VSTORE(v, j, panel);
                    } else if (pwhole[j]) {
                        /* a gather; cells past K read the window's corner (koff 0) as zeros */
                        for (int v = 0; v < VW; v++) {
                            const T value = s[porigin[j] + koff[c0 + v]];
                            panel[j * VW + v] = n0 + c0 + v < K ? value : (T)0;
                        }
                    } else {
                        for (int v = 0; v < VW; v++) {
                            const int c = c0 + v;
                            panel[j * VW + v] = inside(&g, y0 + kcell[2 * c], x0 + kcell[2 * c + 1])
                                    ? s[porigin[j] + koff[c]] : (T)0;
                        }
                    }
                }
            }
            for (int p = 0; p * VW < nb; p++) {
                local const T* panel = Bp + p * KC * VW;
                for (int i = 0; i < mb; i += ROWS) {
                    global const T* a[ROWS];
                    VT acc[ROWS];
                    #pragma unroll
                    for (int r = 0; r < ROWS; r++) {
                        /* rows past the block repeat its last row: stores are skipped */
                        a[r] = d + (long)j0 * g.ldb + o0 + min(i + r, mb - 1);
                        acc[r] = (VT)0;
                    }
                    packed_tile(acc, a, g.ldb, 0, panel, kc);
                    packed_store(out, (long)(o0 + i) * g.ldc, g.ldc, mb - i, n0 + p * VW, K, acc, j0 > first);
                }
            }
        }
    }
}
