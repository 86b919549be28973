package dev.spool.bench;

import dev.spool.Device;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.function.TracedFunction;
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
 * The MLP step of issue #22 (784 → 256 relu → 10, mean softmax cross-entropy, SGD 0.1, MlpData)
 * three ways, in one JVM: {@code plainEager} written with plain ops
 * ({@code x.matmul(w1).add(b1).relu()}, {@code w.assignSub(g.mul(0.1))}), {@code handFusedEager}
 * with the fused primitives ({@code biasAdd(..., RELU)}, {@code applyGradientDescent}), and
 * {@code plainFunction}: the plain step as a traced function ({@code Spool.function}). Each
 * step is waited for. The targets: the function ≤ 1.0× the hand-fused eager step on
 * cpu at batch 128; on PoCL ≤ 0.5× at batch 16 and ≤ 1.0× at 128.
 */
@SuppressWarnings("try")
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 8, time = 1)
@Measurement(iterations = 5, time = 1)
public class FunctionStepBench {
    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"16", "128"})
    public int batch;

    private Device dev;
    private MlpModel model;
    private TracedFunction<Tensor> function;

    @Setup
    public void setup() {
        dev = Device.get(device);
        MlpData data = new MlpData(batch);
        try (Device.Scope use = Device.use(dev)) {
            model = new MlpModel(data); // outside the scope below: it would take the model's tensors over
        }
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            function = Spool.function(model::plainStep);
            // the loss MlpStepBench and the DJL peer check, here through the function
            float first = function.call().floatValue();
            float later = first;
            for (int i = 0; i < 10; i++) {
                later = function.call().floatValue();
            }
            data.checkTraining(first, later);
        }
    }

    Tensor plainStep() {
        return model.plainStep();
    }

    Tensor handFusedStep() {
        return model.handFusedStep();
    }

    @Benchmark
    public void plainEager() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            model.plainStep();
            dev.synchronize();
        }
    }

    @Benchmark
    public void handFusedEager() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            model.handFusedStep();
            dev.synchronize();
        }
    }

    @Benchmark
    public void plainFunction() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            function.call();
            dev.synchronize();
        }
    }

    @TearDown
    public void tearDown() {
        function.close();
        model.close();
    }
}
