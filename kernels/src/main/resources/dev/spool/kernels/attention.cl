/*
 * Spool's fused scaled dot-product attention (dev.spool.spi.Backend#attention and
 * #attentionGrad), FlashAttention-2's pair without its shared-memory tiles: one work-item per
 * (query row, chunk of ACC_N output columns) in the forward and for dq, one per (key row, chunk)
 * for dk and dv. Each walks the other side's rows one at a time, so no work-item ever holds more
 * than its chunk of accumulators and no buffer holds a [Tq, Tk] score matrix. The forward is an
 * online softmax (running max m and sum l, the chunk rescaled when m grows) and writes each row's
 * lse = m + log(l); the backward recomputes p = exp(s - lse) per pair from it, with
 * D = rowsum(dOut * out) computed first (attention_rowdot), and sums dk, dv over queries in a
 * kernel of their own instead of atomics: every sum runs in a fixed order.
 *
 * Views are rank 4 ([B, H, T, depth], layout_t with any strides; only offset and strides[0..3]
 * are read, at constant indices). The score of (i, j) is scale * dot(q[i], k[j]), or exactly
 * MASKED where mask[b, h, i, j] is 0 or causal and j > i. Causal keys past a query are skipped,
 * exact while the row's max is at least LOW (exp(MASKED - m) is then 0); a row that saw only
 * masked keys visits the rest. In the backward such a row (lse < LOW) takes p = 1/Tk: its every
 * score is MASKED, and a float lse has lost its log(Tk) at -1e9.
 *
 * Work is split along the walked axis into ranges [r0, r1) of launches of their own where the
 * device stops long loops (Rusticl's llvmpipe: OpenClDevice.loopLimit); a launch that is not the
 * first reads the partial state the previous one wrote (forward: m, l in `state`, the unscaled
 * accumulators in `out`; backward: the partial sums in the outputs), one that is not the last
 * writes it. Flags: bit 0 first, bit 1 last, bit 2 causal, bit 3 has a mask.
 *
 * Types: -DT=float or -DT=double with -DT_IS_DOUBLE=1. -DACC_N: accumulators per work-item
 * (the host picks a smaller one for GPUs, whose registers hold them). -DUNIT_LAST=1 where every
 * operand is dense along its depth. Dot products keep four partial sums (a fixed order), so that
 * they need no reassociation to vectorise; with -DUNIT_LAST=1, -DVEC_DOT=1 (CPU devices) keeps
 * eight, in one vector.
 */
#ifndef T
#define T float
#endif
#ifdef T_IS_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#ifndef ACC_N
#define ACC_N 16
#endif
/* keys per block of the forward's online softmax */
#define KB 8

/* layout_t comes from prelude.cl, which the host prepends. */

/*
 * -DUNIT_LAST=1: every operand's last stride is 1 (the host checks), so that the depth loops read
 * consecutive elements and the compiler can vectorise them; otherwise the view's stride.
 */
#ifdef UNIT_LAST
#define LAST(l) 1L
#else
#define LAST(l) ((l).strides[3])
#endif

#define MASKED ((T)-1e9)
#define LOW ((T)(-1e9 + 800))
#define F_FIRST 1u
#define F_LAST 2u
#define F_CAUSAL 4u
#define F_MASK 8u

SPOOL_INLINE long row_at(const layout_t* l, long b, long h, long t) {
    return l->offset + b * l->strides[0] + h * l->strides[1] + t * l->strides[2];
}

SPOOL_INLINE int is_masked(global const uchar* mask, const layout_t* ml, uint flags, long b, long h, long i,
                           long j) {
    if ((flags & F_CAUSAL) && j > i) {
        return 1;
    }
    return (flags & F_MASK) && mask[row_at(ml, b, h, i) + j * ml->strides[3]] == 0;
}

#if defined(VEC_DOT) && defined(UNIT_LAST)
#ifdef T_IS_DOUBLE
#define T8 double8
#else
#define T8 float8
#endif
/*
 * dot(q[qp..], k[kp..]) over d, unit strides, on CPU devices (-DVEC_DOT=1): eight partial sums in
 * one vector, added in a fixed order at the end. On PoCL (AVX-512) it took attention forward and
 * backward at B 8, H 4, T 256, d 64 from 130 to 70-80 ms; the four scalar sums below stayed slow.
 */
