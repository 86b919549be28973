package dev.spool.opencl;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.spi.DeviceBuffer;
import org.jocl.cl_mem;

/** A device buffer of the OpenCL backend: a pooled {@code cl_mem} of at least {@link #byteSize()}. */
final class OpenClBuffer implements DeviceBuffer {
    private final DType dtype;
    private final long size;
    private final BufferPool.Block block;
    private final OpenClBackend owner;
    private boolean released;

    OpenClBuffer(DType dtype, long size, BufferPool.Block block, OpenClBackend owner) {
        this.dtype = dtype;
        this.size = size;
        this.block = block;
        this.owner = owner;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long size() {
        return size;
    }

    BufferPool.Block block() {
        return block;
    }

    OpenClBackend owner() {
        return owner;
    }

    /** The memory object; throws once the buffer has been released. */
    cl_mem mem() {
        if (released) {
            throw new BackendException("OpenCL buffer " + this + " used after it was released");
        }
        return block.mem();
    }

    boolean markReleased() {
        boolean was = released;
        released = true;
        return !was;
    }

    @Override
    public String toString() {
        return dtype + "[" + size + "]";
    }
}
