/*
 * Spool convolution and pooling kernels over channels-last (NHWC) data with HWIO filters: the
 * primitives Backend.conv2d, conv2dBackpropInput, conv2dBackpropFilter, avgPool2d, avgPool2dGrad,
 * maxPool2d and maxPool2dGrad. Inputs are dense from an element offset; outputs dense.
 *
 * The plain form: one work-item per output element, which sums its terms in a fixed order
 * (window row, window column, channel; windows in row-major order for the gradients), so results
 * never depend on scheduling and no atomics are needed. Neighbouring work-items are neighbouring
 * channels: reads of x, the filter and dy are contiguous across a work-group.
 *
 * The geometry travels as conv_geom_t's fields (see Conv2dGeometry): G_ARGS in the parameter
 * lists, G_DECL to name them in a kernel body.
 *
 * -DT=float -DT_IS_FP=1 (default) or -DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1.
 */
#ifndef T
#define T float
#define T_IS_FP 1
#endif
#ifdef T_IS_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

/* batch, in (h, w, c), window (h, w), out channels, groups, out (h, w), strides, dilations, pads */
#define G_ARGS int nb, int ih, int iw, int ic, int kh, int kw, int oc, int groups, int oh, int ow, \
               int sh, int sw, int dh, int dw, int pt, int pl

/* The output index o with o * stride == at, or -1 when none lies in [0, size). */
int source_index(int at, int stride, int size) {
    if (at < 0 || at % stride != 0) {
        return -1;
    }
    int o = at / stride;
    return o < size ? o : -1;
}

/* out[n, oy, ox, o] = sum over ky, kx, i of x[n, iy, ix, grp * cpg + i] * f[ky, kx, i, o] */
kernel void conv2d_forward(global const T* x, long x_off, global const T* f, long f_off,
                           global T* out, long count, G_ARGS) {
    SPOOL_FOR_CHUNK(e, count) {
        int o = (int)(e % oc);
        long p = e / oc;
        int ox = (int)(p % ow);
        int oy = (int)(p / ow % oh);
        int n = (int)(p / ow / oh);
        int cpg = ic / groups;
        int grp = o / (oc / groups);
        T acc = (T)0;
        for (int ky = 0; ky < kh; ky++) {
            int iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= ih) {
                continue;
            }
            for (int kx = 0; kx < kw; kx++) {
                int ix = ox * sw - pl + kx * dw;
                if (ix < 0 || ix >= iw) {
                    continue;
                }
                long xb = x_off + (((long)n * ih + iy) * iw + ix) * ic + grp * cpg;
                long fb = f_off + ((long)(ky * kw + kx) * cpg) * oc + o;
                for (int i = 0; i < cpg; i++) {
                    acc += x[xb + i] * f[fb + (long)i * oc];
                }
            }
        }
        out[e] = acc;
    }
}

/* dx[n, iy, ix, c] = sum over the windows that read (iy, ix), of sum over o in c's group of
 * dy[n, oy, ox, o] * f[ky, kx, i, o] */
kernel void conv2d_backprop_input(global const T* dy, long dy_off, global const T* f, long f_off,
                                  global T* dx, long count, G_ARGS) {
    SPOOL_FOR_CHUNK(e, count) {
        int c = (int)(e % ic);
        long p = e / ic;
        int ix = (int)(p % iw);
        int iy = (int)(p / iw % ih);
        int n = (int)(p / iw / ih);
        int cpg = ic / groups;
        int opg = oc / groups;
        int grp = c / cpg;
        int i = c % cpg;
        T acc = (T)0;
        for (int ky = 0; ky < kh; ky++) {
            int oy = source_index(iy + pt - ky * dh, sh, oh);
            if (oy < 0) {
                continue;
            }
            for (int kx = 0; kx < kw; kx++) {
                int ox = source_index(ix + pl - kx * dw, sw, ow);
                if (ox < 0) {
                    continue;
                }
                long yb = dy_off + (((long)n * oh + oy) * ow + ox) * oc + grp * opg;
                long fb = f_off + ((long)(ky * kw + kx) * cpg + i) * oc + grp * opg;
                T s = (T)0;
                for (int o = 0; o < opg; o++) {
                    s += dy[yb + o] * f[fb + o];
                }
                acc += s;
            }
        }
        dx[e] = acc;
    }
}

