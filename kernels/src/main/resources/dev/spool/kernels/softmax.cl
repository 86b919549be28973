/*
 * Spool's fused softmax kernels (dev.spool.spi.Backend#softmax and the three after it): softmax
 * and logSoftmax, their VJP, softmax cross-entropy (loss and logSoftmax) and its VJP in the
 * logits, each one launch, along the last dimension. Every operand is a strided view: a layout_t
 * `o` of its leading dims (with the view's offset) gives the start of each row, and `s` the
 * stride along the row. Outputs are dense, `n` per row (the loss: one per row).
 *
 * Two strategies, picked by the host per device type:
 *   *_rows: one work-item per row, three sequential passes over it: CPUs.
 *   *_wg:   one work-group per row, its items striding the row, reductions as trees in local
 *           memory (`scratch`, one T per item; the local size is a power of two): GPUs.
 *
 * Arithmetic per row is that of the composite the kernels replace: m = max(x) with NaN
 * propagating, s = sum(exp(x - m)); softmax = exp(x - m) / s, logSoftmax = x - m - log(s).
 *
 * Types: -DT=float or -DT=double with -DT_IS_FP=1 (and -DT_IS_DOUBLE=1), as elementwise.cl.
 */
#ifndef T
#define T float
#define T_IS_FP 1
#endif
#ifdef T_IS_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

/* layout_t, layout_offset come from prelude.cl, which the host prepends. */

#define NEG_INF (-(T)INFINITY)

/* max that propagates NaN, as ReduceOp.MAX (fmax would drop it) */
T max_nan(T a, T b) {
    if (isnan(a) || isnan(b)) {
        return a + b;
    }
    return a > b ? a : b;
}

