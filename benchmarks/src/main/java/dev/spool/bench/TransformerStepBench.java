package dev.spool.bench;

import static dev.spool.bench.TransformerData.BATCHES;
import static dev.spool.bench.TransformerData.BLOCK;
import static dev.spool.bench.TransformerData.HEADS;
import static dev.spool.bench.TransformerData.HIDDEN;
import static dev.spool.bench.TransformerData.KEY_DIM;
import static dev.spool.bench.TransformerData.LAYERS;
import static dev.spool.bench.TransformerData.VOCAB;
import static dev.spool.bench.TransformerData.WIDTH;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.function.TracedFunction;
import dev.spool.nn.layers.Activation;
import dev.spool.nn.layers.Dense;
import dev.spool.nn.layers.Embedding;
import dev.spool.nn.layers.Initializer;
import dev.spool.nn.layers.LayerNormalization;
import dev.spool.nn.layers.MultiHeadAttention;
import dev.spool.nn.optimizers.AdamW;
import dev.spool.nn.optimizers.LearningRateSchedule;
import dev.spool.nn.optimizers.Optimizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
 * One training step of examples' CharTransformer (TransformerData: the model, seeded weights
 * and batches, shared with the DJL peer) as the example runs it: built from Spool's nn layers
 * (Embedding, LayerNormalization, MultiHeadAttention with the causal mask, Dense with exact
 * GELU), the step a traced function ({@code Spool.function}) of the batch's tokens, targets and
 * weights, whose body is the forward pass under a GradientTape, the weighted cross-entropy,
 * {@code tape.gradient} for the 70 variables and AdamW's update with global-norm clipping,
 * inside a TensorScope, the device synchronised at the end.
 *
 * <p>Checked before timing: batch 0's logits against a float64 reference, the initial loss
 * against the reference's, and that ten steps lower it by 10 %; after timing, that the timed
 * steps lowered it further. The fork sees two processors, so the cpu device runs two threads,
 * as the peer does.
 */
