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
 * ops also have _scalar_a / _scalar_b paths, where that operand is one element (x + 1).
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
#ifdef T_IS_FP
#ifndef T_IS_DOUBLE
/*
 * float log, log1p and tanh written out, branch-free (selects only): PoCL's library versions
 * do not vectorise across work-items and cost 35-75x an add on 4M floats; these cost about one
 * exp. log and tanh stay within 2 ulp (4M values from 1e-9 to 5e8, both signs), log1p 4 ulp.
 */
float spool_log(float x) {
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
float spool_tanh(float x) {
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
float spool_log1p(float x) {
    float u = 1.0f + x;
    float r = u == 1.0f ? x : spool_log(u) * (x / (u - 1.0f));
    return isinf(x) && x > 0.0f ? x : r;
}
#else
double spool_log(double x) { return log(x); }
double spool_log1p(double x) { return log1p(x); }
/* explicit saturation: some libms return 1 - ulp for huge |x| */
double spool_tanh(double x) { return fabs(x) >= 20.0 ? copysign(1.0, x) : tanh(x); }
#endif
#endif

#ifdef T_IS_FP
T op_NEG(T x) { return -x; }
T op_ABS(T x) { return fabs(x); }
/* sign(0) = 0 with its sign kept, sign(NaN) = NaN (OpenCL's sign() returns 0 for NaN) */
T op_SIGN(T x) { return x > (T)0 ? (T)1 : (x < (T)0 ? (T)(-1) : x); }
/* x < 0 ? 0 : x, so NaN and -0 pass through as they are (not fmax, which drops NaN) */
T op_RELU(T x) { return x < (T)0 ? (T)0 : x; }
T op_EXP(T x) { return exp(x); }
T op_LOG(T x) { return spool_log(x); }
T op_LOG1P(T x) { return spool_log1p(x); }
T op_SQRT(T x) { return sqrt(x); }
/* 1/sqrt rather than rsqrt(): rsqrt may be 2 ulp off, this is what the CPU backend computes */
T op_RSQRT(T x) { return (T)1 / sqrt(x); }
T op_SIN(T x) { return sin(x); }
T op_COS(T x) { return cos(x); }
T op_TANH(T x) { return spool_tanh(x); }
/* exp of a non-positive number only: no overflow for large |x|. 1 / (1 + e) for x >= 0,
 * e / (1 + e) below, as selects (a branch kept PoCL from vectorising: 4x slower) */
T op_SIGMOID(T x) {
    T e = exp(-fabs(x));
    T r = (x >= (T)0 ? (T)1 : e) / ((T)1 + e);
    return isnan(x) ? x : r;
}
#endif

#ifdef T_IS_INT
T op_NEG(T x) { return WRAP((UT)0 - (UT)x); }
T op_ABS(T x) { return x < (T)0 ? op_NEG(x) : x; }
T op_SIGN(T x) { return x > (T)0 ? (T)1 : (x < (T)0 ? (T)(-1) : (T)0); }
T op_RELU(T x) { return x < (T)0 ? (T)0 : x; }
#endif

#ifdef T_IS_BOOL
T op_NOT(T x) { return x == (T)0 ? (T)1 : (T)0; }
#endif

#define UNARY(NAME)                                                                          \
kernel void unary_##NAME##_contig(global const T* x, long xoff, global T* out, long n) {     \
    long i = (long)get_global_id(0);                                                         \
    if (i < n) {                                                                             \
        out[i] = op_##NAME(x[xoff + i]);                                                     \
    }                                                                                        \
}                                                                                            \
kernel void unary_##NAME##_strided(global const T* x, layout_t xl, global T* out, long n) {  \
    long i = (long)get_global_id(0);                                                         \
    if (i < n) {                                                                             \
        out[i] = op_##NAME(x[layout_offset(&xl, i)]);                                        \
    }                                                                                        \
}

#ifdef T_IS_FP
UNARY(NEG) UNARY(ABS) UNARY(SIGN) UNARY(RELU) UNARY(EXP) UNARY(LOG) UNARY(LOG1P) UNARY(SQRT)
UNARY(RSQRT) UNARY(SIN) UNARY(COS) UNARY(TANH) UNARY(SIGMOID)
#endif
#ifdef T_IS_INT
UNARY(NEG) UNARY(ABS) UNARY(SIGN) UNARY(RELU)
#endif
#ifdef T_IS_BOOL
UNARY(NOT)
#endif

