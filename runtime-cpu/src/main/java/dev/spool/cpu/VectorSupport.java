package dev.spool.cpu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the SIMD paths (on {@code jdk.incubator.vector}) may run. The Vector API is an
 * incubator module on JDK 17 and later: the JVM resolves it only when started with
 * {@code --add-modules jdk.incubator.vector}. Without it, a class that touches the API fails to
 * load, so every SIMD class is reached only through a check of {@link #ENABLED}, and the
 * backend keeps its scalar loops, saying once at INFO how to enable the fast paths (as Apache
 * Lucene does). {@code -Dspool.cpu.vector=false} turns the SIMD paths off on purpose.
 */
final class VectorSupport {
    private static final Logger LOG = LoggerFactory.getLogger(VectorSupport.class);

    /** True when the Vector API module is present and not switched off. */
    static final boolean ENABLED = detect();

    private VectorSupport() {
    }

    private static boolean detect() {
        if ("false".equalsIgnoreCase(System.getProperty("spool.cpu.vector"))) {
            LOG.info("cpu: SIMD paths switched off by -Dspool.cpu.vector=false; using scalar loops");
            return false;
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            LOG.info("cpu: the Vector API module is not enabled, so matmul and elementwise ops use "
                    + "scalar loops (several times slower); start the JVM with "
                    + "--add-modules jdk.incubator.vector to enable the SIMD paths");
            return false;
        }
        return true;
    }
}
