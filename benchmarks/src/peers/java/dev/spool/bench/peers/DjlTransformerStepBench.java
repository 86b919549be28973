package dev.spool.bench.peers;

import static dev.spool.bench.TransformerData.BATCHES;
import static dev.spool.bench.TransformerData.BLOCK;
import static dev.spool.bench.TransformerData.HEADS;
import static dev.spool.bench.TransformerData.HIDDEN;
import static dev.spool.bench.TransformerData.KEY_DIM;
import static dev.spool.bench.TransformerData.VOCAB;
import static dev.spool.bench.TransformerData.WIDTH;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.spool.bench.Checks;
import dev.spool.bench.CnnData;
import dev.spool.bench.ConvBench;
import dev.spool.bench.TransformerData;
import java.util.ArrayList;
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
 * Peer of TransformerStepBench: the same model, weights and batches (TransformerData) on
 * PyTorch's CPU engine through DJL, two intra-op threads, written as a PyTorch user writes it
 * without {@code scaled_dot_product_attention} (DJL 0.36 has no binding of it): PyTorch's
 * embedding, {@code layer_norm}, {@code linear} (weights in its {@code [out, in]} layout) for the
 * q, k, v, output, MLP and head projections, the causal attention as matmul(q, kᵀ)·¼ plus a
 * -1e9 mask above the diagonal, softmax and matmul with v, exact GELU; the loss the weighted sum
 * of log-softmax against one-hot targets. Under a GradientCollector, then backward; the
 * gradients clipped to global norm 1 with NDArray ops (as {@code tf.clip_by_global_norm}), and
 * DJL's AdamW per parameter, whose PyTorch kernel applies Keras's rule: {@code w -= w·wd·lr},
 * then Adam with ε added to √v and the step size {@code lr·√(1-β₂ᵗ)/(1-β₁ᵗ)}; it zeroes each
 * gradient after its update. The step's temporaries are freed by an NDScope. Checked as Spool's
 * side is, against the same float64 reference.
 */
