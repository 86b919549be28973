package dev.spool.opencl;

import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clSetKernelArg;

import dev.spool.BackendException;
import dev.spool.DType;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * The launcher of one {@code cl_kernel}: arguments in order from {@link #begin()}, then an
 * enqueue (never a wait). There is one per kernel object ({@link ProgramCache} keeps it), and it
 * remembers the value each argument was last set to, so a launch calls {@code clSetKernelArg}
 * only for arguments that changed: a kernel object keeps its arguments between launches, and
 * one JNI call per argument was most of the host time of a small op (JFR, 1-element add on
 * PoCL). Argument values go through preallocated arrays, so a launch whose arguments repeat
 * allocates nothing but what {@code clEnqueueNDRangeKernel} needs. Not thread-safe: used under
 * the backend's lock like the rest of the backend.
 */
final class KernelCall {
    /** More than any kernel of the catalog takes (matmul: 12). */
    static final int MAX_ARGS = 48;
    private static final byte UNSET = 0;
    private static final byte MEM = 1;
    private static final byte I64 = 2;
    private static final byte U32 = 3;
    private static final byte LAYOUT = 4;
    private static final byte SCALAR = 5;
    private static final byte LOCAL = 6;
    private static final byte INTS = 7;

    private final OpenClDevice device;
    private final cl_kernel kernel;
    private final String name;
    private final long maxLocal;
    private int next;
    // what each argument was last set to: its kind, a memory object, or the value's bits
    private final byte[] kinds = new byte[MAX_ARGS];
    private final cl_mem[] mems = new cl_mem[MAX_ARGS];
    private final long[] bits = new long[MAX_ARGS];
    private final long[][] layouts = new long[MAX_ARGS][];
    private final int[][] structs = new int[MAX_ARGS][];
    private final long[] sizes = new long[MAX_ARGS];
    // argument staging, reused by every launch
    private final long[] oneLong = new long[1];
    private final Pointer oneLongPtr = Pointer.to(oneLong);
    private final int[] oneInt = new int[1];
    private final Pointer oneIntPtr = Pointer.to(oneInt);
    private final float[] oneFloat = new float[1];
    private final Pointer oneFloatPtr = Pointer.to(oneFloat);
    private final double[] oneDouble = new double[1];
    private final Pointer oneDoublePtr = Pointer.to(oneDouble);
    private final byte[] oneByte = new byte[1];
    private final Pointer oneBytePtr = Pointer.to(oneByte);
    private final long[] layoutArgs = new long[Layout.LONGS];
    private final Pointer layoutPtr = Pointer.to(layoutArgs);
    private final long[] global1 = new long[1];
    private final long[] local1 = new long[1];

    KernelCall(OpenClDevice device, cl_kernel kernel, String name, long maxLocal) {
        this.device = device;
        this.kernel = kernel;
        this.name = name;
        this.maxLocal = maxLocal;
    }

    /** Starts a launch: the next argument set is argument 0. */
    KernelCall begin() {
        next = 0;
        return this;
    }

    String name() {
        return name;
    }

    KernelCall mem(cl_mem m) {
        int i = slot();
        if (kinds[i] != MEM || mems[i] != m) {
            kinds[i] = UNSET;
            clSetKernelArg(kernel, i, Sizeof.cl_mem, Pointer.to(m));
            kinds[i] = MEM;
            mems[i] = m;
        }
        return this;
    }

    KernelCall mem(OpenClBuffer b) {
        return mem(b.mem());
    }

    KernelCall i64(long v) {
        int i = slot();
        if (kinds[i] != I64 || bits[i] != v) {
            oneLong[0] = v;
            set(i, Sizeof.cl_long, oneLongPtr, I64, v);
        }
        return this;
    }

    KernelCall u32(int v) {
        int i = slot();
        if (kinds[i] != U32 || bits[i] != v) {
            oneInt[0] = v;
            set(i, Sizeof.cl_uint, oneIntPtr, U32, v);
        }
        return this;
    }

    KernelCall layout(Layout l) {
        int i = slot();
        l.writeArgs(layoutArgs);
        long[] last = layouts[i];
        if (kinds[i] != LAYOUT || !java.util.Arrays.equals(last, layoutArgs)) {
            kinds[i] = UNSET;
            clSetKernelArg(kernel, i, Layout.BYTES, layoutPtr);
            kinds[i] = LAYOUT;
            if (last == null) {
                last = layouts[i] = new long[Layout.LONGS];
            }
            System.arraycopy(layoutArgs, 0, last, 0, Layout.LONGS);
        }
        return this;
    }

    /**
     * A struct of ints, passed by value (conv_gemm.cl's conv_gemm_t): the fields in declaration
     * order, which in OpenCL C lie 4 bytes apart with no padding. {@code values} is not kept.
     */
    KernelCall ints(int[] values) {
        int i = slot();
        int[] last = structs[i];
        if (kinds[i] != INTS || !java.util.Arrays.equals(last, values)) {
            kinds[i] = UNSET;
            clSetKernelArg(kernel, i, (long) Sizeof.cl_int * values.length, Pointer.to(values));
            kinds[i] = INTS;
            structs[i] = values.clone();
        }
        return this;
    }

    /** {@code value} converted to {@code dtype} as Java casts do ({@link ClTypes#scalar}). */
    KernelCall scalar(DType dtype, Number value) {
        int i = slot();
        long v;
        Pointer p;
        switch (dtype) {
            case FLOAT32 -> {
                oneFloat[0] = value.floatValue();
                v = Float.floatToRawIntBits(oneFloat[0]);
                p = oneFloatPtr;
            }
            case FLOAT64 -> {
                oneDouble[0] = value.doubleValue();
                v = Double.doubleToRawLongBits(oneDouble[0]);
                p = oneDoublePtr;
            }
            case INT32 -> {
                oneInt[0] = value.intValue();
                v = oneInt[0];
                p = oneIntPtr;
            }
            case INT64 -> {
                oneLong[0] = value.longValue();
                v = oneLong[0];
                p = oneLongPtr;
            }
            case BOOL -> {
                oneByte[0] = ClTypes.isNonZero(value) ? (byte) 1 : (byte) 0;
                v = oneByte[0];
                p = oneBytePtr;
            }
            default -> throw new IllegalArgumentException("no scalar of " + dtype);
        }
        // the size is part of the key: the same bits as another dtype are another argument
        long size = ClTypes.scalarSize(dtype);
        if (kinds[i] != SCALAR || bits[i] != v || sizes[i] != size) {
            set(i, size, p, SCALAR, v);
            sizes[i] = size;
        }
        return this;
    }

    /** A {@code local} memory argument of {@code bytes}. */
    KernelCall local(long bytes) {
        int i = slot();
        if (kinds[i] != LOCAL || bits[i] != bytes) {
            set(i, bytes, null, LOCAL, bytes);
        }
        return this;
    }

    /** The local size to use when {@code wanted} is asked for: capped by what this kernel allows. */
    int localSize(int wanted) {
        return Tuning.floorPow2((int) Math.min(wanted, maxLocal));
    }

    /** The largest work-group this kernel can run with on its device. */
    long maxLocal() {
        return maxLocal;
    }

    /** {@code n} work-items (n > 0) in groups of {@code wanted} (or less, if the kernel needs). */
    void run1d(long n, int wanted) {
        int local = localSize(wanted);
        global1[0] = roundUp(n, local);
        local1[0] = local;
        run(global1, local1);
    }

    /**
     * The {@code n} elements (n > 0) of a kernel that walks them with SPOOL_FOR_CHUNK: one
     * work-item per {@code tuning.elementwiseChunk()} elements. Chunked work-items go one per
     * group, so that a mid-sized tensor still gives every core a group.
     */
    void runElements(long n, Tuning tuning) {
        int chunk = tuning.elementwiseChunk();
        run1d((n + chunk - 1) / chunk, chunk == 1 ? tuning.elementwiseLocal() : 1);
    }

    void run(long[] global, long[] local) {
        clEnqueueNDRangeKernel(device.queue, kernel, global.length, null, global, local, 0, null, null);
        device.launches++;
    }

    static long roundUp(long n, long multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    private int slot() {
        if (next >= MAX_ARGS) {
            throw new BackendException("kernel " + name + ": more than " + MAX_ARGS + " arguments");
        }
        return next++;
    }

    /** Sets argument {@code i}; its cached value is updated only once the driver took it. */
    private void set(int i, long size, Pointer p, byte kind, long value) {
        kinds[i] = UNSET;
        clSetKernelArg(kernel, i, size, p);
        kinds[i] = kind;
        bits[i] = value;
    }
}
