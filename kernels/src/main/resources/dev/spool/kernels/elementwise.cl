/*
 * Spool elementwise kernels: unary ops, binary ops (arithmetic and comparisons) and select.
 *
 * One program per element type T, chosen with -D options from the host (defaults below, so the
 * file compiles without options, after prelude.cl):
 *   -DT=float  -DT_IS_FP=1                 float32
 *   -DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1 float64 (only on devices with cl_khr_fp64)
 *   -DT=int    -DT_IS_INT=32               int32
 *   -DT=long   -DT_IS_INT=64               int64
 *   -DT=uchar  -DT_IS_BOOL=1               bool (0 or 1)
 * The op is part of the kernel name (unary_EXP_contig, binary_ADD_strided, ...), so one build
 * per type serves every op. Each op has a contiguous fast path (operands dense from an offset)
 * and a strided path (operands described by a layout_t: broadcast, transposed, sliced); binary
 * ops also have _scalar_a / _scalar_b paths, where that operand is one element (x + 1), and
 * _rows_b, where a is dense [rows, cols] and b one row of cols repeated (a bias): the strided
 * path computes both offsets with divisions per element, 10x the time of a dense op on PoCL.
 * Semantics follow dev.spool.spi.UnaryOp / BinaryOp (Java's where IEEE leaves a choice).
 */
#ifndef T
#define T float
#define T_IS_FP 1
#endif
#ifdef T_IS_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

/* layout_t, layout_offset and SPOOL_CAT come from prelude.cl, which the host prepends. */

/* The per-element functions are static in a generated program (-DSPOOL_FUNCTIONS_ONLY: a fused
 * kernel or a matmul epilogue), so that the compiler drops the ones it does not call: two or three
 * of sixty there, and PoCL took about 7 s per program compiling them all. In this file's own
 * program they stay as they were. */
#ifdef SPOOL_FUNCTIONS_ONLY
#define SPOOL_FN static
#else
#define SPOOL_FN
#endif

#ifdef T_IS_INT
#if T_IS_INT == 64
typedef ulong UT;
#else
typedef uint UT;
#endif
/* Wrapping (two's complement) arithmetic: signed overflow is undefined in OpenCL C. */
#define WRAP(expr) SPOOL_CAT(as_, T)((UT)(expr))
#endif

/* ---- unary ops ---------------------------------------------------------------------------- */
/* PoCL's fma() is a library call its loop vectoriser cannot see through (it kept sin and cos
 * scalar); clang's builtin is the LLVM intrinsic, a vfmadd. The host sets SPOOL_FMA_BUILTIN on
 * PoCL only (Oclgrind cannot run the intrinsic; GPU compilers make fma() one instruction).
 * Same for inlining: PoCL would not inline spool_sincos (too big), and a call stops it too
 * (SPOOL_INLINE, in prelude.cl). */
#if defined(SPOOL_FMA_BUILTIN) && defined(__has_builtin)
#if __has_builtin(__builtin_fmaf)
#define SPOOL_FMAF(a, b, c) __builtin_fmaf(a, b, c)
#endif
#endif
#ifndef SPOOL_FMAF
#define SPOOL_FMAF(a, b, c) fma(a, b, c)
#endif
#ifdef T_IS_FP
#ifndef T_IS_DOUBLE
/*
 * float log, log1p and tanh written out, branch-free (selects only): PoCL's library versions
 * do not vectorise across work-items and cost 35-75x an add on 4M floats; these cost about one
 * exp. log and tanh stay within 2 ulp (4M values from 1e-9 to 5e8, both signs), log1p 4 ulp.
 */
