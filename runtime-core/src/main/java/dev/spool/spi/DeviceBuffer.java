package dev.spool.spi;

import dev.spool.DType;

/**
 * An opaque handle to memory owned by one {@link Backend}: a flat, contiguous array of
 * {@link #size()} elements of {@link #dtype()}. Core never looks inside; it hands buffers back
 * to the backend that allocated them. Buffers are released with {@link Backend#release}.
 */
public interface DeviceBuffer {
    DType dtype();

    /** Number of elements. */
    long size();

    default long byteSize() {
        return size() * dtype().byteSize();
    }
}
