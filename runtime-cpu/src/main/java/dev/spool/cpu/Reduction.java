package dev.spool.cpu;

import static dev.spool.cpu.StridedLoop.CHUNK;

import dev.spool.DType;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.View;
import java.util.Arrays;

/**
 * Reduction of the trailing dimensions of a view. Each output folds its elements in row-major
 * order in blocks of {@link #BLOCK}: a block folds into a partial result from the identity, and
 * the partials are then combined in order. The blocking is fixed by the reduced size alone, so
 * the result is the same whatever the layout, the thread count, or whether the blocks of one
 * large reduction ran in parallel. Float32 accumulates in double (see {@link Lane}). A floating
 * SUM folds a block into {@link DoubleLane#SUM_LANES} partial sums by element index (element
 * {@code e} of the block into sum {@code e % 16}), combined pairwise at the block's end: the
 * independent sums hide the latency of the add chain, and the split is still fixed by the
 * reduced size alone.
 *
 * <p>Two loop orders, same arithmetic: <em>rows</em> (one output at a time, its elements as
 * contiguous as the view allows) and <em>columns</em> (when outputs are adjacent in memory and
 * the reduced elements are not, e.g. summing a row-major matrix over its first axis: a run of
 * outputs is folded elementwise, one reduced position at a time). With the Vector API, a
 * floating SUM, MAX or MIN in column order whose rows are contiguous runs
 * {@link ColumnReduction}: the same arithmetic, whole rows in vectors.
 */
final class Reduction {
    /** Elements folded into one partial result. */
    static final int BLOCK = 8192;
    /**
     * Fewest adjacent outputs one thread takes in column order: each reduced position is then
     * a run of about 4 KiB of float32, whole rows of a [rows, 1024] matrix. Narrower pieces read
     * every row in short strided bursts: the [4096, 1024] column sum took 2.2-2.4 ms on two
     * threads reading 1 KiB of each row (a grain of 256), 0.97-0.99 ms on one thread reading
     * whole rows (JMH, with the Vector API; numpy 1.7-1.8 ms). Which thread sums an output
     * never changes its bits.
     */
    static final int COLUMN_GRAIN = 1024;

    private final ReduceOp op;
    private final DType dtype;
    private final Lane lane;
    private final Object src;
    private final Object dst;
    private final StridedLoop outerLoop;
    private final StridedLoop innerLoop;
    private final long outer;
    private final long inner;
    /** A SUM in the double lane: folded by {@link #foldSum}, in partial sums by element index. */
    private final boolean floatingSum;
    /** A floating MAX or MIN that {@link SimdReduction#extreme} folds where the run is contiguous. */
    private final boolean extremeSimd;
    /** A floating SUM, MAX or MIN that {@link ColumnReduction} folds in column order. */
    private final boolean columnSimd;

    private Reduction(ReduceOp op, View x, int reducedDims, CpuBuffer out) {
        this.op = op;
        this.dtype = x.dtype();
        this.lane = Lane.of(dtype);
        this.src = CpuBuffer.data(x);
        this.dst = out.data();
        int kept = x.rank() - reducedDims;
        int[] outerShape = Arrays.copyOfRange(x.shape(), 0, kept);
        int[] innerShape = Arrays.copyOfRange(x.shape(), kept, x.rank());
        this.outerLoop = new StridedLoop(outerShape, new long[] {x.offset(), 0},
                Arrays.copyOfRange(x.strides(), 0, kept), View.rowMajorStrides(outerShape));
        this.innerLoop = new StridedLoop(innerShape, new long[] {0},
                Arrays.copyOfRange(x.strides(), kept, x.rank()));
        this.outer = outerLoop.size();
        this.inner = innerLoop.size();
        this.floatingSum = op == ReduceOp.SUM && dtype.isFloating();
        this.extremeSimd = (op == ReduceOp.MAX || op == ReduceOp.MIN) && dtype.isFloating()
                && VectorSupport.ENABLED;
        this.columnSimd = (floatingSum || op == ReduceOp.MAX || op == ReduceOp.MIN) && dtype.isFloating()
                && VectorSupport.ENABLED;
    }

    static void run(Parallel par, ReduceOp op, View x, int reducedDims, CpuBuffer out) {
        new Reduction(op, x, reducedDims, out).run(par);
    }