/* df[ky, kx, i, o] = sum over n, oy, ox of x[n, iy, ix, grp(o) * cpg + i] * dy[n, oy, ox, o];
 * accumulate != 0: df += that sum (the host's launches over slices of the batch) */
kernel void conv2d_backprop_filter(global const T* x, long x_off, global const T* dy, long dy_off,
                                   global T* df, long count, G_ARGS, int accumulate) {
    SPOOL_FOR_CHUNK(e, count) {
        int o = (int)(e % oc);
        long r = e / oc;
        int cpg = ic / groups;
        int i = (int)(r % cpg);
        int kx = (int)(r / cpg % kw);
        int ky = (int)(r / cpg / kw);
        int c = o / (oc / groups) * cpg + i;
        T acc = accumulate ? df[e] : (T)0;
        for (int n = 0; n < nb; n++) {
            for (int oy = 0; oy < oh; oy++) {
                int iy = oy * sh - pt + ky * dh;
                if (iy < 0 || iy >= ih) {
                    continue;
                }
                for (int ox = 0; ox < ow; ox++) {
                    int ix = ox * sw - pl + kx * dw;
                    if (ix < 0 || ix >= iw) {
                        continue;
                    }
                    acc += x[x_off + (((long)n * ih + iy) * iw + ix) * ic + c]
                            * dy[dy_off + (((long)n * oh + oy) * ow + ox) * oc + o];
                }
            }
        }
        df[e] = acc;
    }
}

/* ---- depthwise (groups == in channels: output channel o reads input channel o / mult) ---------
 * A work-item computes DW_VEC neighbouring channels of one pixel (of the output, or of dx), so
 * that neighbouring work-items read neighbouring channel vectors; with a multiplier of 1 each
 * cell is one DW_VEC-wide load of the input and of the filter. Each channel sums its terms in the
 * plain kernels' order (window cells in row-major order), so the results are theirs. */
#define DW_VEC 4
#define VT4 SPOOL_CAT(T, 4)

/* out[n, oy, ox, o] = sum over ky, kx of x[n, iy, ix, o / mult] * f[ky, kx, 0, o] */
kernel void depthwise_forward(global const T* x, long x_off, global const T* f, long f_off, global T* out,
                              long vectors, G_ARGS) {
    SPOOL_FOR_CHUNK(e, vectors) {
        const int per = (oc + DW_VEC - 1) / DW_VEC;
        const int o0 = (int)(e % per) * DW_VEC;
        const long p = e / per;
        const int ox = (int)(p % ow);
        const int oy = (int)(p / ow % oh);
        const int n = (int)(p / ow / oh);
        const int mult = oc / ic;
        const bool vec = mult == 1 && o0 + DW_VEC <= oc;
        VT4 acc = (VT4)0;
        for (int ky = 0; ky < kh; ky++) {
            int iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= ih) {
                continue;
            }
            for (int kx = 0; kx < kw; kx++) {
                int ix = ox * sw - pl + kx * dw;
                if (ix < 0 || ix >= iw) {
                    continue;
                }
                long xb = x_off + (((long)n * ih + iy) * iw + ix) * ic;
                long fb = f_off + (long)(ky * kw + kx) * oc;
                if (vec) {
                    acc += vload4(0, x + xb + o0) * vload4(0, f + fb + o0);
                } else {
                    T a[DW_VEC];
                    for (int j = 0; j < DW_VEC; j++) {
                        int o = min(o0 + j, oc - 1);
                        a[j] = x[xb + o / mult] * f[fb + o];
                    }
                    acc += vload4(0, a);
                }
            }
        }
        global T* y = out + p * oc + o0;
        if (o0 + DW_VEC <= oc) {
            vstore4(acc, 0, y);
        } else {
            T a[DW_VEC];
            vstore4(acc, 0, a);
            for (int j = 0; o0 + j < oc; j++) {
                y[j] = a[j];
            }
        }
    }
}

/* dx[n, iy, ix, c] = sum over the windows that read (iy, ix), in order, of the sum over m < mult
 * of dy[n, oy, ox, c * mult + m] * f[ky, kx, 0, c * mult + m] */
