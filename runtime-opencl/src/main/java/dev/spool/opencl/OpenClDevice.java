package dev.spool.opencl;

import static org.jocl.CL.CL_DEVICE_DOUBLE_FP_CONFIG;
import static org.jocl.CL.CL_DEVICE_EXTENSIONS;
import static org.jocl.CL.CL_DEVICE_GLOBAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_LOCAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_COMPUTE_UNITS;
import static org.jocl.CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_SINGLE_FP_CONFIG;
import static org.jocl.CL.CL_FP_DENORM;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;
import static org.jocl.CL.CL_DEVICE_VENDOR;
import static org.jocl.CL.CL_DEVICE_VERSION;
import static org.jocl.CL.CL_DRIVER_VERSION;
import static org.jocl.CL.CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.clCreateCommandQueue;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clGetDeviceInfo;
import static org.jocl.CL.clGetPlatformInfo;
import static org.jocl.CL.clReleaseCommandQueue;
import static org.jocl.CL.clReleaseContext;

import dev.spool.spi.DeviceInfo;
import java.nio.charset.StandardCharsets;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * One OpenCL device with its own context and in-order command queue, and what the backend needs
 * to know about it.
 */
final class OpenClDevice implements AutoCloseable {
    final cl_device_id id;
    final cl_context context;
    final cl_command_queue queue;
    final DeviceInfo info;
    final String platformName;
    final String version;
    /** CL_DRIVER_VERSION: part of the key of tuned kernel parameters. */
    final String driverVersion;
    final long maxWorkGroupSize;
    /** Kernels queued so far (every backend view of this device counts here). */
    long launches;
    final long localMemBytes;
    /**
     * llvmpipe (Mesa's software device, which Rusticl offers with RUSTICL_ENABLE=llvmpipe) ends a
     * work-item <em>silently</em> after 65,535 loop iterations, summed over every loop of the
     * kernel (gallivm's LP_MAX_TGSI_LOOP_ITERATIONS): its results are then partial sums and
     * zeros. Found as conv2d values that were right for the first ~200 of each work-item's 1024
     * elements. Kernels whose work-items loop over a size the caller chooses split the work so
     * that each stays under {@link #loopLimit} there.
     */
    static final long LLVMPIPE_LOOP_LIMIT = 65_535;
    /** Loop iterations a work-item may run in all: {@link #LLVMPIPE_LOOP_LIMIT} or unbounded. */
    final long loopLimit;
    /**
     * The tuning for this device's type (or the strategy property). llvmpipe, a CPU device, gets
     * the GPU strategy: the CPU strategy's 1024 elements per work-item overrun its loop limit
     * for any kernel that loops per element (conv2d did at 200).
     */
    final Tuning tuning;
    /** Build options every program on this device gets. */
    final String baseOptions;
    /** Whether float32 arithmetic keeps subnormals; OpenCL lets a device flush them to zero. */
    final boolean float32Denormals;

    @SuppressWarnings("deprecation") // clCreateCommandQueueWithProperties needs OpenCL 2.0
    OpenClDevice(int index, cl_platform_id platform, cl_device_id id) {
        this.id = id;
        this.platformName = platformString(platform, CL_PLATFORM_NAME);
        this.version = string(id, CL_DEVICE_VERSION);
        this.driverVersion = string(id, CL_DRIVER_VERSION).trim();
        long type = longInfo(id, CL_DEVICE_TYPE);
        boolean fp64 = string(id, CL_DEVICE_EXTENSIONS).contains("cl_khr_fp64")
                || optionalLongInfo(id, CL_DEVICE_DOUBLE_FP_CONFIG) != 0;
        this.info = new DeviceInfo("opencl", index, string(id, CL_DEVICE_NAME).trim(),
                string(id, CL_DEVICE_VENDOR).trim(), typeOf(type), (int) intInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS),
                longInfo(id, CL_DEVICE_GLOBAL_MEM_SIZE), longInfo(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE), fp64);
        this.maxWorkGroupSize = sizeInfo(id, CL_DEVICE_MAX_WORK_GROUP_SIZE);
        this.localMemBytes = longInfo(id, CL_DEVICE_LOCAL_MEM_SIZE);
        boolean llvmpipe = info.name().startsWith("llvmpipe");
        this.loopLimit = llvmpipe ? LLVMPIPE_LOOP_LIMIT : Long.MAX_VALUE;
        this.tuning = tuning(Tuning.styleFor(info.type() == DeviceInfo.DeviceType.CPU && !llvmpipe));
        long fpConfig = longInfo(id, CL_DEVICE_SINGLE_FP_CONFIG);
        boolean exactDivide = (fpConfig & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
        this.float32Denormals = (fpConfig & CL_FP_DENORM) != 0;
        this.baseOptions = Tuning.baseOptions(exactDivide, platformName.startsWith("Portable Computing Language"));
        this.context = clCreateContext(null, 1, new cl_device_id[] {id}, null, null, null);
        cl_command_queue q;
        try {
            q = clCreateCommandQueue(context, id, 0, null);
        } catch (RuntimeException e) {
            clReleaseContext(context);
            throw e;
        }
        this.queue = q;
    }

    /** The tuning of {@code style} for this device. */
    Tuning tuning(Tuning.Style style) {
        return Tuning.of(style, maxWorkGroupSize, info.computeUnits());
    }

    String describe() {
        return info.id() + " (" + info.name() + ", " + platformName + ")";
    }

    @Override
    public void close() {
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }

    static DeviceInfo.DeviceType typeOf(long type) {
        if ((type & CL_DEVICE_TYPE_GPU) != 0) {
            return DeviceInfo.DeviceType.GPU;
        }
        if ((type & CL_DEVICE_TYPE_CPU) != 0) {
            return DeviceInfo.DeviceType.CPU;
        }
        if ((type & CL_DEVICE_TYPE_ACCELERATOR) != 0) {
            return DeviceInfo.DeviceType.ACCELERATOR;
        }
        return DeviceInfo.DeviceType.OTHER;
    }

    static String string(cl_device_id id, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(id, param, 0, null, size);
        byte[] bytes = new byte[(int) size[0]];
        clGetDeviceInfo(id, param, bytes.length, Pointer.to(bytes), null);
        return cString(bytes);
    }

    static String platformString(cl_platform_id platform, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(platform, param, 0, null, size);
        byte[] bytes = new byte[(int) size[0]];
        clGetPlatformInfo(platform, param, bytes.length, Pointer.to(bytes), null);
        return cString(bytes);
    }

    private static String cString(byte[] bytes) {
        int n = 0;
        while (n < bytes.length && bytes[n] != 0) {
            n++;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }

    static long longInfo(cl_device_id id, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(id, param, Sizeof.cl_ulong, Pointer.to(v), null);
        return v[0];
    }

    /** A query that older drivers may reject (then 0). */
    private static long optionalLongInfo(cl_device_id id, int param) {
        try {
            return longInfo(id, param);
        } catch (org.jocl.CLException e) {
            return 0;
        }
    }

    private static long intInfo(cl_device_id id, int param) {
        int[] v = new int[1];
        clGetDeviceInfo(id, param, Sizeof.cl_uint, Pointer.to(v), null);
        return v[0] & 0xFFFFFFFFL;
    }

    private static long sizeInfo(cl_device_id id, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(id, param, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }
}
