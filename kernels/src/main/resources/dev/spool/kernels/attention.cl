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

#ifdef TILES
/*
 * CPU devices (-DTILES=1, with -DUNIT_LAST=1, depths up to TILE_DMAX, no loop limit): the same
 * kernels in tiles of TILE rows, as FlashAttention-2 and Spool's cpu device run them. A work-item
 * owns TILE query rows (for dk and dv, TILE key rows) and walks the other side TILE rows at a time.
 * Its own rows are transposed once into private memory, TILE lanes per depth element, so that
 * every quantity of a row (score, running max and sum, lse, D, p, ds, accumulators) is one lane
 * of a vector: a tile of scores is TILE vectors s[u] = sum over c of own[c] * other[u][c] (one
 * broadcast per product, no horizontal sum), the online softmax is lane-wise, and the
 * accumulators (transposed too) add w[u] * other[u][c]. The row kernels above read all of K and
 * V once per query row and sum each dot product horizontally: 3.2x the cpu device's time on PoCL.
 * Sums run in a fixed order (no atomics). Masks, causal and rows past T are set lane by lane in
 * the tiles that have them, with the row kernels' rules (a row that sees only masked keys
 * averages v; in the backward its p is 1/Tk and its ds 0).
 */
#define TILE 16
#ifndef TILE_DMAX
#define TILE_DMAX 128 /* the host passes AttentionKernels.TILE_DMAX */
#endif
#define TV SPOOL_CAT(T, 16)

/* at[c] lane r = a[i0 + r][c] for c < n; rows past na repeat row na - 1 (their lanes are ignored) */
SPOOL_INLINE void tile_transpose(TV* at, global const T* a, const layout_t* al, long b, long h, long i0, long na,
                                 long n) {
    T* lanes = (T*)at;
    for (long r = 0; r < TILE; r++) {
        global const T* src = a + row_at(al, b, h, i0 + min(r, na - 1));
        for (long c = 0; c < n; c++) {
            lanes[c * TILE + r] = src[c];
        }
    }
}

/*
 * s[u] = sum over c < n of at[c] * o[j0 + u][c], for u < TILE: rows past no repeat row no - 1.
 * One pass over at, TILE accumulators.
 */
SPOOL_INLINE void tile_scores(const TV* at, long n, global const T* o, const layout_t* ol, long b, long h, long j0,
                              long no, TV* s) {
    global const T* row[TILE];
    for (long u = 0; u < TILE; u++) {
        row[u] = o + row_at(ol, b, h, j0 + min(u, no - 1));
        s[u] = (TV)0;
    }
    for (long c = 0; c < n; c++) {
        TV x = at[c];
#pragma unroll
        for (int u = 0; u < TILE; u++) {
            s[u] += x * row[u][c];
        }
    }
}

/* acc[c] = acc[c] * f + sum over u < no of w[u] * o[j0 + u][c], for c < n */
SPOOL_INLINE void tile_accumulate(TV* acc, TV f, const TV* w, long n, global const T* o, const layout_t* ol, long b,
                                  long h, long j0, long no) {
    global const T* row[TILE];
    for (long u = 0; u < no; u++) {
        row[u] = o + row_at(ol, b, h, j0 + u);
    }
    if (no == TILE) {
        for (long c = 0; c < n; c++) {
            TV x = acc[c] * f;
#pragma unroll
            for (int u = 0; u < TILE; u++) {
                x += w[u] * row[u][c];
            }
            acc[c] = x;
        }
    } else {
        for (long c = 0; c < n; c++) {
            TV x = acc[c] * f;
            for (long u = 0; u < no; u++) {
                x += w[u] * row[u][c];
            }
            acc[c] = x;
        }
    }
}

/* out[row0 + r][c] = at[c] lane r * f lane r, for r < nr and c < n (rows of n, dense) */
SPOOL_INLINE void tile_store(global T* out, long row0, long nr, long n, const TV* at, TV f) {
    const T* lanes = (const T*)at;
    const T* fl = (const T*)&f;
    for (long r = 0; r < nr; r++) {
        for (long c = 0; c < n; c++) {
            out[(row0 + r) * n + c] = lanes[c * TILE + r] * fl[r];
        }
    }
}

/* Whether a tile of queries [i0, i0 + TILE) and keys [j0, j0 + TILE) has a lane past an end or masked. */
SPOOL_INLINE int tile_edges(uint flags, long nq, long nk, long i0, long j0) {
    return nq < TILE || nk < TILE || (flags & F_MASK) || ((flags & F_CAUSAL) && j0 + TILE - 1 > i0);
}