SPOOL_FN float spool_log(float x) {
    int sub = x < 1.17549435e-38f; /* subnormal (or not positive: replaced below) */
    int ix = as_int(sub ? x * 8388608.0f : x);
    int e = ((ix >> 23) & 0xff) - 127 - (sub ? 23 : 0);
    float m = as_float((ix & 0x007fffff) | 0x3f800000); /* x = m 2^e, m in [1, 2) */
    int big = m > 1.41421356f;
    m = big ? m * 0.5f : m;
    e = big ? e + 1 : e;
    /* log(m) = 2 atanh(f) = 2f + f^3 (2/3 + 2/5 f^2 + ...), f = (m-1)/(m+1), |f| <= 0.172 */
    float f = (m - 1.0f) / (m + 1.0f);
    float f2 = f * f;
    float p = 0.2222222222f + f2 * (0.1818181818f + f2 * 0.1538461538f);
    p = 0.4f + f2 * (0.2857142857f + f2 * p);
    p = 0.6666666667f + f2 * p;
    float fe = (float)e;
    /* ln 2 in two parts, so that e * 0.693359375 is exact */
    float r = fe * 0.693359375f + (2.0f * f + (f * f2 * p + fe * -2.12194440e-4f));
    r = x == 0.0f ? -INFINITY : r;
    r = x < 0.0f || isnan(x) ? NAN : r;
    return isinf(x) && x > 0.0f ? x : r;
}
/* |x| >= 0.625: 1 - 2 / (exp(2|x|) + 1) with x's sign (|x| capped at 20: tanh is 1 in float
 * there); below, Cephes' odd polynomial, which keeps tanh(x) ~ x accurate near 0. */
SPOOL_FN float spool_tanh(float x) {
    float a = fabs(x);
    a = a < 20.0f ? a : 20.0f;
    float big = 1.0f - 2.0f / (exp(2.0f * a) + 1.0f);
    big = as_float(as_int(big) | (as_int(x) & (int)0x80000000));
    float s = x * x;
    float small = ((((-5.70498872745e-3f * s + 2.06390887954e-2f) * s - 5.37397155531e-2f) * s
                   + 1.33314422036e-1f) * s - 3.33332819422e-1f) * s * x + x;
    float r = a >= 0.625f ? big : small;
    return isnan(x) ? x : r; /* explicit: compilers may turn the compare above around */
}
/* log(1 + x) as log(u) * x / (u - 1), u = 1 + x (Goldberg): the rounding of u cancels; x where
 * u rounds to 1. PoCL's log1p costs 75x an add. */
SPOOL_FN float spool_log1p(float x) {
    float u = 1.0f + x;
    float r = u == 1.0f ? x : spool_log(u) * (x / (u - 1.0f));
    return isinf(x) && x > 0.0f ? x : r;
}
/*
 * float sin and cos, branch-free: PoCL's library versions cost ~100x an add on 4M floats.
 * x = q pi/2 + u, |u| <= pi/4, then Cephes' sinf/cosf polynomials of u by the quadrant q.
 * The reduction is Cody-Waite (pi/2 in three floats, on FMAs: exact) for |x| <= 65536 and
 * Payne-Hanek beyond: |x| = m 2^(e-23) with a 24-bit m, times a 96-bit window of the bits of
 * 2/pi that starts where the integer bits above the quadrant end; bits 32..95 of the product
 * hold the quadrant (top two) and the fraction. Both run for every element and a select keeps
 * one: a branch would stop PoCL from vectorising. No library rint, fma, isinf or isnan (calls),
 * no compare for the carry (LLVM makes it an add-with-overflow, a struct) and no table lookup:
 * each kept PoCL's vectoriser off this loop, at 10-20x an add (checked with
 * POCL_VECTORIZER_REMARKS=1). <= 2 ulp for every float (TranscendentalAccuracyTest).
 */
