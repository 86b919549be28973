package dev.spool.opencl;

import dev.spool.DType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the matmul configuration ({@link GemmConfig}) for a device, per element type and size
 * class (M·N·K within a factor of 8: 2^24..2^27 is one class): at the first product of a class
 * it times the candidates that fit the device on that product's own M, N and K (scaled down
 * to at most {@link #MAX_TUNED} multiply-adds),
 * within {@link #BUDGET_NANOS} in all (a candidate is not started when one as slow as the
 * slowest so far would cross it; the default is always timed), keeps the fastest, and caches it on disk keyed by the
 * device name, driver version and a hash of matmul.cl, so a device is tuned once per kernel
 * version. Kernels for devices never seen choose themselves; the style's default is measured
 * first, so tuning can only pick something faster than it was. Single timings on a loaded
 * machine are too noisy to trust: another kernel replaces the default only by beating it by
 * {@link #DEFAULT_MARGIN} in pass one and then in every round of a duel, timed alternately
 * with the default ({@link #duel}).
 *
 * <p>System properties: {@value #TUNE_PROPERTY}{@code =false} uses the style's default (and
 * so do memory-check runs, whose timings mean nothing); {@value #PIN_PROPERTY}{@code =<config>}
 * uses that configuration everywhere (e.g. {@code tiled:64x64x16:4x4}, {@code rows:4x32});
 * {@value #CACHE_DIR_PROPERTY} moves the cache from {@code ${XDG_CACHE_HOME:-~/.cache}/spool}.
 * Not thread-safe: used under the backend's lock.
 */
final class GemmTuner {
    private static final Logger log = LoggerFactory.getLogger(GemmTuner.class);
    static final String TUNE_PROPERTY = "spool.opencl.tune";
    static final String PIN_PROPERTY = "spool.opencl.gemm";
    /** Pins the configuration of the implicit-GEMM convolutions (tiled or packed). */
    static final String CONV_PIN_PROPERTY = "spool.opencl.conv";
    static final String CACHE_DIR_PROPERTY = "spool.opencl.cacheDir";
    static final String CACHE_FILE = "opencl-gemm.properties";
    /** All tuning of one (dtype, class) together stays under this. */
    static final long BUDGET_NANOS = 2_000_000_000L;
    /**
     * Powers of two of M·N·K per size class. Two classes (up to 2^24, tuned on 256³, and
     * above, on 512³) picked PoCL's 8x16 vec kernel for the MLP's 128x784 @ 784x256 (2.0 ms
     * in a C harness) where 16x16 ran it in 0.85-1.3 ms; at 1024³ the order is the reverse
     * (51 against 128 ms): the best shape depends on the product's size and aspect.
     */
    static final int CLASS_BITS = 3;
    /** The default and the fastest others that may challenge it in pass two. */
    static final int FINALISTS = 3;
    /** Rounds a challenger must win against the default's adjacent timing. */
    static final int DUEL_ROUNDS = 2;
    /** Share of the budget for timing every candidate once; the rest is for the duels. */
    static final double EXPLORE_SHARE = 0.7;
    /**
     * Another candidate replaces the default only when it is faster than this fraction of the
     * default's time. The default is the kernel that is robust to transposed operands (the
     * tuner times the plain product only); PoCL's timings of near-equal kernels swap order
     * from run to run.
     */
    static final double DEFAULT_MARGIN = 0.9;
    /** The most multiply-adds a tuning product has: larger ones are halved along their longest side. */
    static final long MAX_TUNED = 1L << 30;

    static final int MIN_TIMED_RUNS = 3;
    static final int MAX_TIMED_RUNS = 12;

    /**
     * What the timers measure: one warm-up launch (it also builds the program), then the best of
     * at least {@value #MIN_TIMED_RUNS} launches, more while they take under 20 ms in all (at most
     * {@value #MAX_TIMED_RUNS}). A best of two picked a kernel 2x slower than the default on a
     * loaded 2-core machine (PoCL, 128x784x256); the build costs far more than these launches.
     */
    static double bestSeconds(OpenClDevice device, Runnable launch) {
        double best = Double.MAX_VALUE;
        long timedNanos = 0;
        for (int run = 0; run <= MAX_TIMED_RUNS; run++) {
            if (run > MIN_TIMED_RUNS && timedNanos > 20_000_000L) {
                break;
            }
            org.jocl.CL.clFinish(device.queue);
            long start = System.nanoTime();
            launch.run();
            org.jocl.CL.clFinish(device.queue);
            long took = System.nanoTime() - start;
            if (run > 0) {
                best = Math.min(best, took / 1e9);
                timedNanos += took;
            }
        }
        return best;
    }

    /** Times one launch of a configuration; what MatmulKernels and ConvGemmKernels provide. */
    interface Timer {
        /** Seconds for one [m, k] @ [k, n] product with {@code c}, after a warm-up launch. */
        double seconds(GemmConfig c, DType t, long m, long n, long k);
    }

    private final LongSupplier clock;
    /** What is tuned, for log lines: "matmul", "conv2d", ... */
    private final String what;
    private final boolean enabled;
    private final GemmConfig pinned;
    private final Path cacheFile;
    private final String deviceKey;
    private final List<GemmConfig> candidates;
    private final GemmConfig fallback;
    private final Map<DType, GemmConfig[]> chosen = new EnumMap<>(DType.class);
    private Properties cache;

    /**
     * @param deviceKey  names the device and driver (and kernel source): the cache key prefix
     * @param candidates the configurations this device can run, the default first
     * @param fallback   the style's default
     */
    GemmTuner(boolean enabled, GemmConfig pinned, Path cacheFile, String deviceKey, List<GemmConfig> candidates,
              GemmConfig fallback) {
        this("matmul", enabled, pinned, cacheFile, deviceKey, candidates, fallback, System::nanoTime);
    }

    /** With {@code clock} in nanoseconds (tests give one that the stand-in timer advances). */
    GemmTuner(boolean enabled, GemmConfig pinned, Path cacheFile, String deviceKey, List<GemmConfig> candidates,
              GemmConfig fallback, LongSupplier clock) {
        this("matmul", enabled, pinned, cacheFile, deviceKey, candidates, fallback, clock);
    }

    /**
     * @param what names the tuned products in log lines; the cache key ({@code deviceKey}) must
     *             tell them apart
     */
    GemmTuner(String what, boolean enabled, GemmConfig pinned, Path cacheFile, String deviceKey,
              List<GemmConfig> candidates, GemmConfig fallback, LongSupplier clock) {
        this.clock = clock;
        this.what = what;
        this.enabled = enabled;
        this.pinned = pinned;
        this.cacheFile = cacheFile;
        this.deviceKey = deviceKey;
        this.candidates = candidates;
        this.fallback = fallback;
    }

    /** A tuner set up from the system properties for {@code device}. */
    static GemmTuner forDevice(OpenClDevice device, Tuning tuning) {
        boolean cpu = tuning.style() == Tuning.Style.CPU;
        List<GemmConfig> fit = candidates(tuning.style()).stream()
                .filter(c -> c.fits(device.maxWorkGroupSize, device.localMemBytes, 8)).toList();
        GemmConfig fallback = cpu
                ? fit.contains(GemmConfig.PACKED_DEFAULT) ? GemmConfig.PACKED_DEFAULT : GemmConfig.VEC_DEFAULT
                : fit.contains(GemmConfig.TILED_DEFAULT) ? GemmConfig.TILED_DEFAULT : GemmConfig.ROWS_DEFAULT;
        return create("matmul", device, KernelSources.MATMUL, PIN_PROPERTY, fit, fallback, cpu);
    }

    /**
     * The tuner of one implicit-GEMM convolution product ({@code op}: conv2d or one of its
     * gradients) for {@code device}: the tiled and packed members of the family that conv_gemm.cl
     * can run ({@link GemmConfig#runsConvolutions}), the style's default first, cached under keys
     * of their own ({@code conv_gemm.cl <hash> <op>}, so a convolution's class never takes a
     * matmul's choice), pinned by {@value #CONV_PIN_PROPERTY}. Null when no candidate fits the
     * device: the convolutions then take conv.cl's plain kernels.
     */
    static GemmTuner forConvolution(String op, OpenClDevice device, Tuning tuning) {
        boolean cpu = tuning.style() == Tuning.Style.CPU;
        List<GemmConfig> fit = candidates(tuning.style()).stream()
                .filter(c -> c.runsConvolutions() && c.fitsConvolutions(device.maxWorkGroupSize, device.localMemBytes))
                .toList();
        GemmConfig preferred = cpu ? GemmConfig.PACKED_DEFAULT : GemmConfig.TILED_DEFAULT;
        GemmConfig fallback = fit.contains(preferred) ? preferred
                : fit.stream().filter(c -> c.tiled() != cpu).findFirst().orElse(fit.isEmpty() ? null : fit.get(0));
        return fallback == null ? null : create(op, device, KernelSources.CONV_GEMM, CONV_PIN_PROPERTY, fit, fallback, cpu);
    }

    private static GemmTuner create(String what, OpenClDevice device, String source, String pinProperty,
                                    List<GemmConfig> fit, GemmConfig fallback, boolean cpu) {
        String pin = System.getProperty(pinProperty, "").trim();
        GemmConfig pinned = pin.isEmpty() ? null : GemmConfig.parse(pin);
        boolean enabled = !"false".equalsIgnoreCase(System.getProperty(TUNE_PROPERTY, "true").trim())
                && !BufferPool.memoryCheck();
        // the default, then the rest of its family, then the other family: when the budget runs
        // out, what is left untimed is what is least likely to win on this device
        List<GemmConfig> ordered = new java.util.ArrayList<>();
        ordered.add(fallback);
        fit.stream().filter(c -> !c.equals(fallback) && c.tiled() != cpu).forEach(ordered::add);
        fit.stream().filter(c -> !c.equals(fallback) && c.tiled() == cpu).forEach(ordered::add);
        String key = device.info.name() + " | " + device.version + " | " + device.driverVersion + " | " + source + " "
                + sourceHash(source) + (source.equals(KernelSources.MATMUL) ? "" : " " + what);
        return new GemmTuner(what, enabled, pinned, cacheDir().resolve(CACHE_FILE), key, List.copyOf(ordered), fallback,
                System::nanoTime);
    }

    /**
     * The members of {@link GemmConfig#CANDIDATES} that a device of {@code style} may time, in
     * their order, before the device's own limits are applied. GPUs get the rows kernel and the
     * tiled ones with at most {@link #GPU_MAX_OUTPUTS} outputs per work-item: packed runs one
     * work-item per group (made for CPU caches, a GPU would idle through it), vec's ROWS x VW
     * vector accumulators spill registers (clang-15 for gfx1100: vec:8x16 948 VGPRs, vec:8x8 8),
     * and so do tiled float64 tiles of 32 or 64 outputs per work-item (gfx1100: 8x4 10 VGPRs,
     * 8x8 121). docs/GPU-RESOURCES.md lists them; its check fails CI if a GPU candidate spills.
     */
    static List<GemmConfig> candidates(Tuning.Style style) {
        return GemmConfig.CANDIDATES.stream().filter(c -> style == Tuning.Style.CPU
                || c.kind() == GemmConfig.Kind.ROWS
                || c.kind() == GemmConfig.Kind.TILED && c.wptm() * c.wptn() <= GPU_MAX_OUTPUTS).toList();
    }

    /** Outputs per work-item of the tiled kernels GPUs may time (float64 accumulators: 32 VGPRs). */
    static final int GPU_MAX_OUTPUTS = 16;

    /** The configuration for a product of {@code m·n·k} elements of {@code t}. */
    GemmConfig configFor(DType t, long m, long n, long k, Timer timer) {
        if (pinned != null) {
            return pinned;
        }
        if (!enabled) {
            return fallback;
        }
        int cls = sizeClass(m, n, k);
        GemmConfig[] perClass = chosen.computeIfAbsent(t, x -> new GemmConfig[64 / CLASS_BITS + 1]);
        if (perClass[cls] == null) {
            perClass[cls] = lookUpOrTune(t, cls, m, n, k, timer);
        }
        return perClass[cls];
    }

    /** The cache key's prefix: device, driver, kernel source and its hash (and the product, for convolutions). */
    String deviceKey() {
        return deviceKey;
    }

    /** The candidates timed at first use (the style's default first). */
    List<GemmConfig> candidates() {
        return candidates;
    }

    /** The class of an [m, k] @ [k, n] product: floor(log2(m·n·k)) / {@link #CLASS_BITS}. */
    static int sizeClass(long m, long n, long k) {
        double mnk = Math.max(1.0, (double) m * n * k); // a double: m·n·k may pass Long.MAX_VALUE
        return Math.min(63, Math.getExponent(mnk)) / CLASS_BITS;
    }

    private GemmConfig lookUpOrTune(DType t, int cls, long m, long n, long k, Timer timer) {
        String key = cacheKey(t, cls);
        String cached = cache().getProperty(key);
        if (cached != null) {
            try {
                GemmConfig c = GemmConfig.parse(cached);
                if (candidates.contains(c)) {
                    log.debug("{} {} {}: {} from {}", what, t, className(cls), c, cacheFile);
                    return c;
                }
                log.warn("ignoring the tuning cache entry {}={} in {}: not a candidate on this device", key, cached,
                        cacheFile);
            } catch (IllegalArgumentException e) {
                log.warn("ignoring the tuning cache entry {} in {}: {}", key, cacheFile, e.getMessage());
            }
        }
        GemmConfig best = tune(t, cls, m, n, k, timer);
        cache.setProperty(key, best.toString());
        store();
        return best;
    }

    private GemmConfig tune(DType t, int cls, long m, long n, long k, Timer timer) {
        long[] dims = {m, n, k};
        while ((double) dims[0] * dims[1] * dims[2] > MAX_TUNED) {
            int longest = dims[0] >= dims[1] && dims[0] >= dims[2] ? 0 : dims[1] >= dims[2] ? 1 : 2;
            dims[longest] = (dims[longest] + 1) / 2;
        }
        Trial trial = new Trial(timer, t, dims, clock);
        // Pass one, within EXPLORE_SHARE of the budget: every candidate once, the default first.
        // The next one is expected to cost as much as the slowest so far (its build, a warm-up
        // and the timed launches) and is skipped if that would cross the share, so a loaded
        // machine times fewer candidates rather than overrunning.
        long slowest = 0;
        for (GemmConfig c : candidates) {
            if (!trial.seconds.isEmpty() && trial.elapsed() + slowest > BUDGET_NANOS * EXPLORE_SHARE) {
                trial.report.append(" (budget spent: ").append(trial.seconds.size()).append(" of ")
                        .append(candidates.size()).append(" timed)");
                break;
            }
            trial.time(c, "");
            slowest = Math.max(slowest, trial.lastCost);
        }
        // if the default failed on this device: the fastest that ran (the default if none did)
        GemmConfig best = trial.seconds.containsKey(fallback) ? duel(trial)
                : trial.seconds.entrySet().stream().min(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
                        .orElse(fallback);
        log.info("tuned {} {} {} in {} ms: {} (timed on [{}, {}] @ [{}, {}]:{})", what, t, className(cls),
                trial.elapsed() / 1_000_000, best, dims[0], dims[2], dims[2], dims[1], trial.report);
        return best;
    }

    /**
     * Pass two. Timings on a loaded machine drift by 2x within seconds, and the first candidate
     * timed (the default) is often the slowest: a kernel chosen on one timing each ran 1024³ on
     * PoCL in 51 ms where the default takes 27. So the fastest others that beat the default by
     * the margin in pass one are timed again alternately with the default, and one replaces
     * the default only if it beats the default's adjacent timing by the margin in each of
     * {@link #DUEL_ROUNDS} rounds. A duel that does not fit the rest of the budget is lost.
     */
    private GemmConfig duel(Trial trial) {
        double base = trial.seconds.get(fallback);
        List<GemmConfig> challengers = trial.seconds.entrySet().stream()
                .filter(e -> !e.getKey().equals(fallback) && e.getValue() < base * DEFAULT_MARGIN)
                .sorted(Map.Entry.comparingByValue()).limit(FINALISTS - 1).map(Map.Entry::getKey).toList();
        if (challengers.isEmpty()) {
            return fallback;
        }
        // Each round times the default, then the challenger: adjacent timings under the same load.
        // The default's second timing costs what a timing without a build does; until it is
        // known, its first timing (build included) is the estimate.
        long unbuilt = -1;
        for (GemmConfig c : challengers) {
            boolean won = true;
            for (int round = 0; won && round < DUEL_ROUNDS; round++) {
                long expected = unbuilt < 0 ? trial.cost.get(fallback) : (long) (2.5 * unbuilt);
                won = trial.elapsed() + expected <= BUDGET_NANOS && trial.time(fallback, " again");
                if (won) {
                    unbuilt = unbuilt < 0 ? Math.max(1, trial.lastCost) : unbuilt;
                    double defaultSeconds = trial.last;
                    won = trial.elapsed() + 1.25 * unbuilt <= BUDGET_NANOS && trial.time(c, " duel")
                            && trial.last < defaultSeconds * DEFAULT_MARGIN;
                }
            }
            if (won) {
                return c;
            }
        }
        if (unbuilt < 0) {
            trial.report.append(" (no budget left to confirm a faster one)");
        }
        return fallback;
    }

    /** The timings of one tuning, what each cost, and the report that the log line shows. */
    private static final class Trial {
        final Timer timer;
        final DType t;
        final long[] dims;
        final LongSupplier clock;
        final long start;
        final double flops;
        final Map<GemmConfig, Double> seconds = new java.util.LinkedHashMap<>();
        final Map<GemmConfig, Long> cost = new java.util.HashMap<>();
        final StringBuilder report = new StringBuilder();
        double last;
        long lastCost;

        Trial(Timer timer, DType t, long[] dims, LongSupplier clock) {
            this.timer = timer;
            this.t = t;
            this.dims = dims;
            this.clock = clock;
            this.start = clock.getAsLong();
            this.flops = 2.0 * dims[0] * dims[1] * dims[2];
        }

        long elapsed() {
            return clock.getAsLong() - start;
        }

        /** Times {@code c} once; false if it failed on this device. Pass one keeps the first timing. */
        boolean time(GemmConfig c, String label) {
            long before = clock.getAsLong();
            try {
                last = timer.seconds(c, t, dims[0], dims[1], dims[2]);
            } catch (RuntimeException e) {
                log.debug("candidate {} failed on this device: {}", c, e.toString());
                return false;
            } finally {
                lastCost = clock.getAsLong() - before;
                cost.putIfAbsent(c, lastCost);
            }
            seconds.putIfAbsent(c, last);
            report.append(String.format(java.util.Locale.ROOT, "%s %s %.1f GFLOP/s;", label, c, flops / last / 1e9));
            return true;
        }
    }

    private String cacheKey(DType t, int cls) {
        return deviceKey + " | " + t + " " + className(cls);
    }

    static String className(int cls) {
        return "mnk 2^" + cls * CLASS_BITS + "..2^" + (cls + 1) * CLASS_BITS;
    }

    private Properties cache() {
        if (cache == null) {
            cache = new Properties();
            if (Files.isRegularFile(cacheFile)) {
                try (InputStream in = Files.newInputStream(cacheFile)) {
                    cache.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
                } catch (IOException | IllegalArgumentException e) {
                    log.warn("ignoring the unreadable tuning cache {}: {}", cacheFile, e.toString());
                    cache = new Properties();
                }
            }
        }
        return cache;
    }

    /** Writes the cache (to a temporary file, then renamed: a reader never sees half a file). */
    private void store() {
        try {
            Files.createDirectories(cacheFile.getParent());
            Path tmp = Files.createTempFile(cacheFile.getParent(), CACHE_FILE, ".tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                cache.store(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8),
                        "Spool OpenCL GEMM tuning: device | version | driver | kernel hash [product] | dtype class");
            }
            Files.move(tmp, cacheFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | UnsupportedOperationException e) {
            log.warn("cannot write the tuning cache {}: {} (the device will be tuned again next time)", cacheFile,
                    e.toString());
        }
    }

    static Path cacheDir() {
        String dir = System.getProperty(CACHE_DIR_PROPERTY, "").trim();
        if (!dir.isEmpty()) {
            return Path.of(dir);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("spool");
    }

    /** A short hash of matmul.cl as built (prelude and gemm.cl included): a changed kernel is tuned again. */
    static String sourceHash() {
        return sourceHash(KernelSources.MATMUL);
    }

    /** A short hash of {@code source} as the host builds it. */
    static String sourceHash(String source) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256")
                    .digest(KernelSources.text(source).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