/*
 * Forward: work-item (b, h, block of TILE queries) = lanes, over tiles of TILE keys: up to the
 * block's causal limit first, then the rest only if a row has seen nothing but masked keys (for
 * the other rows they add exp(MASKED - m) = 0 and rescale by exp(0) = 1: no change).
 */
kernel void attention_forward_tiles(global const T* q, layout_t qo, global const T* k, layout_t ko, global const T* v,
                                    layout_t vo, global const uchar* mask, layout_t mo, long bn, long hn, long tq,
                                    long tk, long d, long dv, T scale, uint flags, global T* out, global T* lse) {
    long blocks = (tq + TILE - 1) / TILE;
    long gid = (long)get_global_id(0);
    if (gid >= bn * hn * blocks) {
        return;
    }
    long i0 = gid % blocks * TILE;
    long bh = gid / blocks;
    long b = bh / hn;
    long h = bh % hn;
    long nq = min((long)TILE, tq - i0);
    TV qt[TILE_DMAX];
    TV acc[TILE_DMAX];
    TV s[TILE];
    tile_transpose(qt, q, &qo, b, h, i0, nq, d);
    for (long c = 0; c < dv; c++) {
        acc[c] = (TV)0;
    }
    TV m = (TV)(-(T)INFINITY);
    TV l = (TV)0;
    long split = (flags & F_CAUSAL) ? min(tk, i0 + nq) : tk;
    for (int pass = 0; pass < 2; pass++) {
        long ja = pass == 0 ? 0 : split;
        long jz = split;
        if (pass == 1) {
            for (long r = 0; r < nq; r++) {
                jz = ((T*)&m)[r] < LOW ? tk : jz;
            }
        }
        for (long j0 = ja; j0 < jz; j0 += TILE) {
            long nk = min((long)TILE, jz - j0);
            tile_scores(qt, d, k, &ko, b, h, j0, nk, s);
            for (long u = 0; u < TILE; u++) {
                s[u] *= scale;
            }
            if (tile_edges(flags, nq, nk, i0, j0)) {
                for (long u = 0; u < TILE; u++) {
                    T* x = (T*)&s[u];
                    for (long r = 0; r < TILE; r++) {
                        if (u >= nk) {
                            x[r] = -(T)INFINITY;
                        } else if (r < nq && is_masked(mask, &mo, flags, b, h, i0 + r, j0 + u)) {
                            x[r] = MASKED;
                        }
                    }
                }
            }
            TV mb = m;
            for (long u = 0; u < TILE; u++) {
                mb = fmax(mb, s[u]);
            }
            TV corr = exp(m - mb); /* 0 at the first tile: m = -inf */
            TV sum = (TV)0;
            for (long u = 0; u < TILE; u++) {
                s[u] = exp(s[u] - mb);
                sum += s[u];
            }
            l = l * corr + sum;
            m = mb;
            tile_accumulate(acc, corr, s, dv, v, &vo, b, h, j0, nk);
        }
    }
    tile_store(out, bh * tq + i0, nq, dv, acc, (TV)1 / l);
    TV ls = m + log(l);
    for (long r = 0; r < nq; r++) {
        lse[bh * tq + i0 + r] = ((T*)&ls)[r];
    }
}

/*
 * dq: work-item (b, h, block of TILE queries) = lanes, over the keys up to the block's causal
 * limit (masked keys and fully masked rows have ds = 0).
 */
kernel void attention_grad_q_tiles(global const T* q, layout_t qo, global const T* k, layout_t ko, global const T* v,
                                   layout_t vo, global const T* g, layout_t go, global const uchar* mask, layout_t mo,
                                   global const T* lse, global const T* dd, long bn, long hn, long tq, long tk, long d,
                                   long dv, T scale, uint flags, global T* dq) {
    long blocks = (tq + TILE - 1) / TILE;
    long gid = (long)get_global_id(0);
    if (gid >= bn * hn * blocks) {
        return;
    }
    long i0 = gid % blocks * TILE;
    long bh = gid / blocks;
    long b = bh / hn;
    long h = bh % hn;
    long nq = min((long)TILE, tq - i0);
    TV qt[TILE_DMAX];
    TV gt[TILE_DMAX];
    TV acc[TILE_DMAX];
    TV s[TILE];
    TV dp[TILE];
    tile_transpose(qt, q, &qo, b, h, i0, nq, d);
    tile_transpose(gt, g, &go, b, h, i0, nq, dv);
    for (long c = 0; c < d; c++) {
        acc[c] = (TV)0;
    }
    TV lse_r;
    TV d_r;
    for (long r = 0; r < TILE; r++) {
        long row = bh * tq + i0 + min(r, nq - 1);
        ((T*)&lse_r)[r] = lse[row];
        ((T*)&d_r)[r] = dd[row];
    }
    /* rows whose every key is masked: ds = 0 */
    TV live = select((TV)0, (TV)1, lse_r >= (TV)LOW);
    long jz = (flags & F_CAUSAL) ? min(tk, i0 + nq) : tk;
    for (long j0 = 0; j0 < jz; j0 += TILE) {
        long nk = min((long)TILE, jz - j0);
        tile_scores(qt, d, k, &ko, b, h, j0, nk, s);
        tile_scores(gt, dv, v, &vo, b, h, j0, nk, dp);
        for (long u = 0; u < TILE; u++) {
            TV p = exp(s[u] * scale - lse_r);
            s[u] = p * (dp[u] - d_r) * live;
        }
        if (tile_edges(flags, nq, nk, i0, j0)) {
            for (long u = 0; u < TILE; u++) {
                T* x = (T*)&s[u];
                for (long r = 0; r < TILE; r++) {
                    if (u >= nk || r >= nq || is_masked(mask, &mo, flags, b, h, i0 + r, j0 + u)) {
                        x[r] = (T)0;
                    }
                }
            }
        }
        tile_accumulate(acc, (TV)1, s, d, k, &ko, b, h, j0, nk);
    }
    tile_store(dq, bh * tq + i0, nq, d, acc, (TV)scale);
}