    private void run(Parallel par) {
        if (outer == 0) {
            return;
        }
        if (inner == 0) {
            if (op.isArg()) {
                throw new IllegalArgumentException("cpu: " + op + " of an empty axis is undefined");
            }
            Object acc = lane.scratch(CHUNK);
            lane.identity(op, dtype, acc, 0, CHUNK);
            for (long o = 0; o < outer; o += CHUNK) {
                lane.store(acc, (int) Math.min(CHUNK, outer - o), dst, (int) o, 1);
            }
            return;
        }
        long grain = Math.max(1, Parallel.GRAIN / inner);
        if (!op.isArg() && outerLoop.innerStride(0) == 1 && innerLoop.innerStride(0) != 1) {
            par.forRange(outer, Math.max(grain, COLUMN_GRAIN), this::columns);
        } else if (outer >= par.threads() || inner <= 2 * BLOCK) {
            par.forRange(outer, grain, this::rows);
        } else {
            for (long o = 0; o < outer; o++) {
                oneInParallel(par, o);
            }
        }
    }

    /** Outputs {@code [lo, hi)}, one at a time. */
    private void rows(long lo, long hi) {
        // Scratch no longer than its use: a segment has at most hi - lo outputs and loads at
        // most inner values at a time. (CHUNK-long arrays, 20 KB, made a sum of 128 floats
        // cost 5 us, most of it allocating and zeroing them.)
        int outs = (int) Math.min(CHUNK, hi - lo);
        Object v = lane.scratch((int) Math.min(CHUNK, inner));
        Object acc = lane.scratch(outs);
        long[] index = new long[outs];
        Object partial = lane.scratch(1);
        long[] partialIndex = new long[1];
        double[] sums = new double[DoubleLane.SUM_LANES];
        int xs = outerLoop.innerStride(0);
        outerLoop.forEach(lo, hi, (p, n) -> {
            for (int t = 0; t < n; t++) {
                long base = p[0] + (long) t * xs;
                start(acc, index, t);
                if (inner <= BLOCK) {
                    fold(base, 0, inner, acc, index, t, v, sums);
                } else {
                    for (long b = 0; b < inner; b += BLOCK) {
                        start(partial, partialIndex, 0);
                        fold(base, b, Math.min(inner, b + BLOCK), partial, partialIndex, 0, v, sums);
                        lane.fold(op, partial, 0, 1, acc, index, t, partialIndex[0]);
                    }
                }
            }
            store(acc, index, n, p[1]);
        });
    }

    /** One output whose blocks are folded in parallel, then combined in order. */
    private void oneInParallel(Parallel par, long o) {
        long base = outerLoop.position(0, o);
        int blocks = (int) ((inner + BLOCK - 1) / BLOCK);
        Object partials = lane.scratch(blocks);
        long[] partialIndex = new long[blocks];
        par.forRange(blocks, Math.max(1, Parallel.GRAIN / BLOCK), (lo, hi) -> {
            Object v = lane.scratch(CHUNK);
            double[] sums = new double[DoubleLane.SUM_LANES];
            for (int b = (int) lo; b < hi; b++) {
                start(partials, partialIndex, b);
                fold(base, (long) b * BLOCK, Math.min(inner, (long) (b + 1) * BLOCK),
                        partials, partialIndex, b, v, sums);
            }
        });
        Object acc = lane.scratch(1);
        long[] index = new long[1];
        start(acc, index, 0);
        for (int b = 0; b < blocks; b++) {
            lane.fold(op, partials, b, 1, acc, index, 0, partialIndex[b]);
        }
        store(acc, index, 1, (int) o);
    }

