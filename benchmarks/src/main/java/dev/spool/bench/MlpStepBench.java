package dev.spool.bench;

import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
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
 * Variables, assignSub updates, all inside a TensorScope so that memory stays flat. The device
 * is synchronised at the end of each step. Peer: DjlMlpStepBench (same model and data shapes).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MlpStepBench {
    static final int IN = 784;
    static final int HIDDEN = 256;
    static final int OUT = 10;
    static final float LR = 0.1f;

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
        float[] hx = Inputs.uniform(batch * IN, 1, 0, 1);
        float[] hw1 = Inputs.uniform(IN * HIDDEN, 2, -glorot(IN, HIDDEN), glorot(IN, HIDDEN));
        float[] hw2 = Inputs.uniform(HIDDEN * OUT, 3, -glorot(HIDDEN, OUT), glorot(HIDDEN, OUT));
        int[] classes = new SplittableRandom(4).ints(batch, 0, OUT).toArray();
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            x = scope.keep(Spool.constant(hx).reshape(batch, IN));
            labels = scope.keep(Spool.oneHot(Spool.constant(classes), OUT));
            w1 = new Variable(Spool.constant(hw1).reshape(IN, HIDDEN), "w1");
            b1 = new Variable(Spool.zeros(HIDDEN), "b1");
            w2 = new Variable(Spool.constant(hw2).reshape(HIDDEN, OUT), "w2");
            b2 = new Variable(Spool.zeros(OUT), "b2");
            params = List.of(w1, b1, w2, b2);

            float first = trainStep().floatValue();
            Checks.close("initial loss", referenceLoss(hx, hw1, hw2, classes), first, 1e-4, 0);
            float later = first;
            for (int i = 0; i < 10; i++) {
                later = trainStep().floatValue();
            }
            Checks.that(later < 0.9f * first, "10 SGD steps took the loss from " + first + " to " + later);
        }
    }

    /** The step; returns the loss of the forward pass (before the update). */
    private Tensor trainStep() {
        GradientTape tape = new GradientTape();
        Tensor loss;
        try (tape) {
            Tensor hidden = x.matmul(w1).add(b1).relu();
            Tensor logits = hidden.matmul(w2).add(b2);
            loss = Spool.softmaxCrossEntropyWithLogits(labels, logits).mean();
        }
        List<Tensor> grads = tape.gradient(loss, params);
        for (int i = 0; i < params.size(); i++) {
            params.get(i).assignSub(grads.get(i).mul(LR));
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

    private static double glorot(int fanIn, int fanOut) {
        return Math.sqrt(6.0 / (fanIn + fanOut));
    }

    /** The forward loss in float64 on the host, for the initial weights (biases are zero). */
    private double referenceLoss(float[] hx, float[] hw1, float[] hw2, int[] classes) {
        double total = 0;
        double[] h = new double[HIDDEN];
        double[] z = new double[OUT];
        for (int r = 0; r < batch; r++) {
            Arrays.fill(h, 0);
            for (int k = 0; k < IN; k++) {
                double v = hx[r * IN + k];
                for (int j = 0; j < HIDDEN; j++) {
                    h[j] += v * hw1[k * HIDDEN + j];
                }
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int o = 0; o < OUT; o++) {
                z[o] = 0;
                for (int j = 0; j < HIDDEN; j++) {
                    z[o] += Math.max(h[j], 0) * hw2[j * OUT + o];
                }
                max = Math.max(max, z[o]);
            }
            double sum = 0;
            for (int o = 0; o < OUT; o++) {
                sum += Math.exp(z[o] - max);
            }
            total += max + Math.log(sum) - z[classes[r]];
        }
        return total / batch;
    }
}
