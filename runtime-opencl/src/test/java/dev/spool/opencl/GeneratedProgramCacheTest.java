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
 * loads it instead of compiling, and a damaged file is rebuilt from source without reaching the
 * driver. On Mesa's drivers (Rusticl aborts the process on a binary it does not know) the disk
 * cache is off, and nothing is written.
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
            if (!new ProgramCache(b.device()).diskCacheEnabled()) { // Mesa: Rusticl aborts on a foreign binary
                try (ProgramCache c = new ProgramCache(b.device())) {
                    c.generated("example", text, options, "fused");
                    assertArrayEquals(new int[] {0, 1}, c.generatedLoadsAndBuilds());
                }
                assertTrue(!Files.exists(dir.resolve("kernels")), "no binary written on " + b.device().describe());
                return;
            }
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
            try (Stream<Path> s = Files.list(kernels)) { // a damaged binary: never given to the driver, rebuilt
                for (Path p : s.toList()) {
                    byte[] bytes = Files.readAllBytes(p);
                    bytes[bytes.length - 1] ^= 0x55;
                    Files.write(p, bytes);
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