kernel void depthwise_backprop_input(global const T* dy, long dy_off, global const T* f, long f_off, global T* dx,
                                     long vectors, G_ARGS) {
    SPOOL_FOR_CHUNK(e, vectors) {
        const int per = (ic + DW_VEC - 1) / DW_VEC;
        const int c0 = (int)(e % per) * DW_VEC;
        const long p = e / per;
        const int ix = (int)(p % iw);
        const int iy = (int)(p / iw % ih);
        const int n = (int)(p / iw / ih);
        const int mult = oc / ic;
        const bool vec = mult == 1 && c0 + DW_VEC <= ic;
        VT4 acc = (VT4)0;
        for (int ky = 0; ky < kh; ky++) {
            int oy = source_index(iy + pt - ky * dh, sh, oh);
            if (oy < 0) {
                continue;
            }
            for (int kx = 0; kx < kw; kx++) {
                int ox = source_index(ix + pl - kx * dw, sw, ow);
                if (ox < 0) {
                    continue;
                }
                long yb = dy_off + (((long)n * oh + oy) * ow + ox) * oc;
                long fb = f_off + (long)(ky * kw + kx) * oc;
                if (vec) {
                    acc += vload4(0, dy + yb + c0) * vload4(0, f + fb + c0);
                } else {
                    T a[DW_VEC];
                    for (int j = 0; j < DW_VEC; j++) {
                        int c = min(c0 + j, ic - 1);
                        T s = (T)0;
                        for (int m = 0; m < mult; m++) {
                            s += dy[yb + c * mult + m] * f[fb + c * mult + m];
                        }
                        a[j] = s;
                    }
                    acc += vload4(0, a);
                }
            }
        }
        global T* out = dx + p * ic + c0;
        if (c0 + DW_VEC <= ic) {
            vstore4(acc, 0, out);
        } else {
            T a[DW_VEC];
            vstore4(acc, 0, a);
            for (int j = 0; c0 + j < ic; j++) {
                out[j] = a[j];
            }
        }
    }
}

/* Part z of the depthwise filter gradient, for cell (ky, kx) and DW_VEC channels: P[part][ky, kx, o]
 * = sum over the part's pixels [part * chunk, ...) of x[n, iy, ix, o / mult] * dy[n, oy, ox, o]
 * (padding skipped); conv_filter_sum adds the parts in order. One work-item per (part, cell,
 * channel vector): a GPU gets parts x cells x vectors of them, where a work-item per filter
 * element would loop over every pixel. */
kernel void depthwise_backprop_filter(global const T* x, long x_off, global const T* dy, long dy_off, global T* P,
                                      long part_stride, int chunk, long vectors, G_ARGS) {
    const long e = (long)get_global_id(0);
    if (e >= vectors) {
        return;
    }
    const int per = (oc + DW_VEC - 1) / DW_VEC;
    const int o0 = (int)(e % per) * DW_VEC;
    const int cell = (int)(e / per % (kh * kw));
    const int part = (int)(e / per / (kh * kw));
    const int ky = cell / kw;
    const int kx = cell % kw;
    const int mult = oc / ic;
    const bool vec = mult == 1 && o0 + DW_VEC <= oc;
    const long first = (long)part * chunk;
    const long last = min(first + chunk, (long)nb * oh * ow);
    VT4 acc = (VT4)0;
    for (long p = first; p < last; p++) {
        const int ox = (int)(p % ow);
        const int oy = (int)(p / ow % oh);
        const int n = (int)(p / ow / oh);
        const int iy = oy * sh - pt + ky * dh;
        const int ix = ox * sw - pl + kx * dw;
        if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) {
            continue;
        }
        long xb = x_off + (((long)n * ih + iy) * iw + ix) * ic;
        long yb = dy_off + p * oc;
        if (vec) {
            acc += vload4(0, x + xb + o0) * vload4(0, dy + yb + o0);
        } else {
            T a[DW_VEC];
            for (int j = 0; j < DW_VEC; j++) {
                int o = min(o0 + j, oc - 1);
                a[j] = x[xb + o / mult] * dy[yb + o];
            }
            acc += vload4(0, a);
        }
    }
    global T* out = P + part * part_stride + (long)cell * oc + o0;
    if (o0 + DW_VEC <= oc) {
        vstore4(acc, 0, out);
    } else {
        T a[DW_VEC];
        vstore4(acc, 0, a);
        for (int j = 0; o0 + j < oc; j++) {
            out[j] = a[j];
        }
    }
}

