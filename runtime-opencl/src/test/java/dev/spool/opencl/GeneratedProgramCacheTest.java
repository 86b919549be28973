package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Traced functions' generated programs are kept on disk: the first build writes the binary
 * under the cache directory ({@code spool.opencl.cacheDir}), a new program cache (a later run)
 * loads it instead of compiling, and a binary the driver rejects is rebuilt from source.
 */
@ExtendWith(TestDevices.class)
class GeneratedProgramCacheTest {

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void aGeneratedProgramIsBuiltOnceAndThenLoadedFromDisk(OpenClBackend b, @TempDir Path dir) throws Exception {
        String before = System.getProperty(GemmTuner.CACHE_DIR_PROPERTY);
        System.setProperty(GemmTuner.CACHE_DIR_PROPERTY, dir.toString());
        try {
            String text = FusedKernels.example();
            String options = ClTypes.options(DType.FLOAT32);
            ProgramCache first = new ProgramCache(b.device());
            try (first) {
                first.generated("example", text, options, "fused");
                assertArrayEquals(new int[] {0, 1}, first.generatedLoadsAndBuilds(), "built from source");
            }
            Path kernels = dir.resolve("kernels");
            long files;
            try (Stream<Path> s = Files.list(kernels)) {
                files = s.filter(p -> p.toString().endsWith(".bin")).count();
            }
            assertEquals(1, files, "one binary written under " + kernels);
            ProgramCache second = new ProgramCache(b.device());
            try (second) {
                KernelCall k = second.generated("example", text, options, "fused");
                assertArrayEquals(new int[] {1, 0}, second.generatedLoadsAndBuilds(), "loaded from disk");
                assertTrue(k.maxLocal() > 0);
            }
            try (Stream<Path> s = Files.list(kernels)) { // a damaged binary: rebuilt from source
                for (Path p : s.toList()) {
                    Files.write(p, new byte[] {1, 2, 3});
                }
            }
            ProgramCache third = new ProgramCache(b.device());
            try (third) {
                third.generated("example", text, options, "fused");
                assertArrayEquals(new int[] {0, 1}, third.generatedLoadsAndBuilds(), "rebuilt after a bad binary");
            }
        } finally {
            if (before == null) {
                System.clearProperty(GemmTuner.CACHE_DIR_PROPERTY);
            } else {
                System.setProperty(GemmTuner.CACHE_DIR_PROPERTY, before);
            }
        }
    }
}
