package dev.spool.bench.peers;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.spool.bench.Checks;
import dev.spool.bench.ConvBench;
import dev.spool.bench.ConvData;
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
 * Peer of ConvBench: PyTorch's CPU engine through DJL, the same layer and values (ConvData), in
 * PyTorch's own NCHW layout with an OIHW weight and no bias, two intra-op threads. The forward
 * pass is {@code Conv2d.conv2d}. DJL's PyTorch engine has no conv_transpose2d, so each gradient is
 * PyTorch's autograd: the forward pass recorded once (by a GradientCollector) with only the input,
 * or only the weight, requiring a gradient, and each call a backward pass of that retained graph
 * under the given dy, through the JNI call that GradientCollector.backward makes. PyTorch adds
 * each result into the leaf's .grad: for the input that is one more pass over 3.2 M floats per
 * call, so {@code inputGradientAsConv} times the same product without autograd as PyTorch's forward
 * convolution of dy with the flipped, transposed weight (stride 1 only), and the report takes the
 * faster of the two.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=2",
    "-Dai.djl.pytorch.num_interop_threads=1"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class DjlConvBench {
    @Param({"16"})
    public int batch;

    @Param({"56"})
    public int size;

    private static final Shape ONE = new Shape(1, 1);
    private static final Shape PAD = new Shape(ConvData.PAD, ConvData.PAD);

    private NDManager manager;
    private NDArray x;
    private NDArray w;
    private NDArray dy;
    /** The flipped, transposed weight: dx = conv2d(dy, wFlipped) for stride 1. */
    private NDArray wFlipped;
    /** The forward pass recorded with only the input requiring a gradient. */
    private NDArray yOfInput;
    private NDArray xLeaf;
    /** The forward pass recorded with only the weight requiring a gradient. */
    private NDArray yOfWeight;
    private NDArray wLeaf;

    @Setup
    public void setup() {
        ConvData data = new ConvData(batch, size);
        manager = NDManager.newBaseManager(); // loads PyTorch, which the property gave its threads
        Checks.that(JniUtils.getNumThreads() == ConvBench.THREADS,
                "PyTorch should run " + ConvBench.THREADS + " intra-op threads, runs " + JniUtils.getNumThreads());
        float[] xNchw = ConvData.toNchw(data.x, batch, size, size, ConvData.IN);
        Shape xShape = new Shape(batch, ConvData.IN, size, size);
        Shape wShape = new Shape(ConvData.OUT, ConvData.IN, ConvData.K, ConvData.K);
        x = manager.create(xNchw, xShape);
        w = manager.create(data.filterOihw(), wShape);
        dy = manager.create(ConvData.toNchw(data.dy, batch, size, size, ConvData.OUT),
                new Shape(batch, ConvData.OUT, size, size));
        wFlipped = w.transpose(1, 0, 2, 3).flip(2, 3).duplicate();
        xLeaf = manager.create(xNchw, xShape);
        wLeaf = manager.create(data.filterOihw(), wShape);
        xLeaf.setRequiresGradient(true);
        wLeaf.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            yOfInput = Conv2d.conv2d(xLeaf, w, null, ONE, PAD, ONE).singletonOrThrow();
            yOfWeight = Conv2d.conv2d(x, wLeaf, null, ONE, PAD, ONE).singletonOrThrow();
        }
        int s = size;
        try (NDArray y = forwardOp()) {
            float[] out = y.toFloatArray();
            data.checkForward("conv2d", (n, oy, ox, o) -> out[((n * ConvData.OUT + o) * s + oy) * s + ox]);
        }
        inputGradient();
        float[] dx = xLeaf.getGradient().toFloatArray();
        data.checkInputGradient("input gradient", (n, iy, ix, i) -> dx[((n * ConvData.IN + i) * s + iy) * s + ix]);
        try (NDArray g = inputGradientAsConvOp()) {
            float[] dxConv = g.toFloatArray();
            data.checkInputGradient("conv2d(dy, flipped weight)",
                    (n, iy, ix, i) -> dxConv[((n * ConvData.IN + i) * s + iy) * s + ix]);
        }
        filterGradient();
        float[] df = wLeaf.getGradient().toFloatArray();
        data.checkFilterGradient("weight gradient",
                (ky, kx, i, o) -> df[((o * ConvData.IN + i) * ConvData.K + ky) * ConvData.K + kx]);
    }

    private NDArray forwardOp() {
        return Conv2d.conv2d(x, w, null, ONE, PAD, ONE).singletonOrThrow();
    }

    private NDArray inputGradientAsConvOp() {
        return Conv2d.conv2d(dy, wFlipped, null, ONE, PAD, ONE).singletonOrThrow();
    }

    @Benchmark
    public void forward() {
        forwardOp().close(); // PyTorch on the CPU is synchronous: the result is complete here
    }

    @Benchmark
    public void inputGradient() {
        JniUtils.backward((PtNDArray) yOfInput, (PtNDArray) dy, true, false);
    }

    @Benchmark
    public void inputGradientAsConv() {
        inputGradientAsConvOp().close();
    }

    @Benchmark
    public void filterGradient() {
        JniUtils.backward((PtNDArray) yOfWeight, (PtNDArray) dy, true, false);
    }

    @TearDown
    public void tearDown() {
        manager.close();
    }
}