/* Bits o..o+31 of the two words hi:lo (o in 0..31; no shift by 32). */
SPOOL_FN uint spool_funnel(uint hi, uint lo, int o) {
    return (hi << o) | ((lo >> 1) >> (31 - o));
}
/* sin (quarter 0) or cos (quarter 1) of x = q pi/2 + u, |u| <= pi/4: the polynomials */
SPOOL_FN SPOOL_INLINE float spool_sincos_poly(float x, float u, int q, int quarter) {
    float z = u * u;
    float s = SPOOL_FMAF(SPOOL_FMAF(z, -1.9515295891e-4f, 8.3321608736e-3f), z, -1.6666654611e-1f);
    s = SPOOL_FMAF(s * z, u, u);
    float c = SPOOL_FMAF(z, 2.443315711809948e-5f, -1.388731625493765e-3f);
    c = SPOOL_FMAF(c, z, 4.166664568298827e-2f);
    c = SPOOL_FMAF(c * z, z, SPOOL_FMAF(z, -0.5f, 1.0f));
    float r = (q & 1) ? c : s;
    r = (q & 2) ? -r : r;
    r = quarter == 0 && x == 0.0f ? x : r; /* sin(-0) = -0 */
    return (as_uint(x) & 0x7fffffffu) >= 0x7f800000u ? NAN : r; /* Inf, NaN */
}
/* Whether |x| is beyond Cody-Waite's range (65536), or Inf or NaN: 1 or 0 */
SPOOL_FN SPOOL_INLINE uint spool_sincos_far(float x) {
    return (as_uint(x) & 0x7fffffffu) > 0x47800000u ? 1u : 0u;
}
/* Cody-Waite: k = x 2/pi rounded by adding 1.5 2^23, k's low bits are the quadrant */
#define SPOOL_CODY_WAITE(x, u, q)                                                            \
    float rounded = SPOOL_FMAF(x, 0.636619772367581343f, 12582912.0f);                       \
    float k = rounded - 12582912.0f;                                                         \
    float u = SPOOL_FMAF(-k, 1.5707963705062866f, x);                                        \
    u = SPOOL_FMAF(-k, -4.371138828673793e-8f, u);                                           \
    u = SPOOL_FMAF(-k, -1.7151245100058819e-15f, u);                                         \
    int q = as_int(rounded)
