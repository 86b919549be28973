package dev.spool.opencl;

import dev.spool.DType;

/** randomUniform (random.cl): Philox4x32-10, one work-item per element. */
final class RandomKernels {
    private final Kernels k;

    RandomKernels(Kernels kernels) {
        this.k = kernels;
    }

    void uniform(OpenClBuffer out, long seed) {
        DType t = out.dtype();
        k.requireDType(t.isFloating(), "randomUniform", t, "float32 or float64");
        long n = out.size();
        if (n == 0) {
            return;
        }
        k.call(KernelSources.RANDOM, ClTypes.options(t), KernelCatalog.RANDOM_UNIFORM)
                .mem(out).i64(n).u32((int) seed).u32((int) (seed >>> 32))
                .run1d(n, k.tuning().elementwiseLocal());
    }
}
