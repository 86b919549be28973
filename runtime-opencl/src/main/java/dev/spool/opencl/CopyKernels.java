package dev.spool.opencl;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.spi.View;
import java.util.Arrays;
import org.jocl.cl_mem;

/** copy (with dtype conversion, into strided destinations) and fill (copy.cl). */
final class CopyKernels {
    private final Kernels k;

    CopyKernels(Kernels kernels) {
        this.k = kernels;
    }

    void copy(View src, View dst) {
        if (!Arrays.equals(src.shape(), dst.shape())) {
            throw new BackendException("copy: shapes differ, " + Arrays.toString(src.shape()) + " and "
                    + Arrays.toString(dst.shape()));
        }
        Kernels.requireInBounds("copy", src);
        Kernels.requireInBounds("copy", dst);
        long n = src.size();
        if (n == 0) {
            return;
        }
        Layout[] l = Layout.collapse(src.shape(), src, dst);
        run(src.dtype(), ((OpenClBuffer) src.buffer()).mem(), l[0], dst.dtype(),
                ((OpenClBuffer) dst.buffer()).mem(), l[1], n);
    }

    /** Copies the {@code n} elements of {@code src} densely into {@code dst} from element 0. */
    void toDense(View src, Layout srcLayout, cl_mem dst) {
        toDense(src.dtype(), ((OpenClBuffer) src.buffer()).mem(), srcLayout, src.size(), dst);
    }

    /** Copies the {@code n} elements that {@code srcLayout} walks in {@code src}, of {@code t}, densely into {@code dst}. */
    void toDense(DType t, cl_mem src, Layout srcLayout, long n, cl_mem dst) {
        Layout dense = new Layout(0, new long[] {n}, new long[] {1});
        run(t, src, srcLayout, t, dst, dense, n);
    }

    void fill(OpenClBuffer dst, Number value) {
        fill(dst.mem(), dst.dtype(), dst.size(), value);
    }

    /** Fills the first {@code n} elements of {@code dst}, of {@code t}, with {@code value}. */
    void fill(cl_mem dst, DType t, long n, Number value) {
        if (n == 0) {
            return;
        }
        k.call(KernelSources.COPY, KernelCatalog.copyOptions(t, t), KernelCatalog.FILL)
                .mem(dst).scalar(t, value).i64(n).runElements(n, k.tuning());
    }

    private void run(DType st, cl_mem src, Layout sl, DType dt, cl_mem dst, Layout dl, long n) {
        boolean dense = sl.isDense() && dl.isDense();
        KernelCall call = k.call(KernelSources.COPY, KernelCatalog.copyOptions(st, dt), KernelCatalog.copy(dense));
        if (dense) {
            call.mem(src).i64(sl.offset).mem(dst).i64(dl.offset);
        } else {
            call.mem(src).layout(sl).mem(dst).layout(dl);
        }
        call.i64(n).runElements(n, k.tuning());
    }
}