/*
 * dk and dv: work-item (b, h, block of TILE keys) = lanes, over every tile of TILE queries; under
 * causal, a tile wholly before the keys adds something only through a fully masked row (p = 1/Tk
 * reaches dv), so it is visited only if it has one.
 */
kernel void attention_grad_kv_tiles(global const T* q, layout_t qo, global const T* k, layout_t ko, global const T* v,
                                    layout_t vo, global const T* g, layout_t go, global const uchar* mask, layout_t mo,
                                    global const T* lse, global const T* dd, long bn, long hn, long tq, long tk,
                                    long d, long dv, T scale, uint flags, global T* dk, global T* dvo) {
    long blocks = (tk + TILE - 1) / TILE;
    long gid = (long)get_global_id(0);
    if (gid >= bn * hn * blocks) {
        return;
    }
    long j0 = gid % blocks * TILE;
    long bh = gid / blocks;
    long b = bh / hn;
    long h = bh % hn;
    long nk = min((long)TILE, tk - j0);
    TV kt[TILE_DMAX];
    TV vt[TILE_DMAX];
    TV ak[TILE_DMAX];
    TV av[TILE_DMAX];
    TV s[TILE];
    TV dp[TILE];
    tile_transpose(kt, k, &ko, b, h, j0, nk, d);
    tile_transpose(vt, v, &vo, b, h, j0, nk, dv);
    for (long c = 0; c < d; c++) {
        ak[c] = (TV)0;
    }
    for (long c = 0; c < dv; c++) {
        av[c] = (TV)0;
    }
    for (long i0 = 0; i0 < tq; i0 += TILE) {
        long nq = min((long)TILE, tq - i0);
        int lost = 0;
        for (long r = 0; r < nq; r++) {
            lost |= lse[bh * tq + i0 + r] < LOW;
        }
        if ((flags & F_CAUSAL) && i0 + nq <= j0 && !lost) {
            continue;
        }
        tile_scores(kt, d, q, &qo, b, h, i0, nq, s);
        tile_scores(vt, dv, g, &go, b, h, i0, nq, dp);
        for (long r = 0; r < TILE; r++) {
            long row = bh * tq + i0 + min(r, nq - 1);
            T lse_r = lse[row];
            TV p = exp(s[r] * scale - (TV)lse_r);
            s[r] = lse_r < LOW ? (TV)((T)1 / (T)tk) : p; /* now p */
            dp[r] = lse_r < LOW ? (TV)0 : p * (dp[r] - (TV)dd[row]); /* now ds */
        }
        if (tile_edges(flags, nq, nk, i0, j0)) {
            for (long r = 0; r < TILE; r++) {
                T* pr = (T*)&s[r];
                T* dsr = (T*)&dp[r];
                int all = r < nq && lse[bh * tq + i0 + r] < LOW;
                for (long u = 0; u < TILE; u++) {
                    if (r >= nq || u >= nk || (!all && is_masked(mask, &mo, flags, b, h, i0 + r, j0 + u))) {
                        pr[u] = (T)0;
                        dsr[u] = (T)0;
                    }
                }
            }
        }
        tile_accumulate(av, (TV)1, s, dv, g, &go, b, h, i0, nq);
        tile_accumulate(ak, (TV)1, dp, d, q, &qo, b, h, i0, nq);
    }
    tile_store(dk, bh * tk + j0, nk, d, ak, (TV)scale);
    tile_store(dvo, bh * tk + j0, nk, dv, av, (TV)1);
}
#endif