/* ---- binary ops --------------------------------------------------------------------------- */
#ifdef T_IS_FP
T bin_ADD(T a, T b) { return a + b; }
T bin_SUB(T a, T b) { return a - b; }
T bin_MUL(T a, T b) { return a * b; }
T bin_DIV(T a, T b) { return a / b; }
/* C's pow gives 1 for pow(1, NaN) and pow(-1, +-inf); Java's Math.pow (the CPU backend) NaN */
T bin_POW(T a, T b) {
    if (isnan(b) || (isinf(b) && fabs(a) == (T)1)) {
        return b + (T)NAN;
    }
    return pow(a, b);
}
/* fmax/fmin ignore NaN; these propagate it, and order -0 below +0 as Java's Math.max does */
T bin_MAX(T a, T b) {
    if (isnan(a) || isnan(b)) {
        return a + b;
    }
    if (a == b) {
        return signbit(a) ? b : a;
    }
    return a > b ? a : b;
}
T bin_MIN(T a, T b) {
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
T bin_ADD(T a, T b) { return WRAP((UT)a + (UT)b); }
T bin_SUB(T a, T b) { return WRAP((UT)a - (UT)b); }
T bin_MUL(T a, T b) { return WRAP((UT)a * (UT)b); }
/* truncates toward zero; x / 0 = 0; MIN / -1 wraps to MIN (it traps on x86 if left to '/') */
T bin_DIV(T a, T b) {
    if (b == (T)0) {
        return (T)0;
    }
    if (b == (T)(-1)) {
        return op_NEG(a);
    }
    return a / b;
}
/* exact (wrapping) by repeated squaring; a negative exponent gives 0 unless |a| == 1 */
T bin_POW(T a, T b) {
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
T bin_MAX(T a, T b) { return a > b ? a : b; }
T bin_MIN(T a, T b) { return a < b ? a : b; }
#endif

#ifndef T_IS_BOOL
/* relu's VJP: the gradient a where relu's input b is positive, else 0 (also for a NaN b) */
T bin_RELU_GRAD(T a, T b) { return b > (T)0 ? a : (T)0; }
#endif

/* comparisons: false when either side is NaN, except NOT_EQUAL */
uchar bin_EQUAL(T a, T b) { return a == b ? (uchar)1 : (uchar)0; }
uchar bin_NOT_EQUAL(T a, T b) { return a != b ? (uchar)1 : (uchar)0; }
uchar bin_LESS(T a, T b) { return a < b ? (uchar)1 : (uchar)0; }
uchar bin_LESS_EQUAL(T a, T b) { return a <= b ? (uchar)1 : (uchar)0; }
uchar bin_GREATER(T a, T b) { return a > b ? (uchar)1 : (uchar)0; }
uchar bin_GREATER_EQUAL(T a, T b) { return a >= b ? (uchar)1 : (uchar)0; }

#define BINARY(NAME, OUT)                                                                     \
kernel void binary_##NAME##_contig(global const T* a, long aoff, global const T* b, long boff, \
                                   global OUT* out, long n) {                                 \
    long i = (long)get_global_id(0);                                                          \
    if (i < n) {                                                                              \
        out[i] = bin_##NAME(a[aoff + i], b[boff + i]);                                        \
    }                                                                                         \
}                                                                                             \
kernel void binary_##NAME##_strided(global const T* a, layout_t al, global const T* b,        \
                                    layout_t bl, global OUT* out, long n) {                   \
    long i = (long)get_global_id(0);                                                          \
    if (i < n) {                                                                              \
        out[i] = bin_##NAME(a[layout_offset(&al, i)], b[layout_offset(&bl, i)]);              \
    }                                                                                         \
}                                                                                             \
kernel void binary_##NAME##_scalar_a(global const T* a, long aoff, global const T* b,         \
                                     long boff, global OUT* out, long n) {                    \
    long i = (long)get_global_id(0);                                                          \
    if (i < n) {                                                                              \
        out[i] = bin_##NAME(a[aoff], b[boff + i]);                                            \
    }                                                                                         \
}                                                                                             \
kernel void binary_##NAME##_scalar_b(global const T* a, long aoff, global const T* b,         \
                                     long boff, global OUT* out, long n) {                    \
    long i = (long)get_global_id(0);                                                          \
    if (i < n) {                                                                              \
        out[i] = bin_##NAME(a[aoff + i], b[boff]);                                            \
    }                                                                                         \
}

#ifndef T_IS_BOOL
BINARY(ADD, T) BINARY(SUB, T) BINARY(MUL, T) BINARY(DIV, T) BINARY(POW, T)
BINARY(MAX, T) BINARY(MIN, T) BINARY(RELU_GRAD, T)
#endif
BINARY(EQUAL, uchar) BINARY(NOT_EQUAL, uchar) BINARY(LESS, uchar) BINARY(LESS_EQUAL, uchar)
BINARY(GREATER, uchar) BINARY(GREATER_EQUAL, uchar)

/* ---- select ------------------------------------------------------------------------------- */
kernel void select_contig(global const uchar* c, long coff, global const T* a, long aoff,
                          global const T* b, long boff, global T* out, long n) {
    long i = (long)get_global_id(0);
    if (i < n) {
        out[i] = c[coff + i] != (uchar)0 ? a[aoff + i] : b[boff + i];
    }
}

kernel void select_strided(global const uchar* c, layout_t condl, global const T* a, layout_t al,
                           global const T* b, layout_t bl, global T* out, long n) {
    long i = (long)get_global_id(0);
    if (i < n) {
        out[i] = c[layout_offset(&condl, i)] != (uchar)0 ? a[layout_offset(&al, i)]
                                                        : b[layout_offset(&bl, i)];
    }
}
