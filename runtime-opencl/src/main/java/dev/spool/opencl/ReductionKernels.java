package dev.spool.opencl;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.View;
import org.jocl.cl_mem;

/**
 * reduce (reduction.cl). A reduction of {@code rows} rows of {@code len} elements splits each
 * row into chunks so that the device has enough independent work, reduces every chunk, then
 * reduces the partial results per row. CPUs reduce each chunk in one work-item (contiguous
 * blocks, vector loads); GPUs in one work-group (a tree in local memory), except short rows,
 * which one work-item handles on either. On CPUs, rows that lie side by side and are reduced
 * along a strided axis (column sums) go 16 at a time through one work-item instead.
 */
final class ReductionKernels {
    /** Elements a CPU work-item should at least reduce before splitting a row is worth it. */
    private static final long CPU_MIN_CHUNK = 4096;
    /** Rows at most this long are reduced by one work-item each on GPUs too. */
    private static final long GPU_SHORT_ROW = 64;
    /** Rows per work-item of reduce_OP_columns (its vload16). */
    private static final long COLUMNS = 16;

    private final Kernels k;

    ReductionKernels(Kernels kernels) {
        this.k = kernels;
    }

    void reduce(ReduceOp op, View x, int reducedDims, OpenClBuffer out) {
        DType t = x.dtype();
        String what = "reduce " + op;
        k.requireDType(t.isNumeric(), what, t, "numeric dtypes");
        if (reducedDims < 0 || reducedDims > x.rank()) {
            throw new BackendException(what + ": cannot reduce " + reducedDims + " dims of a rank-" + x.rank() + " view");
        }
        Kernels.requireInBounds(what, x);
        int kept = x.rank() - reducedDims;
        long rows = Kernels.product(x.shape(), 0, kept);
        long len = Kernels.product(x.shape(), kept, x.rank());
        Kernels.requireOutput(what, out, op.isArg() ? DType.INT64 : t, rows);
        if (rows == 0) {
            return;
        }
        long[] shape = Kernels.toLongs(x.shape());
        long[][] strides = {x.strides()};
        Layout outer = Layout.collapse(shape, strides, new long[] {x.offset()}, 0, kept)[0];
        Layout inner = Layout.collapse(shape, strides, new long[] {0}, kept, x.rank())[0];
        cl_mem xm = ((OpenClBuffer) x.buffer()).mem();
        if (op.isArg()) {
            argReduce(op, t, xm, outer, inner, rows, len, out.mem());
        } else if (k.tuning().style() == Tuning.Style.CPU && isColumns(outer, inner)) {
            k.call(KernelSources.REDUCTION, KernelCatalog.reduceOptions(t, t, k.device.info.fp64()),
                    KernelCatalog.reduceColumns(op))
                    .mem(xm).i64(outer.offset).i64(inner.strides[0]).i64(rows).i64(len).mem(out.mem())
                    .run1d(ceilDiv(rows, COLUMNS), 1);
        } else {
            reduceValues(op, t, t, xm, outer, inner, rows, len, out.mem());
        }
    }

    /** Rows side by side, reduced along one strided axis: reduce_OP_columns's case. */
    private static boolean isColumns(Layout outer, Layout inner) {
        return outer.shape.length == 1 && outer.strides[0] == 1 && inner.shape.length == 1 && inner.strides[0] > 1;
    }

    /**
     * Reduces rows of {@code in} values to one {@code out} value each, in one pass or two; the
     * partial results between passes keep the accumulator's precision.
     */
    private void reduceValues(ReduceOp op, DType in, DType outType, cl_mem x, Layout outer, Layout inner,
                              long rows, long len, cl_mem out) {
        Plan plan = plan(rows, len);
        boolean fp64 = k.device.info.fp64();
        if (plan.chunks == 1) {
            launch(op, in, KernelCatalog.reduceOptions(in, outType, fp64), plan, x, outer, inner, rows, len, out, null);
            return;
        }
        DType acc = KernelCatalog.accumulator(in, outType, fp64);
        BufferPool.Block partial = k.scratch(acc, rows * plan.chunks);
        try {
            launch(op, in, KernelCatalog.reduceOptions(in, acc, fp64), plan, x, outer, inner, rows, len,
                    partial.mem(), null);
            Layout partialRows = new Layout(0, new long[] {rows}, new long[] {plan.chunks});
            Layout partialChunk = new Layout(0, new long[] {plan.chunks}, new long[] {1});
            reduceValues(op, acc, outType, partial.mem(), partialRows, partialChunk, rows, plan.chunks, out);
        } finally {
            k.free(partial);
        }
    }

