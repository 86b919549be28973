package dev.spool.bench;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.nn.layers.Activation;
import dev.spool.nn.layers.Conv2D;
import dev.spool.nn.layers.Dense;
import dev.spool.nn.layers.Dropout;
import dev.spool.nn.layers.Flatten;
import dev.spool.nn.layers.MaxPooling2D;
import dev.spool.nn.layers.Sequential;
import dev.spool.nn.losses.Losses;
import dev.spool.nn.losses.Reduction;
import dev.spool.nn.optimizers.Adam;
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
 * One training step of the Keras Fashion-MNIST CNN (CnnData: the model, seeded weights and
 * batches, shared with the DJL peer) as a user writes it with Spool's nn layers, the step of
 * examples' FashionMnistCnn: the forward pass in training mode (dropout on) under a
 * GradientTape, the mean sparse softmax cross-entropy, {@code tape.gradient} for the eight
 * variables, Adam's update, inside a TensorScope, the device synchronised at the end. Whatever
 * the device's convolution kernels are, this times them: rerun it after they change.
 *
 * <p>Checked before timing: the inference-mode logits against a float64 reference, and that ten
 * steps lower the loss by 10 %; after timing, that the timed steps lowered it further. The fork
 * sees two processors, so the cpu device runs two threads, as the peer does.
 */
@SuppressWarnings("try") // device and tensor scopes are opened for their effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:ActiveProcessorCount=2"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class CnnStepBench {
    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"128"})
    public int batch;

    private Device dev;
    private CnnData data;
    private Sequential model;
    private List<Variable> params;
    private Adam optimizer;
    private final Tensor[] images = new Tensor[CnnData.BATCHES];
    private final Tensor[] labels = new Tensor[CnnData.BATCHES];
    private long steps;
    private long timedSteps;
    private double lossBeforeTiming;

    @Setup
    public void setup() {
        dev = Device.get(device);
        Checks.that(!device.equals("cpu") || dev.info().name().contains("(" + ConvBench.THREADS + " threads)"),
                "the cpu device should run " + ConvBench.THREADS + " threads: " + dev.info().name());
        data = new CnnData(batch);
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            for (int b = 0; b < CnnData.BATCHES; b++) {
                images[b] = scope.keep(Spool.constant(data.images[b]).reshape(batch, CnnData.SIDE, CnnData.SIDE, 1));
                labels[b] = scope.keep(Spool.constant(data.labels[b]));
            }
            Conv2D conv1 = new Conv2D(CnnData.C1, CnnData.K, Activation.RELU, 1);
            Conv2D conv2 = new Conv2D(CnnData.C2, CnnData.K, Activation.RELU, 2);
            Dense dense1 = new Dense(CnnData.HIDDEN, Activation.RELU, 3);
            Dense dense2 = new Dense(CnnData.CLASSES, Activation.LINEAR, 4);
            model = new Sequential(conv1, new MaxPooling2D(), conv2, new MaxPooling2D(), new Flatten(), dense1,
                    new Dropout(CnnData.DROPOUT, 5), dense2)
                    .build(Shape.of(1, CnnData.SIDE, CnnData.SIDE, 1), DType.FLOAT32);
            conv1.kernel().assign(Spool.constant(data.conv1Kernel).reshape(CnnData.K, CnnData.K, 1, CnnData.C1));
            conv1.bias().assign(Spool.constant(data.conv1Bias));
            conv2.kernel().assign(Spool.constant(data.conv2Kernel).reshape(CnnData.K, CnnData.K, CnnData.C1,
                    CnnData.C2));
            conv2.bias().assign(Spool.constant(data.conv2Bias));
            dense1.kernel().assign(Spool.constant(data.dense1Kernel).reshape(CnnData.FLAT, CnnData.HIDDEN));
            dense1.bias().assign(Spool.constant(data.dense1Bias));
            dense2.kernel().assign(Spool.constant(data.dense2Kernel).reshape(CnnData.HIDDEN, CnnData.CLASSES));
            dense2.bias().assign(Spool.constant(data.dense2Bias));
            params = model.trainableVariables();
            Checks.that(params.size() == 8, "the model has " + params.size() + " trainable variables, not 8");
            optimizer = new Adam(CnnData.LEARNING_RATE);

            data.checkLogits("logits", inferenceLogits());
            double before = data.loss(inferenceLogits());
            for (int i = 0; i < CnnData.CHECK_STEPS; i++) {
                trainStep();
            }
            lossBeforeTiming = data.loss(inferenceLogits());
            data.checkTraining(before, lossBeforeTiming);
        }
    }

    /** Batch 0's logits in inference mode (no dropout), read back. */
    private float[] inferenceLogits() {
        try (TensorScope scope = new TensorScope()) {
            return model.call(images[0], false).toFloatArray();
        }
    }

    /** The step, on the next of the fixed batches. */
    private void trainStep() {
        int b = (int) (steps++ % CnnData.BATCHES);
        GradientTape tape = new GradientTape();
        Tensor loss;
        try (tape) {
            Tensor logits = model.call(images[b], true);
            loss = Losses.sparseSoftmaxCrossEntropy(labels[b], logits, Reduction.MEAN);
        }
        optimizer.apply(tape.gradient(loss, params), params);
    }

    @Benchmark
    public void step() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            trainStep();
            timedSteps++;
            dev.synchronize();
        }
    }

    @TearDown
    public void tearDown() {
        try (Device.Scope use = Device.use(dev)) {
            CnnData.checkTimedSteps(timedSteps, lossBeforeTiming,
                    data.loss(inferenceLogits()));
        } finally {
            for (int b = 0; b < CnnData.BATCHES; b++) {
                images[b].close();
                labels[b].close();
            }
            for (Variable v : params) {
                optimizer.slots(v).values().forEach(Variable::close);
            }
            model.variables().values().forEach(Variable::close);
        }
    }
}
