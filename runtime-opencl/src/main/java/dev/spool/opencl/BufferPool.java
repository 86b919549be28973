package dev.spool.opencl;

import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clReleaseMemObject;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.DeviceOutOfMemoryException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.jocl.CLException;
import org.jocl.cl_mem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Device memory, reused by size bucket: buffers released by the backend wait here for the next
 * allocation of the same bucket instead of going back to the driver (allocation is slow on many
 * drivers, and a training loop allocates the same sizes every step). Reuse is safe with an
 * in-order queue: work that uses the recycled buffer is queued after the work that used it last.
 *
 * <p>When the driver runs out of memory the pool is flushed and the allocation retried once.
 * Not thread-safe: the backend calls it under its own lock.
 */
final class BufferPool implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BufferPool.class);
    /** The smallest bucket: tiny buffers (scalars) share one size. */
    static final long MIN_BUCKET = 256;

    /** A memory object and its usable capacity in bytes. */
    record Block(cl_mem mem, long capacity) {
    }

    private final OpenClDevice device;
    private final long maxPooledBytes;
    private final Map<Long, ArrayDeque<cl_mem>> free = new HashMap<>();
    private long pooledBytes;
    private long driverAllocations;

    /**
     * System property for running under a memory checker such as Oclgrind, never in production:
     * {@code true} allocates every buffer at its exact size, never reuses one, and frees them
     * all at {@link #close()}, so that each buffer is one allocation the checker sees whole
     * (Oclgrind's uninitialised-value tracking loses bytes of buffers that are written only in
     * part by the host, or that reuse the slot of a freed buffer).
     */
    static final String MEMORY_CHECK_PROPERTY = "spool.opencl.memoryCheck";

    static boolean memoryCheck() {
        return Boolean.getBoolean(MEMORY_CHECK_PROPERTY);
    }

    private final boolean memoryCheck = memoryCheck();
    /** In memory-check mode: released blocks, freed at close. */
    private final java.util.List<cl_mem> retired = new java.util.ArrayList<>();

    /** How much released memory to keep: a quarter of the device's memory, at most 2 GiB. */
    static long capacityFor(OpenClDevice device) {
        return Math.min(device.info.globalMemBytes() / 4, 2L << 30);
    }

    BufferPool(OpenClDevice device, long maxPooledBytes) {
        this.device = device;
        this.maxPooledBytes = maxPooledBytes;
    }

    /**
     * A block of at least {@code bytes} (bytes may be 0: a minimum-size block that kernels never
     * touch). Throws a {@link BackendException} naming both sizes when {@code bytes} exceeds the
     * device's largest allocation, and one naming the OpenCL error when the device is out of
     * memory even after the pool is flushed (a {@link DeviceOutOfMemoryException}: core then
     * reclaims and retries).
     */
    Block acquire(long bytes, String what) {
        return acquire(bytes, what, null, 0);
    }

    /** {@link #acquire(long, String)} for {@code purpose dtype[count]} (purpose may be null): the
     *  description is built only for an error message, not on every allocation. */
    Block acquire(long bytes, String purpose, DType dtype, long count) {
        long maxAlloc = device.info.maxAllocBytes();
        if (bytes > maxAlloc) {
            throw new BackendException("cannot allocate " + describe(purpose, dtype, count) + " (" + bytes + " bytes) on "
                    + device.describe() + ": larger than the device's largest single buffer, "
                    + maxAlloc + " bytes (CL_DEVICE_MAX_MEM_ALLOC_SIZE)");
        }
        long bucket = memoryCheck ? Math.max(bytes, 8) : bucket(bytes);
        long capacity = bucket <= maxAlloc ? bucket : bytes;
        ArrayDeque<cl_mem> list = free.get(capacity);
        if (list != null && !list.isEmpty()) {
            pooledBytes -= capacity;
            return new Block(list.pop(), capacity);
        }
        try {
            return new Block(create(capacity), capacity);
        } catch (CLException e) {
            if (!ClErrors.isOutOfMemory(e)) {
                throw ClErrors.wrap("allocating " + describe(purpose, dtype, count) + " (" + capacity + " bytes) on " + device.describe(), e);
            }
            log.debug("allocation of {} bytes failed ({}); flushing {} pooled bytes and retrying",
                    capacity, ClErrors.name(e.getStatus()), pooledBytes);
            flush();
            try {
                return new Block(create(capacity), capacity);
            } catch (CLException again) {
                if (!ClErrors.isOutOfMemory(again)) {
                    throw ClErrors.wrap("allocating " + describe(purpose, dtype, count) + " (" + capacity + " bytes) on " + device.describe(), again);
                }
                throw new DeviceOutOfMemoryException("out of memory on " + device.describe() + " allocating " + describe(purpose, dtype, count)
                        + " (" + capacity + " bytes), even after freeing the buffer pool: "
                        + ClErrors.name(again.getStatus()), capacity, again);
            }
        }
    }

    private static String describe(String purpose, DType dtype, long count) {
        if (dtype == null) {
            return purpose;
        }
        return (purpose == null ? "" : purpose + " ") + dtype + "[" + count + "]";
    }

    /** Takes a block back for reuse, or frees it when the pool is full. */
    void release(Block block) {
        if (memoryCheck) {
            retired.add(block.mem());
            return;
        }
        if (pooledBytes + block.capacity() > maxPooledBytes) {
            drain();
            clReleaseMemObject(block.mem());
            return;
        }
        free.computeIfAbsent(block.capacity(), c -> new ArrayDeque<>()).push(block.mem());
        pooledBytes += block.capacity();
    }

    /** Frees every pooled block (after the queue is done with them: their memory is then free). */
    void flush() {
        if (free.isEmpty()) {
            return;
        }
        drain();
        for (ArrayDeque<cl_mem> list : free.values()) {
            for (cl_mem m : list) {
                clReleaseMemObject(m);
            }
        }
        free.clear();
        pooledBytes = 0;
    }

    long pooledBytes() {
        return pooledBytes;
    }

    long driverAllocations() {
        return driverAllocations;
    }

    @Override
    public void close() {
        flush();
        for (cl_mem m : retired) {
            clReleaseMemObject(m);
        }
        retired.clear();
    }

    /**
     * Waits for queued work before memory goes back to the driver. OpenCL defers the release of
     * a buffer that queued work still uses, but memory freed that way is not free yet when an
     * allocation retries, and some runtimes (Oclgrind) free at once.
     */
    private void drain() {
        clFinish(device.queue);
    }

    private cl_mem create(long capacity) {
        cl_mem m = clCreateBuffer(device.context, CL_MEM_READ_WRITE, capacity, null, null);
        driverAllocations++;
        return m;
    }

    /**
     * The bucket of a request: at least {@link #MIN_BUCKET}, then sizes in quarter steps of a
     * power of two (…, 1024, 1280, 1536, 1792, 2048, …), so at most 25% is wasted.
     */
    static long bucket(long bytes) {
        if (bytes <= MIN_BUCKET) {
            return MIN_BUCKET;
        }
        long step = Long.highestOneBit(bytes - 1) >> 2;
        return (bytes + step - 1) / step * step;
    }
}