@SuppressWarnings("try") // the NDScope is opened for its effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=2",
    "-Dai.djl.pytorch.num_interop_threads=1"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class DjlTransformerStepBench {
    @Param({"64"})
    public int batch;

    /** One block's parameters; the projections as PyTorch's {@code [out, in]} weights. */
    private record Block(NDArray norm1Gamma, NDArray norm1Beta, NDArray queryWeight, NDArray queryBias,
                         NDArray keyWeight, NDArray keyBias, NDArray valueWeight, NDArray valueBias,
                         NDArray outputWeight, NDArray outputBias, NDArray norm2Gamma, NDArray norm2Beta,
                         NDArray upWeight, NDArray upBias, NDArray downWeight, NDArray downBias) {
    }

    private TransformerData data;
    private NDManager manager;
    private final List<NDArray> params = new ArrayList<>();
    private final List<Block> blocks = new ArrayList<>();
    private NDArray tokenEmbedding;
    private NDArray positionEmbedding;
    private NDArray normGamma;
    private NDArray normBeta;
    private NDArray headWeight;
    private NDArray headBias;
    private NDArray positions;
    private NDArray causalMask;
    private NDArray clipNorm;
    private Optimizer adamW;
    private final NDArray[] tokens = new NDArray[BATCHES];
    private final NDArray[] targets = new NDArray[BATCHES];
    private final NDArray[] weights = new NDArray[BATCHES];
    private long steps;
    private long timedSteps;
    private double lossBeforeTiming;

    @Setup
    public void setup() {
        data = new TransformerData(batch);
        manager = NDManager.newBaseManager(); // loads PyTorch, which the property gave its threads
        Checks.that(JniUtils.getNumThreads() == ConvBench.THREADS,
                "PyTorch should run " + ConvBench.THREADS + " intra-op threads, runs " + JniUtils.getNumThreads());
        for (int b = 0; b < BATCHES; b++) {
            tokens[b] = manager.create(longs(data.tokens[b]), new Shape(batch, BLOCK));
            targets[b] = manager.create(longs(data.targets[b]));
            weights[b] = manager.create(data.weights[b]);
        }
        long[] p = new long[BLOCK];
        float[] mask = new float[BLOCK * BLOCK];
        for (int t = 0; t < BLOCK; t++) {
            p[t] = t;
            for (int u = t + 1; u < BLOCK; u++) {
                mask[t * BLOCK + u] = -1e9f;
            }
        }
        positions = manager.create(p);
        causalMask = manager.create(mask, new Shape(BLOCK, BLOCK));
        clipNorm = manager.create((float) TransformerData.CLIP_NORM);

        tokenEmbedding = param(data.tokenEmbedding, new Shape(VOCAB, WIDTH));
        positionEmbedding = param(data.positionEmbedding, new Shape(BLOCK, WIDTH));
        for (TransformerData.Block b : data.blocks) {
            blocks.add(new Block(vector(b.norm1Gamma()), vector(b.norm1Beta()),
                    linearWeight(b.queryKernel(), WIDTH, WIDTH), vector(b.queryBias()),
                    linearWeight(b.keyKernel(), WIDTH, WIDTH), vector(b.keyBias()),
                    linearWeight(b.valueKernel(), WIDTH, WIDTH), vector(b.valueBias()),
                    linearWeight(b.outputKernel(), WIDTH, WIDTH), vector(b.outputBias()),
                    vector(b.norm2Gamma()), vector(b.norm2Beta()),
                    linearWeight(b.upKernel(), WIDTH, HIDDEN), vector(b.upBias()),
                    linearWeight(b.downKernel(), HIDDEN, WIDTH), vector(b.downBias())));
        }
        normGamma = vector(data.normGamma);
        normBeta = vector(data.normBeta);
        headWeight = linearWeight(data.headKernel, WIDTH, VOCAB);
        headBias = vector(data.headBias);
        Checks.that(params.size() == TransformerData.PARAMETERS, "the model has " + params.size() + " parameters");
        adamW = Optimizer.adamW().optLearningRateTracker(Tracker.fixed((float) TransformerData.LEARNING_RATE))
                .optWeightDecays((float) TransformerData.WEIGHT_DECAY).optBeta1((float) TransformerData.BETA1)
                .optBeta2((float) TransformerData.BETA2).optEpsilon((float) TransformerData.EPSILON).build();

        data.checkLogits("logits", inferenceLogits());
        double before = loss();
        data.checkLoss("the initial loss", before);
        // the first step outside any NDScope: AdamW creates its moment arrays there, and a scope
        // would close them with the step's temporaries
        trainStep();
        for (int i = 1; i < TransformerData.CHECK_STEPS; i++) {
            try (NDScope scope = new NDScope()) {
                trainStep();
            }
        }
        lossBeforeTiming = loss();
        data.checkTraining(before, lossBeforeTiming);
    }

    private static long[] longs(int[] v) {
        long[] out = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    private NDArray param(float[] values, Shape shape) {
        NDArray a = manager.create(values, shape);
        a.setRequiresGradient(true);
        params.add(a);
        return a;
    }

    private NDArray vector(float[] values) {
        return param(values, new Shape(values.length));
    }

    /** A {@code [in, out]} kernel as PyTorch's {@code [out, in]} linear weight. */
    private NDArray linearWeight(float[] kernel, int in, int out) {
        return param(CnnData.outIn(kernel, in, out), new Shape(out, in));
    }

    private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return Linear.linear(x, weight, bias).singletonOrThrow();
    }

    private static NDArray layerNorm(NDArray x, NDArray gamma, NDArray beta) {
        return LayerNorm.layerNorm(x, new Shape(WIDTH), gamma, beta, (float) TransformerData.NORM_EPSILON)
                .singletonOrThrow();
    }

    /** [B, T, 64] -> [B, heads, T, 16]. */
    private static NDArray heads(NDArray x) {
        return x.reshape(x.getShape().get(0), BLOCK, HEADS, KEY_DIM).transpose(0, 2, 1, 3);
    }

    /** The logits [B, 17, 27] of tokens [B, 17]. */
    private NDArray forward(NDArray input) {
        long b = input.getShape().get(0);
        NDArray x = Embedding.embedding(input, tokenEmbedding, SparseFormat.DENSE).singletonOrThrow()
                .add(Embedding.embedding(positions, positionEmbedding, SparseFormat.DENSE).singletonOrThrow());
        float scale = (float) (1 / Math.sqrt(KEY_DIM));
        for (Block k : blocks) {
            NDArray h = layerNorm(x, k.norm1Gamma(), k.norm1Beta());
            NDArray q = heads(linear(h, k.queryWeight(), k.queryBias()));
            NDArray key = heads(linear(h, k.keyWeight(), k.keyBias()));
            NDArray v = heads(linear(h, k.valueWeight(), k.valueBias()));
            NDArray probabilities = q.matMul(key.transpose(0, 1, 3, 2)).mul(scale).add(causalMask).softmax(-1);
            NDArray attended = probabilities.matMul(v).transpose(0, 2, 1, 3).reshape(b, BLOCK, WIDTH);
            x = x.add(linear(attended, k.outputWeight(), k.outputBias()));
            NDArray up = Activation.gelu(linear(layerNorm(x, k.norm2Gamma(), k.norm2Beta()), k.upWeight(),
                    k.upBias()));
            x = x.add(linear(up, k.downWeight(), k.downBias()));
        }
        return linear(layerNorm(x, normGamma, normBeta), headWeight, headBias);
    }

    /** The weighted sum of each position's cross-entropy. */
    private static NDArray summedLoss(NDArray logits, NDArray target, NDArray weight) {
        NDArray logProbabilities = logits.reshape(-1, VOCAB).logSoftmax(1);
        return logProbabilities.mul(target.oneHot(VOCAB)).sum(new int[] {1}).mul(weight).sum().neg();
    }

    private float[] inferenceLogits() {
        try (NDScope scope = new NDScope()) {
            return forward(tokens[0]).toFloatArray();
        }
    }

    /** Batch 0's loss, no step taken. */
    private double loss() {
        try (NDScope scope = new NDScope()) {
            return summedLoss(forward(tokens[0]), targets[0], weights[0]).getFloat();
        }
    }

    /** The step, on the next of the fixed batches. */
    private void trainStep() {
        int b = (int) (steps++ % BATCHES);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(summedLoss(forward(tokens[b]), targets[b], weights[b]));
        }
        NDArray sumSquares = null;
        for (NDArray w : params) {
            NDArray s = w.getGradient().square().sum();
            sumSquares = sumSquares == null ? s : sumSquares.add(s);
        }
        NDArray clip = clipNorm.div(sumSquares.sqrt().maximum(clipNorm)); // 1 within the norm
        for (int i = 0; i < params.size(); i++) {
            NDArray w = params.get(i);
            adamW.update("p" + i, w, w.getGradient().mul(clip));
        }
    }

    @Benchmark
    public void step() {
        try (NDScope scope = new NDScope()) {
            trainStep(); // PyTorch on the CPU is synchronous: the step is complete here
            timedSteps++;
        }
    }

    @TearDown
    public void tearDown() {
        try {
            TransformerData.checkTimedSteps(timedSteps, lossBeforeTiming, loss());
        } finally {
            manager.close();
        }
    }
}
