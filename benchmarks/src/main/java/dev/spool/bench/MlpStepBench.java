package dev.spool.bench;

import dev.spool.Device;
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
 * One SGD training step of an MLP 784 → 256 (relu) → 10, mean softmax cross-entropy, learning
 * rate 0.1, on a fixed batch: forward under a GradientTape, tape.gradient for the four
 * Variables, fused updates (applyGradientDescent; bias-add + relu is one op too), all inside a TensorScope so that memory stays flat. The device
 * is synchronised at the end of each step. Model and data: MlpData, shared with
 * the DJL peer.
 */
@SuppressWarnings("try") // device and tensor scopes are opened for their effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
// 10 s: on cpu the C2 compilations of the GEMM and update lambdas finish about 8 s into the
// run (3 s of warm-up left the first measured iterations 15 % slower than the last); DJL
// gets the same so that both are measured alike
@Warmup(iterations = 10, time = 1)
@Measurement(iterations = 5, time = 1)
public class MlpStepBench {
    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"128"})
    public int batch;

    private Device dev;
    private MlpModel model;

    @Setup
    public void setup() {
        dev = Device.get(device);
        MlpData data = new MlpData(batch);
        try (Device.Scope use = Device.use(dev)) {
            model = new MlpModel(data); // outside the scope below: it would take the model's tensors over
        }
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            float first = model.handFusedStep().floatValue();
            float later = first;
            for (int i = 0; i < 10; i++) {
                later = model.handFusedStep().floatValue();
            }
            data.checkTraining(first, later);
        }
    }

    @Benchmark
    public void step() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            model.handFusedStep();
            dev.synchronize();
        }
    }

    @TearDown
    public void tearDown() {
        model.close();
    }
}