SPOOL_INLINE T dot(global const T* q, long qp, long qs, global const T* k, long kp, long ks, long d) {
    T8 s = (T8)0;
    long c = 0;
    for (; c + 8 <= d; c += 8) {
        s += vload8(0, q + qp + c) * vload8(0, k + kp + c);
    }
    T r = ((s.s0 + s.s1) + (s.s2 + s.s3)) + ((s.s4 + s.s5) + (s.s6 + s.s7));
    for (; c < d; c++) {
        r += q[qp + c] * k[kp + c];
    }
    return r;
}
#else
/* dot(q[qp..], k[kp..]) over d, strides qs and ks: four partial sums, added in a fixed order */
SPOOL_INLINE T dot(global const T* q, long qp, long qs, global const T* k, long kp, long ks, long d) {
    T s0 = (T)0;
    T s1 = (T)0;
    T s2 = (T)0;
    T s3 = (T)0;
    long c = 0;
    for (; c + 4 <= d; c += 4) {
        s0 += q[qp + c * qs] * k[kp + c * ks];
        s1 += q[qp + (c + 1) * qs] * k[kp + (c + 1) * ks];
        s2 += q[qp + (c + 2) * qs] * k[kp + (c + 2) * ks];
        s3 += q[qp + (c + 3) * qs] * k[kp + (c + 3) * ks];
    }
    for (; c < d; c++) {
        s0 += q[qp + c * qs] * k[kp + c * ks];
    }
    return (s0 + s1) + (s2 + s3);
}
#endif

SPOOL_INLINE T dot_scaled(global const T* q, long qp, long qs, global const T* k, long kp, long ks, long d, T scale) {
    return dot(q, qp, qs, k, kp, ks, d) * scale;
}

/*
 * Forward: work-item (row, chunk), row = (b * H + h) * Tq + i, over keys [r0, r1). out and lse
 * are dense; state holds (m, l) per (row, chunk) between launches.
 */
kernel void attention_forward(global const T* q, layout_t qo, global const T* k, layout_t ko, global const T* v,
                              layout_t vo, global const uchar* mask, layout_t mo, long bn, long hn, long tq, long tk,
                              long d, long dv, T scale, long r0, long r1, uint flags, global T* out, global T* lse,
                              global T* state) {
    long chunks = (dv + ACC_N - 1) / ACC_N;
    long gid = (long)get_global_id(0);
    if (gid >= bn * hn * tq * chunks) {
        return;
    }
    long row = gid / chunks;
    long c0 = (gid - row * chunks) * ACC_N;
    long nc = min((long)ACC_N, dv - c0);
    long i = row % tq;
    long h = row / tq % hn;
    long b = row / tq / hn;
    long qp = row_at(&qo, b, h, i);
    global T* o = out + row * dv + c0;
    T acc[ACC_N];
    T m;
    T l;
    if (flags & F_FIRST) {
        m = -(T)INFINITY;
        l = (T)0;
        for (long c = 0; c < ACC_N; c++) {
            acc[c] = (T)0;
        }
    } else {
        m = state[2 * gid];
        l = state[2 * gid + 1];
        for (long c = 0; c < ACC_N; c++) {
            acc[c] = c < nc ? o[c] : (T)0;
        }
    }
    /* keys up to the causal limit first; the rest only for a row that has seen nothing but masked keys */
    long split = (flags & F_CAUSAL) ? clamp(i + 1, r0, r1) : r1;
    for (int pass = 0; pass < 2; pass++) {
        long j0 = pass == 0 ? r0 : split;
        long j1 = pass == 0 ? split : (m < LOW ? r1 : split);
        /* KB keys at a time: one rescale of the chunk per block, not per key */
        for (long jb = j0; jb < j1; jb += KB) {
            long nb = min((long)KB, j1 - jb);
            T sb[KB];
            T mb = m;
            for (long u = 0; u < KB; u++) {
                T s = -(T)INFINITY;
                if (u < nb) {
                    s = is_masked(mask, &mo, flags, b, h, i, jb + u) ? MASKED
                            : dot_scaled(q, qp, LAST(qo), k, row_at(&ko, b, h, jb + u), LAST(ko), d, scale);
                }
                sb[u] = s;
                mb = fmax(mb, s);
            }
            T corr = exp(m - mb); /* 0 at the first block: m = -inf */
            T lsum = (T)0;
            for (long u = 0; u < KB; u++) {
                sb[u] = u < nb ? exp(sb[u] - mb) : (T)0;
                lsum += sb[u];
            }
            l = l * corr + lsum;
            m = mb;
            for (long c = 0; c < ACC_N; c++) {
                acc[c] *= corr;
            }
            for (long u = 0; u < nb; u++) {
                T p = sb[u];
                long vp = row_at(&vo, b, h, jb + u) + c0 * LAST(vo);
                if (nc == ACC_N) {
                    for (long c = 0; c < ACC_N; c++) {
                        acc[c] += p * v[vp + c * LAST(vo)];
                    }
                } else {
                    for (long c = 0; c < ACC_N; c++) {
                        acc[c] += c < nc ? p * v[vp + c * LAST(vo)] : (T)0;
                    }
                }
            }
        }
    }
    if (flags & F_LAST) {
        T inv = (T)1 / l;
        for (long c = 0; c < nc; c++) {
            o[c] = acc[c] * inv;
        }
        if (c0 == 0) {
            lse[row] = m + log(l);
        }
    } else {
        for (long c = 0; c < nc; c++) {
            o[c] = acc[c];
        }
        state[2 * gid] = m;
        state[2 * gid + 1] = l;
    }
}

