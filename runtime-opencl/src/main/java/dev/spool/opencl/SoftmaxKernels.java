package dev.spool.opencl;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.spi.View;
import java.util.Arrays;
import org.jocl.cl_mem;

/**
 * The fused softmax primitives (softmax.cl), one launch each. CPU devices run one work-item per
 * row ({@code *_rows}); GPUs one work-group per row with tree reductions in local memory
 * ({@code *_wg}), its size the row length rounded up to a power of two, at least a warp and at
 * most the tuned reduction size. Every operand is passed as the layout of its leading dims plus
 * its stride along the row, so transposed and broadcast views need no copy.
 */
final class SoftmaxKernels {
    /** Smallest work-group of the GPU kernels: one warp (NVIDIA) or half a wavefront (AMD). */
    private static final int GPU_MIN_LOCAL = 32;

    private final Kernels k;

    SoftmaxKernels(Kernels kernels) {
        this.k = kernels;
    }

    /** A view as the kernels take it: buffer, layout of the leading dims, stride along the row. */
    private record Rows(cl_mem mem, Layout outer, long stride) {
        static Rows of(View v) {
            int rank = v.rank();
            long[] shape = Kernels.toLongs(v.shape());
            Layout outer = Layout.collapse(shape, new long[][] {v.strides()}, new long[] {v.offset()}, 0, rank - 1)[0];
            return new Rows(((OpenClBuffer) v.buffer()).mem(), outer, v.strides()[rank - 1]);
        }
    }

    void softmax(View x, OpenClBuffer out, boolean log) {
        String what = log ? "logSoftmax" : "softmax";
        DType t = check(what, x);
        Kernels.requireOutput(what, out, t, x.size());
        long n = last(x);
        long rows = rows(x);
        if (rows == 0 || n == 0) {
            return;
        }
        Rows in = Rows.of(x);
        KernelCall call = k.call(KernelSources.SOFTMAX, ClTypes.options(t), KernelCatalog.softmax(gpu()))
                .mem(in.mem()).layout(in.outer()).i64(in.stride()).i64(rows).i64(n).u32(log ? 1 : 0).mem(out);
        launch(call, t, rows, n);
    }

    void softmaxGrad(View y, View g, OpenClBuffer out, boolean log) {
        String what = log ? "logSoftmaxGrad" : "softmaxGrad";
        DType t = check(what, y, g);
        Kernels.requireSameShape(what, y, g);
        Kernels.requireOutput(what, out, t, y.size());
        long n = last(y);
        long rows = rows(y);
        if (rows == 0 || n == 0) {
            return;
        }
        Rows ys = Rows.of(y);
        Rows gs = Rows.of(g);
        KernelCall call = k.call(KernelSources.SOFTMAX, ClTypes.options(t), KernelCatalog.softmaxGrad(gpu()))
                .mem(ys.mem()).layout(ys.outer()).i64(ys.stride()).mem(gs.mem()).layout(gs.outer()).i64(gs.stride())
                .i64(rows).i64(n).u32(log ? 1 : 0).mem(out);
        launch(call, t, rows, n);
    }

    void crossEntropy(View labels, View logits, OpenClBuffer loss, OpenClBuffer lsm) {
        String what = "softmaxCrossEntropy";
        DType t = check(what, labels, logits);
        Kernels.requireSameShape(what, labels, logits);
        long n = last(logits);
        long rows = rows(logits);
        Kernels.requireOutput(what, loss, t, rows);
        Kernels.requireOutput(what, lsm, t, logits.size());
        if (rows == 0) {
            return;
        }
        Rows ls = Rows.of(labels);
        Rows xs = Rows.of(logits);
        KernelCall call = k.call(KernelSources.SOFTMAX, ClTypes.options(t), KernelCatalog.crossEntropy(gpu()))
                .mem(ls.mem()).layout(ls.outer()).i64(ls.stride()).mem(xs.mem()).layout(xs.outer()).i64(xs.stride())
                .i64(rows).i64(n).mem(loss).mem(lsm);
        launch(call, t, rows, n); // n == 0 too: each row's loss is -0, as the composite's
    }

