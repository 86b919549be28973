package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.Device;
import dev.spool.DeviceStats;
import dev.spool.FaultyDevices;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.testing.TestDevices;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A kernel that fails to build, met by a user's op: the exception carries the driver's build
 * log, the op leaves no buffer behind, and other kernels and tensors keep working. The failure
 * is a real build of a broken source on this device, delivered at the op's launch (programs are
 * built at their first launch) by {@link FaultyDevices}.
 */
@ExtendWith(TestDevices.Available.class)
class KernelBuildFailureTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aKernelThatDoesNotBuildFailsTheOpWithItsBuildLogAndNothingElse(Device real) {
        OpenClBackend backend = (OpenClBackend) FaultyDevices.backendOf(real);
        KernelBuildException broken = assertThrows(KernelBuildException.class, () -> backend.programs()
                .build("elementwise.cl", "kernel void tanh_f32(global float* x) { x[0] = no_such_variable; }\n", ""));
        FaultyDevices.Faulty faulty = FaultyDevices.wrap(real);
        Device device = faulty.device();
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope()) {
            Tensor x = Spool.constant(new float[] {-1, 0, 2});
            Tensor doubled = x.add(x);
            DeviceStats start = device.stats();
            faulty.backend().failOn("unary", 1, broken);
            KernelBuildException e = assertThrows(KernelBuildException.class, x::tanh);
            assertSame(broken, e);
            assertTrue(e.getMessage().contains("no_such_variable") && e.getMessage().contains("build log"),
                    "the build log is in the message: " + e.getMessage());
            assertEquals(start.liveBuffers(), device.stats().liveBuffers(), "the failed op's output went back");
            assertEquals(start.liveBytes(), device.stats().liveBytes());
            // Other kernels, earlier tensors and the same op afterwards all work.
            assertArrayEquals(new float[] {-2, 0, 4}, doubled.toFloatArray());
            assertArrayEquals(new float[] {1, 0, 4}, x.square().toFloatArray());
            assertArrayEquals(new float[] {(float) Math.tanh(-1), 0, (float) Math.tanh(2)}, x.tanh().toFloatArray(), 1e-6f);
        }
        assertEquals(0, device.stats().liveBuffers());
    }
}