    /** Outputs {@code [lo, hi)}, a run of adjacent outputs folded elementwise. */
    private void columns(long lo, long hi) {
        if (columnSimd) {
            columnsSimd(lo, hi);
            return;
        }
        BinaryOp combine = switch (op) {
            case SUM -> BinaryOp.ADD;
            case PROD -> BinaryOp.MUL;
            case MAX -> BinaryOp.MAX;
            case MIN -> BinaryOp.MIN;
            default -> throw new IllegalStateException(op + " has no columnwise form");
        };
        int run = (int) Math.min(CHUNK, hi - lo); // segments are no longer: small sums allocate little
        Object v = lane.scratch(run);
        Object acc = lane.scratch(run);
        Object partial = lane.scratch(run);
        double[][] sums = floatingSum ? new double[DoubleLane.SUM_LANES][run] : null;
        int xs = outerLoop.innerStride(0);
        int rs = innerLoop.innerStride(0);
        outerLoop.forEach(lo, hi, (p, n) -> {
            lane.identity(op, dtype, acc, 0, n);
            for (long b = 0; b < inner; b += BLOCK) {
                Object into = inner <= BLOCK ? acc : partial;
                if (into == partial) {
                    lane.identity(op, dtype, partial, 0, n);
                }
                long end = Math.min(inner, b + BLOCK);
                if (floatingSum) {
                    sumColumns(b, end, p[0], n, xs, rs, (double[]) v, sums);
                    lane.binary(BinaryOp.ADD, into, sums[0], into, n); // 0 + total, as foldSum
                } else {
                    innerLoop.forEach(b, end, p[0], (q, m) -> {
                        for (int u = 0; u < m; u++) {
                            lane.load(src, q[0] + u * rs, xs, n, v);
                            lane.binary(combine, into, v, into, n);
                        }
                    });
                }
                if (into == partial) {
                    lane.binary(combine, acc, partial, acc, n);
                }
            }
            lane.store(acc, n, dst, p[1], 1);
        });
    }

    /** {@link #columns} in {@link ColumnReduction}: whole rows in vectors, the same results. */
    private void columnsSimd(long lo, long hi) {
        int run = (int) Math.min(CHUNK, hi - lo);
        int[] rows = new int[(int) Math.min(inner, BLOCK)];
        double[] sums = floatingSum ? new double[DoubleLane.SUM_LANES * run] : null;
        double[] acc = floatingSum ? new double[run] : null;
        boolean max = op == ReduceOp.MAX;
        outerLoop.forEach(lo, hi, (p, n) -> {
            if (floatingSum) {
                Arrays.fill(acc, 0, n, 0.0);
            } else if (dst instanceof float[] d) {
                Arrays.fill(d, p[1], p[1] + n, max ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY);
            } else {
                Arrays.fill((double[]) dst, p[1], p[1] + n, max ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY);
            }
            for (long b = 0; b < inner; b += BLOCK) {
                long end = Math.min(inner, b + BLOCK);
                int m = rowStarts(b, end, p[0], rows);
                if (floatingSum) {
                    Arrays.fill(sums, 0, DoubleLane.SUM_LANES * n, 0.0);
                    ColumnReduction.sumBlock(src, rows, m, n, sums);
                    for (int t = 0; t < n; t++) {
                        acc[t] += sums[t]; // the block's total, as foldSum adds it
                    }
                } else {
                    ColumnReduction.extremeRows(max, src, rows, m, n, dst, p[1]);
                }
            }
            if (floatingSum) {
                lane.store(acc, n, dst, p[1], 1);
            }
        });
    }

    /** The first element of each reduced position {@code [lo, hi)} of the outputs at {@code start}. */
    private int rowStarts(long lo, long hi, long start, int[] rows) {
        int rs = innerLoop.innerStride(0);
        int[] m = {0};
        innerLoop.forEach(lo, hi, start, (q, k) -> {
            for (int u = 0; u < k; u++) {
                rows[m[0]++] = q[0] + u * rs;
            }
        });
        return m[0];
    }

    /**
     * The block {@code [lo, hi)} of {@code n} adjacent floating SUM outputs, in the same partial
     * sums by element index as {@link #foldSum}; leaves the block totals in {@code sums[0]}.
     */
    private void sumColumns(long lo, long hi, long start, int n, int xs, int rs, double[] v, double[][] sums) {
        for (double[] s : sums) {
            Arrays.fill(s, 0, n, 0.0);
        }
        boolean direct = xs == 1 && src instanceof float[] && VectorSupport.ENABLED;
        long[] e = {0};
        innerLoop.forEach(lo, hi, start, (q, m) -> {
            for (int u = 0; u < m; u++, e[0]++) {
                double[] s = sums[(int) (e[0] & (DoubleLane.SUM_LANES - 1))];
                if (direct) { // a contiguous float32 row, widened as it is added
                    SimdReduction.addInto(s, 0, (float[]) src, q[0] + u * rs, n);
                } else {
                    lane.load(src, q[0] + u * rs, xs, n, v);
                    for (int t = 0; t < n; t++) {
                        s[t] += v[t];
                    }
                }
            }
        });
        // DoubleLane.total's pairwise tree, per output
        for (int w = 1; w < DoubleLane.SUM_LANES; w *= 2) {
            for (int k = 0; k < DoubleLane.SUM_LANES; k += 2 * w) {
                double[] a = sums[k];
                double[] b = sums[k + w];
                for (int t = 0; t < n; t++) {
                    a[t] += b[t];
                }
            }
        }
    }

