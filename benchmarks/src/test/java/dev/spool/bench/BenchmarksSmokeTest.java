package dev.spool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.spool.Device;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.opentest4j.TestAbortedException;

/**
 * Runs every Spool benchmark method once, through the same @Setup (which checks the result
 * against a Java reference) and @TearDown that JMH calls, on tiny sizes and on every device its
 * {@code device} (or {@code openclDevice}) parameter names. No timing: this proves in {@code mvn verify} that the
 * benchmarks still run and still compute the right thing. Parameters not shrunk here run with
 * every value the benchmark declares (every elementwise op, for example).
 */
class BenchmarksSmokeTest {
    /** Tiny values for the size parameters of each benchmark class in dev.spool.bench. */
    private static final Map<Class<?>, Map<String, List<String>>> TINY = Map.ofEntries(
            Map.entry(MatmulBench.class, Map.of("n", List.of("8", "67"))),
            Map.entry(ElementwiseBench.class, Map.of("size", List.of("1001"))),
            Map.entry(SumBench.class, Map.of("size", List.of("4099"))),
            Map.entry(ColumnSumBench.class, Map.of("rows", List.of("37"), "cols", List.of("19"))),
            Map.entry(DispatchBench.class, Map.of("batch", List.of("10"))),
            Map.entry(JoclLaunchBench.class, Map.of("batch", List.of("10"))),
            Map.entry(MlpStepBench.class, Map.of("batch", List.of("16"))),
            Map.entry(SoftmaxXentBench.class, Map.of("shape", List.of("7x5", "3x300"))),
            Map.entry(AdamStepBench.class, Map.of()),
            Map.entry(ConvBench.class, Map.of("batch", List.of("2"), "size", List.of("9"))),
            Map.entry(CnnStepBench.class, Map.of("batch", List.of("2"))),
            Map.entry(CnnConvBench.class, Map.of("batch", List.of("3"))),
            Map.entry(CheckNumericsBench.class, Map.of()),
            Map.entry(FunctionStepBench.class, Map.of("batch", List.of("16"))),
            Map.entry(FunctionChainBench.class, Map.of("size", List.of("1001"))),
            Map.entry(WarmupBench.class, Map.of("batch", List.of("16"))),
            Map.entry(AttentionBench.class, Map.of()),
            Map.entry(TransformerStepBench.class, Map.of("batch", List.of("2"))));

    @Test
    void everyBenchmarkClassHasTinySizes() throws IOException {
        // JMH's annotation processor lists every benchmark it generated code for.
        String list;
        try (InputStream in = getClass().getResourceAsStream("/META-INF/BenchmarkList")) {
            assertFalse(in == null, "META-INF/BenchmarkList is missing: is the JMH annotation processor configured?");
            list = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        TreeSet<String> listed = new TreeSet<>();
        Matcher m = Pattern.compile("dev\\.spool\\.bench\\.([A-Z]\\w*)\\b").matcher(list);
        while (m.find()) {
            listed.add(m.group(1));
        }
        TreeSet<String> covered = new TreeSet<>();
        TINY.keySet().forEach(c -> covered.add(c.getSimpleName()));
        assertEquals(covered, listed, "benchmark classes in dev.spool.bench vs the ones this test runs");
    }

    @TestFactory
    Stream<DynamicTest> everyBenchmarkRunsOnce() {
        List<DynamicTest> tests = new ArrayList<>();
        TINY.keySet().stream().sorted((a, b) -> a.getSimpleName().compareTo(b.getSimpleName())).forEach(c -> {
            for (Map<String, String> params : combinations(c)) {
                tests.add(DynamicTest.dynamicTest(c.getSimpleName() + " " + params, () -> runOnce(c, params)));
            }
        });
        return tests.stream();
    }

    private static List<Map<String, String>> combinations(Class<?> c) {
        List<Map<String, String>> out = new ArrayList<>();
        out.add(new LinkedHashMap<>());
        for (Field f : c.getFields()) {
            Param p = f.getAnnotation(Param.class);
            if (p == null) {
                continue;
            }
            List<String> values = TINY.get(c).getOrDefault(f.getName(), Arrays.asList(p.value()));
            List<Map<String, String>> next = new ArrayList<>();
            for (Map<String, String> partial : out) {
                for (String v : values) {
                    Map<String, String> m = new LinkedHashMap<>(partial);
                    m.put(f.getName(), v);
                    next.add(m);
                }
            }
            out = next;
        }
        return out;
    }

    private static void runOnce(Class<?> c, Map<String, String> params) throws Exception {
        for (String key : List.of("device", "openclDevice")) {
            String device = params.get(key);
            if (device != null && device.startsWith("opencl")) {
                requireOpenCl();
            }
        }
        Object bench = c.getConstructor().newInstance();
        for (Map.Entry<String, String> e : params.entrySet()) {
            Field f = c.getField(e.getKey());
            f.set(bench, f.getType() == int.class ? Integer.valueOf(e.getValue()) : e.getValue());
        }
        invokeAll(bench, Setup.class);
        try {
            List<Method> benchmarks = annotated(c, Benchmark.class);
            assertFalse(benchmarks.isEmpty(), c + " has no @Benchmark method");
            for (Method m : benchmarks) {
                invoke(bench, m);
            }
        } finally {
            invokeAll(bench, TearDown.class);
        }
    }

    private static void requireOpenCl() {
        if (Device.list().stream().noneMatch(d -> d.info().backend().equals("opencl"))) {
            if ("1".equals(System.getenv("SPOOL_REQUIRE_OPENCL"))) {
                throw new AssertionError("SPOOL_REQUIRE_OPENCL=1 but no OpenCL device was found");
            }
            throw new TestAbortedException("no OpenCL device on this machine (set SPOOL_REQUIRE_OPENCL=1 to fail)");
        }
    }

    private static List<Method> annotated(Class<?> c, Class<? extends java.lang.annotation.Annotation> a) {
        return Arrays.stream(c.getMethods()).filter(m -> m.isAnnotationPresent(a))
                .sorted((x, y) -> x.getName().compareTo(y.getName())).toList();
    }

    private static void invokeAll(Object bench, Class<? extends java.lang.annotation.Annotation> a) throws Exception {
        for (Method m : annotated(bench.getClass(), a)) {
            invoke(bench, m);
        }
    }

    private static void invoke(Object bench, Method m) throws Exception {
        try {
            m.invoke(bench);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw e;
        }
    }
}
