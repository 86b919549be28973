package dev.spool.bench.gpu;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.FusedActivation;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One training step of a 784 → 256 → 10 MLP (relu, mean softmax cross-entropy) on a batch of
 * 128: forward under a tape (bias-add + relu fused), the gradients of the four Variables, SGD
 * with learning rate 0.1 (applyGradientDescent, one launch per variable), then a wait for the device.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class GpuMlpBench {
    static final int BATCH = 128;
    static final int IN = 784;
    static final int HIDDEN = 256;
    static final int CLASSES = 10;
    static final double LEARNING_RATE = 0.1;

    @Param({"opencl"})
    public String device;

    private Device dev;
    private Device.Scope use;
    private Tensor x;
    private Tensor labels;
    /** w1, b1, w2, b2. */
    List<Variable> params;

    @Setup
    public void setup() {
        dev = Device.get(device);
        use = Device.use(dev);
        x = Spool.randomUniform(Shape.of(BATCH, IN), 1);
        int[] classes = new int[BATCH];
        for (int i = 0; i < BATCH; i++) {
            classes[i] = i % CLASSES;
        }
        try (Tensor c = Spool.constant(classes)) {
            labels = Spool.oneHot(c, CLASSES);
        }
        params = List.of(
                new Variable(Spool.randomNormal(Shape.of(IN, HIDDEN), 2, 0, 0.05, DType.FLOAT32), "w1"),
                new Variable(Spool.zeros(HIDDEN), "b1"),
                new Variable(Spool.randomNormal(Shape.of(HIDDEN, CLASSES), 3, 0, 0.05, DType.FLOAT32), "w2"),
                new Variable(Spool.zeros(CLASSES), "b2"));
    }

    @Benchmark
    public void trainStep() {
        try (TensorScope scope = new TensorScope()) {
            GradientTape tape = new GradientTape();
            Tensor loss;
            try (tape) {
                Tensor hidden = Spool.biasAdd(x.matmul(params.get(0)), params.get(1), FusedActivation.RELU);
                Tensor logits = Spool.biasAdd(hidden.matmul(params.get(2)), params.get(3));
                loss = Spool.softmaxCrossEntropyWithLogits(labels, logits).mean();
            }
            List<Tensor> grads = tape.gradient(loss, params);
            for (int i = 0; i < params.size(); i++) {
                Spool.applyGradientDescent(params.get(i), LEARNING_RATE, grads.get(i));
            }
            dev.synchronize();
        }
    }

    @TearDown
    public void tearDown() {
        x.close();
        labels.close();
        params.forEach(Variable::close);
        use.close();
    }
}
