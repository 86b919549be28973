package dev.spool.bench.gpu;

import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clCreateCommandQueue;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clEnqueueCopyBuffer;
import static org.jocl.CL.clEnqueueFillBuffer;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clGetDeviceIDs;
import static org.jocl.CL.clGetDeviceInfo;
import static org.jocl.CL.clGetPlatformIDs;
import static org.jocl.CL.clGetPlatformInfo;
import static org.jocl.CL.clReleaseCommandQueue;
import static org.jocl.CL.clReleaseContext;
import static org.jocl.CL.clReleaseMemObject;

import dev.spool.Device;
import dev.spool.opencl.OpenClBackendProvider;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;

/**
 * The bandwidth reference: a device-to-device {@code clEnqueueCopyBuffer} between two buffers
 * of a context of its own on the OpenCL device behind a Spool device, through JOCL alone.
 */
final class BareJoclCopy implements AutoCloseable {
    private final cl_context context;
    private final cl_command_queue queue;
    private final cl_mem src;
    private final cl_mem dst;
    private final long bytes;

    BareJoclCopy(Device spoolDevice, long bytes) {
        this.bytes = bytes;
        cl_device_id id = clDeviceOf(spoolDevice);
        context = clCreateContext(null, 1, new cl_device_id[] {id}, null, null, null);
        queue = clCreateCommandQueue(context, id, 0, null);
        src = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, null, null);
        dst = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, null, null);
        // touch both so that the first copy does not pay for lazy allocation; different values
        // so that a test can see the copy happen
        clEnqueueFillBuffer(queue, src, Pointer.to(new float[] {1f}), 4, 0, bytes, 0, null, null);
        clEnqueueFillBuffer(queue, dst, Pointer.to(new float[] {0f}), 4, 0, bytes, 0, null, null);
        clFinish(queue);
    }

    void copyAndFinish() {
        clEnqueueCopyBuffer(queue, src, dst, 0, 0, bytes, 0, null, null);
        clFinish(queue);
    }

    /** The destination buffer's contents as floats (for tests: small buffers only). */
    float[] destination() {
        float[] out = new float[Math.toIntExact(bytes / 4)];
        clEnqueueReadBuffer(queue, dst, true, 0, 4L * out.length, Pointer.to(out), 0, null, null);
        return out;
    }

    @Override
    public void close() {
        clReleaseMemObject(src);
        clReleaseMemObject(dst);
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }

    /**
     * The device Spool calls {@code opencl:N}: the N-th device of all platforms in order, after
     * the same platform filter (spool.opencl.platform / SPOOL_OPENCL_PLATFORM) that Spool applies.
     */
    private static cl_device_id clDeviceOf(Device d) {
        if (!d.info().backend().equals("opencl")) {
            throw new IllegalArgumentException("not an OpenCL device: " + d);
        }
        CL.setExceptionsEnabled(true);
        String filter = System.getProperty("spool.opencl.platform", System.getenv("SPOOL_OPENCL_PLATFORM"));
        filter = filter == null || filter.isBlank() ? null : filter.trim().toLowerCase(Locale.ROOT);
        int[] n = new int[1];
        clGetPlatformIDs(0, null, n);
        cl_platform_id[] platforms = new cl_platform_id[n[0]];
        clGetPlatformIDs(platforms.length, platforms, null);
        List<cl_device_id> devices = new ArrayList<>();
        for (cl_platform_id p : platforms) {
            if (filter != null && !platformName(p).toLowerCase(Locale.ROOT).contains(filter)) {
                continue;
            }
            int[] count = new int[1];
            try {
                clGetDeviceIDs(p, OpenClBackendProvider.DEVICE_TYPE_ALL, 0, null, count);
            } catch (org.jocl.CLException e) {
                continue; // CL_DEVICE_NOT_FOUND: a platform without devices
            }
            cl_device_id[] ids = new cl_device_id[count[0]];
            clGetDeviceIDs(p, OpenClBackendProvider.DEVICE_TYPE_ALL, ids.length, ids, null);
            devices.addAll(List.of(ids));
        }
        int index = d.info().index();
        if (index >= devices.size() || !deviceName(devices.get(index)).equals(d.info().name())) {
            throw new IllegalStateException("cannot find Spool's " + d + " (" + d.info().name()
                    + ") among the OpenCL devices JOCL lists");
        }
        return devices.get(index);
    }

    private static String platformName(cl_platform_id p) {
        long[] size = new long[1];
        clGetPlatformInfo(p, CL_PLATFORM_NAME, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetPlatformInfo(p, CL_PLATFORM_NAME, b.length, Pointer.to(b), null);
        return cString(b);
    }

    private static String deviceName(cl_device_id id) {
        long[] size = new long[1];
        clGetDeviceInfo(id, CL_DEVICE_NAME, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetDeviceInfo(id, CL_DEVICE_NAME, b.length, Pointer.to(b), null);
        return cString(b).trim();
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }
}
