package dev.spool.bench;

import dev.spool.Device;
import dev.spool.FusedActivation;
import dev.spool.GradientTape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
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
    private Tensor x;
    private Tensor labels;
    private Variable w1;
    private Variable b1;
    private Variable w2;
    private Variable b2;
    private List<Variable> params;

    @Setup
    public void setup() {
        dev = Device.get(device);
        MlpData data = new MlpData(batch);
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            x = scope.keep(Spool.constant(data.x).reshape(batch, MlpData.IN));
            labels = scope.keep(Spool.oneHot(Spool.constant(data.classes), MlpData.OUT));
            w1 = new Variable(Spool.constant(data.w1).reshape(MlpData.IN, MlpData.HIDDEN), "w1");
            b1 = new Variable(Spool.zeros(MlpData.HIDDEN), "b1");
            w2 = new Variable(Spool.constant(data.w2).reshape(MlpData.HIDDEN, MlpData.OUT), "w2");
            b2 = new Variable(Spool.zeros(MlpData.OUT), "b2");
            params = List.of(w1, b1, w2, b2);

            float first = trainStep().floatValue();
            float later = first;
            for (int i = 0; i < 10; i++) {
                later = trainStep().floatValue();
            }
            data.checkTraining(first, later);
        }
    }

    /** The step; returns the loss of the forward pass (before the update). */
    private Tensor trainStep() {
        GradientTape tape = new GradientTape();
        Tensor loss;
        try (tape) {
            Tensor hidden = Spool.biasAdd(x.matmul(w1), b1, FusedActivation.RELU);
            Tensor logits = Spool.biasAdd(hidden.matmul(w2), b2);
            loss = Spool.softmaxCrossEntropyWithLogits(labels, logits).mean();
        }
        List<Tensor> grads = tape.gradient(loss, params);
        for (int i = 0; i < params.size(); i++) {
            Spool.applyGradientDescent(params.get(i), MlpData.LR, grads.get(i));
        }
        return loss;
    }

    @Benchmark
    public void step() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            trainStep();
            dev.synchronize();
        }
    }

    @TearDown
    public void tearDown() {
        x.close();
        labels.close();
        params.forEach(Variable::close);
    }
}