/* sin or cos for |x| <= 65536 only (spool_sincos_far(x) == 0): the common case, half the work */
SPOOL_FN SPOOL_INLINE float spool_sincos_near(float x, int quarter) {
    SPOOL_CODY_WAITE(x, u, q);
    return spool_sincos_poly(x, u, q + quarter, quarter);
}
/* sin or cos of every float */
SPOOL_FN SPOOL_INLINE float spool_sincos(float x, int quarter) {
    SPOOL_CODY_WAITE(x, u, q);
    /* Payne-Hanek on |x|: bit p0 (from the top of word 0) is bit i0 = e - 24 of 2/pi (bit i
     * weighs 2^-i); the bits above i0 only add whole turns (multiples of 4 quadrants) */
    uint ix = as_uint(x) & 0x7fffffffu;
    int e = (int)(ix >> 23) - 127;
    uint m = (ix & 0x007fffffu) | 0x00800000u;
    int p0 = e + 7;
    p0 = p0 < 0 ? 0 : (p0 > 135 ? 135 : p0); /* so w + 3 <= 7; clamped where Cody-Waite is used */
    int w = p0 >> 5;
    int o = p0 & 31;
    /* words w..w+3 of 0, 2/pi's bits (0.A2F9836E 4E441529 ... in hex), by shifting the
     * words by 4, 2 and 1 as w's bits say: selects of registers (a chain of selects of
     * constants becomes a table lookup that PoCL's loop vectoriser rejects) */
    int s4 = (w & 4) != 0, s2 = (w & 2) != 0, s1 = (w & 1) != 0;
    uint a0 = s4 ? 0xF534DDC0u : 0u, a1 = s4 ? 0xDB629599u : 0xA2F9836Eu;
    uint a2 = s4 ? 0x3C439041u : 0x4E441529u, a3 = s4 ? 0xFE5163ABu : 0xFC2757D1u;
    uint a4 = s4 ? 0u : 0xF534DDC0u, a5 = s4 ? 0u : 0xDB629599u, a6 = s4 ? 0u : 0x3C439041u;
    uint b0 = s2 ? a2 : a0, b1 = s2 ? a3 : a1, b2 = s2 ? a4 : a2, b3 = s2 ? a5 : a3;
    uint b4 = s2 ? a6 : a4;
    uint t0 = s1 ? b1 : b0, t1 = s1 ? b2 : b1, t2 = s1 ? b3 : b2, t3 = s1 ? b4 : b3;
    uint w0 = spool_funnel(t0, t1, o), w1 = spool_funnel(t1, t2, o), w2 = spool_funnel(t2, t3, o);
    /* L = product bits 32..95 = lh:ll (units of 2^-62 of a quadrant, mod 4 quadrants) */
    uint lo1 = m * w1;
    uint hi2 = (uint)(((ulong)m * w2) >> 32);
    uint ll = lo1 + hi2;
    /* the carry of lo1 + hi2, without a compare (which LLVM turns into uadd.with.overflow, a
     * struct its loop vectoriser rejects) */
    uint carry = ((lo1 >> 1) + (hi2 >> 1) + (lo1 & hi2 & 1u)) >> 31;
    uint lh = m * w0 + (uint)(((ulong)m * w1) >> 32) + carry;
    int qp = (int)((lh >> 30) + ((lh >> 29) & 1u)); /* round to the nearest quadrant */
    /* the signed fraction (L << 2) in [-1/2, 1/2) of a quadrant = fh 2^40 + fr 2^9 (+ < 2^9) */
    int fhi = (int)((lh << 2) | (ll >> 30));
    float fh = (float)(fhi >> 8);
    float fr = (float)(int)(((uint)(fhi & 0xff) << 23) | ((ll << 2) >> 9));
    /* times pi/2 / 2^64, as pi/2 2^-24 and pi/2 2^-55 in two floats each */
    float up = SPOOL_FMAF(fh, 9.362675967850009e-08f,
                          SPOOL_FMAF(fh, -2.605401771470185e-15f, fr * 4.359835743834269e-17f));
    int neg = x < 0.0f;
    qp = neg ? -qp : qp;
    up = neg ? -up : up;
    int far = ix > 0x47800000u; /* |x| > 65536 */
    u = far ? up : u;
    q = (far ? qp : q) + quarter;
    return spool_sincos_poly(x, u, q, quarter);
}
SPOOL_FN SPOOL_INLINE float spool_sin(float x) { return spool_sincos(x, 0); }
SPOOL_FN SPOOL_INLINE float spool_cos(float x) { return spool_sincos(x, 1); }
#else
SPOOL_FN double spool_log(double x) { return log(x); }
SPOOL_FN double spool_log1p(double x) { return log1p(x); }
SPOOL_FN double spool_sin(double x) { return sin(x); }
SPOOL_FN double spool_cos(double x) { return cos(x); }
/* explicit saturation: some libms return 1 - ulp for huge |x| */
SPOOL_FN double spool_tanh(double x) { return fabs(x) >= 20.0 ? copysign(1.0, x) : tanh(x); }
#endif
#endif

#ifdef T_IS_FP
SPOOL_FN T op_NEG(T x) { return -x; }
SPOOL_FN T op_ABS(T x) { return fabs(x); }
/* sign(0) = 0 with its sign kept, sign(NaN) = NaN (OpenCL's sign() returns 0 for NaN) */
SPOOL_FN T op_SIGN(T x) { return x > (T)0 ? (T)1 : (x < (T)0 ? (T)(-1) : x); }
/* x < 0 ? 0 : x, so NaN and -0 pass through as they are (not fmax, which drops NaN) */
SPOOL_FN T op_RELU(T x) { return x < (T)0 ? (T)0 : x; }
SPOOL_FN T op_EXP(T x) { return exp(x); }
SPOOL_FN T op_LOG(T x) { return spool_log(x); }
SPOOL_FN T op_LOG1P(T x) { return spool_log1p(x); }
SPOOL_FN T op_SQRT(T x) { return sqrt(x); }
/* 1/sqrt rather than rsqrt(): rsqrt may be 2 ulp off, this is what the CPU backend computes */
SPOOL_FN T op_RSQRT(T x) { return (T)1 / sqrt(x); }
SPOOL_FN SPOOL_INLINE T op_SIN(T x) { return spool_sin(x); }
SPOOL_FN SPOOL_INLINE T op_COS(T x) { return spool_cos(x); }
SPOOL_FN T op_TANH(T x) { return spool_tanh(x); }
/* exp of a non-positive number only: no overflow for large |x|. 1 / (1 + e) for x >= 0,
 * e / (1 + e) below, as selects (a branch kept PoCL from vectorising: 4x slower) */