@SuppressWarnings("try") // device and tensor scopes are opened for their effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:ActiveProcessorCount=2"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class TransformerStepBench {
    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"64"})
    public int batch;

    private Device dev;
    private TransformerData data;
    private Model model;
    private List<Variable> params;
    private Optimizer optimizer;
    private TracedFunction<Tensor> stepFunction;
    private final Tensor[] tokens = new Tensor[BATCHES];
    private final Tensor[] targets = new Tensor[BATCHES];
    private final Tensor[] weights = new Tensor[BATCHES];
    private long steps;
    private long timedSteps;
    private double lossBeforeTiming;

    /** The example's Model, its variables listed in TransformerData's order. */
    static final class Model {
        final Embedding tokens;
        final Embedding positions;
        final List<LayerNormalization> norms1 = new ArrayList<>();
        final List<MultiHeadAttention> attentions = new ArrayList<>();
        final List<LayerNormalization> norms2 = new ArrayList<>();
        final List<Dense> ups = new ArrayList<>();
        final List<Dense> downs = new ArrayList<>();
        final LayerNormalization norm;
        final Dense head;

        /** The layers with their own initial values, which {@link #assign} replaces. */
        Model() {
            Initializer embed = Initializer.uniform(-0.05, 0.05);
            tokens = new Embedding("token_embedding", VOCAB, WIDTH, embed, DType.FLOAT32, 1);
            positions = new Embedding("position_embedding", BLOCK, WIDTH, embed, DType.FLOAT32, 2);
            for (int b = 0; b < LAYERS; b++) {
                long s = 100L * (b + 1);
                norms1.add(new LayerNormalization(WIDTH));
                attentions.add(new MultiHeadAttention(HEADS, KEY_DIM, 0, 0.0, true, 0, s)
                        .build(WIDTH, WIDTH, WIDTH, DType.FLOAT32));
                norms2.add(new LayerNormalization(WIDTH));
                ups.add(new Dense("dense", WIDTH, HIDDEN, Activation.GELU, Initializer.GLOROT_UNIFORM,
                        Initializer.ZEROS, DType.FLOAT32, s + 10));
                downs.add(new Dense("dense", HIDDEN, WIDTH, Activation.LINEAR, Initializer.GLOROT_UNIFORM,
                        Initializer.ZEROS, DType.FLOAT32, s + 20));
            }
            norm = new LayerNormalization(WIDTH);
            head = new Dense("dense", WIDTH, VOCAB, Activation.LINEAR, Initializer.GLOROT_UNIFORM, Initializer.ZEROS,
                    DType.FLOAT32, 7);
        }

        /** The 70 variables in the order of {@link TransformerData#parameters()}. */
        List<Variable> variables() {
            List<Variable> all = new ArrayList<>(List.of(tokens.embeddings(), positions.embeddings()));
            for (int b = 0; b < LAYERS; b++) {
                Map<String, Variable> a = attentions.get(b).variables();
                all.addAll(List.of(norms1.get(b).gamma(), norms1.get(b).beta(),
                        a.get("query/kernel"), a.get("query/bias"), a.get("key/kernel"), a.get("key/bias"),
                        a.get("value/kernel"), a.get("value/bias"),
                        a.get("attention_output/kernel"), a.get("attention_output/bias"),
                        norms2.get(b).gamma(), norms2.get(b).beta(),
                        ups.get(b).kernel(), ups.get(b).bias(), downs.get(b).kernel(), downs.get(b).bias()));
            }
            all.addAll(List.of(norm.gamma(), norm.beta(), head.kernel(), head.bias()));
            return all;
        }

        /** Sets every variable to TransformerData's values (flat, in the variable's own shape). */
        void assign(TransformerData data) {
            List<Variable> vars = variables();
            List<float[]> values = data.parameters();
            Checks.that(vars.size() == TransformerData.PARAMETERS && values.size() == vars.size(),
                    "the model has " + vars.size() + " variables for " + values.size() + " arrays");
            for (int i = 0; i < vars.size(); i++) {
                Variable v = vars.get(i);
                Checks.that(v.shape().size() == values.get(i).length, v.name() + " " + v.shape() + " for "
                        + values.get(i).length + " values");
                v.assign(Spool.constant(values.get(i)).reshape(v.shape().toArray()));
            }
        }

        /** {@code input}: int32 tokens [batch, 17]; the logits [batch, 17, 27]. */
        Tensor call(Tensor input, boolean training) {
            int t = input.shape().dim(1);
            Tensor x = tokens.call(input, training).add(positions.call(Spool.range(0, t, 1, DType.INT32), training));
            for (int b = 0; b < LAYERS; b++) {
                Tensor h = norms1.get(b).call(x, training);
                x = x.add(attentions.get(b).call(h, h, null, null, true, training));
                x = x.add(downs.get(b).call(ups.get(b).call(norms2.get(b).call(x, training), training), training));
            }
            return head.call(norm.call(x, training), training);
        }
    }

    /** The example's loss: the weighted sum of each position's cross-entropy, from logits [n, 17, 27]. */
    static Tensor summedLoss(Tensor logits, Tensor targets, Tensor weights) {
        int n = logits.shape().dim(0) * logits.shape().dim(1);
        Tensor ce = Spool.softmaxCrossEntropyWithLogits(Spool.oneHot(targets.reshape(n), VOCAB, 1, 0, DType.FLOAT32),
                logits.reshape(n, VOCAB));
        return ce.mul(weights).sum();
    }

    @Setup
    public void setup() {
        dev = Device.get(device);
        Checks.that(!device.equals("cpu") || dev.info().name().contains("(" + ConvBench.THREADS + " threads)"),
                "the cpu device should run " + ConvBench.THREADS + " threads: " + dev.info().name());
        data = new TransformerData(batch);
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            for (int b = 0; b < BATCHES; b++) {
                tokens[b] = scope.keep(Spool.constant(data.tokens[b]).reshape(batch, BLOCK));
                targets[b] = scope.keep(Spool.constant(data.targets[b]).reshape(batch, BLOCK));
                weights[b] = scope.keep(Spool.constant(data.weights[b]));
            }
            model = new Model();
            model.assign(data);
            params = model.variables();
            optimizer = new AdamW(LearningRateSchedule.constant(TransformerData.LEARNING_RATE),
                    TransformerData.WEIGHT_DECAY, TransformerData.BETA1, TransformerData.BETA2,
                    TransformerData.EPSILON).withGlobalClipNorm(TransformerData.CLIP_NORM);
            // traced at its first call, replayed after, as the example runs its step
            stepFunction = Spool.function((Tensor x, Tensor y, Tensor w) -> trainStep(x, y, w));

            data.checkLogits("logits", inferenceLogits());
            double before = loss();
            data.checkLoss("the initial loss", before);
            for (int i = 0; i < TransformerData.CHECK_STEPS; i++) {
                nextStep();
            }
            lossBeforeTiming = loss();
            data.checkTraining(before, lossBeforeTiming);
        }
    }

    private float[] inferenceLogits() {
        try (TensorScope scope = new TensorScope()) {
            return model.call(tokens[0], false).toFloatArray();
        }
    }

    /** Batch 0's loss, no step taken. */
    private double loss() {
        try (TensorScope scope = new TensorScope()) {
            return summedLoss(model.call(tokens[0], false), targets[0], weights[0]).doubleValue();
        }
    }

    /** The body of the traced step: the loss, its gradients and AdamW's update; returns the loss. */
    private Tensor trainStep(Tensor x, Tensor y, Tensor w) {
        GradientTape tape = new GradientTape();
        Tensor loss;
        try (tape) {
            loss = summedLoss(model.call(x, true), y, w);
        }
        optimizer.apply(tape.gradient(loss, params), params);
        return loss;
    }

    /** The step, on the next of the fixed batches. */
    private void nextStep() {
        int b = (int) (steps++ % BATCHES);
        stepFunction.call(tokens[b], targets[b], weights[b]);
    }

    @Benchmark
    public void step() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            nextStep();
            timedSteps++;
            dev.synchronize();
        }
    }

    @TearDown
    public void tearDown() {
        try (Device.Scope use = Device.use(dev)) {
            TransformerData.checkTimedSteps(timedSteps, lossBeforeTiming, loss());
        } finally {
            stepFunction.close();
            for (int b = 0; b < BATCHES; b++) {
                tokens[b].close();
                targets[b].close();
                weights[b].close();
            }
            for (Variable v : params) {
                optimizer.slots(v).values().forEach(Variable::close);
                v.close();
            }
        }
    }
}