/* The filter gradient of conv_gemm.cl's split reduction: df[k, o] = the sum over its parts, in
 * part order, of P[part * part_stride + grp * gs + k * ks + oi * os] for output channel
 * o = grp * opg + oi (conv_filter_tiled's parts lie as the filter does, conv_filter_packed's
 * transposed per group). */
kernel void conv_filter_sum(global const T* P, long part_stride, int parts, long gs, long ks, long os,
                            global T* df, long count, int oc, int opg) {
    SPOOL_FOR_CHUNK(e, count) {
        int o = (int)(e % oc);
        long k = e / oc;
        long at = o / opg * gs + k * ks + o % opg * os;
        T acc = (T)0;
        for (int part = 0; part < parts; part++) {
            acc += P[part * part_stride + at];
        }
        df[e] = acc;
    }
}

/* ---- pooling (channels in == out == groups) ------------------------------------------------ */

/* Cells of window (oy, ox) inside the input. */
int cells_inside(int oy, int ox, G_ARGS) {
    int rows = 0;
    for (int ky = 0; ky < kh; ky++) {
        int iy = oy * sh - pt + ky * dh;
        rows += iy >= 0 && iy < ih ? 1 : 0;
    }
    int cols = 0;
    for (int kx = 0; kx < kw; kx++) {
        int ix = ox * sw - pl + kx * dw;
        cols += ix >= 0 && ix < iw ? 1 : 0;
    }
    return rows * cols;
}

/* Index in x of the selected cell of window (n, oy, ox), channel ch: the first maximal cell in
 * row-major window order, a NaN counting as greater than every number. */
long selected_cell(global const T* x, long x_off, int n, int oy, int ox, int ch, G_ARGS) {
    long best = -1;
    T bv = (T)0;
    for (int ky = 0; ky < kh; ky++) {
        int iy = oy * sh - pt + ky * dh;
        if (iy < 0 || iy >= ih) {
            continue;
        }
        for (int kx = 0; kx < kw; kx++) {
            int ix = ox * sw - pl + kx * dw;
            if (ix < 0 || ix >= iw) {
                continue;
            }
            long at = (((long)n * ih + iy) * iw + ix) * ic + ch;
            T v = x[x_off + at];
            if (best < 0 || (!isnan(bv) && (isnan(v) || v > bv))) {
                best = at;
                bv = v;
            }
        }
    }
    return best;
}

/* The first and last output row (column) whose window covers input row iy, as ints (first > last: none). */
#define WINDOWS_OVER(first, last, at, pad, k, d, s, size)                        \
    int first = max(0, ((at) + (pad) - ((k) - 1) * (d) + (s) - 1) / (s));         \
    int last = min((size) - 1, ((at) + (pad)) / (s));                              \
    if ((at) + (pad) - ((k) - 1) * (d) < 0) { first = 0; }

/* Whether output row o's window has a cell at input row at (window cell index a multiple of d). */
bool window_reads(int o, int at, int pad, int k, int d, int s) {
    int off = at + pad - o * s;
    return off >= 0 && off % d == 0 && off / d < k;
}

kernel void avg_pool(global const T* x, long x_off, global T* out, long count, G_ARGS) {
    SPOOL_FOR_CHUNK(e, count) {
        int ch = (int)(e % oc);
        long p = e / oc;
        int ox = (int)(p % ow);
        int oy = (int)(p / ow % oh);
        int n = (int)(p / ow / oh);
        T acc = (T)0;
        for (int ky = 0; ky < kh; ky++) {
            int iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= ih) {
                continue;
            }
            for (int kx = 0; kx < kw; kx++) {
                int ix = ox * sw - pl + kx * dw;
                if (ix >= 0 && ix < iw) {
                    acc += x[x_off + (((long)n * ih + iy) * iw + ix) * ic + ch];
                }
            }
        }
        out[e] = acc / (T)cells_inside(oy, ox, nb, ih, iw, ic, kh, kw, oc, groups, oh, ow, sh, sw, dh, dw, pt, pl);
    }
}

