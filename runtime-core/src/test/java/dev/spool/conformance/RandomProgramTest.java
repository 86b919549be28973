package dev.spool.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.spool.Device;
import dev.spool.testing.GradCheck;
import dev.spool.testing.RandomPrograms;
import dev.spool.testing.RandomPrograms.Program;
import dev.spool.testing.TestDevices;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Property test: random differentiable programs of 3–12 ops ({@link RandomPrograms}) have tape
 * gradients equal to central finite differences (float64 where the device has it). Programs come
 * from fixed seeds, so a run is reproducible; a failure is shrunk to a small program that still
 * fails and printed as code. {@code -Dspool.test.randomPrograms=N} sets how many (CI: the
 * default; {@code scripts/random-programs.sh} runs 10,000).
 */
@ExtendWith(TestDevices.Available.class)
class RandomProgramTest {
    private static final Logger LOG = LoggerFactory.getLogger(RandomProgramTest.class);
    static final long FIRST_SEED = 20261129L;

    static int count(int ciDefault) {
        return Integer.getInteger("spool.test.randomPrograms", ciDefault);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void gradientsMatchFiniteDifferences(Device device) {
        int n = count(300);
        List<String> failures = new ArrayList<>();
        int ran = 0;
        int ops = 0;
        for (long seed = FIRST_SEED; seed < FIRST_SEED + n; seed++) {
            Program p = RandomPrograms.generate(seed);
            if (p.inputs().stream().noneMatch(GradCheck.Input::differentiable)) {
                continue; // nothing to differentiate (counted as not run)
            }
            ran++;
            ops += p.steps().size();
            Throwable t = failure(device, p);
            if (t != null) {
                Program small = RandomPrograms.shrink(p, q -> failure(device, q) != null);
                failures.add(t.getMessage() + "\nshrunk to " + small + "\nfailing with: " + failure(device, small).getMessage());
                if (failures.size() >= 3) {
                    break;
                }
            }
        }
        LOG.info("{}: {} random programs ({} ops) checked against finite differences, {} failed",
                device, ran, ops, failures.size());
        assertEquals(List.of(), failures, failures.size() + " random programs failed on " + device);
        assertEquals(true, ran > n * 9 / 10, "only " + ran + " of " + n + " programs had a differentiable input");
    }

    private static Throwable failure(Device device, Program p) {
        try {
            GradCheck.check(device, p.fn(), p.inputs());
            return null;
        } catch (AssertionError | RuntimeException e) {
            return e;
        }
    }
}