SPOOL_FN T op_SIGMOID(T x) {
    T e = exp(-fabs(x));
    T r = (x >= (T)0 ? (T)1 : e) / ((T)1 + e);
    return isnan(x) ? x : r;
}
/* erf and GELU: OpenCL C's erf/erfc (both required to 16 ulp in float; libclc's and PoCL's are
 * within a few). Exact GELU as x*Phi(x) = 0.5*x*erfc(-x/sqrt2): erfc keeps its relative
 * accuracy where Phi is tiny (x << 0), where 1 + erf(x/sqrt2) would cancel. */
#define SPOOL_INV_SQRT2 0.70710678118654752440
#define SPOOL_INV_SQRT_2PI 0.39894228040143267794
#define SPOOL_TWO_OVER_SQRT_PI 1.12837916709551257390
#define SPOOL_GELU_C 0.79788456080286535588
#define SPOOL_GELU_A 0.044715
SPOOL_FN T op_ERF(T x) { return erf(x); }
SPOOL_FN T op_GELU(T x) { return (T)0.5 * x * erfc(-x * (T)SPOOL_INV_SQRT2); }
/* 0.5*x*(1 + tanh(u)) = x*sigmoid(2u): no cancellation for x << 0 */
SPOOL_FN T op_GELU_TANH(T x) {
    T u = (T)SPOOL_GELU_C * (x + (T)SPOOL_GELU_A * x * x * x);
    return x * op_SIGMOID((T)2 * u);
}
#endif

#ifdef T_IS_INT
SPOOL_FN T op_NEG(T x) { return WRAP((UT)0 - (UT)x); }
SPOOL_FN T op_ABS(T x) { return x < (T)0 ? op_NEG(x) : x; }
SPOOL_FN T op_SIGN(T x) { return x > (T)0 ? (T)1 : (x < (T)0 ? (T)(-1) : (T)0); }
SPOOL_FN T op_RELU(T x) { return x < (T)0 ? (T)0 : x; }
#endif

#ifdef T_IS_BOOL
SPOOL_FN T op_NOT(T x) { return x == (T)0 ? (T)1 : (T)0; }
#endif

#define UNARY_CONTIG(NAME)                                                                   \
kernel void unary_##NAME##_contig(global const T* x, long xoff, global T* out, long n) {     \
    SPOOL_FOR_CHUNK(i, n) {                                                                  \
        out[i] = op_##NAME(x[xoff + i]);                                                     \
    }                                                                                        \
}
#define UNARY_STRIDED(NAME)                                                                  \
kernel void unary_##NAME##_strided(global const T* x, layout_t xl, global T* out, long n) {  \
    SPOOL_FOR_CHUNK(i, n) {                                                                  \
        out[i] = op_##NAME(x[layout_offset(&xl, i)]);                                        \
    }                                                                                        \
}
#define UNARY(NAME) UNARY_CONTIG(NAME) UNARY_STRIDED(NAME)

/* The kernels below are left out with -DSPOOL_FUNCTIONS_ONLY: a traced function's generated
 * kernel (FusedKernels) needs only the per-element functions, and builds in a fraction of the time. */
#ifndef SPOOL_FUNCTIONS_ONLY
#ifdef T_IS_FP
UNARY(NEG) UNARY(ABS) UNARY(SIGN) UNARY(RELU) UNARY(EXP) UNARY(LOG) UNARY(LOG1P) UNARY(SQRT)
UNARY(RSQRT) UNARY(TANH) UNARY(SIGMOID) UNARY(ERF) UNARY(GELU) UNARY(GELU_TANH)
#endif

/* float sin and cos, contiguous: Cody-Waite alone when no element of this work-item's chunk is
 * beyond its range, which skips Payne-Hanek's half of spool_sincos (PoCL, cos of 4M floats:
 * 7 ms with both, 2x an add). The check is a pass of its own, before anything is written, so
 * that an output that aliases the input stays right. The strided kernels are UNARY's. */
