package dev.spool.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;

/**
 * Splits index ranges across a fork/join pool. Work below one grain runs on the calling thread,
 * so small ops pay no scheduling cost. How a range is split never changes a result: kernels
 * either write disjoint outputs or (full reductions) split at fixed, size-derived boundaries.
 */
final class Parallel {
    /** Elements below which an elementwise op is not worth splitting. */
    static final long GRAIN = 1 << 15;

    /** A body over the half-open range {@code [lo, hi)}. */
    @FunctionalInterface
    interface RangeBody {
        void run(long lo, long hi);
    }

    private final ForkJoinPool pool;

    Parallel(int threads) {
        this.pool = threads > 1 ? new ForkJoinPool(threads, Parallel::worker, null, false) : null;
    }

    private static ForkJoinWorkerThread worker(ForkJoinPool pool) {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setName("spool-cpu-" + t.getPoolIndex());
        t.setDaemon(true);
        return t;
    }

    int threads() {
        return pool == null ? 1 : pool.getParallelism();
    }

    /**
     * Runs {@code body} over {@code [0, n)} in pieces of at least {@code grain} items, at most a
     * few pieces per thread.
     */
    void forRange(long n, long grain, RangeBody body) {
        long pieces = Math.min((n + grain - 1) / Math.max(grain, 1), 4L * threads());
        if (pieces <= 1 || pool == null) {
            if (n > 0) {
                body.run(0, n);
            }
            return;
        }
        pool.invoke(new Split(body, n, 0, (int) pieces, (int) pieces));
    }

    void shutdown() {
        if (pool != null) {
            pool.shutdown();
        }
    }

    /** Pieces {@code [first, last)} of {@code count} equal pieces of {@code [0, n)}. */
    private static final class Split extends RecursiveAction {
        private final RangeBody body;
        private final long n;
        private final int first;
        private final int last;
        private final int count;

        Split(RangeBody body, long n, int first, int last, int count) {
            this.body = body;
            this.n = n;
            this.first = first;
            this.last = last;
            this.count = count;
        }

        @Override
        protected void compute() {
            if (last - first == 1) {
                body.run(n * first / count, n * (first + 1) / count);
                return;
            }
            int mid = (first + last) >>> 1;
            invokeAll(new Split(body, n, first, mid, count), new Split(body, n, mid, last, count));
        }
    }
}
