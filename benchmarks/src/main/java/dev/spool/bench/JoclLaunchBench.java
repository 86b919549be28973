package dev.spool.bench;

import static org.jocl.CL.CL_CONTEXT_PLATFORM;
import static org.jocl.CL.CL_DEVICE_NOT_FOUND;
import static org.jocl.CL.CL_MEM_COPY_HOST_PTR;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_TRUE;
import static org.jocl.CL.clBuildProgram;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clCreateCommandQueue;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clCreateKernel;
import static org.jocl.CL.clCreateProgramWithSource;
import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clGetDeviceIDs;
import static org.jocl.CL.clGetPlatformIDs;
import static org.jocl.CL.clReleaseCommandQueue;
import static org.jocl.CL.clReleaseContext;
import static org.jocl.CL.clReleaseKernel;
import static org.jocl.CL.clReleaseMemObject;
import static org.jocl.CL.clReleaseProgram;
import static org.jocl.CL.clSetKernelArg;

import dev.spool.opencl.OpenClBackendProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The dispatch floor for DispatchBench on OpenCL: the same 1-element add kernel (the shape of
 * Spool's {@code binary_ADD_contig}) built and launched with JOCL directly, with nothing of
 * Spool in between. Per launch: the six kernel arguments are set (a runtime must, for new
 * buffers) and the kernel is enqueued; {@value DispatchBench#BATCH} launches, then clFinish.
 * {@code openclDevice} counts devices over all platforms in platform order, as Spool's
 * {@code opencl:N} does.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class JoclLaunchBench {
    static final String SOURCE = """
            kernel void add(global const float* a, long aoff, global const float* b, long boff,
                            global float* out, long n) {
                long i = (long)get_global_id(0);
                if (i < n) {
                    out[i] = a[aoff + i] + b[boff + i];
                }
            }
            """;

    /** Not named {@code device}: the run script's {@code -p device=cpu,opencl:0} must not reach it. */
    @Param({"opencl:0"})
    public String openclDevice;

    /** {@value DispatchBench#BATCH} in a measured run; the smoke test lowers it. */
    @Param({"20000"})
    public int batch;

    private cl_context context;
    private cl_command_queue queue;
    private cl_program program;
    private cl_kernel kernel;
    private cl_mem a;
    private cl_mem b;
    private cl_mem out;
    private final long[] global = {1};

    @Setup
    public void setup() {
        CL.setExceptionsEnabled(true);
        if (!openclDevice.startsWith("opencl:")) {
            throw new IllegalArgumentException("not an OpenCL device: " + openclDevice);
        }
        int index = Integer.parseInt(openclDevice.substring("opencl:".length()));
        cl_platform_id platform = null;
        cl_device_id id = null;
        int seen = 0;
        for (cl_platform_id p : platforms()) {
            List<cl_device_id> ids = devices(p);
            if (id == null && index < seen + ids.size()) {
                platform = p;
                id = ids.get(index - seen);
            }
            seen += ids.size();
        }
        if (id == null) {
            throw new IllegalStateException("no OpenCL device " + openclDevice + " (" + seen + " found)");
        }
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, platform);
        context = clCreateContext(props, 1, new cl_device_id[] {id}, null, null, null);
        queue = createQueue(id);
        program = clCreateProgramWithSource(context, 1, new String[] {SOURCE}, null, null);
        clBuildProgram(program, 0, null, null, null, null);
        kernel = clCreateKernel(program, "add", null);
        a = buffer(1.5f);
        b = buffer(2.25f);
        out = buffer(0);
        launch();
        float[] result = new float[1];
        clEnqueueReadBuffer(queue, out, CL_TRUE, 0, Sizeof.cl_float, Pointer.to(result), 0, null, null);
        Checks.close("1.5 + 2.25", 3.75, result[0], 0, 0);
    }

    @SuppressWarnings("deprecation") // clCreateCommandQueueWithProperties needs OpenCL 2.0; Spool uses this too
    private cl_command_queue createQueue(cl_device_id id) {
        return clCreateCommandQueue(context, id, 0, null);
    }

    private static List<cl_platform_id> platforms() {
        int[] n = new int[1];
        clGetPlatformIDs(0, null, n);
        cl_platform_id[] ps = new cl_platform_id[n[0]];
        clGetPlatformIDs(ps.length, ps, null);
        return List.of(ps);
    }

    private static List<cl_device_id> devices(cl_platform_id platform) {
        int[] n = new int[1];
        try {
            clGetDeviceIDs(platform, OpenClBackendProvider.DEVICE_TYPE_ALL, 0, null, n);
        } catch (CLException e) {
            if (e.getStatus() == CL_DEVICE_NOT_FOUND) {
                return new ArrayList<>();
            }
            throw e;
        }
        cl_device_id[] ids = new cl_device_id[n[0]];
        clGetDeviceIDs(platform, OpenClBackendProvider.DEVICE_TYPE_ALL, ids.length, ids, null);
        return List.of(ids);
    }

    private cl_mem buffer(float value) {
        return clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, Sizeof.cl_float,
                Pointer.to(new float[] {value}), null);
    }

    private void launch() {
        clSetKernelArg(kernel, 0, Sizeof.cl_mem, Pointer.to(a));
        clSetKernelArg(kernel, 1, Sizeof.cl_long, Pointer.to(new long[] {0}));
        clSetKernelArg(kernel, 2, Sizeof.cl_mem, Pointer.to(b));
        clSetKernelArg(kernel, 3, Sizeof.cl_long, Pointer.to(new long[] {0}));
        clSetKernelArg(kernel, 4, Sizeof.cl_mem, Pointer.to(out));
        clSetKernelArg(kernel, 5, Sizeof.cl_long, Pointer.to(new long[] {1}));
        clEnqueueNDRangeKernel(queue, kernel, 1, null, global, null, 0, null, null);
    }

    @Benchmark
    @OperationsPerInvocation(DispatchBench.BATCH)
    public void launchAdd() {
        for (int i = 0; i < batch; i++) {
            launch();
        }
        clFinish(queue);
    }

    @TearDown
    public void tearDown() {
        clReleaseMemObject(a);
        clReleaseMemObject(b);
        clReleaseMemObject(out);
        clReleaseKernel(kernel);
        clReleaseProgram(program);
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }
}
