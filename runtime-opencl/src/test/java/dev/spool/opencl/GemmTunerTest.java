package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.spool.DType;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The tuner's choices and its cache, with a stand-in timer (no device, no timing): the fastest
 * candidate wins, the winner is written and read back, a bad cache is ignored with a WARN.
 */
class GemmTunerTest {
    static final GemmConfig SLOW = GemmConfig.ROWS_DEFAULT;
    static final GemmConfig FAST = GemmConfig.tiled(32, 32, 16, 2, 2);
    static final GemmConfig MEDIUM = GemmConfig.rows(8, 16);
    static final List<GemmConfig> CANDIDATES = List.of(SLOW, FAST, MEDIUM);
    /**
     * What tuning one class times: every candidate, then the default again, then the fastest
     * other alternately with the default until it has won both rounds of its duel.
     */
    static final List<GemmConfig> TIMED = List.of(SLOW, FAST, MEDIUM, SLOW, FAST, SLOW, FAST);

    @TempDir
    Path dir;

    private GemmTuner tuner(boolean enabled, GemmConfig pinned) {
        return new GemmTuner(enabled, pinned, dir.resolve(GemmTuner.CACHE_FILE), "test device | 1.0", CANDIDATES, SLOW);
    }

    /** Pretends FAST takes 1 ms, MEDIUM 2 ms, SLOW 3 ms; records what it timed. */
    private static GemmTuner.Timer timer(List<GemmConfig> timed) {
        Map<GemmConfig, Double> seconds = Map.of(SLOW, 3e-3, FAST, 1e-3, MEDIUM, 2e-3);
        return (c, t, m, n, k) -> {
            timed.add(c);
            return seconds.get(c);
        };
    }

    private static final GemmTuner.Timer NEVER = (c, t, m, n, k) -> fail("timed " + c + " although the cache has an answer");

    /**
     * GPU-style devices time neither CPU kernel family (packed, vec) nor tiled shapes with more
     * outputs per work-item than registers hold (docs/GPU-RESOURCES.md); the fallbacks a GPU uses
     * when a tile does not fit (the tiled default, rows) stay; CPU devices may time every one.
     */
    @Test
    void gpuCandidatesAreTheKernelsThatFitAGpusRegisters() {
        List<GemmConfig> gpu = GemmTuner.candidates(Tuning.Style.GPU);
        assertTrue(gpu.contains(GemmConfig.TILED_DEFAULT) && gpu.contains(GemmConfig.ROWS_DEFAULT), gpu.toString());
        for (GemmConfig c : gpu) {
            assertTrue(c.kind() == GemmConfig.Kind.ROWS || c.kind() == GemmConfig.Kind.TILED
                    && c.wptm() * c.wptn() <= GemmTuner.GPU_MAX_OUTPUTS, c.toString());
        }
        assertTrue(gpu.size() < GemmConfig.CANDIDATES.size(), "some candidates are for CPUs only");
        assertEquals(GemmConfig.CANDIDATES, GemmTuner.candidates(Tuning.Style.CPU));
        for (KernelCatalog.KernelRef k : KernelCatalog.all(true)) {
            if (k.source().equals(KernelSources.MATMUL)) {
                boolean gpuConfig = gpu.stream().anyMatch(c -> c.kernel().equals(k.kernel()) && c.options(k.dtype())
                        .equals(k.options()));
                assertEquals(gpuConfig, k.gpuPath(), "the catalog's GPU path for " + k);
            }
        }
    }

    @Test
    void picksTheFastestCandidateAndCachesItPerDtypeAndSizeClass() throws IOException {
        List<GemmConfig> timed = new ArrayList<>();
        GemmTuner first = tuner(true, null);
        assertEquals(FAST, first.configFor(DType.FLOAT32, 1024, 1024, 1024, timer(timed)));
        assertEquals(TIMED, timed, "the default is timed first, then the rest, then the duel");
        assertEquals(FAST, first.configFor(DType.FLOAT32, 2048, 512, 1024, NEVER), "same class (2^30): chosen once");
        assertEquals(FAST, first.configFor(DType.FLOAT32, 8, 8, 8, timer(timed)));
        assertEquals(2 * TIMED.size(), timed.size(), "a small product is another class");
        Properties file = new Properties();
        try (Reader in = Files.newBufferedReader(dir.resolve(GemmTuner.CACHE_FILE), StandardCharsets.UTF_8)) {
            file.load(in);
        }
        assertEquals(Map.of("test device | 1.0 | float32 mnk 2^30..2^33", FAST.toString(),
                "test device | 1.0 | float32 mnk 2^9..2^12", FAST.toString()), Map.copyOf(file), "the cache file");

        GemmTuner second = tuner(true, null); // a new process: reads the file instead of timing
        assertEquals(FAST, second.configFor(DType.FLOAT32, 1024, 1024, 1024, NEVER));
        assertEquals(FAST, second.configFor(DType.FLOAT32, 8, 8, 8, NEVER));
    }

