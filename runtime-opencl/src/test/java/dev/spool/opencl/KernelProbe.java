package dev.spool.opencl;

import static org.jocl.CL.CL_KERNEL_ARG_ADDRESS_CONSTANT;
import static org.jocl.CL.CL_KERNEL_ARG_ADDRESS_GLOBAL;
import static org.jocl.CL.CL_KERNEL_ARG_ADDRESS_LOCAL;
import static org.jocl.CL.CL_KERNEL_ARG_ADDRESS_QUALIFIER;
import static org.jocl.CL.CL_KERNEL_ARG_INFO_NOT_AVAILABLE;
import static org.jocl.CL.CL_KERNEL_COMPILE_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_KERNEL_NUM_ARGS;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clCreateKernel;
import static org.jocl.CL.clEnqueueFillBuffer;
import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clGetKernelArgInfo;
import static org.jocl.CL.clGetKernelInfo;
import static org.jocl.CL.clGetKernelWorkGroupInfo;
import static org.jocl.CL.clReleaseKernel;
import static org.jocl.CL.clReleaseMemObject;
import static org.jocl.CL.clReleaseProgram;
import static org.jocl.CL.clSetKernelArg;

import dev.spool.spi.Backend;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

/**
 * Builds and launches kernels one at a time on the first OpenCL device found (narrow it with
 * {@code -Dspool.opencl.platform}), so that a driver whose compiler crashes the process can be
 * surveyed kernel by kernel: scripts/kernel-probe.sh runs it in a child JVM and starts it again
 * after the kernel that crashed. Each kernel is built through the backend's own {@link
 * ProgramCache} (prelude, base options, the tuning's options: exactly what the host builds) and
 * then launched once on one work-group with zeroed arguments, because some drivers (Mesa's
 * Rusticl on llvmpipe) compile a kernel to machine code only when it is first enqueued.
 *
 * <pre>
 *   list MANIFEST            every kernel of KernelCatalog.all(fp64 of the device), with the
 *                            options of both kernel strategies, one "source TAB options TAB kernel"
 *                            line each
 *   run MANIFEST FROM [TO]   entries FROM..TO-1 of the manifest (default: to the end), in order
 *   file PATH.cl KERNEL [OPTIONS]   a stand-alone source (no prelude), for reduced test cases
 * </pre>
 *
 * Progress goes to stderr, where drivers print their warnings, so that each warning follows the
 * BEGIN line of the kernel that caused it: {@code probe: BEGIN i ...}, {@code probe: BUILT i}
 * (program built and kernel created), {@code probe: OK i build-ms launch-ms} or
 * {@code probe: FAIL i error}. A crash leaves a BEGIN or BUILT line without its end.
 */
public final class KernelProbe {
    /** Every global and constant pointer argument gets a zeroed buffer of this size. */
    private static final long BUFFER_BYTES = 1 << 20;
    /** Every local pointer argument gets this much local memory. */
    private static final long LOCAL_BYTES = 1024;
    /**
     * By-value arguments (scalars, vectors, structs such as layout_t's 144 bytes) are set with
     * each size up to this in turn: the driver rejects the wrong ones with CL_INVALID_ARG_SIZE.
     */
    private static final int MAX_VALUE_BYTES = 1024;

    private static final PrintStream out = System.err;

