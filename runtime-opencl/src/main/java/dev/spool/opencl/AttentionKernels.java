package dev.spool.opencl;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.spi.View;
import java.util.Arrays;
import org.jocl.cl_mem;

/**
 * The fused attention primitives (attention.cl): the forward in one launch, the backward in three
 * (D = rowsum(dOut ∘ out), dq, then dk and dv), on devices without a loop limit. On CPU devices
 * (PoCL), with operands dense along their depths of at most {@link #TILE_DMAX}, the tile kernels
 * run: a work-item owns {@link #TILE} rows, one per vector lane, and walks the other side a tile
 * at a time (see attention.cl). Otherwise the row kernels do: each work-item
 * owns a row and a chunk of {@code ACC_N} output columns: {@link #CPU_ACC} on CPU devices (PoCL
 * vectorises the chunk's loops), {@link #GPU_ACC} on GPUs, whose registers hold the chunk. Where
 * the device ends long loops (Rusticl's llvmpipe, {@link OpenClDevice#loopLimit}), the walk over
 * the other side's rows is split into ranges, one launch each, the partial state kept in the
 * outputs (and, for the forward, a scratch of two values per work-item) between them; a row too
 * deep for even one step under the limit is refused with the reason, as matmul refuses.
 *
 * <p>Scratch memory (D, and the forward's split state) comes from the backend's pool: B·H·Tq
 * values, linear in T.
 */
final class AttentionKernels {
    /** Accumulators per work-item on CPU devices. */
    static final int CPU_ACC = 64;
    /** Accumulators per work-item on GPUs: 16 floats in registers per chunk. */
    static final int GPU_ACC = 16;
    /** The same for doubles: 16 and 8 spilled on gfx1100 (docs/GPU-RESOURCES.md). */
    static final int GPU_ACC_F64 = 4;

    static final String FORWARD = "attention_forward";
    static final String ROWDOT = "attention_rowdot";
    static final String GRAD_Q = "attention_grad_q";
    static final String GRAD_KV = "attention_grad_kv";
    static final String FORWARD_TILES = "attention_forward_tiles";
    static final String GRAD_Q_TILES = "attention_grad_q_tiles";
    static final String GRAD_KV_TILES = "attention_grad_kv_tiles";
    /** attention.cl's TILE: query or key rows per tile of the CPU-device kernels (lanes of a vector). */
    static final int TILE = 16;
    /** attention.cl's TILE_DMAX: the deepest d and dv the tile kernels take (their private rows). */
    static final int TILE_DMAX = 128;

    private static final int F_FIRST = 1;
    private static final int F_LAST = 2;
    private static final int F_CAUSAL = 4;
    private static final int F_MASK = 8;

    private final Kernels k;
    /** Calls (forward or backward) that ran the tile kernels: for tests. */
    long tileCalls;

    AttentionKernels(Kernels kernels) {
        this.k = kernels;
    }

    /**
     * attention.cl's build options for dtype t under a kernel style, with unit last strides or
     * not, and with the tile kernels ({@code -DTILES=1}, CPU style with unit last strides only).
     */
    static String options(DType t, Tuning.Style style, boolean unitLast, boolean tiles) {
        if (tiles && (style == Tuning.Style.GPU || !unitLast)) {
            throw new IllegalArgumentException("attention tiles need CPU-style kernels and unit last strides");
        }
        return ClTypes.options(t) + " -DACC_N=" + acc(style, t) + (unitLast ? " -DUNIT_LAST=1" : "")
                + (unitLast && style != Tuning.Style.GPU ? " -DVEC_DOT=1" : "") + (tiles ? " -DTILES=1 -DTILE_DMAX=" + TILE_DMAX : "");
    }

    /**
     * Whether this call runs the tile kernels: on CPU devices (PoCL) with every operand dense along
     * its depth, d and dv at most {@link #TILE_DMAX}, where the device runs loops of any length
     * (not llvmpipe), unless {@code -Dspool.opencl.attentionTiles=false} asks for the row kernels
     * (to compare the two).
     */
    private boolean tiles(Dims s, View... views) {
        return k.tuning().style() != Tuning.Style.GPU && k.device.loopLimit == Long.MAX_VALUE && s.d <= TILE_DMAX
                && s.dv <= TILE_DMAX && unitLast(views)
                && !"false".equals(System.getProperty("spool.opencl.attentionTiles"));
    }

