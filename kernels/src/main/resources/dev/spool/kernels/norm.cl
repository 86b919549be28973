/*
 * Spool batch normalization kernels (training mode): Backend.batchNormTraining and
 * batchNormTrainingGrad over a dense [rows, C] view, C the channel axis. One launch each way
 * (bn_fused, bn_grad_fused, at the end), or where that would pass the device's loop limit three,
 * with no atomics (every sum has one owner and a fixed order):
 *   bn_partials / bn_grad_partials: one work-item per (chunk of rows, channel), channels
 *       fastest, so that neighbouring work-items read neighbouring addresses of a row;
 *   bn_finalize / bn_grad_finalize: one work-item per channel combines its chunks in order;
 *   bn_apply / bn_grad_apply: one work-item per element.
 * Statistics use Welford's update within a chunk and Chan's combination across chunks, in ACC
 * (double where the device has cl_khr_fp64). The elementwise parts round as the composite ops do
 * (contraction into fused multiply-adds off).
 *
 * -DT=float -DT_IS_FP=1 (default) or -DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1; -DACC= the
 * accumulator type (-DACC_IS_DOUBLE=1 for double).
 */
#ifndef T
#define T float
#define T_IS_FP 1
#endif
#ifndef ACC
#define ACC T
#endif
#if defined(T_IS_DOUBLE) || defined(ACC_IS_DOUBLE)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#pragma OPENCL FP_CONTRACT OFF

/* Rows [first, end) of chunk k when rows are split into chunks of chunk_len. */
#define CHUNK_ROWS(first, end, k) \
    long first = (k) * chunk_len; \
    long end = min(first + chunk_len, rows);

/* Per (chunk, channel): the chunk's mean and sum of squared deviations (Welford). */
kernel void bn_partials(global const T* x, long x_off, long rows, long c, long chunks, long chunk_len,
                        global ACC* part_mean, global ACC* part_m2) {
    long e = (long)get_global_id(0);
    if (e >= chunks * c) {
        return;
    }
    long ch = e % c;
    CHUNK_ROWS(first, end, e / c)
    ACC mean = (ACC)0;
    ACC m2 = (ACC)0;
    long n = 0;
    for (long r = first; r < end; r++) {
        ACC v = (ACC)x[x_off + r * c + ch];
        n++;
        ACC d = v - mean;
        mean += d / (ACC)n;
        m2 += d * (v - mean);
    }
    part_mean[e] = mean;
    part_m2[e] = m2;
}

/* Per channel: the chunks combined in order (Chan et al.), then the composite's scale and shift:
 * inv = rsqrt(variance + epsilon) * scale, shift = offset - mean * inv, each rounded to T. */
kernel void bn_finalize(global const ACC* part_mean, global const ACC* part_m2, long rows, long c, long chunks,
                        long chunk_len, global const T* scale, long scale_off, global const T* offset, long offset_off,
                        T epsilon, global T* mean_out, global T* var_out, global T* inv_out, global T* shift_out) {
    long ch = (long)get_global_id(0);
    if (ch >= c) {
        return;
    }
    ACC mean = (ACC)0;
    ACC m2 = (ACC)0;
    long n = 0;
    for (long k = 0; k < chunks; k++) {
        CHUNK_ROWS(first, end, k)
        long nb = end - first;
        if (nb <= 0) {
            continue;
        }
        ACC mb = part_mean[k * c + ch];
        ACC d = mb - mean;
        long total = n + nb;
        mean += d * ((ACC)nb / (ACC)total);
        m2 += part_m2[k * c + ch] + d * d * ((ACC)n * (ACC)nb / (ACC)total);
        n = total;
    }
    T m = (T)mean;
    T v = (T)(m2 / (ACC)rows);
    T inv = rsqrt(v + epsilon) * scale[scale_off + ch];
    mean_out[ch] = m;
    var_out[ch] = v;
    inv_out[ch] = inv;
    shift_out[ch] = offset[offset_off + ch] - m * inv;
}

/* y = x * inv + shift, per channel */
kernel void bn_apply(global const T* x, long x_off, long c, global const T* inv, global const T* shift,
                     global T* y, long count) {
    SPOOL_FOR_CHUNK(e, count) {
        long ch = e % c;
        y[e] = x[x_off + e] * inv[ch] + shift[ch];
    }
}

