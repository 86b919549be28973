package dev.spool.opencl;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.spi.View;
import java.util.Arrays;

/** Batched matmul (matmul.cl): local-memory tiles on GPUs, register rows on CPUs. */
final class MatmulKernels {
    private final Kernels k;

    MatmulKernels(Kernels kernels) {
        this.k = kernels;
    }

    void matmul(View a, View b, OpenClBuffer out) {
        DType t = a.dtype();
        k.requireDType(t.isFloating(), "matmul", t, "float32 or float64");
        k.requireSame("matmul", "right operand", t, b.dtype());
        int r = a.rank();
        if (r < 2 || b.rank() != r
                || !Arrays.equals(Arrays.copyOf(a.shape(), r - 2), Arrays.copyOf(b.shape(), r - 2))
                || a.shape()[r - 1] != b.shape()[r - 2]) {
            throw new BackendException("matmul: operands " + Arrays.toString(a.shape()) + " and "
                    + Arrays.toString(b.shape()) + " are not [batch..., M, K] and [batch..., K, N]");
        }
        Kernels.requireInBounds("matmul", a);
        Kernels.requireInBounds("matmul", b);
        long m = a.shape()[r - 2];
        long kk = a.shape()[r - 1];
        long n = b.shape()[r - 1];
        long batch = Kernels.product(a.shape(), 0, r - 2);
        Kernels.requireOutput("matmul", out, t, batch * m * n);
        if (batch * m * n == 0) {
            return;
        }
        long[] batchShape = Kernels.toLongs(Arrays.copyOf(a.shape(), r - 2));
        Layout ab = Layout.collapse(batchShape, new long[][] {a.strides()}, new long[] {a.offset()}, 0, r - 2)[0];
        Layout bb = Layout.collapse(batchShape, new long[][] {b.strides()}, new long[] {b.offset()}, 0, r - 2)[0];

        Tuning.Style style = k.tuning().style();
        String options = KernelCatalog.matmulOptions(t, style);
        int tile = Tuning.MATMUL_TILE_LOCAL;
        if (style == Tuning.Style.GPU
                && k.programs.maxLocalSize(KernelSources.MATMUL, options, KernelCatalog.MATMUL_TILED) < tile * tile) {
            style = Tuning.Style.CPU; // a device that cannot run 16x16 groups gets the simple kernel
            options = KernelCatalog.matmulOptions(t, style);
        }
        String name = style == Tuning.Style.GPU ? KernelCatalog.MATMUL_TILED : KernelCatalog.MATMUL_ROWS;
        KernelCall call = k.call(KernelSources.MATMUL, options, name)
                .mem((OpenClBuffer) a.buffer()).layout(ab).i64(a.strides()[r - 2]).i64(a.strides()[r - 1])
                .mem((OpenClBuffer) b.buffer()).layout(bb).i64(b.strides()[r - 2]).i64(b.strides()[r - 1])
                .mem(out).i64(m).i64(n).i64(kk);
        if (style == Tuning.Style.GPU) {
            call.run(new long[] {ceilDiv(n, Tuning.MATMUL_TILE_N) * tile, ceilDiv(m, Tuning.MATMUL_TILE_M) * tile, batch},
                    new long[] {tile, tile, 1});
        } else {
            int local = call.localSize(Tuning.MATMUL_ROWS_LOCAL);
            call.run(new long[] {KernelCall.roundUp(n, local), ceilDiv(m, Tuning.MATMUL_ROWS), batch},
                    new long[] {local, 1, 1});
        }
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
