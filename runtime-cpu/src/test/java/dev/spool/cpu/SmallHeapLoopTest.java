package dev.spool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The loop of issue 10 without scopes on {@code cpu} completes in a 512 MB Java heap: 2,000
 * steps allocate ≈2 MB each (≈4 GB in all, some 8 times the heap). On cpu the Java heap holds
 * the arrays, so the collector runs by itself; the check is that Spool's budget and cleanup
 * (an array stays reachable until its tensor's cleanup has run) do not get in the way. The loop
 * runs in a JVM of its own started with {@code -Xmx512m}.
 */
class SmallHeapLoopTest {

    @Test
    void aLoopWithoutScopesCompletesIn512MegabytesOfHeap() throws Exception {
        Path log = Files.createTempFile("spool-small-heap", ".log");
        try {
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.add("-Xmx512m");
            if (VectorSupport.ENABLED) {
                command.add("--add-modules=jdk.incubator.vector");
            }
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(SmallHeapLoop.class.getName());
            command.add("2000");
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean done = p.waitFor(15, TimeUnit.MINUTES);
            if (!done) {
                p.destroyForcibly();
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertTrue(done, "the loop did not finish:\n" + out);
            assertEquals(0, p.exitValue(), "exit status; output:\n" + out);
            long maxMemory = Long.parseLong(out.lines().filter(l -> l.startsWith("maxMemory ")).findFirst()
                    .orElseThrow().split(" ")[1]);
            assertTrue(maxMemory <= 512L << 20, "the child ran with -Xmx512m: " + maxMemory);
            assertTrue(out.lines().anyMatch(l -> l.startsWith("completed 2000 steps")), out);
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