    /** Whether every view is dense along its last axis (stride 1, or a single element). */
    private static boolean unitLast(View... views) {
        for (View v : views) {
            if (v.shape()[3] > 1 && v.strides()[3] != 1) {
                return false;
            }
        }
        return true;
    }

    static int acc(Tuning.Style style, DType t) {
        return style != Tuning.Style.GPU ? CPU_ACC : t == DType.FLOAT64 ? GPU_ACC_F64 : GPU_ACC;
    }

    private record Dims(long bn, long hn, long tq, long tk, long d, long dv) {
    }

    void forward(View q, View kv, View v, View mask, boolean causal, double scale, OpenClBuffer out,
                 OpenClBuffer lse) {
        DType t = check("attention", q, kv, v, mask);
        Dims s = dims(q, kv, v);
        Kernels.requireOutput("attention", out, t, s.bn * s.hn * s.tq * s.dv);
        Kernels.requireOutput("attention", lse, t, s.bn * s.hn * s.tq);
        if (tiles(s, q, kv, v)) {
            KernelCall call = k.call(KernelSources.ATTENTION, options(t, k.tuning().style(), true, true), FORWARD_TILES);
            operands(call, q, kv, v, mask);
            call.i64(s.bn).i64(s.hn).i64(s.tq).i64(s.tk).i64(s.d).i64(s.dv).scalar(t, scale)
                    .u32(maskFlags(causal, mask)).mem(out).mem(lse);
            call.run1d(s.bn * s.hn * ceilDiv(s.tq, TILE), 1);
            tileCalls++;
            return;
        }
        int acc = acc(k.tuning().style(), t);
        long chunks = (s.dv + acc - 1) / acc;
        long items = s.bn * s.hn * s.tq * chunks;
        // per key: the dot product (d), the chunk (acc), a few more; plus the chunk's set-up and write-out
        // (blocks of 8 keys: one more pass over the chunk per block, a few steps per key)
        long[] ranges = ranges("attention", s.tk, s.d + acc + acc / 8 + 6, 4L * acc + 64);
        BufferPool.Block state = ranges.length > 2 ? k.scratch(t, 2 * items) : null;
        try {
            for (int r = 0; r + 1 < ranges.length; r++) {
                int flags = flags(r, ranges, causal, mask);
                KernelCall call = k.call(KernelSources.ATTENTION, options(t, k.tuning().style(), unitLast(q, kv, v), false),
                        FORWARD);
                operands(call, q, kv, v, mask);
                call.i64(s.bn).i64(s.hn).i64(s.tq).i64(s.tk).i64(s.d).i64(s.dv).scalar(t, scale)
                        .i64(ranges[r]).i64(ranges[r + 1]).u32(flags).mem(out).mem(lse)
                        .mem(state != null ? state.mem() : out.mem());
                launch(call, items);
            }
        } finally {
            if (state != null) {
                k.free(state);
            }
        }
    }

