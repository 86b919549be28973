package dev.spool.cpu;

import dev.spool.DType;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;

/**
 * A buffer of the CPU backend: one Java primitive array of the dtype's
 * {@link DType#hostArrayType() host array type} ({@code byte[]} of 0/1 for bool).
 */
final class CpuBuffer implements DeviceBuffer {
    private final DType dtype;
    private final int size;
    private volatile Object data;

    CpuBuffer(DType dtype, int size) {
        this(dtype, size, dtype.newHostArray(size));
    }

    /** A buffer over {@code data}, an array of the dtype's host type and length {@code size}. */
    CpuBuffer(DType dtype, int size, Object data) {
        this.dtype = dtype;
        this.size = size;
        this.data = data;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long size() {
        return size;
    }

    /** The CPU buffer behind a handle; rejects buffers of other backends. */
    static CpuBuffer of(DeviceBuffer buffer) {
        if (buffer instanceof CpuBuffer b) {
            return b;
        }
        throw new IllegalArgumentException("cpu: " + buffer + " belongs to another backend");
    }

    /** The backing array of a view's buffer. */
    static Object data(View view) {
        return of(view.buffer()).data();
    }

    /** The backing array; throws if the buffer was released. */
    Object data() {
        Object d = data;
        if (d == null) {
            throw new IllegalStateException("cpu: " + this + " was released");
        }
        return d;
    }

    /** Drops the array and returns it; null if it was already released. */
    synchronized Object release() {
        Object d = data;
        data = null;
        return d;
    }

    @Override
    public String toString() {
        return "CpuBuffer[" + dtype + " x " + size + "]";
    }
}
