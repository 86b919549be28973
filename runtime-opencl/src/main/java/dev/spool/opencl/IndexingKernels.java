package dev.spool.opencl;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.spi.View;

/** gather and scatterAdd (indexing.cl) along the middle axis of [outer, axis, inner]. */
final class IndexingKernels {
    private final Kernels k;

    IndexingKernels(Kernels kernels) {
        this.k = kernels;
    }

    void gather(View params, View indices, OpenClBuffer out) {
        checkIndices("gather", indices);
        requireRank3("gather", params);
        Kernels.requireInBounds("gather", params);
        long outer = params.shape()[0];
        long axis = params.shape()[1];
        long inner = params.shape()[2];
        long count = indices.shape()[0];
        long n = outer * count * inner;
        Kernels.requireOutput("gather", out, params.dtype(), n);
        if (n == 0) {
            return;
        }
        long[] s = params.strides();
        k.call(KernelSources.INDEXING, KernelCatalog.indexOptions(params.dtype(), indices.dtype()), KernelCatalog.GATHER)
                .mem((OpenClBuffer) params.buffer()).i64(params.offset()).i64(s[0]).i64(s[1]).i64(s[2])
                .mem((OpenClBuffer) indices.buffer()).i64(indices.offset()).i64(indices.strides()[0])
                .mem(out).i64(count).i64(axis).i64(inner).i64(n)
                .run1d(n, k.tuning().elementwiseLocal());
    }

    void scatterAdd(View updates, View indices, OpenClBuffer out) {
        DType t = updates.dtype();
        k.requireDType(t.isNumeric(), "scatterAdd", t, "numeric dtypes");
        checkIndices("scatterAdd", indices);
        requireRank3("scatterAdd", updates);
        Kernels.requireInBounds("scatterAdd", updates);
        long outer = updates.shape()[0];
        long count = updates.shape()[1];
        long inner = updates.shape()[2];
        if (indices.shape()[0] != count) {
            throw new BackendException("scatterAdd: " + count + " updates per row but " + indices.shape()[0]
                    + " indices");
        }
        long n = out.size();
        if (outer * inner == 0 || n == 0) {
            Kernels.requireOutput("scatterAdd", out, t, 0);
            return;
        }
        long axis = n / (outer * inner);
        Kernels.requireOutput("scatterAdd", out, t, outer * axis * inner);
        long[] s = updates.strides();
        k.call(KernelSources.INDEXING, KernelCatalog.indexOptions(t, indices.dtype()), KernelCatalog.SCATTER_ADD)
                .mem((OpenClBuffer) updates.buffer()).i64(updates.offset()).i64(s[0]).i64(s[1]).i64(s[2])
                .mem((OpenClBuffer) indices.buffer()).i64(indices.offset()).i64(indices.strides()[0])
                .mem(out).i64(count).i64(axis).i64(inner).i64(outer * axis * inner)
                .run1d(outer * axis * inner, k.tuning().elementwiseLocal());
    }

    private void checkIndices(String what, View indices) {
        k.requireDType(indices.dtype() == DType.INT32 || indices.dtype() == DType.INT64, what + " indices",
                indices.dtype(), "int32 or int64");
        if (indices.rank() != 1) {
            throw new BackendException(what + ": indices must be rank 1, got " + indices);
        }
        Kernels.requireInBounds(what, indices);
    }

    private static void requireRank3(String what, View v) {
        if (v.rank() != 3) {
            throw new BackendException(what + ": expected a rank-3 [outer, axis, inner] view, got " + v);
        }
    }
}
