package dev.spool.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UnconnectedGradients;
import dev.spool.testing.GradCheck;
import dev.spool.testing.RandomPrograms;
import dev.spool.testing.RandomPrograms.Program;
import dev.spool.testing.TensorAssert;
import dev.spool.testing.TestDevices;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Random programs ({@link RandomPrograms}) give the same values and the same tape gradients on the
 * device under test as on the pure-Java CPU device. Like {@link ParityTest}, meaningful only for
 * devices other than the CPU device (runtime-cpu excludes it).
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try") // scopes are opened for their effect
class RandomProgramParityTest {
    private static final Logger LOG = LoggerFactory.getLogger(RandomProgramParityTest.class);

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void sameValuesAndGradientsAsCpu(Device device) {
        int n = RandomProgramTest.count(300);
        DType dtype = device.supportsFloat64() ? DType.FLOAT64 : DType.FLOAT32;
        double tol = dtype == DType.FLOAT64 ? 1e-9 : 1e-4;
        List<String> failures = new ArrayList<>();
        int ran = 0;
        for (long seed = RandomProgramTest.FIRST_SEED; seed < RandomProgramTest.FIRST_SEED + n; seed++) {
            Program p = RandomPrograms.generate(seed);
            ran++;
            Throwable t = mismatch(device, p, dtype, tol);
            if (t != null) {
                Program small = RandomPrograms.shrink(p, q -> mismatch(device, q, dtype, tol) != null);
                failures.add(t.getMessage() + "\nshrunk to " + small);
                if (failures.size() >= 3) {
                    break;
                }
            }
        }
        LOG.info("{}: {} random programs compared with cpu, {} differed", device, ran, failures.size());
        assertEquals(List.of(), failures, failures.size() + " random programs differ between " + device + " and cpu");
        assertEquals(n, ran);
    }

    private static Throwable mismatch(Device device, Program p, DType dtype, double tol) {
        try {
            List<double[]> expected = valuesAndGradients(Device.cpu(), p, dtype);
            List<double[]> actual = valuesAndGradients(device, p, dtype);
            for (int i = 0; i < expected.size(); i++) {
                TensorAssert.assertClose(expected.get(i), actual.get(i), tol, tol,
                        (i == 0 ? "value" : "gradient of input " + (i - 1)) + " on " + device + " vs cpu");
            }
            return null;
        } catch (AssertionError | RuntimeException e) {
            return e;
        }
    }

    /** The program's value, then the gradient of sum(value) for each input (zeros if unconnected). */
    private static List<double[]> valuesAndGradients(Device device, Program p, DType dtype) {
        try (Device.Scope d = Device.use(device); TensorScope scope = new TensorScope()) {
            Tensor[] xs = GradCheck.materialize(p.inputs(), dtype);
            GradientTape tape = new GradientTape();
            Tensor y;
            try (tape) {
                for (Tensor x : xs) {
                    tape.watch(x);
                }
                y = p.run(xs);
            }
            List<Tensor> grads = tape.gradient(y, List.of(xs), null, UnconnectedGradients.ZERO);
            List<double[]> out = new ArrayList<>();
            out.add(y.toDoubleArray());
            for (Tensor g : grads) {
                out.add(g.toDoubleArray());
            }
            return out;
        }
    }

}
