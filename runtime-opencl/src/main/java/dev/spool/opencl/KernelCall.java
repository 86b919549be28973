package dev.spool.opencl;

import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clSetKernelArg;

import dev.spool.DType;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/** One kernel launch: arguments in order, then an enqueue (never a wait). */
final class KernelCall {
    private final OpenClDevice device;
    private final cl_kernel kernel;
    private final long maxLocal;
    private int next;

    KernelCall(OpenClDevice device, cl_kernel kernel, long maxLocal) {
        this.device = device;
        this.kernel = kernel;
        this.maxLocal = maxLocal;
    }

    KernelCall mem(cl_mem m) {
        clSetKernelArg(kernel, next++, Sizeof.cl_mem, Pointer.to(m));
        return this;
    }

    KernelCall mem(OpenClBuffer b) {
        return mem(b.mem());
    }

    KernelCall i64(long v) {
        clSetKernelArg(kernel, next++, Sizeof.cl_long, Pointer.to(new long[] {v}));
        return this;
    }

    KernelCall u32(int v) {
        clSetKernelArg(kernel, next++, Sizeof.cl_uint, Pointer.to(new int[] {v}));
        return this;
    }

    KernelCall layout(Layout l) {
        clSetKernelArg(kernel, next++, Layout.BYTES, Pointer.to(l.toArgs()));
        return this;
    }

    KernelCall scalar(DType dtype, Number value) {
        clSetKernelArg(kernel, next++, ClTypes.scalarSize(dtype), ClTypes.scalar(dtype, value));
        return this;
    }

    /** A {@code local} memory argument of {@code bytes}. */
    KernelCall local(long bytes) {
        clSetKernelArg(kernel, next++, bytes, null);
        return this;
    }

    /** The local size to use when {@code wanted} is asked for: capped by what this kernel allows. */
    int localSize(int wanted) {
        return Tuning.floorPow2((int) Math.min(wanted, maxLocal));
    }

    /** {@code n} work-items (n > 0) in groups of {@code wanted} (or less, if the kernel needs). */
    void run1d(long n, int wanted) {
        int local = localSize(wanted);
        run(new long[] {roundUp(n, local)}, new long[] {local});
    }

    void run(long[] global, long[] local) {
        clEnqueueNDRangeKernel(device.queue, kernel, global.length, null, global, local, 0, null, null);
    }

    static long roundUp(long n, long multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }
}
