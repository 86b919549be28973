package dev.spool.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits index ranges across threads: the calling thread and {@code threads - 1} pool workers.
 * Work below one grain runs on the calling thread, so small ops pay no scheduling cost. How a
 * range is split never changes a result: kernels either write disjoint outputs or (full
 * reductions) split at fixed, size-derived boundaries.
 *
 * <p>The caller works too. A range is cut into equal pieces; the caller asks the workers for
 * help and then claims pieces itself, as do the workers that start, until none is left. So the
 * caller never waits for a parked worker to wake up: when one is late, the caller has done its
 * share. (Handing the whole range to a fork/join pool, as before, parked the caller and needed
 * three wake-ups per op, the submit, the steal and the join: 7–19 µs per op for no work at all
 * on this 2-core VM, and one parallel GEMM in ten took twice its median.)
 */
final class Parallel {
    /** Elements below which an elementwise op is not worth splitting. */
    static final long GRAIN = 1 << 15;
    /** Spins of the caller for the last pieces before it parks: they are usually about done. */
    private static final int SPINS = 1 << 12;

    /** A body over the half-open range {@code [lo, hi)}. */
    @FunctionalInterface
    interface RangeBody {
        void run(long lo, long hi);
    }

    private final int threads;
    /** The helpers; null with one thread. */
    private final ForkJoinPool pool;

    Parallel(int threads) {
        this.threads = threads;
        this.pool = threads > 1 ? new ForkJoinPool(threads - 1, Parallel::worker, null, false) : null;
    }

    private static ForkJoinWorkerThread worker(ForkJoinPool pool) {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setName("spool-cpu-" + t.getPoolIndex());
        t.setDaemon(true);
        return t;
    }

    int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} in pieces of at least {@code grain} items, at most a
     * few pieces per thread. An exception of a piece is thrown here once every claimed piece
     * has ended; pieces not yet claimed are then skipped.
     */
    void forRange(long n, long grain, RangeBody body) {
        long pieces = Math.min((n + grain - 1) / Math.max(grain, 1), 4L * threads);
        if (pieces <= 1 || pool == null) {
            if (n > 0) {
                body.run(0, n);
            }
            return;
        }
        Job job = new Job(body, n, (int) pieces, Thread.currentThread());
        int helpers = (int) Math.min(threads - 1, pieces - 1);
        try {
            for (int i = 0; i < helpers; i++) {
                pool.execute(job::work);
            }
        } catch (RejectedExecutionException e) {
            // shut down (the backend is closing): the caller does every piece
        }
        job.work();
        job.awaitEnd();
    }

    void shutdown() {
        if (pool != null) {
            pool.shutdown();
        }
    }

    /** One forRange: pieces are claimed in order by whichever thread asks first. */
    private static final class Job {
        private final RangeBody body;
        private final long n;
        private final int count;
        private final Thread caller;
        private final AtomicInteger next = new AtomicInteger();
        /** Pieces not yet ended, claimed or not. */
        private final AtomicInteger open;
        private volatile Throwable failure;

        Job(RangeBody body, long n, int count, Thread caller) {
            this.body = body;
            this.n = n;
            this.count = count;
            this.caller = caller;
            this.open = new AtomicInteger(count);
        }

        void work() {
            int ended = 0;
            for (int i; (i = next.getAndIncrement()) < count; ended++) {
                if (failure == null) {
                    try {
                        body.run(n * i / count, n * (i + 1) / count);
                    } catch (Throwable t) {
                        failure = t;
                    }
                }
            }
            if (ended > 0 && open.addAndGet(-ended) == 0 && Thread.currentThread() != caller) {
                LockSupport.unpark(caller);
            }
        }

        void awaitEnd() {
            for (int spin = 0; open.get() > 0; spin++) {
                if (spin < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            Throwable t = failure;
            if (t instanceof RuntimeException r) {
                throw r;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }
}