/* D[row] = dot(dOut[row], out[row]) */
kernel void attention_rowdot(global const T* out, layout_t oo, global const T* g, layout_t go, long bn, long hn,
                             long tq, long dv, global T* dd) {
    long row = (long)get_global_id(0);
    if (row >= bn * hn * tq) {
        return;
    }
    long i = row % tq;
    long h = row / tq % hn;
    long b = row / tq / hn;
    long op = row_at(&oo, b, h, i);
    long gp = row_at(&go, b, h, i);
    dd[row] = dot(g, gp, LAST(go), out, op, LAST(oo), dv);
}

/* p of (i, j) from the row's lse, and ds = p (dot(dOut[i], v[j]) - D[i]), 0 where masked */
SPOOL_INLINE T grad_pair(global const T* q, const layout_t* qo, global const T* k, const layout_t* ko,
                         global const T* v, const layout_t* vo, global const T* g, const layout_t* go,
                         global const uchar* mask, const layout_t* mo, uint flags, long b, long h, long i, long j,
                         long tk, long d, long dv, T scale, T lse_i, T d_i, T* p_out) {
    int off = is_masked(mask, mo, flags, b, h, i, j);
    if (lse_i < LOW) {
        *p_out = (T)1 / (T)tk;
        return (T)0;
    }
    if (off) {
        *p_out = (T)0; /* exp(MASKED - lse) with lse >= LOW */
        return (T)0;
    }
    T s = dot_scaled(q, row_at(qo, b, h, i), LAST(*qo), k, row_at(ko, b, h, j), LAST(*ko), d, scale);
    T p = exp(s - lse_i);
    T dp = dot(g, row_at(go, b, h, i), LAST(*go), v, row_at(vo, b, h, j), LAST(*vo), dv);
    *p_out = p;
    return p * (dp - d_i);
}

/*
 * dq: work-item (query row, chunk of d), over keys [r0, r1); masked keys have ds = 0, so causal
 * keys past the query are never visited. dq holds the unscaled partial sums between launches.
 */
