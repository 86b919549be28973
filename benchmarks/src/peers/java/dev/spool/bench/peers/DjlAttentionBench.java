package dev.spool.bench.peers;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.spool.bench.AttentionBench;
import dev.spool.bench.Checks;
import dev.spool.bench.ConvBench;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Peer of AttentionBench: the same q, k, v and output gradient on PyTorch's CPU engine through
 * DJL, two intra-op threads. DJL 0.36 has no binding of PyTorch's scaled_dot_product_attention,
 * so it is written as PyTorch users write it without that: matmul(q, kᵀ) · scale, softmax,
 * matmul with v, under a GradientCollector, then backward of sum(out · dy), which gives the
 * gradients of q, k and v under dy; the gradients are zeroed after each step (PyTorch
 * accumulates them). Checked as Spool's side is.
 */
@SuppressWarnings("try") // the NDScope is opened for its effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=2",
    "-Dai.djl.pytorch.num_interop_threads=1"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class DjlAttentionBench {
    private NDManager manager;
    private NDArray q;
    private NDArray k;
    private NDArray v;
    private NDArray dy;

    @Setup
    public void setup() {
        manager = NDManager.newBaseManager();
        Checks.that(JniUtils.getNumThreads() == ConvBench.THREADS,
                "PyTorch should run " + ConvBench.THREADS + " intra-op threads, runs " + JniUtils.getNumThreads());
        float[][] host = AttentionBench.inputs();
        Shape shape = new Shape(8, 4, 256, 64);
        q = manager.create(host[0], shape);
        k = manager.create(host[1], shape);
        v = manager.create(host[2], shape);
        dy = manager.create(host[3], shape);
        for (NDArray x : new NDArray[] {q, k, v}) {
            x.setRequiresGradient(true);
        }
        try (NDScope scope = new NDScope()) {
            float[] out = step().toFloatArray();
            AttentionBench.check(host, out, v.getGradient().toFloatArray());
            zeroGradients();
        }
    }

    private NDArray step() {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(1 / Math.sqrt(64));
            NDArray out = scores.softmax(-1).matMul(v);
            gc.backward(out.mul(dy).sum());
            return out;
        }
    }

    private void zeroGradients() {
        for (NDArray x : new NDArray[] {q, k, v}) {
            x.getGradient().muli(0f);
        }
    }

    @Benchmark
    public void forwardAndBackward() {
        try (NDScope scope = new NDScope()) {
            step(); // PyTorch on the CPU is synchronous: the gradients are there
            zeroGradients();
        }
    }

    @TearDown
    public void tearDown() {
        manager.close();
    }
}
