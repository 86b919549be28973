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

    /** Every source the backend uses. */
    static final List<String> ALL = List.of(ELEMENTWISE, REDUCTION, MATMUL, COPY, RANDOM, INDEXING);

    private static final String DIR = "dev/spool/kernels/";
    private static final Map<String, String> TEXT = new ConcurrentHashMap<>();

    private KernelSources() {
    }

    /** The text of {@code name}; a {@link BackendException} when the kernels jar lacks it. */
    static String text(String name) {
        return TEXT.computeIfAbsent(name, KernelSources::load);
    }

    /** Reads every source, so that a broken kernels jar fails when the backend loads. */
    static void verifyAll() {
        for (String name : ALL) {
            text(name);
        }
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
