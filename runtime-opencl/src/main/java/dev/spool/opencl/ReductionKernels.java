package dev.spool.opencl;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.View;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jocl.cl_mem;

/**
 * reduce (reduction.cl). A reduction of {@code rows} rows of {@code len} elements splits each
 * row into chunks so that the device has enough independent work, reduces every chunk, then
 * reduces the partial results per row. CPUs reduce each chunk in one work-item (contiguous
 * blocks, vector loads); GPUs in one work-group (a tree in local memory), except short rows,
 * which one work-item handles on either. On CPUs, rows that lie side by side and are reduced
 * along a strided axis (column sums) go 16 at a time through one work-item instead.
 *
 * <p>A traced function's independent reductions (a loss's sum, the bias gradients of a step)
 * run as one group: those that would each be one launch of reduce_OP_chunks (one pass) or
 * reduce_OP_columns become one launch of a generated kernel, reduce_group, in which each member
 * calls the work-item function its own kernel calls, so that it gets the same bits.
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
        int kept = check(op, x, reducedDims, out);
        long rows = Kernels.product(x.shape(), 0, kept);
        long len = Kernels.product(x.shape(), kept, x.rank());
        if (rows == 0) {
            return;
        }
        Layout outer = outer(x, kept);
        Layout inner = inner(x, kept);
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

    /** Checks reduce's arguments as every path does; returns the number of dims kept. */
    private int check(ReduceOp op, View x, int reducedDims, OpenClBuffer out) {
        DType t = x.dtype();
        String what = "reduce " + op;
        k.requireDType(t.isNumeric(), what, t, "numeric dtypes");
        if (reducedDims < 0 || reducedDims > x.rank()) {
            throw new BackendException(what + ": cannot reduce " + reducedDims + " dims of a rank-" + x.rank() + " view");
        }
        Kernels.requireInBounds(what, x);
        int kept = x.rank() - reducedDims;
        Kernels.requireOutput(what, out, op.isArg() ? DType.INT64 : t, Kernels.product(x.shape(), 0, kept));
        return kept;
    }

    /** The kept dims, with the view's offset: where each output row starts. */
    private static Layout outer(View x, int kept) {
        return Layout.collapse(Kernels.toLongs(x.shape()), new long[][] {x.strides()}, new long[] {x.offset()}, 0,
                kept)[0];
    }

    /** The reduced dims, offset 0: the elements of a row. */
    private static Layout inner(View x, int kept) {
        return Layout.collapse(Kernels.toLongs(x.shape()), new long[][] {x.strides()}, new long[] {0}, kept,
                x.rank())[0];
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

    // ---- groups: independent reductions in one kernel (traced functions) ----------------------

    /** reduce_group's arguments per member (x, out, base, outer stride, inner stride, rows, len). */
    private static final int GROUP_ARGS = 7;
    /** Members per launch: their arguments within {@link KernelCall#MAX_ARGS} (42 of 48). */
    static final int GROUP_MEMBERS = KernelCall.MAX_ARGS / GROUP_ARGS;

    /**
     * A reduction as a member of a group: what it is alone, one launch of reduce_OP_columns
     * ({@code columns}) or a one-pass reduce_OP_chunks, over an outer and an inner layout of at
     * most one dimension each, which reduce_group takes as offset, size and stride.
     */
    record GroupMember(ReduceOp op, DType dtype, boolean columns, cl_mem x, long base, long outerStride,
                       long innerStride, long rows, long len, cl_mem out) {
        /** Its work-items: one per 16 rows (columns) or per row. */
        long items() {
            return columns ? ceilDiv(rows, COLUMNS) : rows;
        }
    }

    /**
     * {@code reduce(op, x, reducedDims, out)} as a group member, its arguments checked as
     * {@link #reduce} checks them; null when it is not one such launch alone (an index reduction,
     * two passes, a work-group tree, a layout of several dims, or nothing to compute), and then
     * it runs by {@link #reduce}.
     */
    GroupMember groupMember(ReduceOp op, View x, int reducedDims, OpenClBuffer out) {
        int kept = check(op, x, reducedDims, out);
        long rows = Kernels.product(x.shape(), 0, kept);
        long len = Kernels.product(x.shape(), kept, x.rank());
        Layout outer = outer(x, kept);
        Layout inner = inner(x, kept);
        if (op.isArg() || rows == 0 || outer.shape.length > 1 || inner.shape.length > 1) {
            return null;
        }
        // a dimension collapsed away steps nowhere; an inner one of rank 0 is a dense row (len 1)
        long outerStride = outer.shape.length == 1 ? outer.strides[0] : 0;
        long innerStride = inner.shape.length == 1 ? inner.strides[0] : 1;
        cl_mem xm = ((OpenClBuffer) x.buffer()).mem();
        boolean columns = k.tuning().style() == Tuning.Style.CPU && isColumns(outer, inner);
        if (!columns) {
            Plan plan = plan(rows, len);
            if (plan.workGroup || plan.chunks != 1) {
                return null;
            }
        }
        return new GroupMember(op, x.dtype(), columns, xm, outer.offset, outerStride, innerStride, rows, len,
                out.mem());
    }

    /** A group's kernel: its dtype and each member's op and kind. */
    private record GroupKey(DType dtype, List<ReduceOp> ops, List<Boolean> columns) {
    }

    private final Map<GroupKey, KernelCall> groups = new HashMap<>();

    /**
     * Runs members of one dtype (at most {@link #GROUP_MEMBERS}) as one launch of reduce_group:
     * work-items first over the first member's, then the next member's, each calling the
     * work-item function of the member's own kernel, built with the same options.
     */
    void runGroup(List<GroupMember> members) {
        DType t = members.get(0).dtype();
        if (members.size() > GROUP_MEMBERS) {
            throw new IllegalArgumentException("reduce group: " + members.size() + " members, at most " + GROUP_MEMBERS);
        }
        List<ReduceOp> ops = new java.util.ArrayList<>();
        List<Boolean> columns = new java.util.ArrayList<>();
        long items = 0;
        for (GroupMember m : members) {
            if (m.dtype() != t) {
                throw new IllegalArgumentException("reduce group: " + m.dtype() + " beside " + t);
            }
            ops.add(m.op());
            columns.add(m.columns());
            items += m.items();
        }
        GroupKey key = new GroupKey(t, ops, columns);
        KernelCall call = groups.get(key);
        if (call == null) {
            call = k.programs.generated("reduce group " + ops, groupSource(ops, columns),
                    Kernels.withTuning(KernelCatalog.reduceOptions(t, t, k.device.info.fp64()),
                            k.tuning().buildOptions()), GROUP_KERNEL);
            groups.put(key, call);
        }
        call.begin();
        for (GroupMember m : members) {
            call.mem(m.x()).mem(m.out()).i64(m.base()).i64(m.outerStride()).i64(m.innerStride()).i64(m.rows())
                    .i64(m.len());
        }
        call.run1d(items, rowLocal(items));
    }

    static final String GROUP_KERNEL = "reduce_group";

    /**
     * reduce_group for members of these ops and kinds: reduction.cl's functions, then a kernel
     * whose work-item g belongs to the first member whose work-items (counted from the previous
     * members' end) include it.
     */
    static String groupSource(List<ReduceOp> ops, List<Boolean> columns) {
        StringBuilder s = new StringBuilder("#define SPOOL_FUNCTIONS_ONLY 1\n")
                .append(KernelSources.text(KernelSources.REDUCTION))
                .append("\n#line 1 \"reduce_group (generated)\"\nkernel void ").append(GROUP_KERNEL).append('(');
        for (int i = 0; i < ops.size(); i++) {
            s.append(i == 0 ? "" : ",\n        ").append("global const T* x").append(i).append(", global OUT* out")
                    .append(i).append(", long base").append(i).append(", long ostride").append(i)
                    .append(", long istride").append(i).append(", long rows").append(i).append(", long len").append(i);
        }
        s.append(") {\n    long g = (long)get_global_id(0);\n");
        for (int i = 0; i < ops.size(); i++) {
            String op = ops.get(i).name();
            if (columns.get(i)) {
                s.append("    if (g < (rows").append(i).append(" + 15) / 16) {\n        reduce_").append(op)
                        .append("_column16(x").append(i).append(", base").append(i).append(", istride").append(i)
                        .append(", rows").append(i).append(", len").append(i).append(", out").append(i)
                        .append(", g);\n        return;\n    }\n    g -= (rows").append(i).append(" + 15) / 16;\n");
            } else {
                s.append("    if (g < rows").append(i).append(") {\n        layout_t outer, inner;\n        layout_1d(&outer, base")
                        .append(i).append(", rows").append(i).append(", ostride").append(i)
                        .append(");\n        layout_1d(&inner, 0, len").append(i).append(", istride").append(i)
                        .append(");\n        reduce_").append(op).append("_chunk(x").append(i)
                        .append(", &outer, &inner, rows").append(i).append(", len").append(i).append(", 1, max(len")
                        .append(i).append(", 1L), out").append(i).append(", g);\n        return;\n    }\n    g -= rows")
                        .append(i).append(";\n");
            }
        }
        return s.append("}\n").toString();
    }

    /**
     * A group as GPUs run it (one-pass rows: the column kernel is for CPUs), a sum and a max: the
     * generated program GpuKernelManifest measures.
     */
    static String groupExample() {
        return groupSource(List.of(ReduceOp.SUM, ReduceOp.MAX), List.of(false, false));
    }

    static final String GROUP_EXAMPLE = "reduce-group-example.cl";
}
