package dev.spool;

import dev.spool.spi.DeviceBuffer;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * A device buffer shared by every tensor that views it (reshapes, transposes, slices, aliases
 * held by tapes and variables). Reference counted: the buffer goes back to its device when the
 * last tensor viewing it is closed or collected.
 */
final class Storage {
    final Device device;
    final DeviceBuffer buffer;
    /** Tensors viewing the buffer. A field updater rather than an AtomicInteger: a tape's release
     *  of thousands of held values chased one more pointer (a cache miss) per storage. */
    private volatile int refs = 1;
    private static final AtomicIntegerFieldUpdater<Storage> REFS =
            AtomicIntegerFieldUpdater.newUpdater(Storage.class, "refs");

    Storage(Device device, DeviceBuffer buffer) {
        this.device = device;
        this.buffer = buffer;
    }

    void retain() {
        int n;
        do {
            n = refs;
            if (n <= 0) {
                throw new ClosedException("the memory of this tensor on " + device + " is already released"
                        + " (closed, perhaps by another thread)");
            }
        } while (!REFS.compareAndSet(this, n, n + 1));
    }

    void release() {
        release(false);
    }

    /** {@code byCleaner}: called from the garbage collector's cleanup, which must not block on
     *  the device, so the buffer is queued for the device to release. */
    void release(boolean byCleaner) {
        int left = REFS.decrementAndGet(this);
        if (left == 0) {
            if (byCleaner) {
                device.releaseCollected(buffer);
            } else {
                device.release(buffer);
            }
        } else if (left < 0) {
            throw new IllegalStateException("storage released twice");
        }
    }
}
