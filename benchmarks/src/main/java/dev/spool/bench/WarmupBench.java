package dev.spool.bench;

import dev.spool.Device;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Warm-up of ordinary eager code: the MLP training step of {@link MlpStepBench} written with
 * plain ops ({@code x.matmul(w1).add(b1).relu()}, {@code softmaxCrossEntropyWithLogits(...).mean()},
 * {@code w.assignSub(g.mul(lr))}), no fused primitives. {@code first100} times the first
 * {@value #STEPS} steps of a fresh JVM (one shot per fork, several forks; the setup builds the
 * model and data but runs no op of the step), {@code steady} the same step after 15 s of
 * warm-up. The target: the first 100 steps average ≤ 3× the steady step.
 */
@SuppressWarnings("try") // device and tensor scopes are opened for their effect
@State(Scope.Thread)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class WarmupBench {
    /** Steps timed from a fresh JVM. */
    public static final int STEPS = 100;

    @Param({"cpu"})
    public String device;

    @Param({"128"})
    public int batch;

    private Device dev;
    private MlpModel model;

    @Setup
    public void setup() {
        dev = Device.get(device);
        try (Device.Scope use = Device.use(dev)) {
            model = new MlpModel(new MlpData(batch));
        }
    }

    private float step() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            Tensor loss = model.plainStep();
            dev.synchronize();
            return loss.floatValue();
        }
    }

    /** The first {@value #STEPS} steps of a fresh JVM, in one shot (divide by STEPS for a step). */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @Fork(value = 5, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
    @Warmup(iterations = 0)
    @Measurement(iterations = 1)
    public float first100() {
        float loss = 0;
        for (int i = 0; i < STEPS; i++) {
            loss = step();
        }
        Checks.that(Float.isFinite(loss) && loss < 2.4f, "the plain MLP did not train: loss " + loss);
        return loss;
    }

    /**
     * The same step at steady state. 15 s of warm-up: on the loaded 2-core VM the first 40–50
     * steps alone took 5–9 s, and a 6 s warm-up measured 270 ms a step.
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
    @Warmup(iterations = 15, time = 1)
    @Measurement(iterations = 5, time = 1)
    public float steady() {
        return step();
    }

    @TearDown
    public void tearDown() {
        model.close();
    }
}