    void crossEntropyGrad(View g, View lsm, View labels, OpenClBuffer out) {
        String what = "softmaxCrossEntropyGrad";
        DType t = check(what, g, lsm, labels);
        Kernels.requireSameShape(what, lsm, labels);
        requireRowGradient(what, g, lsm);
        Kernels.requireOutput(what, out, t, lsm.size());
        long n = last(lsm);
        long rows = rows(lsm);
        if (rows == 0 || n == 0) {
            return;
        }
        Kernels.requireInBounds(what, g);
        Layout gOuter = rowLayout(g);
        Rows ys = Rows.of(lsm);
        Rows ls = Rows.of(labels);
        KernelCall call = k.call(KernelSources.SOFTMAX, ClTypes.options(t), KernelCatalog.crossEntropyGrad(gpu()))
                .mem(((OpenClBuffer) g.buffer()).mem()).layout(gOuter)
                .mem(ys.mem()).layout(ys.outer()).i64(ys.stride()).mem(ls.mem()).layout(ls.outer()).i64(ls.stride())
                .i64(rows).i64(n).mem(out);
        launch(call, t, rows, n);
    }

    /** crossEntropy then crossEntropyGrad of its logSoftmax, in one launch (xent_fused_*). */
    void crossEntropyWithGrad(View labels, View logits, View g, OpenClBuffer loss, OpenClBuffer lsm,
                              OpenClBuffer out) {
        String what = "softmaxCrossEntropyWithGrad";
        DType t = check(what, labels, logits, g);
        Kernels.requireSameShape(what, labels, logits);
        requireRowGradient(what, g, logits);
        long n = last(logits);
        long rows = rows(logits);
        Kernels.requireOutput(what, loss, t, rows);
        Kernels.requireOutput(what, lsm, t, logits.size());
        Kernels.requireOutput(what, out, t, logits.size());
        if (rows == 0) {
            return;
        }
        Kernels.requireInBounds(what, g);
        Layout gOuter = rowLayout(g);
        Rows ls = Rows.of(labels);
        Rows xs = Rows.of(logits);
        KernelCall call = k.call(KernelSources.SOFTMAX, ClTypes.options(t), KernelCatalog.crossEntropyFused(gpu()))
                .mem(ls.mem()).layout(ls.outer()).i64(ls.stride()).mem(xs.mem()).layout(xs.outer()).i64(xs.stride())
                .mem(((OpenClBuffer) g.buffer()).mem()).layout(gOuter)
                .i64(rows).i64(n).mem(loss).mem(lsm).mem(out);
        launch(call, t, rows, n); // the local size of crossEntropy's and crossEntropyGrad's launches
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** A per-row gradient has exactly the leading dims of the rows it scales. */
    private static void requireRowGradient(String what, View g, View rows) {
        if (g.rank() != rows.rank() - 1 || !Arrays.equals(g.shape(), Arrays.copyOf(rows.shape(), g.rank()))) {
            throw new BackendException(what + ": gradient " + g + " must have the leading dims of " + rows);
        }
    }

    /** The layout of a per-row gradient: one element per row. */
    private static Layout rowLayout(View g) {
        return Layout.collapse(Kernels.toLongs(g.shape()), new long[][] {g.strides()},
                new long[] {g.offset()}, 0, g.rank())[0];
    }

    private boolean gpu() {
        return k.tuning().style() == Tuning.Style.GPU;
    }

    private void launch(KernelCall call, DType t, long rows, long n) {
        Tuning tuning = k.tuning();
        if (tuning.style() == Tuning.Style.GPU) {
            int local = call.localSize((int) Math.min(tuning.reduceLocal(), Math.max(GPU_MIN_LOCAL, ceilPow2(n))));
            call.local((long) local * t.byteSize());
            call.run(new long[] {rows * local}, new long[] {local});
        } else {
            // few heavy rows: one per group, so that every core gets some
            call.run1d(rows, rows < 64L * tuning.targetGroups() ? 1 : tuning.rowsLocal());
        }
    }

    private DType check(String what, View... views) {
        DType t = views[0].dtype();
        k.requireDType(t.isFloating(), what, t, "FLOAT32, FLOAT64");
        for (View v : views) {
            k.requireSame(what, "operand dtype", t, v.dtype());
            Kernels.requireInBounds(what, v);
        }
        if (views[views.length - 1].rank() == 0) {
            throw new BackendException(what + ": needs views of rank >= 1, got " + views[views.length - 1]);
        }
        return t;
    }

    private static long last(View v) {
        return v.shape()[v.rank() - 1];
    }

    private static long rows(View v) {
        return Kernels.product(v.shape(), 0, v.rank() - 1);
    }

    private static long ceilPow2(long n) {
        long p = 1;
        while (p < n) {
            p <<= 1;
        }
        return p;
    }
}
