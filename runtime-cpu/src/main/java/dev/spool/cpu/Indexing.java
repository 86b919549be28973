package dev.spool.cpu;

import static dev.spool.cpu.StridedLoop.CHUNK;

import dev.spool.spi.BinaryOp;
import dev.spool.spi.View;

/** Gather and its adjoint, scatter-add, over {@code [outer, axis, inner]} views. */
final class Indexing {
    private Indexing() {
    }

    /** Loads a rank-1 INT32 or INT64 index view. */
    static long[] indices(View indices) {
        int n = indices.shape()[0];
        long[] idx = new long[n];
        Object src = CpuBuffer.data(indices);
        long stride = indices.strides()[0];
        for (int j = 0; j < n; j++) {
            int p = (int) (indices.offset() + j * stride);
            idx[j] = src instanceof int[] a ? a[p] : ((long[]) src)[p];
        }
        return idx;
    }

    /** {@code out[o, j, :] = params[o, idx[j], :]}, or zeros for an index out of range. */
    static void gather(Parallel par, View params, View indices, CpuBuffer out) {
        long[] idx = indices(indices);
        int n = idx.length;
        int outer = params.shape()[0];
        int axis = params.shape()[1];
        int inner = params.shape()[2];
        long[] st = params.strides();
        Object src = CpuBuffer.data(params);
        Object dst = out.data();
        Lane lane = Lane.of(params.dtype());
        int si = (int) st[2];
        par.forRange((long) outer * n, Math.max(1, Parallel.GRAIN / Math.max(inner, 1)), (lo, hi) -> {
            Object v = lane.scratch(CHUNK);
            Object zeros = lane.scratch(CHUNK);
            for (long row = lo; row < hi; row++) {
                long o = row / n;
                long k = idx[(int) (row % n)];
                boolean inRange = k >= 0 && k < axis;
                long from = params.offset() + o * st[0] + k * st[1];
                int to = (int) (row * inner);
                for (int i = 0; i < inner; i += CHUNK) {
                    int m = Math.min(CHUNK, inner - i);
                    if (inRange) {
                        lane.load(src, (int) (from + (long) i * si), si, m, v);
                    }
                    lane.store(inRange ? v : zeros, m, dst, to + i, 1);
                }
            }
        });
    }

    /**
     * {@code out = 0; out[o, idx[j], :] += updates[o, j, :]} for every j in order, skipping
     * indices out of range. Pieces are (o, run of inner), so repeated indices accumulate on one
     * thread in index order and the result does not depend on the split.
     */
    static void scatterAdd(Parallel par, View updates, View indices, CpuBuffer out) {
        long[] idx = indices(indices);
        int n = idx.length;
        int outer = updates.shape()[0];
        int inner = updates.shape()[2];
        Object dst = out.data();
        Lane lane = Lane.of(updates.dtype());
        Object zeros = lane.scratch(CHUNK);
        for (long i = 0; i < out.size(); i += CHUNK) {
            lane.store(zeros, (int) Math.min(CHUNK, out.size() - i), dst, (int) i, 1);
        }
        if ((long) outer * inner == 0) {
            return;
        }
        long axis = out.size() / ((long) outer * inner);
        long[] st = updates.strides();
        Object src = CpuBuffer.data(updates);
        int si = (int) st[2];
        int runs = (inner + CHUNK - 1) / CHUNK;
        long grain = Math.max(1, Parallel.GRAIN / Math.max(1L, (long) n * Math.min(inner, CHUNK)));
        par.forRange((long) outer * runs, grain, (lo, hi) -> {
            Object u = lane.scratch(CHUNK);
            Object acc = lane.scratch(CHUNK);
            for (long piece = lo; piece < hi; piece++) {
                long o = piece / runs;
                int i = (int) (piece % runs) * CHUNK;
                int m = Math.min(CHUNK, inner - i);
                for (int j = 0; j < n; j++) {
                    long k = idx[j];
                    if (k < 0 || k >= axis) {
                        continue;
                    }
                    int to = (int) ((o * axis + k) * inner + i);
                    lane.load(src, (int) (updates.offset() + o * st[0] + j * st[1] + (long) i * si),
                            si, m, u);
                    lane.load(dst, to, 1, m, acc);
                    lane.binary(BinaryOp.ADD, acc, u, acc, m);
                    lane.store(acc, m, dst, to, 1);
                }
            }
        });
    }
}
