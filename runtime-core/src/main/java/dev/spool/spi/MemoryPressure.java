package dev.spool.spi;

/**
 * Core's reclaim, handed to each backend with {@link Backend#setMemoryPressure}: for a driver
 * that reports running out of memory where core cannot see it. OpenCL allocates lazily, so
 * CL_MEM_OBJECT_ALLOCATION_FAILURE or CL_OUT_OF_RESOURCES may come from the first kernel launch
 * that touches a new buffer rather than from {@link Backend#allocate}.
 */
@FunctionalInterface
public interface MemoryPressure {

    /**
     * Releases what core can: buffers of tensors the garbage collector finds unreachable (it
     * asks for a collection and waits, briefly, for their cleanups), then the backend's caches
     * ({@link Backend#releaseCachedMemory}). Runs on the calling thread and may be called while
     * the backend holds its own lock: it calls back into {@link Backend#release} and
     * {@code releaseCachedMemory} on this thread, never from another one. Returns whether any
     * memory went back, i.e. whether retrying the failed call may now succeed.
     */
    boolean reclaim();
}