#if defined(T_IS_FP) && !defined(T_IS_DOUBLE)
#define UNARY_SINCOS_CONTIG(NAME, QUARTER)                                                   \
kernel void unary_##NAME##_contig(global const T* x, long xoff, global T* out, long n) {     \
    uint far = 0u;                                                                           \
    SPOOL_FOR_CHUNK(i, n) {                                                                  \
        far |= spool_sincos_far(x[xoff + i]);                                                \
    }                                                                                        \
    if (far == 0u) {                                                                         \
        SPOOL_FOR_CHUNK(i, n) {                                                              \
            out[i] = spool_sincos_near(x[xoff + i], QUARTER);                                \
        }                                                                                    \
    } else {                                                                                 \
        SPOOL_FOR_CHUNK(i, n) {                                                              \
            out[i] = op_##NAME(x[xoff + i]);                                                 \
        }                                                                                    \
    }                                                                                        \
}
UNARY_SINCOS_CONTIG(SIN, 0) UNARY_STRIDED(SIN) UNARY_SINCOS_CONTIG(COS, 1) UNARY_STRIDED(COS)
#elif defined(T_IS_FP)
UNARY(SIN) UNARY(COS)
#endif
#ifdef T_IS_INT
UNARY(NEG) UNARY(ABS) UNARY(SIGN) UNARY(RELU)
#endif
#ifdef T_IS_BOOL
UNARY(NOT)
#endif
#endif /* SPOOL_FUNCTIONS_ONLY */

/* ---- binary ops --------------------------------------------------------------------------- */
#ifdef T_IS_FP
SPOOL_FN T bin_ADD(T a, T b) { return a + b; }
SPOOL_FN T bin_SUB(T a, T b) { return a - b; }
SPOOL_FN T bin_MUL(T a, T b) { return a * b; }
SPOOL_FN T bin_DIV(T a, T b) { return a / b; }
/* C's pow gives 1 for pow(1, NaN) and pow(-1, +-inf); Java's Math.pow (the CPU backend) NaN */
SPOOL_FN T bin_POW(T a, T b) {
    if (isnan(b) || (isinf(b) && fabs(a) == (T)1)) {
        return b + (T)NAN;
    }
    return pow(a, b);
}
/* fmax/fmin ignore NaN; these propagate it, and order -0 below +0 as Java's Math.max does */
SPOOL_FN T bin_MAX(T a, T b) {
    if (isnan(a) || isnan(b)) {
        return a + b;
    }
    if (a == b) {
        return signbit(a) ? b : a;
    }
    return a > b ? a : b;
}
SPOOL_FN T bin_MIN(T a, T b) {
    if (isnan(a) || isnan(b)) {
        return a + b;
    }
    if (a == b) {
        return signbit(a) ? a : b;
    }
    return a < b ? a : b;
}
#endif

#ifdef T_IS_INT
SPOOL_FN T bin_ADD(T a, T b) { return WRAP((UT)a + (UT)b); }
SPOOL_FN T bin_SUB(T a, T b) { return WRAP((UT)a - (UT)b); }
SPOOL_FN T bin_MUL(T a, T b) { return WRAP((UT)a * (UT)b); }
/* truncates toward zero; x / 0 = 0; MIN / -1 wraps to MIN (it traps on x86 if left to '/') */
SPOOL_FN T bin_DIV(T a, T b) {
    if (b == (T)0) {
        return (T)0;
    }
    if (b == (T)(-1)) {
        return op_NEG(a);
    }
    return a / b;
}
/* exact (wrapping) by repeated squaring; a negative exponent gives 0 unless |a| == 1 */
SPOOL_FN T bin_POW(T a, T b) {
    if (b < (T)0) {
        if (a == (T)1) {
            return (T)1;
        }
        if (a == (T)(-1)) {
            return (b & (T)1) != (T)0 ? (T)(-1) : (T)1;
        }
        return (T)0;
    }
    UT result = (UT)1;
    UT base = (UT)a;
    UT e = (UT)b;
    while (e != (UT)0) {
        if ((e & (UT)1) != (UT)0) {
            result *= base;
        }
        base *= base;
        e >>= 1;
    }
    return WRAP(result);
}
SPOOL_FN T bin_MAX(T a, T b) { return a > b ? a : b; }
SPOOL_FN T bin_MIN(T a, T b) { return a < b ? a : b; }
#endif

