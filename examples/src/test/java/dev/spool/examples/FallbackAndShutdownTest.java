package dev.spool.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.spool.Device;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tutorial as a user starts it, in a JVM of its own: what happens when OpenCL has no
 * platform (the ICD loader is pointed at an empty vendors directory), and that a run on an
 * OpenCL device ends with a clean exit, every CL object released by the shutdown hook.
 */
class FallbackAndShutdownTest {

    private record Run(int exitCode, String stdout, String stderr) {
    }

    /** Runs AutodiffTutorial with {@code args} in a new JVM on this test's class path. */
    private static Run tutorial(Map<String, String> env, Path dir, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log"),
                // the examples' logging, as a user's run has it (not core's logback-test.xml)
                "-Dlogback.configurationFile=logback.xml",
                AutodiffTutorial.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        pb.environment().remove("SPOOL_DEVICE");
        pb.environment().putAll(env);
        pb.redirectOutput(dir.resolve("out.txt").toFile());
        pb.redirectError(dir.resolve("err.txt").toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the tutorial did not finish in 120 s");
        return new Run(p.exitValue(), Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8),
                Files.readString(dir.resolve("err.txt"), StandardCharsets.UTF_8));
    }

    /** An ICD loader (ocl-icd or Khronos') that reads its drivers from an empty directory. */
    private static Map<String, String> noOpenClDrivers(Path dir) throws IOException {
        Path vendors = Files.createDirectories(dir.resolve("no-vendors"));
        return Map.of("OCL_ICD_VENDORS", vendors.toString(), "OCL_ICD_FILENAMES", "");
    }

    @Test
    void withoutAnOpenClPlatformOneWarningAndTheCpuBackend(@TempDir Path dir) throws Exception {
        Run run = tutorial(noOpenClDrivers(dir), dir);
        assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
        assertTrue(run.stdout().contains("All tutorial values match."), run.stdout());
        assertTrue(run.stdout().contains("device=cpu)"), run.stdout());
        List<String> warnings = run.stderr().lines().filter(l -> l.matches(".*\\bWARN\\b.*")).toList();
        assertEquals(1, warnings.size(), "one WARN line: " + run.stderr());
        assertTrue(warnings.get(0).contains("OpenCL is not available")
                && warnings.get(0).contains("apt-get install pocl-opencl-icd"), warnings.get(0));
    }

    @Test
    void askingForOpenClWithoutItIsAClearErrorNotAStackTrace(@TempDir Path dir) throws Exception {
        Run run = tutorial(noOpenClDrivers(dir), dir, "--device", "opencl");
        assertEquals(2, run.exitCode(), run.stdout() + run.stderr());
        assertTrue(run.stderr().contains("device 'opencl' is not available: OpenCL is not available"),
                run.stderr());
        assertFalse(run.stderr().contains("Exception in thread"), run.stderr());
        assertFalse(run.stdout().contains("Running TensorFlow's autodiff tutorial"), run.stdout());
    }

    /** Aborts the test where there is no OpenCL device, or fails it where OpenCL is required. */
    private static void requireOpenCl() {
        boolean found = Device.list().stream().anyMatch(d -> d.info().backend().equals("opencl"));
        boolean required = "1".equals(System.getenv("SPOOL_REQUIRE_OPENCL"));
        assertTrue(found || !required, "SPOOL_REQUIRE_OPENCL=1 but no OpenCL device was found");
        assumeTrue(found, "no OpenCL device here; set SPOOL_REQUIRE_OPENCL=1 to make this a failure");
    }

    @Test
    void devicesListsEveryPlatformEveryDeviceAndWhatOpenclSelects(@TempDir Path dir) throws Exception {
        requireOpenCl();
        // Rusticl's software device on, where Mesa is installed: a second implementation beside PoCL
        Run run = tutorial(Map.of("RUSTICL_ENABLE", "llvmpipe"), dir, "--devices");
        assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
        assertTrue(run.stdout().contains("cpu: 1 device(s)\n  cpu  "), run.stdout());
        assertTrue(run.stdout().matches("(?s).*\nOpenCL: \\d+ platform\\(s\\)\n.*"), run.stdout());
        assertTrue(run.stdout().matches("(?s).*\n    opencl:0  .*\n'opencl' selects opencl:\\d+ .*"), run.stdout());
        // CI installs Mesa's Clover and Rusticl beside PoCL, as on a desktop, and names them here
        String expected = System.getenv("SPOOL_EXPECT_OPENCL_PLATFORMS");
        if (expected != null && !expected.isBlank()) {
            for (String name : expected.split(",")) {
                assertTrue(run.stdout().contains("\n  " + name.trim() + " ("), name + " in " + run.stdout());
            }
            if (expected.contains("rusticl")) {
                assertTrue(run.stdout().matches("(?s).*\n    opencl:\\d+  llvmpipe .*"), run.stdout());
            }
        }
        assertFalse(run.stderr().lines().anyMatch(l -> l.matches(".*\\b(WARN|ERROR)\\b.*")), run.stderr());
    }

    @Test
    void openclWithoutAnIndexIsTheBestDeviceAndSaysWhich(@TempDir Path dir) throws Exception {
        requireOpenCl();
        Run run = tutorial(Map.of(), dir, "--device", "opencl");
        assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
        assertTrue(run.stderr().lines().anyMatch(l -> l.matches(".*\\bINFO\\b.*'opencl' is opencl:\\d+ \\(.*, "
                + "(GPU|ACCELERATOR|CPU|OTHER)\\), the best of \\d+ device\\(s\\).*")), run.stderr());
        assertTrue(run.stdout().contains("All tutorial values match."), run.stdout());
    }

    @Test
    void aRunOnOpenClExitsCleanly(@TempDir Path dir) throws Exception {
        requireOpenCl();
        Run run = tutorial(Map.of(), dir, "--device", "opencl:0");
        assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
        assertTrue(run.stdout().contains("device=opencl:0)"), run.stdout());
        assertTrue(run.stdout().contains("All tutorial values match."), run.stdout());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().startsWith("hs_err")).toList(),
                    "the JVM crashed on exit");
        }
        assertFalse(run.stderr().lines().anyMatch(l -> l.matches(".*\\bERROR\\b.*")), run.stderr());
    }
}