/* Work-group reductions: every item passes its partial and gets the group's result. */
T wg_max(T v, local T* scratch) {
    int lid = (int)get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = (int)get_local_size(0) >> 1; k > 0; k >>= 1) {
        if (lid < k) {
            scratch[lid] = max_nan(scratch[lid], scratch[lid + k]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    T r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* before scratch is reused */
    return r;
}

T wg_sum(T v, local T* scratch) {
    int lid = (int)get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = (int)get_local_size(0) >> 1; k > 0; k >>= 1) {
        if (lid < k) {
            scratch[lid] = scratch[lid] + scratch[lid + k];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    T r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

/* A row's maximum (NaN wins) and its sum of exp(x - max), one item walking the row from p with
 * stride xs: how every softmax and cross-entropy kernel starts a row, so all compute it alike. */
void row_max_sumexp_seq(global const T* x, long p, long xs, long n, T* max, T* sumexp) {
    T m = NEG_INF;
    for (long j = 0; j < n; j++) {
        m = max_nan(m, x[p + j * xs]);
    }
    T s = (T)0;
    for (long j = 0; j < n; j++) {
        s += exp(x[p + j * xs] - m);
    }
    *max = m;
    *sumexp = s;
}

/* The same with one work-group per row, its items striding the row; every item gets both. */
void row_max_sumexp_wg(global const T* x, long p, long xs, long n, local T* scratch, T* max, T* sumexp) {
    long lid = (long)get_local_id(0);
    long lsz = (long)get_local_size(0);
    T m = NEG_INF;
    for (long j = lid; j < n; j += lsz) {
        m = max_nan(m, x[p + j * xs]);
    }
    m = wg_max(m, scratch);
    T s = (T)0;
    for (long j = lid; j < n; j += lsz) {
        s += exp(x[p + j * xs] - m);
    }
    *max = m;
    *sumexp = wg_sum(s, scratch);
}

/* ---- softmax, logSoftmax (lg != 0) ------------------------------------------------------- */

kernel void softmax_rows(global const T* x, layout_t xo, long xs, long rows, long n, uint lg,
                         global T* out) {
    long row = (long)get_global_id(0);
    if (row < rows) {
        long p = layout_offset(&xo, row);
        global T* o = out + row * n;
        T m, s;
        row_max_sumexp_seq(x, p, xs, n, &m, &s);
        if (lg) {
            T ls = log(s);
            for (long j = 0; j < n; j++) {
                o[j] = (x[p + j * xs] - m) - ls;
            }
        } else {
            for (long j = 0; j < n; j++) {
                o[j] = exp(x[p + j * xs] - m) / s;
            }
        }
    }
}

kernel void softmax_wg(global const T* x, layout_t xo, long xs, long rows, long n, uint lg,
                       global T* out, local T* scratch) {
    long row = (long)get_group_id(0);
    long lid = (long)get_local_id(0);
    long ls = (long)get_local_size(0);
    long p = layout_offset(&xo, row);
    global T* o = out + row * n;
    T m, s;
    row_max_sumexp_wg(x, p, xs, n, scratch, &m, &s);
    if (lg) {
        T lsum = log(s);
        for (long j = lid; j < n; j += ls) {
            o[j] = (x[p + j * xs] - m) - lsum;
        }
    } else {
        for (long j = lid; j < n; j += ls) {
            o[j] = exp(x[p + j * xs] - m) / s;
        }
    }
}

/* ---- VJP of softmax: y (g - sum(g y)); of logSoftmax: g - exp(y) sum(g) ---------------- */

kernel void softmax_grad_rows(global const T* y, layout_t yo, long ys, global const T* g, layout_t go,
                              long gs, long rows, long n, uint lg, global T* out) {
    long row = (long)get_global_id(0);
    if (row < rows) {
        long p = layout_offset(&yo, row);
        long q = layout_offset(&go, row);
        global T* o = out + row * n;
        T s = (T)0;
        for (long j = 0; j < n; j++) {
            s += lg ? g[q + j * gs] : g[q + j * gs] * y[p + j * ys];
        }
        for (long j = 0; j < n; j++) {
            T yv = y[p + j * ys];
            T gv = g[q + j * gs];
            o[j] = lg ? gv - exp(yv) * s : yv * (gv - s);
        }
    }
}

kernel void softmax_grad_wg(global const T* y, layout_t yo, long ys, global const T* g, layout_t go,
                            long gs, long rows, long n, uint lg, global T* out, local T* scratch) {
    long row = (long)get_group_id(0);
    long lid = (long)get_local_id(0);
    long ls = (long)get_local_size(0);
    long p = layout_offset(&yo, row);
    long q = layout_offset(&go, row);
    global T* o = out + row * n;
    T s = (T)0;
    for (long j = lid; j < n; j += ls) {
        s += lg ? g[q + j * gs] : g[q + j * gs] * y[p + j * ys];
    }
    s = wg_sum(s, scratch);
    for (long j = lid; j < n; j += ls) {
        T yv = y[p + j * ys];
        T gv = g[q + j * gs];
        o[j] = lg ? gv - exp(yv) * s : yv * (gv - s);
    }
}

/* ---- cross-entropy: loss = -sum(labels lsm), lsm = logSoftmax(x) kept for the VJP ------ */

/* One row of logits x (from p, stride xs) and labels l (from pl, stride lstr): its logSoftmax into
 * o and the loss -sum(l lsm) returned; with sl non-null also sum(l) (the VJP's factor), summed in
 * the same loop. Shared by xent_rows and xent_fused_rows, so both compute a row alike. */
T xent_row_seq(global const T* l, long pl, long lstr, global const T* x, long p, long xs, long n,
               global T* o, T* sl) {
    T m, s;
    row_max_sumexp_seq(x, p, xs, n, &m, &s);
    T ls = log(s);
    T acc = (T)0;
    T suml = (T)0;
    for (long j = 0; j < n; j++) {
        T v = (x[p + j * xs] - m) - ls;
        o[j] = v;
        acc += l[pl + j * lstr] * v;
        suml += l[pl + j * lstr];
    }
    if (sl) {
        *sl = suml;
    }
    return -acc;
}

/* The same for one work-group per row, its items striding the row; every item gets the loss and,
 * when withSl (uniform across the group), sum(l). Shared by xent_wg and xent_fused_wg. */
T xent_row_wg(global const T* l, long pl, long lstr, global const T* x, long p, long xs, long n,
              global T* o, local T* scratch, int withSl, T* sl) {
    long lid = (long)get_local_id(0);
    long lsz = (long)get_local_size(0);
    T m, s;
    row_max_sumexp_wg(x, p, xs, n, scratch, &m, &s);
    T ls = log(s);
    T acc = (T)0;
    T suml = (T)0;
    for (long j = lid; j < n; j += lsz) {
        T v = (x[p + j * xs] - m) - ls;
        o[j] = v;
        acc += l[pl + j * lstr] * v;
        suml += l[pl + j * lstr];
    }
    acc = wg_sum(acc, scratch);
    if (withSl) {
        *sl = wg_sum(suml, scratch);
    }
    return -acc;
}

kernel void xent_rows(global const T* l, layout_t lo, long lstr, global const T* x, layout_t xo, long xs,
                      long rows, long n, global T* loss, global T* lsm) {
    long row = (long)get_global_id(0);
    if (row < rows) {
        loss[row] = xent_row_seq(l, layout_offset(&lo, row), lstr, x, layout_offset(&xo, row), xs, n,
                                 lsm + row * n, 0);
    }
}

kernel void xent_wg(global const T* l, layout_t lo, long lstr, global const T* x, layout_t xo, long xs,
                    long rows, long n, global T* loss, global T* lsm, local T* scratch) {
    long row = (long)get_group_id(0);
    T unused;
    T r = xent_row_wg(l, layout_offset(&lo, row), lstr, x, layout_offset(&xo, row), xs, n, lsm + row * n,
                      scratch, 0, &unused);
    if (get_local_id(0) == 0) {
        loss[row] = r;
    }
}

/* ---- VJP of the loss in the logits: g[row] (exp(lsm) sum(labels) - labels) ------------- */

/* One element of the VJP: one expression shared by every kernel below, so that they round (and
 * contract) it alike and the fused kernels give the two-launch bits. */
T xent_grad_value(T gr, T lsm, T sl, T label) {
    return gr * (exp(lsm) * sl - label);
}

kernel void xent_grad_rows(global const T* g, layout_t go, global const T* y, layout_t yo, long ys,
                           global const T* l, layout_t lo, long lstr, long rows, long n, global T* out) {
    long row = (long)get_global_id(0);
    if (row < rows) {
        T gr = g[layout_offset(&go, row)];
        long p = layout_offset(&yo, row);
        long pl = layout_offset(&lo, row);
        global T* o = out + row * n;
        T sl = (T)0;
        for (long j = 0; j < n; j++) {
            sl += l[pl + j * lstr];
        }
        for (long j = 0; j < n; j++) {
            o[j] = xent_grad_value(gr, y[p + j * ys], sl, l[pl + j * lstr]);
        }
    }
}

kernel void xent_grad_wg(global const T* g, layout_t go, global const T* y, layout_t yo, long ys,
                         global const T* l, layout_t lo, long lstr, long rows, long n, global T* out,
                         local T* scratch) {
    long row = (long)get_group_id(0);
    long lid = (long)get_local_id(0);
    long ls = (long)get_local_size(0);
    T gr = g[layout_offset(&go, row)];
    long p = layout_offset(&yo, row);
    long pl = layout_offset(&lo, row);
    global T* o = out + row * n;
    T sl = (T)0;
    for (long j = lid; j < n; j += ls) {
        sl += l[pl + j * lstr];
    }
    sl = wg_sum(sl, scratch);
    for (long j = lid; j < n; j += ls) {
        o[j] = xent_grad_value(gr, y[p + j * ys], sl, l[pl + j * lstr]);
    }
}

/* ---- loss, logSoftmax and the VJP in one launch ---------------------------------------------
 * For a gradient g known before the loss (a traced function seeds a mean's gradient with a
 * constant): xent_* then xent_grad_* in one pass per row, each value computed as those kernels
 * compute it (the same loops, the same local size), so the results are theirs to the bit. */

kernel void xent_fused_rows(global const T* l, layout_t lo, long lstr, global const T* x, layout_t xo, long xs,
                            global const T* g, layout_t go, long rows, long n, global T* loss, global T* lsm,
                            global T* out) {
    long row = (long)get_global_id(0);
    if (row < rows) {
        long pl = layout_offset(&lo, row);
        global T* o = lsm + row * n;
        global T* d = out + row * n;
        T sl;
        loss[row] = xent_row_seq(l, pl, lstr, x, layout_offset(&xo, row), xs, n, o, &sl);
        if (n > 0) {
            T gr = g[layout_offset(&go, row)];
            for (long j = 0; j < n; j++) {
                d[j] = xent_grad_value(gr, o[j], sl, l[pl + j * lstr]);
            }
        }
    }
}

kernel void xent_fused_wg(global const T* l, layout_t lo, long lstr, global const T* x, layout_t xo, long xs,
                          global const T* g, layout_t go, long rows, long n, global T* loss, global T* lsm,
                          global T* out, local T* scratch) {
    long row = (long)get_group_id(0);
    long lid = (long)get_local_id(0);
    long lsz = (long)get_local_size(0);
    long pl = layout_offset(&lo, row);
    global T* o = lsm + row * n;
    global T* d = out + row * n;
    T sl;
    T r = xent_row_wg(l, pl, lstr, x, layout_offset(&xo, row), xs, n, o, scratch, 1, &sl);
    if (lid == 0) {
        loss[row] = r;
    }
    T gr = g[layout_offset(&go, row)];
    for (long j = lid; j < n; j += lsz) {
        d[j] = xent_grad_value(gr, o[j], sl, l[pl + j * lstr]);
    }
}
