package dev.spool.bench.peers;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.spool.bench.MlpData;
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
 * Peer of MlpStepBench: the same step (model, data, loss, SGD) in DJL with PyTorch's autograd:
 * forward inside a GradientCollector, backward, in-place updates, gradients zeroed (PyTorch
 * accumulates them), temporaries freed by an NDScope.
 */
@SuppressWarnings("try") // the NDScope is opened for its effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true"})
// 10 s: on cpu the C2 compilations of the GEMM and update lambdas finish about 8 s into the
// run (3 s of warm-up left the first measured iterations 15 % slower than the last); DJL
// gets the same so that both are measured alike
@Warmup(iterations = 10, time = 1)
@Measurement(iterations = 5, time = 1)
public class DjlMlpStepBench {
    @Param({"128"})
    public int batch;

    private NDManager manager;
    private NDArray x;
    private NDArray labels;
    private List<NDArray> params;

    @Setup
    public void setup() {
        MlpData data = new MlpData(batch);
        manager = NDManager.newBaseManager();
        x = manager.create(data.x, new Shape(batch, MlpData.IN));
        labels = manager.create(data.oneHot(), new Shape(batch, MlpData.OUT));
        params = List.of(
                manager.create(data.w1, new Shape(MlpData.IN, MlpData.HIDDEN)),
                manager.zeros(new Shape(MlpData.HIDDEN)),
                manager.create(data.w2, new Shape(MlpData.HIDDEN, MlpData.OUT)),
                manager.zeros(new Shape(MlpData.OUT)));
        params.forEach(p -> p.setRequiresGradient(true));
        float first = trainStep();
        float later = first;
        for (int i = 0; i < 10; i++) {
            later = trainStep();
        }
        data.checkTraining(first, later);
    }

    /** The step; returns the loss of the forward pass (before the update). */
    private float trainStep() {
        try (NDScope scope = new NDScope()) {
            NDArray loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray hidden = x.matMul(params.get(0)).add(params.get(1)).maximum(0f);
                NDArray logits = hidden.matMul(params.get(2)).add(params.get(3));
                loss = logits.logSoftmax(1).mul(labels).sum(new int[] {1}).neg().mean();
                gc.backward(loss);
            }
            for (NDArray p : params) {
                NDArray g = p.getGradient();
                p.subi(g.mul(MlpData.LR));
                g.muli(0f);
            }
            return loss.getFloat();
        }
    }

    @Benchmark
    public float step() {
        return trainStep(); // reading the loss: PyTorch on the CPU has finished the step anyway
    }

    @TearDown
    public void tearDown() {
        manager.close();
    }
}