#ifndef T_IS_BOOL
/* relu's VJP: the gradient a where relu's input b is positive, else 0 (also for a NaN b) */
SPOOL_FN T bin_RELU_GRAD(T a, T b) { return b > (T)0 ? a : (T)0; }
#endif

#ifdef T_IS_FP
/* The VJPs of ERF, GELU and GELU_TANH: a the gradient, b the op's input. */
SPOOL_FN T bin_ERF_GRAD(T a, T b) { return a * ((T)SPOOL_TWO_OVER_SQRT_PI * exp(-b * b)); }
SPOOL_FN T bin_GELU_GRAD(T a, T b) {
    T cdf = (T)0.5 * erfc(-b * (T)SPOOL_INV_SQRT2);
    T pdf = (T)SPOOL_INV_SQRT_2PI * exp((T)(-0.5) * b * b);
    return a * (cdf + b * pdf);
}
/* s = sigmoid(2u): 1 + tanh(u) = 2s, 1 - tanh(u)^2 = 4s(1 - s), so gelu' = s + 2b s(1 - s) u' */
SPOOL_FN T bin_GELU_TANH_GRAD(T a, T b) {
    T b2 = b * b;
    T s = op_SIGMOID((T)2 * (T)SPOOL_GELU_C * (b + (T)SPOOL_GELU_A * b2 * b));
    T du = (T)SPOOL_GELU_C * ((T)1 + (T)(3 * SPOOL_GELU_A) * b2);
    T w = (T)2 * (s * ((T)1 - s)) * b;
    /* w is exactly 0 once s saturates, before b*b overflows: keep 0 * inf from making NaN */
    return a * (s + (w == (T)0 ? (T)0 : w * du));
}
#endif

/* comparisons: false when either side is NaN, except NOT_EQUAL */
SPOOL_FN uchar bin_EQUAL(T a, T b) { return a == b ? (uchar)1 : (uchar)0; }
SPOOL_FN uchar bin_NOT_EQUAL(T a, T b) { return a != b ? (uchar)1 : (uchar)0; }
SPOOL_FN uchar bin_LESS(T a, T b) { return a < b ? (uchar)1 : (uchar)0; }
SPOOL_FN uchar bin_LESS_EQUAL(T a, T b) { return a <= b ? (uchar)1 : (uchar)0; }
SPOOL_FN uchar bin_GREATER(T a, T b) { return a > b ? (uchar)1 : (uchar)0; }
SPOOL_FN uchar bin_GREATER_EQUAL(T a, T b) { return a >= b ? (uchar)1 : (uchar)0; }

/* The four variants of binary op NAME, named PREFIX##NAME##_variant, each storing F(result): F is
 * empty for the plain kernels, the epilogue for the binary_unary_ ones. */
