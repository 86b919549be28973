package dev.spool.bench.peers;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import dev.spool.bench.Checks;
import dev.spool.bench.CnnData;
import dev.spool.bench.ConvBench;
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
 * Peer of CnnStepBench: the same model, weights and batches (CnnData) built from DJL's blocks
 * (Conv2d, Pool.maxPool2dBlock, batch flatten, Linear, Dropout) on PyTorch's CPU engine, in
 * PyTorch's NCHW layout, two intra-op threads: the forward pass in training mode inside a
 * GradientCollector, DJL's softmax cross-entropy loss, backward, DJL's Adam (learning rate
 * 0.001, epsilon 1e-7, as Keras's) on each parameter, the gradients zeroed (PyTorch accumulates
 * them), the step's temporaries freed by an NDScope. Checked as Spool's side is.
 */
@SuppressWarnings("try") // the NDScope is opened for its effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=2",
    "-Dai.djl.pytorch.num_interop_threads=1"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class DjlCnnStepBench {
    @Param({"128"})
    public int batch;

    private CnnData data;
    private NDManager manager;
    private SequentialBlock net;
    private ParameterStore store;
    private List<Parameter> params;
    private Optimizer adam;
    private final NDArray[] images = new NDArray[CnnData.BATCHES];
    private final NDArray[] labels = new NDArray[CnnData.BATCHES];
    private long steps;
    private long timedSteps;
    private double lossBeforeTiming;

    @Setup
    public void setup() {
        data = new CnnData(batch);
        manager = NDManager.newBaseManager(); // loads PyTorch, which the property gave its threads
        Checks.that(JniUtils.getNumThreads() == ConvBench.THREADS,
                "PyTorch should run " + ConvBench.THREADS + " intra-op threads, runs " + JniUtils.getNumThreads());
        for (int b = 0; b < CnnData.BATCHES; b++) {
            // one channel: the NHWC images are NCHW as they are
            images[b] = manager.create(data.images[b], new Shape(batch, 1, CnnData.SIDE, CnnData.SIDE));
            long[] classes = new long[batch];
            for (int i = 0; i < batch; i++) {
                classes[i] = data.labels[b][i];
            }
            labels[b] = manager.create(classes);
        }
        Block conv1 = Conv2d.builder().setKernelShape(new Shape(CnnData.K, CnnData.K)).setFilters(CnnData.C1).build();
        Block conv2 = Conv2d.builder().setKernelShape(new Shape(CnnData.K, CnnData.K)).setFilters(CnnData.C2).build();
        Block dense1 = Linear.builder().setUnits(CnnData.HIDDEN).build();
        Block dense2 = Linear.builder().setUnits(CnnData.CLASSES).build();
        init(conv1, CnnData.oihw(data.conv1Kernel, 1, CnnData.C1), data.conv1Bias);
        init(conv2, CnnData.oihw(data.conv2Kernel, CnnData.C1, CnnData.C2), data.conv2Bias);
        init(dense1, data.dense1Torch(), data.dense1Bias);
        init(dense2, CnnData.outIn(data.dense2Kernel, CnnData.HIDDEN, CnnData.CLASSES), data.dense2Bias);
        Shape pool = new Shape(2, 2);
        net = new SequentialBlock()
                .add(conv1).add(Activation::relu).add(Pool.maxPool2dBlock(pool))
                .add(conv2).add(Activation::relu).add(Pool.maxPool2dBlock(pool))
                .add(Blocks.batchFlattenBlock())
                .add(dense1).add(Activation::relu)
                .add(Dropout.builder().optRate(CnnData.DROPOUT).build())
                .add(dense2);
        net.initialize(manager, DataType.FLOAT32, new Shape(1, 1, CnnData.SIDE, CnnData.SIDE));
        params = new ArrayList<>();
        for (Pair<String, Parameter> p : net.getParameters()) {
            params.add(p.getValue());
        }
        Checks.that(params.size() == 8, "the model has " + params.size() + " parameters, not 8");
        store = new ParameterStore(manager, false);
        adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(CnnData.LEARNING_RATE))
                .optEpsilon(CnnData.EPSILON).build();

        data.checkLogits("logits", inferenceLogits());
        double before = data.loss(inferenceLogits());
        // the first step outside any NDScope: Adam creates its moment arrays there, and a scope
        // would close them with the step's temporaries
        trainStep();
        for (int i = 1; i < CnnData.CHECK_STEPS; i++) {
            try (NDScope scope = new NDScope()) {
                trainStep();
            }
        }
        lossBeforeTiming = data.loss(inferenceLogits());
        data.checkTraining(before, lossBeforeTiming);
    }

    /** Sets a layer's weight and bias to the given values (its initializer returns them). */
    private static void init(Block block, float[] weight, float[] bias) {
        block.setInitializer(values(weight), "weight");
        block.setInitializer(values(bias), "bias");
    }

    private static Initializer values(float[] v) {
        return (manager, shape, type) -> {
            Checks.that(shape.size() == v.length, "a parameter of shape " + shape + " for " + v.length + " values");
            return manager.create(v, shape);
        };
    }

    /** Batch 0's logits in inference mode (no dropout), read back. */
    private float[] inferenceLogits() {
        try (NDScope scope = new NDScope()) {
            return net.forward(store, new NDList(images[0]), false).singletonOrThrow().toFloatArray();
        }
    }

    /** The step, on the next of the fixed batches. */
    private void trainStep() {
        int b = (int) (steps++ % CnnData.BATCHES);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDList logits = net.forward(store, new NDList(images[b]), true);
            NDArray loss = Loss.softmaxCrossEntropyLoss().evaluate(new NDList(labels[b]), logits);
            gc.backward(loss);
        }
        for (Parameter p : params) {
            NDArray w = p.getArray();
            NDArray g = w.getGradient();
            adam.update(p.getId(), w, g);
            g.muli(0f);
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
            CnnData.checkTimedSteps(timedSteps, lossBeforeTiming, data.loss(inferenceLogits()));
        } finally {
            manager.close();
        }
    }
}
