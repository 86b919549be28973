package dev.spool;

import dev.spool.spi.DeviceBuffer;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One device's memory: the live counters behind {@link Device#stats()}, the budget that
 * allocations are accounted against, and the reclaim that frees tensors the garbage collector
 * found unreachable before an allocation is refused.
 *
 * <p>Why a budget: an unclosed tensor is freed only when the garbage collector notices it (a
 * {@link java.lang.ref.Cleaner} safety net), and the collector only looks at the Java heap. A
 * training loop without {@link TensorScope} fills gigabytes of device memory while its heap stays
 * small, so nothing would ever collect. Accounting every allocation against a budget gives
 * Spool the moment to ask: when an allocation would exceed it, or the driver reports that its
 * memory ran out, Spool asks the JVM to collect ({@link System#gc()}), waits for the cleanups
 * to release the buffers, empties the backend's caches where the driver failed, and retries;
 * only then does it throw {@link DeviceOutOfMemoryException}.
 *
 * <p>The budget, first match wins: {@link Device#setMemoryBudget}; the system property
 * {@code spool.memory.budget.<device id>} (e.g. {@code spool.memory.budget.opencl:0}); the
 * environment variable {@code SPOOL_MEMORY_BUDGET_<ID>} (e.g. {@code SPOOL_MEMORY_BUDGET_OPENCL_0});
 * the system property {@code spool.memory.budget}; the environment variable
 * {@code SPOOL_MEMORY_BUDGET}; 80% of the device's global memory (for {@code cpu}: of the
 * maximum Java heap). Values are bytes ({@code 1073741824}), binary multiples ({@code 512k},
 * {@code 64m}, {@code 2g}, {@code 1t}) or a percentage of the device's memory ({@code 90%}).
 *
 * <p>Cost: an allocation within the budget is one compare-and-set on the live byte count;
 * buffers freed by the garbage collector are queued by the cleaner thread (which never takes
 * the device's lock) and released by the next allocation on the device.
 */
final class DeviceMemory {
    private static final Logger log = LoggerFactory.getLogger(DeviceMemory.class);

    static final String BUDGET_PROPERTY = "spool.memory.budget";
    static final String BUDGET_ENV = "SPOOL_MEMORY_BUDGET";
    /** The default budget as a share of the device's global memory. */
    static final double DEFAULT_SHARE = 0.8;
    /** Collections asked for before an allocation is refused. */
    private static final int ROUNDS = 3;
    /**
     * A round ends when no cleanup has arrived for this long: the cleaner has caught up. The JDK
     * offers no way to wait for it, and on a loaded machine its thread may wait this long for a
     * core. Only a reclaim that ends in an error waits it out; one that frees enough returns.
     */
    private static final long QUIET_NANOS = 100_000_000L;
    /** The longer wait for a first cleanup after a collection. */
    private static final long FIRST_ARRIVAL_NANOS = 300_000_000L;
    /** And at the latest after this long (a cleaner starved by a loaded machine). */
    private static final long ROUND_NANOS = 2_000_000_000L;

    private final Device device;
    private volatile long budget;
    private volatile String budgetSource;

    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong liveBuffers = new AtomicLong();
    private final AtomicLong peakBytes = new AtomicLong();
    private final LongAdder allocations = new LongAdder();
    private final LongAdder leaked = new LongAdder();
    private final AtomicLong reclaims = new AtomicLong();
    /** Buffers of tensors the garbage collector found, waiting for the device's lock. */
    private final ConcurrentLinkedQueue<DeviceBuffer> collected = new ConcurrentLinkedQueue<>();
    /** Buffers ever queued in {@link #collected}: how a reclaim sees the cleaner progress. */
    private final AtomicLong collectedCount = new AtomicLong();
    private final AtomicBoolean warned = new AtomicBoolean();
    /** Bytes the backend's caches gave back in the last reclaim round that emptied them. */
    private volatile long lastCacheRelease;

    DeviceMemory(Device device) {
        this.device = device;
        long global = device.info().globalMemBytes();
        String id = device.id();
        String envId = id.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
        String[][] sources = {
                {"system property " + BUDGET_PROPERTY + "." + id, System.getProperty(BUDGET_PROPERTY + "." + id)},
                {"environment variable " + BUDGET_ENV + "_" + envId, System.getenv(BUDGET_ENV + "_" + envId)},
                {"system property " + BUDGET_PROPERTY, System.getProperty(BUDGET_PROPERTY)},
                {"environment variable " + BUDGET_ENV, System.getenv(BUDGET_ENV)}};
        for (String[] s : sources) {
            if (s[1] != null && !s[1].isBlank()) {
                this.budget = parseBudget(s[1], global, s[0]);
                this.budgetSource = s[0] + "=" + s[1].trim();
                return;
            }
        }
        this.budget = global > 0 ? (long) (global * DEFAULT_SHARE) : Long.MAX_VALUE;
        this.budgetSource = "default: " + Math.round(DEFAULT_SHARE * 100) + "% of " + global + " bytes";
    }

    /**
     * A budget in bytes from {@code 1073741824}, {@code 512k}, {@code 64m}, {@code 2g},
     * {@code 1t} (binary multiples, case-insensitive, an optional trailing {@code b}) or
     * {@code 90%} of {@code globalBytes}.
     */
    static long parseBudget(String text, long globalBytes, String where) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (s.endsWith("%")) {
                double percent = Double.parseDouble(s.substring(0, s.length() - 1).trim());
                if (!(percent > 0)) {
                    throw new NumberFormatException();
                }
                return (long) (globalBytes * (percent / 100));
            }
            if (s.endsWith("b")) {
                s = s.substring(0, s.length() - 1);
            }
            int shift = switch (s.isEmpty() ? ' ' : s.charAt(s.length() - 1)) {
                case 'k' -> 10;
                case 'm' -> 20;
                case 'g' -> 30;
                case 't' -> 40;
                default -> 0;
            };
            long n = Long.parseLong(shift == 0 ? s : s.substring(0, s.length() - 1).trim());
            if (n <= 0 || n > Long.MAX_VALUE >> shift) {
                throw new NumberFormatException();
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw new DeviceException("bad memory budget '" + text + "' in " + where
                    + ": expected a positive number of bytes (1073741824), with k, m, g or t (64m, 2g), "
                    + "or a percentage of the device's memory (90%)");
        }
    }

    long budget() {
        return budget;
    }

    void setBudget(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("memory budget must be positive, got " + bytes);
        }
        budget = bytes;
        budgetSource = "set by Device.setMemoryBudget";
    }

    // ---- the allocation path -------------------------------------------------------------

    /**
     * Accounts {@code bytes} against the budget, reclaiming collected tensors first when they do
     * not fit; throws {@link DeviceOutOfMemoryException} when they still do not.
     */
    void reserve(long bytes, DType dtype, long size) {
        if (!collected.isEmpty()) {
            releaseCollected();
        }
        if (tryReserve(bytes)) {
            return;
        }
        long limit = budget;
        if (bytes > limit) {
            throw outOfMemory(dtype + "[" + size + "]", bytes, "larger than the device's memory budget of " + limit + " bytes ("
                    + budgetSource + ")", null);
        }
        if (!reclaimUntil(() -> tryReserve(bytes), false)) {
            throw outOfMemory(dtype + "[" + size + "]", bytes, "over the memory budget of " + limit + " bytes (" + budgetSource
                    + ") even after the garbage collector freed every unreachable tensor", null);
        }
    }

    /** One compare-and-set when the bytes fit (the fast path). */
    private boolean tryReserve(long bytes) {
        long limit = budget;
        long now;
        do {
            now = liveBytes.get();
            if (now + bytes > limit || now + bytes < 0) {
                return false;
            }
        } while (!liveBytes.compareAndSet(now, now + bytes));
        long total = now + bytes;
        if (total > peakBytes.get()) {
            peakBytes.accumulateAndGet(total, Math::max);
        }
        return true;
    }

    /** A reservation whose allocation failed. */
    void unreserve(long bytes) {
        liveBytes.addAndGet(-bytes);
    }

    /** A reserved allocation that the backend made. */
    void allocated() {
        liveBuffers.incrementAndGet();
        allocations.increment();
    }

    /** A buffer went back to the backend. */
    void released(long bytes) {
        liveBytes.addAndGet(-bytes);
        liveBuffers.decrementAndGet();
    }

    /** The backend could not allocate {@code bytes} even though the budget allowed it: reclaim
     *  what the garbage collector finds (at least {@code bytes} if it can) and empty caches. */
    boolean reclaimAfterDriverFailure(long bytes) {
        long target = liveBytes.get() - bytes;
        return reclaimUntil(() -> liveBytes.get() <= target, true);
    }

    /** {@link dev.spool.spi.MemoryPressure#reclaim()}: one collection's worth, then caches. */
    boolean reclaimForBackend() {
        long before = liveBytes.get();
        lastCacheRelease = 0;
        reclaimUntil(() -> false, true, 1);
        return liveBytes.get() < before || lastCacheRelease > 0;
    }

    // ---- buffers freed by the garbage collector ------------------------------------------

    /** Called by the cleaner thread: queue the buffer; the device's next allocation frees it. */
    void collectedByCleaner(DeviceBuffer buffer) {
        collected.add(buffer);
        collectedCount.incrementAndGet();
    }

    void countLeak() {
        leaked.increment();
    }

    /** Releases the queued buffers of collected tensors (under the device's lock). */
    void releaseCollected() {
        synchronized (device) {
            DeviceBuffer b;
            while ((b = collected.poll()) != null) {
                device.releaseNow(b);
            }
        }
    }

    private boolean reclaimUntil(BooleanSupplier done, boolean emptyCaches) {
        return reclaimUntil(done, emptyCaches, ROUNDS);
    }

    /**
     * Asks for a collection, then releases collected buffers as the cleaner queues them until
     * {@code done} or the cleaner falls quiet; up to {@code rounds} times. Waits on nothing but
     * the cleaner thread, which needs no lock, so the caller may hold the device's lock.
     */
    private boolean reclaimUntil(BooleanSupplier done, boolean emptyCaches, int rounds) {
        long cycle = reclaims.incrementAndGet();
        long firstCollected = collectedCount.get();
        boolean ok = false;
        for (int round = 0; round < rounds && !ok; round++) {
            System.gc();
            long seen = collectedCount.get();
            long start = System.nanoTime();
            long lastArrival = start;
            boolean arrived = false;
            while (true) {
                releaseCollected();
                if (done.getAsBoolean()) {
                    ok = true;
                    break;
                }
                long now = System.nanoTime();
                long count = collectedCount.get();
                if (count != seen) {
                    seen = count;
                    lastArrival = now;
                    arrived = true;
                } else if (now - lastArrival > (arrived ? QUIET_NANOS : FIRST_ARRIVAL_NANOS)
                        || now - start > ROUND_NANOS) {
                    break;
                }
                LockSupport.parkNanos(1_000_000L);
            }
            if (emptyCaches) { // the buffers just released went to the backend's pool, if it has one
                synchronized (device) {
                    lastCacheRelease = device.backend().releaseCachedMemory();
                }
            }
        }
        long found = collectedCount.get() - firstCollected;
        if (found > 0 && warned.compareAndSet(false, true)) {
            log.warn("{}: device memory is being reclaimed by the garbage collector ({} tensor buffers freed in "
                    + "reclaim cycle {}; budget {} bytes, {}): tensors are not being closed. Close them, or open a "
                    + "TensorScope around each step of a loop, to keep memory flat without collections",
                    device, found, cycle, budget, budgetSource);
        } else {
            log.debug("{}: reclaim cycle {} freed {} tensor buffers", device, cycle, found);
        }
        return ok;
    }

    private DeviceOutOfMemoryException outOfMemory(String what, long bytes, String why, Throwable cause) {
        return new DeviceOutOfMemoryException("out of memory on " + device + " (" + device.info().name()
                + "): allocating " + what + " (" + bytes + " bytes) is " + why + "; live: " + liveBuffers.get()
                + " buffers, " + liveBytes.get() + " bytes (peak " + peakBytes.get() + "), " + reclaims.get()
                + " reclaim cycles so far. Close tensors you no longer need or use TensorScope; the budget is set with "
                + "Device.setMemoryBudget, -D" + BUDGET_PROPERTY + "=2g or " + BUDGET_ENV, bytes, cause);
    }

    /** The exception when the driver still fails after a reclaim. */
    DeviceOutOfMemoryException driverOutOfMemory(DType dtype, long size, long bytes, DeviceOutOfMemoryException cause) {
        return outOfMemory(dtype + "[" + size + "]", bytes, "more than the driver could give after a reclaim (" + cause.getMessage()
                + ")", cause);
    }

    // ---- counters ------------------------------------------------------------------------

    long liveBytes() {
        return liveBytes.get();
    }

    long liveBuffers() {
        return liveBuffers.get();
    }

    /** Starts the high-water mark again from the bytes live now. */
    void resetPeak() {
        peakBytes.set(liveBytes.get());
    }

    long peakBytes() {
        return peakBytes.get();
    }

    long allocations() {
        return allocations.sum();
    }

    long leaked() {
        return leaked.sum();
    }

    long reclaims() {
        return reclaims.get();
    }
}
