package dev.spool.opencl;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The OpenCL devices the tests run on, shared by every test class (so programs are built once).
 * Without a device, tests are disabled with the reason, unless {@code SPOOL_REQUIRE_OPENCL=1}:
 * then they fail, since in CI a skipped OpenCL test is a hidden failure.
 */
public final class TestDevices implements ExecutionCondition {
    static final boolean REQUIRED = "1".equals(System.getenv("SPOOL_REQUIRE_OPENCL"));

    private static List<OpenClBackend> natives;
    private static List<OpenClBackend> otherStyle;
    private static String reason;

    /** Every device with the strategy of its type. */
    static synchronized List<OpenClBackend> all() {
        if (natives == null) {
            OpenClBackendProvider provider = new OpenClBackendProvider();
            natives = List.copyOf(provider.discover().stream().map(b -> (OpenClBackend) b).toList());
            reason = provider.unavailableReason();
            Runtime.getRuntime().addShutdownHook(new Thread(TestDevices::closeAll, "test-devices-close"));
        }
        if (natives.isEmpty() && REQUIRED) {
            throw new AssertionError("SPOOL_REQUIRE_OPENCL=1 but no OpenCL device was found: " + reason);
        }
        return natives;
    }

    /** Every device again, with the other strategy (GPU kernels on CPUs and vice versa). */
    static synchronized List<OpenClBackend> otherStyle() {
        if (otherStyle == null) {
            List<OpenClBackend> out = new ArrayList<>();
            for (OpenClBackend b : all()) {
                out.add(b.withStrategy(b.strategy().equals("CPU") ? Tuning.Style.GPU : Tuning.Style.CPU));
            }
            otherStyle = List.copyOf(out);
        }
        return otherStyle;
    }

    /** Both of the above: for tests of the code paths that differ by strategy. */
    static Stream<OpenClBackend> bothStyles() {
        return Stream.concat(all().stream(), otherStyle().stream());
    }

    static Stream<OpenClBackend> otherStyleStream() {
        return otherStyle().stream();
    }

    static Stream<OpenClBackend> devices() {
        return all().stream();
    }

    private static synchronized void closeAll() {
        for (List<OpenClBackend> list : java.util.Arrays.asList(otherStyle, natives)) { // views first
            if (list != null) {
                list.forEach(OpenClBackend::close);
            }
        }
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (REQUIRED || !all().isEmpty()) {
            return ConditionEvaluationResult.enabled("OpenCL devices: " + all());
        }
        return ConditionEvaluationResult.disabled("no OpenCL device (" + reason
                + "); set SPOOL_REQUIRE_OPENCL=1 to make this a failure");
    }
}
