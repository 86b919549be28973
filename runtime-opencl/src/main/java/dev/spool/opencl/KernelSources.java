package dev.spool.opencl;

import dev.spool.BackendException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The {@code .cl} sources of the {@code kernels} module, read from the class path once. */
final class KernelSources {
    static final String ELEMENTWISE = "elementwise.cl";
    static final String REDUCTION = "reduction.cl";
    static final String MATMUL = "matmul.cl";
    static final String COPY = "copy.cl";
    static final String RANDOM = "random.cl";
    static final String INDEXING = "indexing.cl";
    static final String SOFTMAX = "softmax.cl";
    static final String TRAINING = "training.cl";
    static final String CONV = "conv.cl";
    static final String NORM = "norm.cl";
    static final String CONV_GEMM = "conv_gemm.cl";
    static final String ATTENTION = "attention.cl";

    /** Every source the backend builds programs from. */
    static final List<String> ALL = List.of(ELEMENTWISE, REDUCTION, MATMUL, COPY, RANDOM, INDEXING, SOFTMAX, TRAINING,
            CONV, NORM, CONV_GEMM, ATTENTION);

    /** The tile loops of the GEMM-shaped kernels, put in front of {@link #WITH_GEMM}'s sources. */
    static final String GEMM = "gemm.cl";
    /** The sources whose programs start with {@link #GEMM} (after the prelude): one tile loop for all. */
    static final List<String> WITH_GEMM = List.of(MATMUL, CONV_GEMM);

    /** Definitions every source uses (layout_t, layout_offset), put in front of each. */
    static final String PRELUDE = "prelude.cl";

    private static final String DIR = "dev/spool/kernels/";
    private static final Map<String, String> FILES = new ConcurrentHashMap<>();
    private static final Map<String, String> PROGRAMS = new ConcurrentHashMap<>();

    private KernelSources() {
    }

    /**
     * The program text of source {@code name}: the prelude, then the file after a
     * {@code #line 1}, so that build logs give the file's own line numbers; sources that use
     * {@link #GEMM} get it in between, and then each part names its file
     * ({@code #line 1 "gemm.cl"}). A {@link BackendException} when the kernels jar lacks one.
     */
    static String text(String name) {
        return PROGRAMS.computeIfAbsent(name, n -> WITH_GEMM.contains(n)
                ? file(PRELUDE) + "\n#line 1 \"" + GEMM + "\"\n" + file(GEMM) + "\n#line 1 \"" + n + "\"\n" + file(n)
                : file(PRELUDE) + "\n#line 1\n" + file(n));
    }

    /**
     * {@link #text} of a {@link #WITH_GEMM} source without the prelude: for a generated program
     * that already starts with it (elementwise.cl's functions before a matmul epilogue).
     */
    static String afterPrelude(String name) {
        if (!WITH_GEMM.contains(name)) {
            throw new IllegalArgumentException(name + " is not built after gemm.cl");
        }
        return "\n#line 1 \"" + GEMM + "\"\n" + file(GEMM) + "\n#line 1 \"" + name + "\"\n" + file(name);
    }

    /** Reads every source, so that a broken kernels jar fails when the backend loads. */
    static void verifyAll() {
        for (String name : ALL) {
            text(name);
        }
    }

    private static String file(String name) {
        return FILES.computeIfAbsent(name, KernelSources::load);
    }

    private static String load(String name) {
        ClassLoader loader = KernelSources.class.getClassLoader();
        try (InputStream in = loader.getResourceAsStream(DIR + name)) {
            if (in == null) {
                throw new BackendException("OpenCL kernel source " + DIR + name + " is not on the class "
                        + "path: the dev.spool:kernels jar is missing or incomplete");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            if (text.isBlank()) {
                throw new BackendException("OpenCL kernel source " + DIR + name + " is empty");
            }
            return text;
        } catch (IOException e) {
            throw new BackendException("cannot read OpenCL kernel source " + DIR + name + ": " + e, e);
        }
    }
}
