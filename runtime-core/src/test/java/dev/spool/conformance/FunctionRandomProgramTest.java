package dev.spool.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UnconnectedGradients;
import dev.spool.function.TracedFunction;
import dev.spool.testing.GradCheck;
import dev.spool.testing.RandomPrograms;
import dev.spool.testing.RandomPrograms.Program;
import dev.spool.testing.TensorAssert;
import dev.spool.testing.TestDevices;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Random programs ({@link RandomPrograms}) as traced functions: each program, with a tape and
 * its gradient inside the function, is traced on one set of inputs and replayed on another of
 * the same shapes, and the replay's value and gradients must be what eager execution gives on
 * that second set (programs that draw random numbers are left out: a function draws new ones at
 * every call, by design). Fusion, planning and rewrites run on every program, so a buffer-reuse or
 * fusion bug shows as a mismatch here.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try")
class FunctionRandomProgramTest {
    private static final Logger LOG = LoggerFactory.getLogger(FunctionRandomProgramTest.class);

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void replaysGiveTheEagerValuesAndGradients(Device device) {
        // OpenCL builds each program's fused kernels (about 0.1-0.3 s each on PoCL and Rusticl):
        // fewer programs there by default; scripts/random-programs.sh runs more
        int n = RandomProgramTest.count(device.id().equals("cpu") ? 150 : 30);
        DType dtype = device.supportsFloat64() ? DType.FLOAT64 : DType.FLOAT32;
        double tol = dtype == DType.FLOAT64 ? 1e-12 : 1e-6;
        List<String> failures = new ArrayList<>();
        int fused = 0;
        int random = 0;
        for (long seed = RandomProgramTest.FIRST_SEED; seed < RandomProgramTest.FIRST_SEED + n; seed++) {
            Program p = RandomPrograms.generate(seed);
            if (p.toString().contains("Spool.random")) {
                random++; // a function draws new random numbers at every call: its replay is not the eager run's
                continue;
            }
            try (Device.Scope d = Device.use(device); TensorScope scope = new TensorScope()) {
                TracedFunction<List<Tensor>> f = traced(p);
                f.call((Object[]) GradCheck.materialize(p.inputs(), dtype));
                List<GradCheck.Input> second = new ArrayList<>();
                for (GradCheck.Input in : p.inputs()) {
                    double[] v = in.values().clone();
                    if (in.differentiable()) {
                        for (int i = 0; i < v.length; i++) {
                            v[i] *= 0.93;
                        }
                    }
                    second.add(new GradCheck.Input(in.shape(), v, in.dtype(), in.differentiable(), in.transposed()));
                }
                Tensor[] xs = GradCheck.materialize(second, dtype);
                List<Tensor> replay = f.call((Object[]) xs);
                List<Tensor> eager = valuesAndGradients(p, xs);
                for (int i = 0; i < eager.size(); i++) {
                    TensorAssert.assertClose(eager.get(i).toDoubleArray(), replay.get(i).toDoubleArray(), tol, tol,
                            (i == 0 ? "value" : "gradient of input " + (i - 1)) + " of the replay on " + device);
                }
                assertEquals(1, f.stats().replays());
                if (f.describe().contains("fused[")) {
                    fused++;
                }
            } catch (AssertionError | RuntimeException e) {
                failures.add(p + "\n" + e);
                if (failures.size() >= 3) {
                    break;
                }
            }
        }
        LOG.info("{}: {} random programs traced and replayed ({} drawing random numbers left out), {} with a fused"
                + " chain, {} differed", device, n - random, random, fused, failures.size());
        assertTrue(random < n / 4, random + " of " + n + " programs draw random numbers");
        assertEquals(List.of(), failures, failures.size() + " random programs' replays differ from eager on " + device);
    }

    private static TracedFunction<List<Tensor>> traced(Program p) {
        return dev.spool.Spool.functionOfArgs(args -> valuesAndGradients(p, Arrays.copyOf(args, args.length, Tensor[].class)));
    }

    /** The program's value, then the gradient of its value for each input (zeros if unconnected). */
    private static List<Tensor> valuesAndGradients(Program p, Tensor[] xs) {
        GradientTape tape = new GradientTape();
        Tensor y;
        try (tape) {
            for (Tensor x : xs) {
                tape.watch(x);
            }
            y = p.run(xs);
        }
        List<Tensor> out = new ArrayList<>();
        out.add(y);
        out.addAll(tape.gradient(y, List.of(xs), null, UnconnectedGradients.ZERO));
        return out;
    }
}