    /**
     * A class is tuned on the shape of its first product (the MLP's 128x784 @ 784x256, not a
     * cube); one beyond 2^30 multiply-adds on a copy halved along its longest side until it fits.
     */
    @Test
    void aClassIsTunedOnItsFirstProductsOwnShape() {
        List<List<Long>> shapes = new ArrayList<>();
        GemmTuner.Timer recording = (c, t, m, n, k) -> {
            shapes.add(List.of(m, n, k));
            return c == FAST ? 1e-3 : 2e-3;
        };
        GemmTuner tuner = tuner(true, null);
        assertEquals(8, GemmTuner.sizeClass(128, 256, 784), "2^24.6");
        assertEquals(FAST, tuner.configFor(DType.FLOAT32, 128, 256, 784, recording));
        assertEquals(List.of(List.of(128L, 256L, 784L)), shapes.stream().distinct().toList());
        assertEquals(TIMED.size(), shapes.size());
        assertEquals(FAST, tuner.configFor(DType.FLOAT32, 784, 256, 128, NEVER), "same class, other aspect");
        shapes.clear();
        assertEquals(12, GemmTuner.sizeClass(4096, 4096, 4096));
        tuner.configFor(DType.FLOAT32, 4096, 4096, 4096, recording);
        assertEquals(List.of(List.of(1024L, 1024L, 1024L)), shapes.stream().distinct().toList());
        assertEquals(7, GemmTuner.sizeClass(256, 256, 255), "just under 2^24");
        assertEquals(8, GemmTuner.sizeClass(256, 256, 256), "2^24");
        assertEquals(0, GemmTuner.sizeClass(0, 5, 5), "empty products are class 0");
        assertEquals(21, GemmTuner.sizeClass(Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE),
                "past Long.MAX_VALUE: the last class");
    }