kernel void attention_grad_q(global const T* q, layout_t qo, global const T* k, layout_t ko, global const T* v,
                             layout_t vo, global const T* g, layout_t go, global const uchar* mask, layout_t mo,
                             global const T* lse, global const T* dd, long bn, long hn, long tq, long tk, long d,
                             long dv, T scale, long r0, long r1, uint flags, global T* dq) {
    long chunks = (d + ACC_N - 1) / ACC_N;
    long gid = (long)get_global_id(0);
    if (gid >= bn * hn * tq * chunks) {
        return;
    }
    long row = gid / chunks;
    long c0 = (gid - row * chunks) * ACC_N;
    long nc = min((long)ACC_N, d - c0);
    long i = row % tq;
    long h = row / tq % hn;
    long b = row / tq / hn;
    global T* o = dq + row * d + c0;
    T acc[ACC_N];
    for (long c = 0; c < ACC_N; c++) {
        acc[c] = (flags & F_FIRST) || c >= nc ? (T)0 : o[c];
    }
    T lse_i = lse[row];
    T d_i = dd[row];
    long j1 = (flags & F_CAUSAL) ? clamp(i + 1, r0, r1) : r1;
    for (long j = r0; j < j1; j++) {
        T p;
        T ds = grad_pair(q, &qo, k, &ko, v, &vo, g, &go, mask, &mo, flags, b, h, i, j, tk, d, dv, scale, lse_i, d_i,
                         &p);
        long kp = row_at(&ko, b, h, j) + c0 * LAST(ko);
        if (nc == ACC_N) {
            for (long c = 0; c < ACC_N; c++) {
                acc[c] += ds * k[kp + c * LAST(ko)];
            }
        } else {
            for (long c = 0; c < ACC_N; c++) {
                acc[c] += c < nc ? ds * k[kp + c * LAST(ko)] : (T)0;
            }
        }
    }
    T f = (flags & F_LAST) ? scale : (T)1;
    for (long c = 0; c < nc; c++) {
        o[c] = acc[c] * f;
    }
}

/*
 * dk and dv: work-item (key row, chunk of max(d, dv)), over queries [r0, r1). A query before the
 * key (causal) adds nothing unless every key of its row is masked (lse < LOW): then p = 1/Tk
 * reaches dv. dk and dv hold partial sums between launches (dk unscaled).
 */
kernel void attention_grad_kv(global const T* q, layout_t qo, global const T* k, layout_t ko, global const T* v,
                              layout_t vo, global const T* g, layout_t go, global const uchar* mask, layout_t mo,
                              global const T* lse, global const T* dd, long bn, long hn, long tq, long tk, long d,
                              long dv, T scale, long r0, long r1, uint flags, global T* dk, global T* dvo) {
    long width = max(d, dv);
    long chunks = (width + ACC_N - 1) / ACC_N;
    long gid = (long)get_global_id(0);
    if (gid >= bn * hn * tk * chunks) {
        return;
    }
    long row = gid / chunks;
    long c0 = (gid - row * chunks) * ACC_N;
    long nk = clamp(d - c0, 0L, (long)ACC_N);
    long nv = clamp(dv - c0, 0L, (long)ACC_N);
    long j = row % tk;
    long h = row / tk % hn;
    long b = row / tk / hn;
    long bh = b * hn + h;
    global T* ok = dk + row * d + c0;
    global T* ov = dvo + row * dv + c0;
    T ak[ACC_N];
    T av[ACC_N];
    for (long c = 0; c < ACC_N; c++) {
        ak[c] = (flags & F_FIRST) || c >= nk ? (T)0 : ok[c];
        av[c] = (flags & F_FIRST) || c >= nv ? (T)0 : ov[c];
    }
    long start = r0;
    if ((flags & F_CAUSAL) && j > r0) {
        /* queries before j: only rows whose every key is masked; find the first in range */
        start = min(j, r1);
        for (long i = r0; i < min(j, r1); i++) {
            if (lse[bh * tq + i] < LOW) {
                start = i;
                break;
            }
        }
    }
    for (long i = start; i < r1; i++) {
        T p;
        T ds = grad_pair(q, &qo, k, &ko, v, &vo, g, &go, mask, &mo, flags, b, h, i, j, tk, d, dv, scale,
                         lse[bh * tq + i], dd[bh * tq + i], &p);
        long gp = row_at(&go, b, h, i) + c0 * LAST(go);
        long qp = row_at(&qo, b, h, i) + c0 * LAST(qo);
        if (nv == ACC_N && nk == ACC_N) {
            for (long c = 0; c < ACC_N; c++) {
                av[c] += p * g[gp + c * LAST(go)];
                ak[c] += ds * q[qp + c * LAST(qo)];
            }
        } else {
            for (long c = 0; c < ACC_N; c++) {
                av[c] += c < nv ? p * g[gp + c * LAST(go)] : (T)0;
                ak[c] += c < nk ? ds * q[qp + c * LAST(qo)] : (T)0;
            }
        }
    }
    T f = (flags & F_LAST) ? scale : (T)1;
    for (long c = 0; c < nk; c++) {
        ok[c] = ak[c] * f;
    }
    for (long c = 0; c < nv; c++) {
        ov[c] = av[c];
    }
}
