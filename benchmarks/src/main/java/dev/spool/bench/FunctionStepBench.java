package dev.spool.bench;

import dev.spool.Device;
import dev.spool.FusedActivation;
import dev.spool.GradientTape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.function.TracedFunction;
import java.util.List;
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
    private Tensor x;
    private Tensor labels;
    private List<Variable> params;
    private TracedFunction<Tensor> function;

    @Setup
    public void setup() {
        dev = Device.get(device);
        MlpData data = new MlpData(batch);
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            x = scope.keep(Spool.constant(data.x).reshape(batch, MlpData.IN));
            labels = scope.keep(Spool.oneHot(Spool.constant(data.classes), MlpData.OUT));
            params = List.of(new Variable(Spool.constant(data.w1).reshape(MlpData.IN, MlpData.HIDDEN), "w1"),
                    new Variable(Spool.zeros(MlpData.HIDDEN), "b1"),
                    new Variable(Spool.constant(data.w2).reshape(MlpData.HIDDEN, MlpData.OUT), "w2"),
                    new Variable(Spool.zeros(MlpData.OUT), "b2"));
            function = Spool.function(this::plainStep);
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
        List<Tensor> grads;
        Tensor loss;
        try (GradientTape tape = new GradientTape()) {
            Tensor h = x.matmul(params.get(0)).add(params.get(1)).relu();
            Tensor logits = h.matmul(params.get(2)).add(params.get(3));
            loss = Spool.softmaxCrossEntropyWithLogits(labels, logits).mean();
            grads = tape.gradient(loss, params);
        }
        for (int i = 0; i < params.size(); i++) {
            params.get(i).assignSub(grads.get(i).mul(MlpData.LR));
        }
        return loss;
    }

    Tensor handFusedStep() {
        List<Tensor> grads;
        Tensor loss;
        try (GradientTape tape = new GradientTape()) {
            Tensor h = Spool.biasAdd(x.matmul(params.get(0)), params.get(1), FusedActivation.RELU);
            Tensor logits = Spool.biasAdd(h.matmul(params.get(2)), params.get(3));
            loss = Spool.softmaxCrossEntropyWithLogits(labels, logits).mean();
            grads = tape.gradient(loss, params);
        }
        for (int i = 0; i < params.size(); i++) {
            Spool.applyGradientDescent(params.get(i), MlpData.LR, grads.get(i));
        }
        return loss;
    }

    @Benchmark
    public void plainEager() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            plainStep();
            dev.synchronize();
        }
    }

    @Benchmark
    public void handFusedEager() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            handFusedStep();
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
        x.close();
        labels.close();
        params.forEach(Variable::close);
    }
}