    @Test
    void aCorruptCacheEntryIsIgnoredWithAWarningAndTunedAgain() throws IOException {
        tuner(true, null).configFor(DType.FLOAT64, 1024, 1024, 1024, timer(new ArrayList<>()));
        Path file = dir.resolve(GemmTuner.CACHE_FILE);
        Files.writeString(file, Files.readString(file).replace("tiled\\:32x32x16\\:2x2", "tiled\\:banana"));
        List<ILoggingEvent> warnings = captureWarnings(() -> {
            List<GemmConfig> timed = new ArrayList<>();
            assertEquals(FAST, tuner(true, null).configFor(DType.FLOAT64, 1024, 1024, 1024, timer(timed)));
            assertEquals(TIMED, timed, "tuned again");
        });
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).getFormattedMessage().contains("banana"), warnings.get(0).getFormattedMessage());
        assertTrue(Files.readString(file).contains("tiled\\:32x32x16\\:2x2"), "the bad entry is replaced");
    }

    @Test
    void anUnreadableCacheFileIsIgnoredWithAWarning() throws IOException {
        Files.writeString(dir.resolve(GemmTuner.CACHE_FILE), "key=\\u12G4 malformed escape\n");
        List<ILoggingEvent> warnings = captureWarnings(() ->
                assertEquals(FAST, tuner(true, null).configFor(DType.FLOAT32, 8, 8, 8, timer(new ArrayList<>()))));
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).getFormattedMessage().contains("unreadable"), warnings.get(0).getFormattedMessage());
    }

    @Test
    void tuningOffUsesTheDefaultAndAPinWinsOverEverything() {
        assertEquals(SLOW, tuner(false, null).configFor(DType.FLOAT32, 1024, 1024, 1024, NEVER));
        assertEquals(MEDIUM, tuner(true, MEDIUM).configFor(DType.FLOAT32, 1024, 1024, 1024, NEVER));
        assertEquals(MEDIUM, tuner(false, MEDIUM).configFor(DType.FLOAT32, 8, 8, 8, NEVER));
        assertTrue(Files.notExists(dir.resolve(GemmTuner.CACHE_FILE)), "nothing tuned, nothing written");
    }

    /**
     * The 2 s budget on a loaded machine, with a fake clock that each timing advances. At 0.25 s
     * a timing, pass one (every candidate, within 1.4 s) ends at 0.75 s, and the duel (the
     * default again, then FAST, the default, FAST) at 1.75 s. At 0.7 s a second candidate ends
     * pass one at 1.4 s, a third is not started, and the default's second timing would end
     * at 2.1 s: no duel fits, so the default stays although FAST looked faster.
     */
    @Test
    void tuningKeepsToTheBudgetAndAnUnconfirmedCandidateDoesNotWin() {
        for (long step : new long[] {250_000_000L, 700_000_000L}) {
            long[] now = {0};
            List<GemmConfig> timed = new ArrayList<>();
            GemmTuner.Timer slowMachine = (c, t, m, n, k) -> {
                now[0] += step;
                return timer(timed).seconds(c, t, m, n, k);
            };
            GemmTuner tuner = new GemmTuner(true, null, dir.resolve("budget-" + step), "test device | 1.0", CANDIDATES,
                    SLOW, () -> now[0]);
            GemmConfig chosen = tuner.configFor(DType.FLOAT32, 1024, 1024, 1024, slowMachine);
            assertTrue(now[0] <= GemmTuner.BUDGET_NANOS, "tuning took " + now[0] + " ns");
            if (step == 250_000_000L) {
                assertEquals(TIMED, timed);
                assertEquals(FAST, chosen);
            } else {
                assertEquals(List.of(SLOW, FAST), timed, "the third candidate would cross 1.4 s");
                assertEquals(SLOW, chosen, "FAST never timed beside the default");
            }
        }
    }

    /**
     * The default's first timing is 5x off (a loaded machine), later ones 1.0 ms. FAST at 0.95 ms
     * looks 5x faster in pass one but is within the margin beside the default: the default
     * stays (MEDIUM, the other challenger, loses its duel too). At 0.85 ms FAST wins both rounds.
     */
    @Test
    void theDefaultGivesWayOnlyToACandidateThatBeatsItInADuel() {
        for (double fast : new double[] {0.95e-3, 0.85e-3}) {
            int[] defaultTimings = {0};
            List<GemmConfig> timed = new ArrayList<>();
            GemmTuner.Timer noisy = (c, t, m, n, k) -> {
                timed.add(c);
                return c == SLOW ? (defaultTimings[0]++ == 0 ? 5e-3 : 1e-3) : c == FAST ? fast : 2e-3;
            };
            GemmTuner tuner = new GemmTuner(true, null, dir.resolve("margin-" + fast), "test device | 1.0",
                    CANDIDATES, SLOW);
            assertEquals(fast > 0.9e-3 ? SLOW : FAST, tuner.configFor(DType.FLOAT32, 1024, 1024, 1024, noisy),
                    "FAST at " + fast + " s");
            assertEquals(fast > 0.9e-3 ? List.of(SLOW, FAST, MEDIUM, SLOW, FAST, SLOW, MEDIUM) : TIMED, timed);
        }
    }

    /**
     * A machine that is twice as slow while the default is first timed, and steady after: a
     * candidate 5 % faster than the default looks 2x faster in pass one, and is not chosen.
     */
    @Test
    void aCandidateThatOnlyLookedFasterWhileTheMachineWasSlowIsNotChosen() {
        int[] calls = {0};
        GemmTuner.Timer drifting = (c, t, m, n, k) -> {
            double phase = calls[0]++ == 0 ? 2.0 : 1.0;
            return phase * (c == SLOW ? 1e-3 : c == FAST ? 0.95e-3 : 3e-3);
        };
        GemmTuner tuner = new GemmTuner(true, null, dir.resolve("drift"), "test device | 1.0", CANDIDATES, SLOW);
        assertEquals(SLOW, tuner.configFor(DType.FLOAT32, 1024, 1024, 1024, drifting));
    }

    @Test
    void configurationsParseFromTheirOwnSpelling() {
        for (GemmConfig c : GemmConfig.CANDIDATES) {
            assertEquals(c, GemmConfig.parse(c.toString()));
        }
        assertEquals(GemmConfig.tiled(64, 32, 8, 4, 2), GemmConfig.parse(" TILED:64x32x8:4x2 "));
        assertThrows(IllegalArgumentException.class, () -> GemmConfig.parse("tiled:64x64:4x4"));
        assertThrows(IllegalArgumentException.class, () -> GemmConfig.parse("tiled:64x64x16:3x4"), "64 % 3 != 0");
        assertThrows(IllegalArgumentException.class, () -> GemmConfig.parse("rows:4x33"), "not a power of two");
        assertEquals(GemmConfig.vec(8, 16, 16), GemmConfig.parse("vec:8x16x16"));
        assertThrows(IllegalArgumentException.class, () -> GemmConfig.parse("vec:8x3x16"), "no float3 accumulators");
        assertThrows(IllegalArgumentException.class, () -> GemmConfig.parse("blocked:4"));
        assertEquals(GemmConfig.packed(6, 16, 48, 64, 256), GemmConfig.parse("packed:6x16:48x64x256"));
        assertThrows(IllegalArgumentException.class, () -> GemmConfig.parse("packed:6x16:48x60x256"),
                "a block width that is not a multiple of the vector width");
        assertThrows(IllegalArgumentException.class, () -> GemmConfig.parse("packed:6x16:48x64"));
        assertThrows(IllegalArgumentException.class, () -> GemmConfig.parse("packed:6x16"));
    }

    private static List<ILoggingEvent> captureWarnings(Runnable r) {
        Logger logger = (Logger) LoggerFactory.getLogger(GemmTuner.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            r.run();
        } finally {
            logger.detachAppender(appender);
        }
        return appender.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
    }
}