    /** ARGMAX/ARGMIN: (value, index) per chunk, then one work-item per row picks the winner. */
    private void argReduce(ReduceOp op, DType t, cl_mem x, Layout outer, Layout inner, long rows, long len,
                           cl_mem out) {
        Plan plan = plan(rows, len);
        String options = KernelCatalog.reduceOptions(t, t, k.device.info.fp64());
        BufferPool.Block vals = k.scratch(t, rows * plan.chunks);
        BufferPool.Block idx = plan.chunks == 1 ? null : k.scratch(DType.INT64, rows * plan.chunks);
        try {
            launch(op, t, options, plan, x, outer, inner, rows, len, vals.mem(), idx == null ? out : idx.mem());
            if (idx != null) {
                k.call(KernelSources.REDUCTION, options, KernelCatalog.reducePartials(op))
                        .mem(vals.mem()).mem(idx.mem()).i64(rows).i64(plan.chunks).mem(out)
                        .run1d(rows, rowLocal(rows));
            }
        } finally {
            k.free(vals);
            if (idx != null) {
                k.free(idx);
            }
        }
    }

    private void launch(ReduceOp op, DType t, String options, Plan plan, cl_mem x, Layout outer, Layout inner,
                        long rows, long len, cl_mem vals, cl_mem idx) {
        String name = plan.workGroup ? KernelCatalog.reduceWorkGroup(op) : KernelCatalog.reduceChunks(op);
        KernelCall call = k.call(KernelSources.REDUCTION, options, name)
                .mem(x).layout(outer).layout(inner).i64(rows).i64(len).i64(plan.chunks).i64(plan.chunkLen)
                .mem(vals);
        if (op.isArg()) {
            call.mem(idx);
        }
        long items = rows * plan.chunks;
        if (plan.workGroup) {
            int local = call.localSize(k.tuning().reduceLocal());
            // scratch of the accumulator type: 8 bytes covers every ACC (and ARG's T)
            call.local((long) local * DType.FLOAT64.byteSize());
            if (op.isArg()) {
                call.local((long) local * DType.INT64.byteSize());
            }
            call.run(new long[] {items * local}, new long[] {local});
        } else {
            call.run1d(items, rowLocal(items));
        }
    }

    /** Work-items per group for kernels whose work-items each reduce a whole row or chunk. */
    private int rowLocal(long items) {
        Tuning tuning = k.tuning();
        if (tuning.style() == Tuning.Style.CPU && items < 64L * tuning.targetGroups()) {
            return 1; // few heavy work-items: one per group, so that every core gets some
        }
        return tuning.rowsLocal();
    }

    /** How to split rows into chunks, and which kernel reduces a chunk. */
    private record Plan(boolean workGroup, long chunks, long chunkLen) {
    }

    private Plan plan(long rows, long len) {
        Tuning tuning = k.tuning();
        long target = tuning.targetGroups();
        if (tuning.style() == Tuning.Style.CPU || len <= GPU_SHORT_ROW) {
            long chunks = rows >= target ? 1 : clamp(ceilDiv(target, rows), 1, ceilDiv(len, CPU_MIN_CHUNK));
            return split(false, len, chunks);
        }
        long chunks = clamp(ceilDiv(target, rows), 1, ceilDiv(len, 4L * tuning.reduceLocal()));
        return split(true, len, chunks);
    }

    private static Plan split(boolean workGroup, long len, long chunks) {
        if (chunks <= 1) {
            return new Plan(workGroup, 1, Math.max(1, len));
        }
        long chunkLen = ceilDiv(len, chunks);
        return new Plan(workGroup, ceilDiv(len, chunkLen), chunkLen);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static long clamp(long v, long lo, long hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