/* Per (chunk, channel): sum(dy) and sum(dy * xhat), xhat = (x - mean) * rsqrt(variance + epsilon). */
kernel void bn_grad_partials(global const T* dy, long dy_off, global const T* x, long x_off, global const T* mean,
                             long mean_off, global const T* var, long var_off, T epsilon, long rows, long c,
                             long chunks, long chunk_len, global ACC* part_g, global ACC* part_gx) {
    long e = (long)get_global_id(0);
    if (e >= chunks * c) {
        return;
    }
    long ch = e % c;
    CHUNK_ROWS(first, end, e / c)
    ACC m = (ACC)mean[mean_off + ch];
    ACC r = (ACC)1 / sqrt((ACC)var[var_off + ch] + (ACC)epsilon);
    ACC sg = (ACC)0;
    ACC sgx = (ACC)0;
    for (long i = first; i < end; i++) {
        ACC g = (ACC)dy[dy_off + i * c + ch];
        sg += g;
        sgx += g * (((ACC)x[x_off + i * c + ch] - m) * r);
    }
    part_g[e] = sg;
    part_gx[e] = sgx;
}

/* Per channel: doffset = sum(dy), dscale = sum(dy * xhat), and k = scale * r / rows for the apply. */
kernel void bn_grad_finalize(global const ACC* part_g, global const ACC* part_gx, long rows, long c, long chunks,
                             global const T* scale, long scale_off, global const T* var, long var_off, T epsilon,
                             global T* dscale, global T* doffset, global ACC* k_out) {
    long ch = (long)get_global_id(0);
    if (ch >= c) {
        return;
    }
    ACC sg = (ACC)0;
    ACC sgx = (ACC)0;
    for (long k = 0; k < chunks; k++) {
        sg += part_g[k * c + ch];
        sgx += part_gx[k * c + ch];
    }
    doffset[ch] = (T)sg;
    dscale[ch] = (T)sgx;
    ACC r = (ACC)1 / sqrt((ACC)var[var_off + ch] + (ACC)epsilon);
    k_out[ch] = (ACC)scale[scale_off + ch] * r / (ACC)rows;
}

/* dx = k * (rows * dy - doffset - xhat * dscale) */
kernel void bn_grad_apply(global const T* dy, long dy_off, global const T* x, long x_off, global const T* mean,
                          long mean_off, global const T* var, long var_off, T epsilon, long rows, long c,
                          global const T* dscale, global const T* doffset, global const ACC* k, global T* dx,
                          long count) {
    SPOOL_FOR_CHUNK(e, count) {
        long ch = e % c;
        ACC r = (ACC)1 / sqrt((ACC)var[var_off + ch] + (ACC)epsilon);
        ACC xhat = ((ACC)x[x_off + e] - (ACC)mean[mean_off + ch]) * r;
        dx[e] = (T)(k[ch] * ((ACC)rows * (ACC)dy[dy_off + e] - (ACC)doffset[ch] - xhat * (ACC)dscale[ch]));
    }
}

/* ---- one launch each way --------------------------------------------------------------------
 * bn_fused / bn_grad_fused: one work-group per block of cb channels, its items laid out as R =
 * get_local_size(0) / cb row lanes of cb channels (channels fastest: neighbouring items read
 * neighbouring addresses of a row). Item (lane, channel) walks rows lane, lane + R, ...; the
 * lanes' partials meet in local memory (sa, sb: one ACC per item), where the lane-0 item of each
 * channel combines them in lane order; then every item applies the result to its rows. Each sum
 * has one owner and a fixed order, so results do not depend on scheduling; a work-item loops
 * about 2 rows / R + R times (the host falls back to the three launches above where that would
 * pass the device's loop limit). Items past the last channel or lane only meet the barriers. */

/* Rows item lane of R takes: lane, lane + R, ... below rows. */
long lane_rows(long lane, long lanes, long rows) {
    return lane < rows ? (rows - lane + lanes - 1) / lanes : 0;
}

