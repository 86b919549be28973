/*
 * Spool indexing kernels: gather and its adjoint scatter_add, along the middle axis of a rank-3
 * [outer, axis, inner] view. Out-of-range indices read 0 (gather) or are skipped (scatter_add).
 *
 * -DT=... type flags as in elementwise.cl; -DIDX=int or -DIDX=long for the index type.
 * scatter_add is deterministic and uses no atomics: each output element loops over the
 * indices and sums its matching updates in index order, so the result is the same on every run
 * and every device (float atomics would make it depend on scheduling). The cost is
 * O(outer * axis * inner * n).
 */
#ifndef T
#define T float
#define T_IS_FP 1
#endif
#ifndef IDX
#define IDX int
#endif
#ifdef T_IS_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

/* integer sums wrap (two's complement): signed overflow is undefined in OpenCL C */
T add_value(T a, T b) {
#if defined(T_IS_INT) && T_IS_INT == 64
    return as_long((ulong)a + (ulong)b);
#elif defined(T_IS_INT)
    return as_int((uint)a + (uint)b);
#else
    return a + b;
#endif
}

kernel void gather(global const T* params, long poff, long ps0, long ps1, long ps2,
                   global const IDX* indices, long ioff, long istride,
                   global T* out, long count, long axis, long inner, long n) {
    long i = (long)get_global_id(0);
    if (i < n) {
        long in = i % inner;
        long t = i / inner;
        long j = t % count;
        long o = t / count;
        /* k stays IDX: Mesa 22.3 (Rusticl) folds (long)k >= 0 to true for an int k, so index -1
         * read params out of bounds (runtime-opencl/README.md, "Rusticl") */
        IDX k = indices[ioff + j * istride];
        out[i] = k >= 0 && k < axis ? params[poff + o * ps0 + k * ps1 + in * ps2] : (T)0;
    }
}

#ifndef T_IS_BOOL
kernel void scatter_add(global const T* updates, long uoff, long us0, long us1, long us2,
                        global const IDX* indices, long ioff, long istride,
                        global T* out, long count, long axis, long inner, long n) {
    long i = (long)get_global_id(0);
    if (i < n) {
        long in = i % inner;
        long t = i / inner;
        long a = t % axis;
        long o = t / axis;
        long ubase = uoff + o * us0 + in * us2;
        T acc = (T)0;
        for (long j = 0; j < count; j++) {
            if ((long)indices[ioff + j * istride] == a) {
                acc = add_value(acc, updates[ubase + j * us1]);
            }
        }
        out[i] = acc;
    }
}
#endif