    void backward(View q, View kv, View v, View mask, boolean causal, double scale, View out, View dOut, View lse,
                  OpenClBuffer dq, OpenClBuffer dk, OpenClBuffer dv) {
        DType t = check("attentionGrad", q, kv, v, mask);
        check("attentionGrad", out, dOut, lse);
        Dims s = dims(q, kv, v);
        long[] os = {s.bn, s.hn, s.tq, s.dv};
        if (!Arrays.equals(Kernels.toLongs(out.shape()), os) || !Arrays.equals(Kernels.toLongs(dOut.shape()), os)
                || !Arrays.equals(Kernels.toLongs(lse.shape()), Arrays.copyOf(os, 3))) {
            throw new BackendException("attentionGrad: out " + out + ", dOut " + dOut + " and lse " + lse + " must be "
                    + Arrays.toString(os) + " and its first three dims");
        }
        if (!lse.isContiguous()) {
            throw new BackendException("attentionGrad: lse must be dense, got " + lse);
        }
        Kernels.requireOutput("attentionGrad", dq, t, q.size());
        Kernels.requireOutput("attentionGrad", dk, t, kv.size());
        Kernels.requireOutput("attentionGrad", dv, t, v.size());
        boolean tiles = tiles(s, q, kv, v, out, dOut);
        String options = options(t, k.tuning().style(), unitLast(q, kv, v, out, dOut), tiles);
        int acc = acc(k.tuning().style(), t);
        long rows = s.bn * s.hn * s.tq;
        if (s.dv + 8 > k.device.loopLimit) {
            throw refusal("attentionGrad", "dv = " + s.dv);
        }
        BufferPool.Block dd = k.scratch(t, rows);
        try {
            KernelCall rd = k.call(KernelSources.ATTENTION, options, ROWDOT);
            rd.mem(mem(out)).layout(layout(out)).mem(mem(dOut)).layout(layout(dOut)).i64(s.bn).i64(s.hn).i64(s.tq)
                    .i64(s.dv).mem(dd.mem());
            launch(rd, rows);
            cl_mem lseMem = mem(lse);
            if (tiles) {
                int flags = maskFlags(causal, mask);
                KernelCall gq = k.call(KernelSources.ATTENTION, options, GRAD_Q_TILES);
                operands(gq, q, kv, v, mask, dOut);
                gq.mem(lseMem).mem(dd.mem()).i64(s.bn).i64(s.hn).i64(s.tq).i64(s.tk).i64(s.d).i64(s.dv)
                        .scalar(t, scale).u32(flags).mem(dq);
                gq.run1d(s.bn * s.hn * ceilDiv(s.tq, TILE), 1);
                KernelCall gkv = k.call(KernelSources.ATTENTION, options, GRAD_KV_TILES);
                operands(gkv, q, kv, v, mask, dOut);
                gkv.mem(lseMem).mem(dd.mem()).i64(s.bn).i64(s.hn).i64(s.tq).i64(s.tk).i64(s.d).i64(s.dv)
                        .scalar(t, scale).u32(flags).mem(dk).mem(dv);
                gkv.run1d(s.bn * s.hn * ceilDiv(s.tk, TILE), 1);
                tileCalls++;
                return;
            }
            long perPair = s.d + s.dv + acc + 8; // grad_pair's two dot products, the chunk
            long[] keyRanges = ranges("attentionGrad", s.tk, perPair, 2L * acc + 8);
            long qItems = rows * ((s.d + acc - 1) / acc);
            for (int r = 0; r + 1 < keyRanges.length; r++) {
                KernelCall call = k.call(KernelSources.ATTENTION, options, GRAD_Q);
                operands(call, q, kv, v, mask, dOut);
                call.mem(lseMem).mem(dd.mem()).i64(s.bn).i64(s.hn).i64(s.tq).i64(s.tk).i64(s.d).i64(s.dv)
                        .scalar(t, scale).i64(keyRanges[r]).i64(keyRanges[r + 1])
                        .u32(flags(r, keyRanges, causal, mask)).mem(dq);
                launch(call, qItems);
            }
            // the scan for fully masked rows before a causal key adds one iteration per query
            long[] queryRanges = ranges("attentionGrad", s.tq, perPair + acc + 1, 4L * acc + 8);
            long kvItems = s.bn * s.hn * s.tk * ((Math.max(s.d, s.dv) + acc - 1) / acc);
            for (int r = 0; r + 1 < queryRanges.length; r++) {
                KernelCall call = k.call(KernelSources.ATTENTION, options, GRAD_KV);
                operands(call, q, kv, v, mask, dOut);
                call.mem(lseMem).mem(dd.mem()).i64(s.bn).i64(s.hn).i64(s.tq).i64(s.tk).i64(s.d).i64(s.dv)
                        .scalar(t, scale).i64(queryRanges[r]).i64(queryRanges[r + 1])
                        .u32(flags(r, queryRanges, causal, mask)).mem(dk).mem(dv);
                launch(call, kvItems);
            }
        } finally {
            k.free(dd);
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /**
     * Boundaries {@code [0, r1, r2, ..., n]} of the walk over n rows: one range where the device
     * has no loop limit, else ranges of as many rows as fit under it at {@code perRow} iterations
     * each plus {@code fixed}.
     */
    private long[] ranges(String what, long n, long perRow, long fixed) {
        long limit = k.device.loopLimit;
        if (limit == Long.MAX_VALUE || n * perRow + fixed <= limit) {
            return new long[] {0, n};
        }
        long step = (limit - fixed) / perRow;
        if (step < 1) {
            throw refusal(what, "a depth of " + perRow + " loop iterations per row");
        }
        long count = (n + step - 1) / step;
        long[] r = new long[(int) count + 1];
        for (int i = 0; i <= count; i++) {
            r[i] = Math.min(n, i * step);
        }
        return r;
    }

    private BackendException refusal(String what, String size) {
        return new BackendException(what + ": " + size + " is past what " + k.device.describe()
                + " computes correctly: llvmpipe ends a work-item after " + k.device.loopLimit
                + " loop iterations; use another device");
    }

    private static int flags(int r, long[] ranges, boolean causal, View mask) {
        return (r == 0 ? F_FIRST : 0) | (r + 2 == ranges.length ? F_LAST : 0) | maskFlags(causal, mask);
    }

    /** The causal and mask bits: all the tile kernels read (they take every key in one launch). */
    private static int maskFlags(boolean causal, View mask) {
        return (causal ? F_CAUSAL : 0) | (mask != null ? F_MASK : 0);
    }

    /** q, k, v, the mask (or q's buffer and a zero layout when there is none), and dOut if given. */
    private static void operands(KernelCall call, View q, View kv, View v, View mask, View... more) {
        call.mem(mem(q)).layout(layout(q)).mem(mem(kv)).layout(layout(kv)).mem(mem(v)).layout(layout(v));
        for (View m : more) {
            call.mem(mem(m)).layout(layout(m));
        }
        if (mask != null) {
            call.mem(mem(mask)).layout(layout(mask));
        } else {
            call.mem(mem(q)).layout(new Layout(0, new long[] {1, 1, 1, 1}, new long[4]));
        }
    }

    private static cl_mem mem(View v) {
        return ((OpenClBuffer) v.buffer()).mem();
    }

    private static Layout layout(View v) {
        return new Layout(v.offset(), Kernels.toLongs(v.shape()), v.strides().clone());
    }

    private void launch(KernelCall call, long items) {
        Tuning tuning = k.tuning();
        if (tuning.style() == Tuning.Style.GPU) {
            call.run1d(items, tuning.elementwiseLocal());
        } else {
            // heavy work-items: small groups, so that every core gets some
            call.run1d(items, items < 64L * tuning.targetGroups() ? 1 : Math.min(16, tuning.rowsLocal()));
        }
    }

    private static Dims dims(View q, View kv, View v) {
        int[] qs = q.shape();
        int[] ks = kv.shape();
        int[] vs = v.shape();
        if (q.rank() != 4 || kv.rank() != 4 || v.rank() != 4 || qs[0] != ks[0] || qs[1] != ks[1] || qs[0] != vs[0]
                || qs[1] != vs[1] || qs[3] != ks[3] || ks[2] != vs[2] || q.size() == 0 || kv.size() == 0
                || v.size() == 0) {
            throw new BackendException("attention: needs non-empty q [B, H, Tq, d], k [B, H, Tk, d] and v [B, H, Tk,"
                    + " dv], got " + q + ", " + kv + ", " + v);
        }
        return new Dims(qs[0], qs[1], qs[2], ks[2], qs[3], vs[3]);
    }

    private DType check(String what, View q, View kv, View v, View mask) {
        DType t = q.dtype();
        k.requireDType(t.isFloating(), what, t, "FLOAT32, FLOAT64");
        for (View x : new View[] {q, kv, v}) {
            k.requireSame(what, "operand dtype", t, x.dtype());
            Kernels.requireInBounds(what, x);
        }
        if (mask != null) {
            int[] qs = q.shape();
            if (mask.dtype() != DType.BOOL || !Arrays.equals(mask.shape(),
                    new int[] {qs[0], qs[1], qs[2], kv.shape()[2]})) {
                throw new BackendException(what + ": needs a bool mask [B, H, Tq, Tk], got " + mask);
            }
            Kernels.requireInBounds(what, mask);
        }
        return t;
    }

    private void check(String what, View out, View dOut, View lse) {
        for (View x : new View[] {out, dOut, lse}) {
            k.requireSame(what, "operand dtype", out.dtype(), x.dtype());
            Kernels.requireInBounds(what, x);
        }
    }
}
