package dev.spool.opencl;

import dev.spool.BackendException;

/**
 * An OpenCL program failed to build. The message names the source file, the build options,
 * the device and the OpenCL error, and ends with the compiler's complete build log.
 */
public final class KernelBuildException extends BackendException {
    private final String buildLog;

    KernelBuildException(String source, String options, String device, String error, String buildLog,
                         Throwable cause) {
        super("building OpenCL program " + source + " with options '" + options + "' for " + device
                + " failed: " + error + "\n--- build log ---\n" + buildLog, cause);
        this.buildLog = buildLog;
    }

    /** The compiler's build log, as the driver reported it. */
    public String buildLog() {
        return buildLog;
    }
}