#define BINARY_KERNELS(PREFIX, NAME, OUT, F)                                                  \
kernel void PREFIX##NAME##_contig(global const T* a, long aoff, global const T* b, long boff, \
                                   global OUT* out, long n) {                                 \
    SPOOL_FOR_CHUNK(i, n) {                                                                   \
        out[i] = F(bin_##NAME(a[aoff + i], b[boff + i]));                                      \
    }                                                                                         \
}                                                                                             \
kernel void PREFIX##NAME##_strided(global const T* a, layout_t al, global const T* b,        \
                                    layout_t bl, global OUT* out, long n) {                   \
    SPOOL_FOR_CHUNK(i, n) {                                                                   \
        out[i] = F(bin_##NAME(a[layout_offset(&al, i)], b[layout_offset(&bl, i)]));            \
    }                                                                                         \
}                                                                                             \
kernel void PREFIX##NAME##_scalar_a(global const T* a, long aoff, global const T* b,         \
                                     long boff, global OUT* out, long n) {                    \
    const T s = a[aoff]; /* once: the compiler cannot hoist it past stores to out */          \
    SPOOL_FOR_CHUNK(i, n) {                                                                   \
        out[i] = F(bin_##NAME(s, b[boff + i]));                                               \
    }                                                                                         \
}                                                                                             \
kernel void PREFIX##NAME##_scalar_b(global const T* a, long aoff, global const T* b,         \
                                     long boff, global OUT* out, long n) {                    \
    const T s = b[boff]; /* once: the compiler cannot hoist it past stores to out */          \
    SPOOL_FOR_CHUNK(i, n) {                                                                   \
        out[i] = F(bin_##NAME(a[aoff + i], s));                                               \
    }                                                                                         \
}                                                                                             \
kernel void PREFIX##NAME##_rows_b(global const T* a, long aoff, global const T* b, long boff, \
                                   long cols, global OUT* out, long n) {                      \
    long j = ((long)get_global_id(0) * SPOOL_CHUNK) % cols; /* one division per work-item */  \
    SPOOL_FOR_CHUNK(i, n) {                                                                   \
        out[i] = F(bin_##NAME(a[aoff + i], b[boff + j]));                                     \
        j = j + 1 == cols ? 0 : j + 1;                                                        \
    }                                                                                         \
}
#define BINARY(NAME, OUT) BINARY_KERNELS(binary_, NAME, OUT, )

#ifndef SPOOL_FUNCTIONS_ONLY
#ifndef T_IS_BOOL
BINARY(ADD, T) BINARY(SUB, T) BINARY(MUL, T) BINARY(DIV, T) BINARY(POW, T)
BINARY(MAX, T) BINARY(MIN, T) BINARY(RELU_GRAD, T)
#endif
#ifdef T_IS_FP
BINARY(ERF_GRAD, T) BINARY(GELU_GRAD, T) BINARY(GELU_TANH_GRAD, T)
#endif
BINARY(EQUAL, uchar) BINARY(NOT_EQUAL, uchar) BINARY(LESS, uchar) BINARY(LESS_EQUAL, uchar)
BINARY(GREATER, uchar) BINARY(GREATER_EQUAL, uchar)

/* Backend.binaryUnary: with -DEPILOGUE=NAME, the arithmetic ops once more as binary_unary_OP_*,
 * each result passed through unary op NAME in the same work-item (bias-add + relu in one launch).
 * The host builds one program per (type, epilogue). */
#if defined(EPILOGUE) && !defined(T_IS_BOOL)
#define APPLY_EPILOGUE(v) SPOOL_CAT(op_, EPILOGUE)(v)
#define BINARY_UNARY(NAME) BINARY_KERNELS(binary_unary_, NAME, T, APPLY_EPILOGUE)
BINARY_UNARY(ADD) BINARY_UNARY(SUB) BINARY_UNARY(MUL) BINARY_UNARY(DIV) BINARY_UNARY(POW)
BINARY_UNARY(MAX) BINARY_UNARY(MIN) BINARY_UNARY(RELU_GRAD)
#endif

/* ---- select ------------------------------------------------------------------------------- */
kernel void select_contig(global const uchar* c, long coff, global const T* a, long aoff,
                          global const T* b, long boff, global T* out, long n) {
    SPOOL_FOR_CHUNK(i, n) {
        out[i] = c[coff + i] != (uchar)0 ? a[aoff + i] : b[boff + i];
    }
}

kernel void select_strided(global const uchar* c, layout_t condl, global const T* a, layout_t al,
                           global const T* b, layout_t bl, global T* out, long n) {
    SPOOL_FOR_CHUNK(i, n) {
        out[i] = c[layout_offset(&condl, i)] != (uchar)0 ? a[layout_offset(&al, i)]
                                                        : b[layout_offset(&bl, i)];
    }
}
#endif /* SPOOL_FUNCTIONS_ONLY */