kernel void bn_fused(global const T* x, long x_off, long rows, long c, int cb, global const T* scale, long scale_off,
                     global const T* offset, long offset_off, T epsilon, global T* mean_out, global T* var_out,
                     global T* y, local ACC* sa, local ACC* sb) {
    const int lid = (int)get_local_id(0);
    const int lanes = (int)get_local_size(0) / cb;
    const int lc = lid % cb;
    const int lane = lid / cb;
    const long ch = (long)get_group_id(0) * cb + lc;
    const bool active = lane < lanes && ch < c;
    ACC mean = (ACC)0;
    ACC m2 = (ACC)0;
    if (active) {
        long n = 0;
        for (long r = lane; r < rows; r += lanes) {
            ACC v = (ACC)x[x_off + r * c + ch];
            n++;
            ACC d = v - mean;
            mean += d / (ACC)n;
            m2 += d * (v - mean);
        }
    }
    sa[lid] = mean;
    sb[lid] = m2;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lane == 0 && ch < c) {
        ACC cm = (ACC)0;
        ACC cm2 = (ACC)0;
        long n = 0;
        for (int j = 0; j < lanes; j++) {
            long nb = lane_rows(j, lanes, rows);
            if (nb == 0) {
                break;
            }
            ACC d = sa[j * cb + lc] - cm;
            long total = n + nb;
            cm += d * ((ACC)nb / (ACC)total);
            cm2 += sb[j * cb + lc] + d * d * ((ACC)n * (ACC)nb / (ACC)total);
            n = total;
        }
        T m = (T)cm;
        T v = (T)(cm2 / (ACC)rows);
        T inv = rsqrt(v + epsilon) * scale[scale_off + ch];
        mean_out[ch] = m;
        var_out[ch] = v;
        sa[lc] = (ACC)inv; /* the item's own lane-0 slot: no other item reads it before the barrier */
        sb[lc] = (ACC)(offset[offset_off + ch] - m * inv);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (active) {
        const T inv = (T)sa[lc];
        const T shift = (T)sb[lc];
        for (long r = lane; r < rows; r += lanes) {
            y[r * c + ch] = x[x_off + r * c + ch] * inv + shift;
        }
    }
}

kernel void bn_grad_fused(global const T* dy, long dy_off, global const T* x, long x_off, global const T* mean,
                          long mean_off, global const T* var, long var_off, T epsilon, long rows, long c, int cb,
                          global const T* scale, long scale_off, global T* dscale, global T* doffset, global T* dx,
                          local ACC* sa, local ACC* sb) {
    const int lid = (int)get_local_id(0);
    const int lanes = (int)get_local_size(0) / cb;
    const int lc = lid % cb;
    const int lane = lid / cb;
    const long ch = (long)get_group_id(0) * cb + lc;
    const bool active = lane < lanes && ch < c;
    ACC m = (ACC)0;
    ACC r = (ACC)0;
    ACC sg = (ACC)0;
    ACC sgx = (ACC)0;
    if (ch < c) {
        m = (ACC)mean[mean_off + ch];
        r = (ACC)1 / sqrt((ACC)var[var_off + ch] + (ACC)epsilon);
    }
    if (active) {
        for (long i = lane; i < rows; i += lanes) {
            ACC g = (ACC)dy[dy_off + i * c + ch];
            sg += g;
            sgx += g * (((ACC)x[x_off + i * c + ch] - m) * r);
        }
    }
    sa[lid] = sg;
    sb[lid] = sgx;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lane == 0 && ch < c) {
        ACC tg = (ACC)0;
        ACC tgx = (ACC)0;
        for (int j = 0; j < lanes; j++) {
            tg += sa[j * cb + lc];
            tgx += sb[j * cb + lc];
        }
        /* the apply reads them rounded to T, as bn_grad_apply reads its outputs back */
        doffset[ch] = (T)tg;
        dscale[ch] = (T)tgx;
        sa[lc] = (ACC)(T)tg;
        sb[lc] = (ACC)(T)tgx;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (active) {
        const ACC go = sa[lc];
        const ACC gs = sb[lc];
        const ACC k = (ACC)scale[scale_off + ch] * r / (ACC)rows;
        for (long i = lane; i < rows; i += lanes) {
            ACC xhat = ((ACC)x[x_off + i * c + ch] - m) * r;
            dx[i * c + ch] = (T)(k * ((ACC)rows * (ACC)dy[dy_off + i * c + ch] - go - xhat * gs));
        }
    }
}