    private void start(Object acc, long[] index, int slot) {
        lane.identity(op, dtype, acc, slot, 1);
        index[slot] = -1;
    }

    /** Folds reduced elements {@code [lo, hi)} of the output at {@code base} into a slot. */
    private void fold(long base, long lo, long hi, Object acc, long[] index, int slot, Object v, double[] sums) {
        if (floatingSum) {
            foldSum(base, lo, hi, (double[]) acc, slot, (double[]) v, sums);
            return;
        }
        int s = innerLoop.innerStride(0);
        if (extremeSimd && innerLoop.isSingleRow() && s == 1) {
            // max/min of a contiguous run in vectors: the order of comparisons cannot change a
            // max or min (NaN wins, +0 beats -0 whatever the order), so this is the fold's value
            double[] a = (double[]) acc;
            double m = SimdReduction.extreme(op == ReduceOp.MAX, src, (int) (base + lo), (int) (hi - lo));
            a[slot] = op == ReduceOp.MAX ? Math.max(a[slot], m) : Math.min(a[slot], m);
            return;
        }
        if (innerLoop.isSingleRow()) {
            for (long e = lo; e < hi; e += CHUNK) {
                int n = (int) Math.min(CHUNK, hi - e);
                lane.load(src, (int) (base + e * s), s, n, v);
                lane.fold(op, v, 0, n, acc, index, slot, e);
            }
            return;
        }
        long[] next = {lo};
        innerLoop.forEach(lo, hi, base, (q, n) -> {
            lane.load(src, q[0], s, n, v);
            lane.fold(op, v, 0, n, acc, index, slot, next[0]);
            next[0] += n;
        });
    }

    /** A floating SUM's block {@code [lo, hi)}: partial sums by element index, added to the slot once. */
    private void foldSum(long base, long lo, long hi, double[] acc, int slot, double[] v, double[] sums) {
        Arrays.fill(sums, 0.0);
        int s = innerLoop.innerStride(0);
        if (innerLoop.isSingleRow() && s == 1 && src instanceof float[] a) { // contiguous: no scratch copy
            if (VectorSupport.ENABLED) {
                SimdReduction.sumByIndex(a, (int) (base + lo), (int) (hi - lo), 0, sums);
            } else {
                DoubleLane.sumByIndex(a, (int) (base + lo), (int) (hi - lo), 0, sums);
            }
        } else if (innerLoop.isSingleRow() && s == 1 && src instanceof double[] a) {
            if (VectorSupport.ENABLED) {
                SimdReduction.sumByIndex(a, (int) (base + lo), (int) (hi - lo), 0, sums);
            } else {
                DoubleLane.sumByIndex(a, (int) (base + lo), (int) (hi - lo), 0, sums);
            }
        } else if (innerLoop.isSingleRow()) {
            for (long e = lo; e < hi; e += CHUNK) {
                int n = (int) Math.min(CHUNK, hi - e);
                lane.load(src, (int) (base + e * s), s, n, v);
                DoubleLane.sumByIndex(v, 0, n, e - lo, sums);
            }
        } else {
            long[] next = {lo};
            innerLoop.forEach(lo, hi, base, (q, n) -> {
                lane.load(src, q[0], s, n, v);
                DoubleLane.sumByIndex(v, 0, n, next[0] - lo, sums);
                next[0] += n;
            });
        }
        acc[slot] += DoubleLane.total(sums);
    }

    private void store(Object acc, long[] index, int n, int at) {
        if (op.isArg()) {
            LongLane.INSTANCE.store(index, n, dst, at, 1);
        } else {
            lane.store(acc, n, dst, at, 1);
        }
    }
}
