package dev.spool.opencl;

import static org.jocl.CL.CL_KERNEL_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_PROGRAM_BINARIES;
import static org.jocl.CL.CL_PROGRAM_BINARY_SIZES;
import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;
import static org.jocl.CL.CL_PROGRAM_KERNEL_NAMES;
import static org.jocl.CL.clBuildProgram;
import static org.jocl.CL.clCreateKernel;
import static org.jocl.CL.clCreateProgramWithBinary;
import static org.jocl.CL.clCreateProgramWithSource;
import static org.jocl.CL.clGetKernelWorkGroupInfo;
import static org.jocl.CL.clGetProgramBuildInfo;
import static org.jocl.CL.clGetProgramInfo;
import static org.jocl.CL.clReleaseKernel;
import static org.jocl.CL.clReleaseProgram;

import dev.spool.BackendException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_program;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Built programs and their kernels, keyed by (device, source name, build options). A program is
 * built the first time one of its kernels is asked for, and kept until {@link #close()}.
 * Not thread-safe: the backend calls it under its own lock.
 */
final class ProgramCache implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProgramCache.class);

    record Key(int device, String source, String options) {
    }

    /** A built program and the kernels created from it so far, each with its launcher. */
    static final class Program {
        final cl_program program;
        final Map<String, cl_kernel> kernels = new HashMap<>();
        final Map<String, KernelCall> calls = new HashMap<>();

        /** Generated at run time (a traced function's fused kernel), not a kernels-module source. */
        boolean generated;

        Program(cl_program program) {
            this.program = program;
        }
    }

    private final OpenClDevice device;
    private final Map<Key, Program> programs = new LinkedHashMap<>();

    ProgramCache(OpenClDevice device) {
        this.device = device;
    }

    /**
     * The launcher of kernel {@code name} of {@code source} built with {@code options}: one per
     * kernel object, shared by every caller (the kernel families keep it, so that the launch
     * path does no lookup).
     */
    KernelCall kernel(String source, String options, String name) {
        return launcher(program(source, options), source, options, name);
    }

    /** The launcher of kernel {@code name} of built program {@code p}, made on first use and kept. */
    private KernelCall launcher(Program p, String what, String options, String name) {
        KernelCall call = p.calls.get(name);
        if (call == null) {
            cl_kernel k;
            try {
                k = clCreateKernel(p.program, name, null);
            } catch (CLException e) {
                throw new BackendException("kernel " + name + " is missing from " + what + " built with '"
                        + options + "' on " + device.describe() + ": " + ClErrors.name(e.getStatus()), e);
            }
            p.kernels.put(name, k);
            long[] wg = new long[1];
            clGetKernelWorkGroupInfo(k, device.id, CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(wg), null);
            call = new KernelCall(device, k, name, wg[0]);
            p.calls.put(name, call);
        }
        return call;
    }

    /**
     * The launcher of kernel {@code name} of a program generated at run time ({@code text}, named
     * {@code what} in messages), built with {@code options} and kept like the resource programs.
     * Its binary is also kept on disk, next to the GEMM tuner's cache ({@code kernels/} under
     * {@link GemmTuner#cacheDir()}), keyed by a hash of device, platform, driver, options and
     * text: a later run loads it instead of compiling. A binary the driver rejects is rebuilt from
     * source; a cache that cannot be written is skipped (one DEBUG line).
     */
    KernelCall generated(String what, String text, String options, String name) {
        Key key = new Key(device.info.index(), text, options);
        Program p = programs.get(key);
        if (p == null) {
            p = new Program(buildCached(what, text, options));
            p.generated = true;
            programs.put(key, p);
        }
        return launcher(p, what, options, name);
    }

    /**
     * The binary in {@code file} if the file is whole (our header, and the SHA-256 it records
     * matches), else null: a damaged or foreign file never reaches the driver, whose reaction to
     * a bad binary may be to abort the process.
     */
    private static byte[] readVerified(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                return null;
            }
            byte[] all = Files.readAllBytes(file);
            int head = MAGIC.length + 32;
            if (all.length <= head || !java.util.Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
                log.debug("ignoring {}: not a program binary Spool wrote", file);
                return null;
            }
            byte[] bin = java.util.Arrays.copyOfRange(all, head, all.length);
            byte[] sum = MessageDigest.getInstance("SHA-256").digest(bin);
            if (!java.util.Arrays.equals(all, MAGIC.length, head, sum, 0, 32)) {
                log.debug("ignoring {}: its checksum does not match (damaged)", file);
                return null;
            }
            return bin;
        } catch (IOException | NoSuchAlgorithmException e) {
            log.debug("ignoring {}: {}", file, e.toString());
            return null;
        }
    }

    /** Generated programs loaded from the disk cache, and built from source, by this cache: for tests. */
    int[] generatedLoadsAndBuilds() {
        return new int[] {binaryLoads, sourceBuilds};
    }

    private int binaryLoads;
    private int sourceBuilds;

    /** What a cached binary file starts with, before the SHA-256 of the binary and the binary. */
    private static final byte[] MAGIC = "spool-program-1\n".getBytes(StandardCharsets.US_ASCII);

    /**
     * Whether generated programs' binaries are kept on disk for this device. Not on Mesa's
     * drivers: Rusticl aborts the process (a Rust panic) on a binary it does not recognise, and
     * Mesa keeps its own shader cache anyway. {@code -Dspool.opencl.programCache=false} turns it off.
     */
    boolean diskCacheEnabled() {
        String p = device.platformName.toLowerCase(java.util.Locale.ROOT);
        return Boolean.parseBoolean(System.getProperty("spool.opencl.programCache", "true"))
                && !p.contains("rusticl") && !p.contains("clover");
    }

    private cl_program buildCached(String what, String text, String options) {
        String all = device.baseOptions + (options.isEmpty() ? "" : " " + options);
        Path file = null;
        if (diskCacheEnabled()) {
            try {
                byte[] digest = MessageDigest.getInstance("SHA-256").digest((device.info.name() + "\n"
                        + device.platformName + "\n" + device.driverVersion + "\n" + all + "\n" + text)
                        .getBytes(StandardCharsets.UTF_8));
                file = GemmTuner.cacheDir().resolve("kernels").resolve(HexFormat.of().formatHex(digest, 0, 16) + ".bin");
            } catch (NoSuchAlgorithmException | RuntimeException e) {
                log.debug("no disk cache for generated programs: {}", e.toString());
            }
        }
        byte[] binary = file == null ? null : readVerified(file);
        if (binary != null) {
            cl_program program = null;
            try {
                program = clCreateProgramWithBinary(device.context, 1, new cl_device_id[] {device.id},
                        new long[] {binary.length}, new byte[][] {binary}, null, null);
                clBuildProgram(program, 1, new cl_device_id[] {device.id}, all, null, null);
                binaryLoads++;
                return program;
            } catch (RuntimeException e) {
                if (program != null) {
                    clReleaseProgram(program);
                }
                log.debug("rebuilding {} from source: the driver did not accept its cached binary {} ({})", what, file,
                        e.toString());
            }
        }
        cl_program program = build(what, text, options);
        sourceBuilds++;
        if (file != null) {
            try {
                long[] size = new long[1];
                clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(size), null);
                if (size[0] > 0) {
                    byte[] bin = new byte[(int) size[0]];
                    Pointer at = Pointer.to(bin);
                    clGetProgramInfo(program, CL_PROGRAM_BINARIES, Sizeof.POINTER, Pointer.to(at), null);
                    Files.createDirectories(file.getParent());
                    Path tmp = Files.createTempFile(file.getParent(), "program", ".tmp");
                    try (java.io.OutputStream out = Files.newOutputStream(tmp)) {
                        out.write(MAGIC);
                        out.write(MessageDigest.getInstance("SHA-256").digest(bin));
                        out.write(bin);
                    }
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                }
            } catch (IOException | NoSuchAlgorithmException | RuntimeException e) {
                log.debug("not caching {} on disk ({}): {}", what, file, e.toString());
            }
        }
        return program;
    }

    /** The largest work-group {@code kernel} can run with on this device. */
    long maxLocalSize(String source, String options, String name) {
        return kernel(source, options, name).maxLocal();
    }

    /** The program {@code source} (a kernels-module resource) built with {@code options}. */
    Program program(String source, String options) {
        Key key = new Key(device.info.index(), source, options);
        Program p = programs.get(key);
        if (p == null) {
            p = new Program(build(source, KernelSources.text(source), options));
            programs.put(key, p);
        }
        return p;
    }

    /** Builds {@code text} (named {@code source} in messages); not cached. */
    cl_program build(String source, String text, String options) {
        String all = device.baseOptions + (options.isEmpty() ? "" : " " + options);
        long start = System.nanoTime();
        cl_program program = clCreateProgramWithSource(device.context, 1, new String[] {text}, null, null);
        try {
            clBuildProgram(program, 1, new org.jocl.cl_device_id[] {device.id}, all, null, null);
        } catch (CLException e) {
            String buildLog = buildLog(program);
            clReleaseProgram(program);
            throw new KernelBuildException(source, all, device.describe(), ClErrors.name(e.getStatus()),
                    buildLog, e);
        }
        if (log.isDebugEnabled()) {
            String buildLog = buildLog(program).trim();
            log.debug("built {} [{}] for {} in {} ms{}", source, all, device.describe(),
                    (System.nanoTime() - start) / 1_000_000, buildLog.isEmpty() ? "" : "; build log:\n" + buildLog);
        }
        return program;
    }

    private String buildLog(cl_program program) {
        try {
            long[] size = new long[1];
            clGetProgramBuildInfo(program, device.id, CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] bytes = new byte[(int) size[0]];
            clGetProgramBuildInfo(program, device.id, CL_PROGRAM_BUILD_LOG, bytes.length, Pointer.to(bytes), null);
            int n = bytes.length;
            while (n > 0 && bytes[n - 1] == 0) {
                n--;
            }
            return new String(bytes, 0, n, StandardCharsets.UTF_8);
        } catch (CLException e) {
            return "(no build log: " + ClErrors.name(e.getStatus()) + ")";
        }
    }

    int size() {
        return programs.size();
    }

    /** The kernels created so far (each one launched, or about to be), by program: for tests. */
    Map<Key, Set<String>> kernelsCreated() {
        Map<Key, Set<String>> out = new LinkedHashMap<>();
        programs.forEach((key, p) -> {
            if (!p.generated) {
                out.put(key, new TreeSet<>(p.kernels.keySet()));
            }
        });
        return out;
    }

    /** Programs generated at run time and built so far (traced functions' fused kernels): for tests. */
    int generatedPrograms() {
        return (int) programs.values().stream().filter(p -> p.generated).count();
    }

    /** Every kernel the built program {@code key} declares (CL_PROGRAM_KERNEL_NAMES): for tests. */
    Set<String> kernelsDeclared(Key key) {
        return declaredKernels(programs.get(key).program);
    }

    private static Set<String> declaredKernels(cl_program program) {
        long[] size = new long[1];
        clGetProgramInfo(program, CL_PROGRAM_KERNEL_NAMES, 0, null, size);
        byte[] bytes = new byte[(int) size[0]];
        clGetProgramInfo(program, CL_PROGRAM_KERNEL_NAMES, bytes.length, Pointer.to(bytes), null);
        String names = new String(bytes, StandardCharsets.US_ASCII).replace("\0", "").trim();
        Set<String> out = new TreeSet<>();
        for (String n : names.split(";")) {
            if (!n.isBlank()) {
                out.add(n.trim());
            }
        }
        return out;
    }

    @Override
    public void close() {
        for (Program p : programs.values()) {
            for (cl_kernel k : p.kernels.values()) {
                clReleaseKernel(k);
            }
            clReleaseProgram(p.program);
        }
        programs.clear();
    }
}
