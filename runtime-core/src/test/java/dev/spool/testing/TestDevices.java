package dev.spool.testing;

import dev.spool.Device;
import dev.spool.DeviceException;
import dev.spool.TensorScope;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.params.provider.Arguments;
import org.opentest4j.TestAbortedException;

/**
 * The devices the conformance suite runs on, chosen by the system property
 * {@code spool.test.backend} that each backend module's surefire configuration sets:
 * {@code cpu} runs on the pure-Java device, {@code opencl} on every OpenCL device found.
 *
 * <p>No OpenCL device is a failure when {@code SPOOL_REQUIRE_OPENCL=1} (CI sets it: a skipped
 * OpenCL test is a hidden failure) and an aborted (skipped) test otherwise, for machines without
 * OpenCL. Use as {@code @ParameterizedTest(name = "{0}")} with
 * {@code @MethodSource("dev.spool.testing.TestDevices#underTest")}: the device id names the test.
 */
public final class TestDevices {
    public static final String BACKEND_PROPERTY = "spool.test.backend";
    public static final String REQUIRE_OPENCL_ENV = "SPOOL_REQUIRE_OPENCL";

    private TestDevices() {
    }

    /** The devices under test; aborts or fails (see the class comment) when there are none. */
    public static Stream<Device> underTest() {
        return devices().stream();
    }

    /** {@link #underTest()} as a list. */
    public static List<Device> devices() {
        String backend = System.getProperty(BACKEND_PROPERTY);
        if (backend == null || backend.isBlank()) {
            throw new TestAbortedException("system property " + BACKEND_PROPERTY + " is not set: the "
                    + "conformance suite runs from a backend module (mvn -pl runtime-cpu test), which sets it");
        }
        String name = backend.trim().toLowerCase(java.util.Locale.ROOT);
        if (name.equals("cpu")) {
            return List.of(Device.get("cpu")); // always available: a DeviceException here is a failure
        }
        List<Device> found = Device.list().stream()
                .filter(d -> d.info().backend().equals(name))
                .toList();
        if (!found.isEmpty()) {
            return found;
        }
        String why = reasonUnavailable(name);
        if (name.equals("opencl") && "1".equals(System.getenv(REQUIRE_OPENCL_ENV))) {
            throw new AssertionError(REQUIRE_OPENCL_ENV + "=1: OpenCL was required but no OpenCL device "
                    + "was found (" + why + ")");
        }
        throw new TestAbortedException("no " + name + " device on this machine (" + why + "); the "
                + name + " conformance tests are skipped" + (name.equals("opencl")
                ? " (set " + REQUIRE_OPENCL_ENV + "=1 to make this a failure)" : ""));
    }

    private static String reasonUnavailable(String backend) {
        try {
            Device.get(backend);
            return "the backend reports devices, but none of backend '" + backend + "'";
        } catch (DeviceException e) {
            return e.getMessage();
        }
    }

    /**
     * Skips a whole test class, visibly and with the reason, when there is no device to run it on
     * (and fails it when OpenCL is required): put {@code @ExtendWith(TestDevices.Available.class)}
     * on every class whose tests take their devices from {@link #underTest()}. Without it the skip
     * happens in the argument source, which Maven reports as "Tests run: 0" with no reason.
     */
    public static final class Available implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            try {
                return ConditionEvaluationResult.enabled("devices under test: " + devices());
            } catch (TestAbortedException e) {
                return ConditionEvaluationResult.disabled(e.getMessage());
            }
        }
    }

    /** Every device under test paired with every row of a table: arguments {@code (device, row)}. */
    public static Stream<Arguments> withEach(List<?> rows) {
        return underTest().flatMap(d -> rows.stream().map(r -> Arguments.of(d, r)));
    }

    /** Makes {@code device} current and opens a {@link TensorScope}; closing undoes both. */
    public static On on(Device device) {
        return new On(device);
    }

    /** See {@link #on(Device)}. */
    public static final class On implements AutoCloseable {
        private final Device.Scope deviceScope;
        private final TensorScope tensors;

        private On(Device device) {
            deviceScope = Device.use(device);
            tensors = new TensorScope();
        }

        /** The scope that owns this block's tensors. */
        public TensorScope tensors() {
            return tensors;
        }

        @Override
        public void close() {
            try {
                tensors.close();
            } finally {
                deviceScope.close();
            }
        }
    }
}