/* dx[n, iy, ix, c] = sum over the windows holding the cell, in order, of dy / cells of the window */
kernel void avg_pool_grad(global const T* dy, long dy_off, global T* dx, long count, G_ARGS) {
    SPOOL_FOR_CHUNK(e, count) {
        int ch = (int)(e % ic);
        long p = e / ic;
        int ix = (int)(p % iw);
        int iy = (int)(p / iw % ih);
        int n = (int)(p / iw / ih);
        WINDOWS_OVER(oy0, oy1, iy, pt, kh, dh, sh, oh)
        WINDOWS_OVER(ox0, ox1, ix, pl, kw, dw, sw, ow)
        T acc = (T)0;
        for (int oy = oy0; oy <= oy1; oy++) {
            if (!window_reads(oy, iy, pt, kh, dh, sh)) {
                continue;
            }
            for (int ox = ox0; ox <= ox1; ox++) {
                if (!window_reads(ox, ix, pl, kw, dw, sw)) {
                    continue;
                }
                acc += dy[dy_off + (((long)n * oh + oy) * ow + ox) * oc + ch]
                        / (T)cells_inside(oy, ox, nb, ih, iw, ic, kh, kw, oc, groups, oh, ow, sh, sw, dh, dw, pt, pl);
            }
        }
        dx[e] = acc;
    }
}

/* dx[cell] = sum over the windows that select the cell, in order, of their dy */
kernel void max_pool_grad(global const T* x, long x_off, global const T* dy, long dy_off, global T* dx, long count,
                          G_ARGS) {
    SPOOL_FOR_CHUNK(e, count) {
        int ch = (int)(e % ic);
        long p = e / ic;
        int ix = (int)(p % iw);
        int iy = (int)(p / iw % ih);
        int n = (int)(p / iw / ih);
        WINDOWS_OVER(oy0, oy1, iy, pt, kh, dh, sh, oh)
        WINDOWS_OVER(ox0, ox1, ix, pl, kw, dw, sw, ow)
        T acc = (T)0;
        for (int oy = oy0; oy <= oy1; oy++) {
            if (!window_reads(oy, iy, pt, kh, dh, sh)) {
                continue;
            }
            for (int ox = ox0; ox <= ox1; ox++) {
                if (window_reads(ox, ix, pl, kw, dw, sw)
                        && selected_cell(x, x_off, n, oy, ox, ch, nb, ih, iw, ic, kh, kw, oc, groups, oh, ow, sh, sw,
                                         dh, dw, pt, pl) == e) {
                    acc += dy[dy_off + (((long)n * oh + oy) * ow + ox) * oc + ch];
                }
            }
        }
        dx[e] = acc;
    }
}

/* ---- channel-vectorised max pooling ------------------------------------------------------------
 * A work-item takes POOL_VEC neighbouring channels of one window (in NHWC one vector load per
 * window cell), so that neighbouring work-items read neighbouring channel vectors. Each lane
 * selects as selected_cell does (the first maximal cell in row-major window order, a NaN greater
 * than every number), with vector compares and selects instead of a branch per element: the
 * same cell, so the same values as max_pool_grad. A channel run that ends
 * past the last channel takes selected_cell lane by lane. PoCL ran the scalar kernel over
 * [128, 26, 26, 32] in 11.5 ms; core guarantees every window a cell inside the input. */
#ifndef POOL_VEC
#define POOL_VEC 8
#endif
#define PVT SPOOL_CAT(T, POOL_VEC)
#ifdef T_IS_DOUBLE
#define PMASK SPOOL_CAT(long, POOL_VEC)
#else
#define PMASK SPOOL_CAT(int, POOL_VEC)
#endif
#define PLOAD SPOOL_CAT(vload, POOL_VEC)
#define PSTORE SPOOL_CAT(vstore, POOL_VEC)