    private KernelProbe() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: KernelProbe list MANIFEST | run MANIFEST FROM [TO] | file PATH KERNEL [OPTIONS]");
        }
        OpenClBackend b = firstDevice();
        out.println("probe: device " + b.device().describe() + ", " + b.device().version + ", driver "
                + b.device().driverVersion + ", base options [" + b.device().baseOptions + "]");
        switch (args[0]) {
            case "list" -> list(b, Path.of(args[1]));
            case "run" -> {
                List<String> manifest = Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8);
                run(b, manifest, Integer.parseInt(args[2]), args.length > 3 ? Integer.parseInt(args[3]) : manifest.size());
            }
            case "file" -> file(b, Path.of(args[1]), args[2], args.length > 3 ? args[3] : "");
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
        out.flush();
        // no close: a driver that crashed nothing so far should not get the chance at exit either
        System.exit(0);
    }

    private static OpenClBackend firstDevice() {
        OpenClBackendProvider provider = new OpenClBackendProvider();
        List<Backend> devices = provider.discover();
        if (devices.isEmpty()) {
            out.println("probe: no OpenCL device: " + provider.unavailableReason());
            System.exit(2);
        }
        return (OpenClBackend) devices.get(0);
    }

    /** The manifest: each (source, options, kernel) the host may build on this device, once. */
    private static void list(OpenClBackend b, Path manifest) throws IOException {
        Set<String> lines = new LinkedHashSet<>();
        for (Tuning.Style style : Tuning.Style.values()) {
            String tuning = b.device().tuning(style).buildOptions();
            for (KernelCatalog.KernelRef k : KernelCatalog.all(b.info().fp64())) {
                lines.add(k.source() + "\t" + Kernels.withTuning(k.options(), tuning) + "\t" + k.kernel());
            }
        }
        Files.write(manifest, lines, StandardCharsets.UTF_8);
        out.println("probe: " + lines.size() + " kernels listed in " + manifest);
    }

    private static void run(OpenClBackend b, List<String> manifest, int from, int to) {
        for (int i = from; i < Math.min(to, manifest.size()); i++) {
            String[] f = manifest.get(i).split("\t", -1);
            String source = f[0];
            String options = f[1];
            String kernel = f[2];
            out.println("probe: BEGIN " + i + " " + source + " [" + options + "] " + kernel);
            long t0 = System.nanoTime();
            cl_kernel k;
            try {
                b.programs().kernel(source, options, kernel);
                k = b.programs().program(source, options).kernels.get(kernel);
            } catch (RuntimeException e) {
                out.println("probe: FAIL " + i + " " + oneLine(e));
                continue;
            }
            out.println("probe: BUILT " + i);
            long t1 = System.nanoTime();
            String error = launch(b, k, kernel, KernelSources.text(source), options);
            long t2 = System.nanoTime();
            out.println(error == null ? "probe: OK " + i + " " + ms(t1 - t0) + " " + ms(t2 - t1)
                    : "probe: FAIL " + i + " launch: " + error);
        }
    }

    private static void file(OpenClBackend b, Path path, String kernel, String options) throws IOException {
        String text = Files.readString(path, StandardCharsets.UTF_8);
        out.println("probe: BEGIN 0 " + path + " [" + options + "] " + kernel);
        cl_program program = b.programs().build(path.getFileName().toString(), text, options);
        cl_kernel k = clCreateKernel(program, kernel, null);
        out.println("probe: BUILT 0");
        String error = launch(b, k, kernel, text, options);
        out.println(error == null ? "probe: OK 0" : "probe: FAIL 0 launch: " + error);
        clReleaseKernel(k);
        clReleaseProgram(program);
    }

    /**
     * Launches {@code k} (kernel {@code name} of {@code text} built with {@code options}) once on
     * one work-group (its required size, else one work-item) with every argument zero: pointers
     * to zeroed buffers, zero sizes, zero layouts. Null, or what failed.
     */
    private static String launch(OpenClBackend b, cl_kernel k, String name, String text, String options) {
        OpenClDevice d = b.device();
        List<cl_mem> buffers = new ArrayList<>();
        try {
            int[] qualifiers = addressQualifiers(b, k, name, text, options);
            for (int a = 0; a < qualifiers.length; a++) {
                if (qualifiers[a] == CL_KERNEL_ARG_ADDRESS_GLOBAL || qualifiers[a] == CL_KERNEL_ARG_ADDRESS_CONSTANT) {
                    cl_mem m = clCreateBuffer(d.context, CL_MEM_READ_WRITE, BUFFER_BYTES, null, null);
                    buffers.add(m);
                    clEnqueueFillBuffer(d.queue, m, Pointer.to(new byte[1]), 1, 0, BUFFER_BYTES, 0, null, null);
                    clSetKernelArg(k, a, Sizeof.cl_mem, Pointer.to(m));
                } else if (qualifiers[a] == CL_KERNEL_ARG_ADDRESS_LOCAL) {
                    clSetKernelArg(k, a, LOCAL_BYTES, null);
                } else if (!setValue(k, a)) {
                    return "argument " + a + ": the driver accepted no size up to " + MAX_VALUE_BYTES;
                }
            }
            long[] required = new long[3];
            clGetKernelWorkGroupInfo(k, d.id, CL_KERNEL_COMPILE_WORK_GROUP_SIZE, 3L * Sizeof.size_t, Pointer.to(required), null);
            long[] local = {Math.max(1, required[0]), Math.max(1, required[1]), Math.max(1, required[2])};
            clEnqueueNDRangeKernel(d.queue, k, 3, null, local.clone(), local, 0, null, null);
            clFinish(d.queue);
            return null;
        } catch (CLException e) {
            return ClErrors.name(e.getStatus()) + " (" + e.getMessage() + ")";
        } finally {
            buffers.forEach(m -> clReleaseMemObject(m));
        }
    }

    /**
     * Each argument's address qualifier. Rusticl answers for any kernel; the specification (and
     * PoCL) only for programs built with -cl-kernel-arg-info, so without it the answer comes
     * from a second build of the program with that option, used for nothing else.
     */
    private static int[] addressQualifiers(OpenClBackend b, cl_kernel k, String name, String text, String options) {
        int[] count = new int[1];
        clGetKernelInfo(k, CL_KERNEL_NUM_ARGS, Sizeof.cl_uint, Pointer.to(count), null);
        int[] qualifiers = new int[count[0]];
        cl_program infoProgram = null;
        cl_kernel info = k;
        try {
            for (int a = 0; a < qualifiers.length; a++) {
                int[] q = new int[1];
                try {
                    clGetKernelArgInfo(info, a, CL_KERNEL_ARG_ADDRESS_QUALIFIER, Sizeof.cl_uint, Pointer.to(q), null);
                } catch (CLException e) {
                    if (e.getStatus() != CL_KERNEL_ARG_INFO_NOT_AVAILABLE || infoProgram != null) {
                        throw e;
                    }
                    infoProgram = b.programs().build(name, text, (options + " -cl-kernel-arg-info").trim());
                    info = clCreateKernel(infoProgram, name, null);
                    a--; // again, from the kernel that has the information
                    continue;
                }
                qualifiers[a] = q[0];
            }
            return qualifiers;
        } finally {
            if (infoProgram != null) {
                clReleaseKernel(info);
                clReleaseProgram(infoProgram);
            }
        }
    }

    private static boolean setValue(cl_kernel k, int a) {
        byte[] zeros = new byte[MAX_VALUE_BYTES];
        for (int size = 1; size <= MAX_VALUE_BYTES; size++) {
            try {
                clSetKernelArg(k, a, size, Pointer.to(zeros));
                return true;
            } catch (CLException e) {
                // CL_INVALID_ARG_SIZE: try the next size
            }
        }
        return false;
    }

    private static String oneLine(Exception e) {
        String m = String.valueOf(e.getMessage());
        int cut = m.indexOf('\n');
        return e.getClass().getSimpleName() + ": " + (cut < 0 ? m : m.substring(0, cut) + " ...");
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }
}
