package dev.spool.opencl;

import static org.jocl.CL.clReleaseProgram;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.BackendException;
import dev.spool.DType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kernel the backend can launch exists and builds; build failures carry the build log. */
@ExtendWith(TestDevices.class)
class KernelCatalogTest {

    @Test
    void everyPrimitiveAndDtypeOfTheSpiHasKernels() {
        KernelCatalog.verify(true);
        KernelCatalog.verify(false);
        assertTrue(KernelCatalog.all(false).stream().noneMatch(k -> k.dtype() == DType.FLOAT64));
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void everyCatalogKernelBuildsOnTheDevice(OpenClBackend b) {
        List<String> failures = new ArrayList<>();
        for (KernelCatalog.KernelRef k : KernelCatalog.all(b.info().fp64())) {
            try {
                b.programs().kernel(k.source(), k.options(), k.kernel());
            } catch (BackendException e) {
                failures.add(k + ": " + e.getMessage());
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void everySourceCompilesOnItsOwnWithItsDefaults(OpenClBackend b) {
        for (String source : KernelSources.ALL) {
            clReleaseProgram(b.programs().build(source, KernelSources.text(source), ""));
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void aBrokenKernelFailsWithTheBuildLog(OpenClBackend b) {
        String broken = "kernel void broken(global float* x) { x[0] = no_such_variable; }\n";
        KernelBuildException e = assertThrows(KernelBuildException.class,
                () -> b.programs().build("broken.cl", broken, "-DFOO=1"));
        assertTrue(e.getMessage().contains("CL_BUILD_PROGRAM_FAILURE"), e.getMessage());
        assertTrue(e.getMessage().contains("broken.cl") && e.getMessage().contains("-DFOO=1"), e.getMessage());
        assertTrue(e.getMessage().contains("no_such_variable"), "the build log names the error: " + e.getMessage());
        assertFalse(e.buildLog().isBlank());
        // the prelude the host puts in front of every kernel file does not shift line numbers
        String source = KernelSources.text(KernelSources.RANDOM).replace("kernel void random_uniform(",
                "void broken_helper(void) { int x = no_such_variable_either; }\nkernel void random_uniform(");
        int line = 1 + (int) KernelSources.text(KernelSources.RANDOM).lines()
                .dropWhile(l -> !l.equals("#line 1")).skip(1)
                .takeWhile(l -> !l.startsWith("kernel void random_uniform(")).count();
        KernelBuildException shifted = assertThrows(KernelBuildException.class,
                () -> b.programs().build(KernelSources.RANDOM, source, "-DT=float -DT_IS_FP=1"));
        assertTrue(shifted.buildLog().contains(":" + line + ":"),
                "the build log points at line " + line + " of random.cl: " + shifted.buildLog());
        // the device is fine afterwards
        new ElementwiseTest().scalarBroadcastAndRank0(b);
    }

    @Test
    void aMissingSourceIsAClearError() {
        BackendException e = assertThrows(BackendException.class, () -> KernelSources.text("no-such.cl"));
        assertTrue(e.getMessage().contains("dev/spool/kernels/no-such.cl"), e.getMessage());
    }
}