/* out = values at each window's selected cell of x; same != 0: values is x (one load per cell) */
kernel void max_pool(global const T* x, long x_off, global const T* values, long v_off, global T* out,
                         long vectors, int same, G_ARGS) {
    SPOOL_FOR_CHUNK(e, vectors) {
        const int per = (oc + POOL_VEC - 1) / POOL_VEC;
        const int c0 = (int)(e % per) * POOL_VEC;
        const long p = e / per;
        const int ox = (int)(p % ow);
        const int oy = (int)(p / ow % oh);
        const int n = (int)(p / ow / oh);
        global T* y = out + p * oc + c0;
        if (c0 + POOL_VEC > oc) {
            for (int j = 0; c0 + j < oc; j++) {
                long at = selected_cell(x, x_off, n, oy, ox, c0 + j, nb, ih, iw, ic, kh, kw, oc, groups, oh, ow, sh,
                                        sw, dh, dw, pt, pl);
                y[j] = values[v_off + at];
            }
            continue;
        }
        PVT best = (PVT)0;
        PVT val = (PVT)0;
        bool first = true;
        for (int ky = 0; ky < kh; ky++) {
            int iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= ih) {
                continue;
            }
            for (int kx = 0; kx < kw; kx++) {
                int ix = ox * sw - pl + kx * dw;
                if (ix < 0 || ix >= iw) {
                    continue;
                }
                long at = (((long)n * ih + iy) * iw + ix) * ic + c0;
                PVT v = PLOAD(0, x + x_off + at);
                PMASK take = first ? (PMASK)(-1) : (isnan(v) | (v > best)) & ~isnan(best);
                best = select(best, v, take);
                if (!same) {
                    val = select(val, PLOAD(0, values + v_off + at), take);
                }
                first = false;
            }
        }
        PSTORE(same ? best : val, 0, y);
    }
}

/* max_pool_grad where no two windows share a cell (window <= stride, no dilation), one work-item
 * per POOL_VEC channels of a window: the window's cells are selected as max_pool does, then
 * each cell of the window receives, lane by lane, dy where it is the selected cell and 0
 * elsewhere; the host zeroes dx for the cells no window covers. The same values as
 * max_pool_grad (a cell is selected by one window at most) at the forward pass's cost, instead
 * of one selection per cell and covering window. */
kernel void max_pool_grad_windows_vec(global const T* x, long x_off, global const T* dy, long dy_off, global T* dx,
                                      long vectors, G_ARGS) {
    SPOOL_FOR_CHUNK(e, vectors) {
        const int per = (oc + POOL_VEC - 1) / POOL_VEC;
        const int c0 = (int)(e % per) * POOL_VEC;
        const long p = e / per;
        const int ox = (int)(p % ow);
        const int oy = (int)(p / ow % oh);
        const int n = (int)(p / ow / oh);
        if (c0 + POOL_VEC > oc) {
            for (int j = 0; c0 + j < oc; j++) {
                long at = selected_cell(x, x_off, n, oy, ox, c0 + j, nb, ih, iw, ic, kh, kw, oc, groups, oh, ow, sh,
                                        sw, dh, dw, pt, pl);
                dx[at] = dy[dy_off + p * oc + c0 + j];
            }
            continue;
        }
        PVT best = (PVT)0;
        PMASK cell = (PMASK)0; /* the selected cell's index ky * kw + kx, per lane */
        bool first = true;
        for (int ky = 0; ky < kh; ky++) {
            int iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= ih) {
                continue;
            }
            for (int kx = 0; kx < kw; kx++) {
                int ix = ox * sw - pl + kx * dw;
                if (ix < 0 || ix >= iw) {
                    continue;
                }
                PVT v = PLOAD(0, x + x_off + (((long)n * ih + iy) * iw + ix) * ic + c0);
                PMASK take = first ? (PMASK)(-1) : (isnan(v) | (v > best)) & ~isnan(best);
                best = select(best, v, take);
                cell = select(cell, (PMASK)(ky * kw + kx), take);
                first = false;
            }
        }
        const PVT g = PLOAD(0, dy + dy_off + p * oc + c0);
        for (int ky = 0; ky < kh; ky++) {
            int iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= ih) {
                continue;
            }
            for (int kx = 0; kx < kw; kx++) {
                int ix = ox * sw - pl + kx * dw;
                if (ix < 0 || ix >= iw) {
                    continue;
                }
                PSTORE(select((PVT)0, g, cell == (PMASK)(ky * kw + kx)), 0,
                       dx + (((long)n * ih + iy) * iw + ix) * ic + c0);
            }
        }
    }
}
