package dev.spool.examples;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Operand;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.function.TracedFunction;
import dev.spool.nn.io.Checkpoint;
import dev.spool.nn.layers.Activation;
import dev.spool.nn.layers.Dense;
import dev.spool.nn.layers.Embedding;
import dev.spool.nn.layers.Initializer;
import dev.spool.nn.layers.Layer;
import dev.spool.nn.layers.LayerNormalization;
import dev.spool.nn.layers.MultiHeadAttention;
import dev.spool.nn.optimizers.AdamW;
import dev.spool.nn.optimizers.LearningRateSchedule;
import dev.spool.nn.optimizers.Optimizer;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import javax.imageio.ImageIO;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A makemore-style character-level transformer on Debian's {@code wamerican} word list
 * ({@code /usr/share/dict/words}): the lowercase a–z words, shuffled by a fixed seed and split
 * 90/10 into training and test words. Each word is read as {@code .word.}, '.' being both the
 * start and the end token (27 tokens). The model sees 17 positions (the start token and 16
 * characters, or for the rare longer word a window of the 17 tokens before the one it predicts):
 * token and learned position embeddings, then blocks of pre-norm causal self-attention
 * ({@link MultiHeadAttention}) and a GELU MLP (two {@link Dense} layers, 4x wide), each
 * residual, a final {@link LayerNormalization} and a linear head; AdamW with a cosine-decayed
 * learning rate and gradient clipping.
 *
 * <p>Before training it fits the count-based baselines on the same split: n-gram models for
 * n = 2..5 with add-k smoothing, k chosen on the last tenth of the training words (fitted on the
 * rest), then refitted on all training words. Every loss is in nats per character, the end token
 * counted as a character. At the end it prints the train and test loss, writes the loss curve
 * beside the n-gram lines (PNG) and a checkpoint, and samples 20 new words.
 *
 * <p>The training step (forward, tape, clipping and AdamW) runs as one traced function
 * ({@link Spool#function}) unless {@code --mode eager}: the same numbers within rounding, fewer
 * launches and no per-op Java work after the first step.
 *
 * <pre>java -cp examples/target/spool-examples.jar dev.spool.examples.CharTransformer [--device cpu|opencl]
 *     [--steps 10000] [--batch 64] [--width 64] [--layers 4] [--heads 4] [--learning-rate 0.002]
 *     [--eval-every 1000] [--words /usr/share/dict/words] [--out DIR] [--seed 1] [--mode function|eager]</pre>
 */
public final class CharTransformer {
    /** Characters of context; the model sees one more position, the start token. */
    static final int CONTEXT = 16;
    static final int BLOCK = CONTEXT + 1;
    /** '.' (start and end) and a..z. */
    static final int VOCAB = 27;
    static final int END = 0;
    static final Path WORDS = Path.of("/usr/share/dict/words");
    static final String CHECKPOINT = "char-transformer.npz";
    static final String LOSS_PLOT = "char-transformer-loss.png";
    static final int EVAL_BATCH = 512;
    /** Training rows the final training loss is measured on. */
    static final int TRAIN_EVAL_ROWS = 2000;
    static final int SAMPLES = 20;
    static final double[] K_GRID = {0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1};

    /** The run's settings. */
    public record Options(int steps, int batch, int width, int layers, int heads, double learningRate,
                          int evalEvery, long seed, boolean traced) {
        public static Options defaults() {
            return new Options(10000, 64, 64, 4, 4, 0.002, 1000, 1, true);
        }

        public Options withSteps(int steps, int evalEvery) {
            return new Options(steps, batch, width, layers, heads, learningRate, evalEvery, seed, traced);
        }
    }

    /** One n-gram baseline: its order, the k chosen, its validation and test loss. */
    public record NGramResult(int n, double k, double validationLoss, double testLoss) {
    }

    /** One point of the loss curve: the mean training loss since the last point and the test loss. */
    public record CurvePoint(int step, double trainLoss, double testLoss, double seconds) {
    }

    /** What a run did. */
    public record Result(int trainWords, int testWords, List<NGramResult> ngrams, List<CurvePoint> curve,
                         double trainLoss, double testLoss, double trainSeconds, long parameters,
                         List<String> samples, Path lossPlot, Path checkpoint, Model model) {
        public NGramResult bestNGram() {
            return ngrams.stream().min((a, b) -> Double.compare(a.testLoss(), b.testLoss())).orElseThrow();
        }
    }

    private final PrintStream out;

    public CharTransformer(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        Map<String, String> o = Examples.options(args, "[--device cpu|opencl|opencl:N] [--steps N] [--batch N] "
                + "[--width N] [--layers N] [--heads N] [--learning-rate R] [--eval-every N] [--words FILE] "
                + "[--out DIR] [--seed N] [--mode function|eager]", "device", "steps", "batch", "width", "layers", "heads",
                "learning-rate", "eval-every", "words", "out", "seed", "mode");
        String mode = o.getOrDefault("mode", "function");
        if (!mode.equals("eager") && !mode.equals("function")) {
            throw new IllegalArgumentException("--mode is function or eager, got " + mode);
        }
        Options d = Options.defaults();
        Options options = new Options(Integer.parseInt(o.getOrDefault("steps", String.valueOf(d.steps()))),
                Integer.parseInt(o.getOrDefault("batch", String.valueOf(d.batch()))),
                Integer.parseInt(o.getOrDefault("width", String.valueOf(d.width()))),
                Integer.parseInt(o.getOrDefault("layers", String.valueOf(d.layers()))),
                Integer.parseInt(o.getOrDefault("heads", String.valueOf(d.heads()))),
                Double.parseDouble(o.getOrDefault("learning-rate", String.valueOf(d.learningRate()))),
                Integer.parseInt(o.getOrDefault("eval-every", String.valueOf(d.evalEvery()))),
                Long.parseLong(o.getOrDefault("seed", String.valueOf(d.seed()))), mode.equals("function"));
        Path words = Path.of(o.getOrDefault("words", WORDS.toString()));
        new CharTransformer(System.out).run(Examples.device(o), words, Path.of(o.getOrDefault("out", ".")), options);
    }

    // ---- data ---------------------------------------------------------------------------------

    /** The train and test words of the split. */
    public record Split(List<String> train, List<String> test) {
    }

    /** The lowercase a–z words of {@code file}, shuffled by {@code seed}, the last tenth the test words. */
    public static Split load(Path file, long seed) {
        List<String> words = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.matches("[a-z]+")) {
                    words.add(line);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the word list " + file + " (apt-get install wamerican)", e);
        }
        Collections.shuffle(words, new Random(seed));
        int test = words.size() / 10;
        return new Split(List.copyOf(words.subList(0, words.size() - test)),
                List.copyOf(words.subList(words.size() - test, words.size())));
    }

    /** '.' is 0, a..z are 1..26. */
    static int token(char c) {
        return c - 'a' + 1;
    }

    /**
     * The training rows of {@code words}: per row {@link #BLOCK} input tokens, as many targets, and
     * a weight per target (1 where it counts). A word of up to 16 characters is one row; a longer
     * one adds a row per further target, holding the 17 tokens before it, that counts only its
     * last position.
     */
    record Rows(int count, int[] inputs, int[] targets, float[] weights, long counted) {
        static Rows of(List<String> words) {
            List<int[]> in = new ArrayList<>();
            List<int[]> tg = new ArrayList<>();
            List<float[]> wt = new ArrayList<>();
            long counted = 0;
            for (String w : words) {
                int[] s = new int[w.length() + 2]; // . w .
                for (int i = 0; i < w.length(); i++) {
                    s[i + 1] = token(w.charAt(i));
                }
                int[] x = new int[BLOCK];
                int[] y = new int[BLOCK];
                float[] m = new float[BLOCK];
                for (int t = 1; t < s.length && t <= BLOCK; t++) {
                    x[t - 1] = s[t - 1];
                    y[t - 1] = s[t];
                    m[t - 1] = 1;
                    counted++;
                }
                in.add(x);
                tg.add(y);
                wt.add(m);
                for (int t = BLOCK + 1; t < s.length; t++) { // targets beyond the first window
                    int[] xs = new int[BLOCK];
                    int[] ys = new int[BLOCK];
                    float[] ms = new float[BLOCK];
                    System.arraycopy(s, t - BLOCK, xs, 0, BLOCK);
                    ys[BLOCK - 1] = s[t];
                    ms[BLOCK - 1] = 1;
                    counted++;
                    in.add(xs);
                    tg.add(ys);
                    wt.add(ms);
                }
            }
            int n = in.size();
            int[] inputs = new int[n * BLOCK];
            int[] targets = new int[n * BLOCK];
            float[] weights = new float[n * BLOCK];
            for (int r = 0; r < n; r++) {
                System.arraycopy(in.get(r), 0, inputs, r * BLOCK, BLOCK);
                System.arraycopy(tg.get(r), 0, targets, r * BLOCK, BLOCK);
                System.arraycopy(wt.get(r), 0, weights, r * BLOCK, BLOCK);
            }
            return new Rows(n, inputs, targets, weights, counted);
        }

        /** The first {@code n} rows. */
        Rows first(int n) {
            int m = Math.min(n, count);
            float[] w = java.util.Arrays.copyOf(weights, m * BLOCK);
            long c = 0;
            for (float v : w) {
                c += (long) v;
            }
            return new Rows(m, java.util.Arrays.copyOf(inputs, m * BLOCK), java.util.Arrays.copyOf(targets, m * BLOCK),
                    w, c);
        }

        /** Rows {@code rows[0..n)} as device tensors: inputs and targets [n, 17] int32, weights [n·17]. */
        Tensor[] tensors(int[] rows, int n) {
            double[] x = new double[n * BLOCK];
            double[] y = new double[n * BLOCK];
            double[] m = new double[n * BLOCK];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < BLOCK; j++) {
                    x[i * BLOCK + j] = inputs[rows[i] * BLOCK + j];
                    y[i * BLOCK + j] = targets[rows[i] * BLOCK + j];
                    m[i * BLOCK + j] = weights[rows[i] * BLOCK + j];
                }
            }
            return new Tensor[] {Spool.constant(x, Shape.of(n, BLOCK), DType.INT32),
                                 Spool.constant(y, Shape.of(n, BLOCK), DType.INT32),
                                 Spool.constant(m, Shape.of(n * BLOCK), DType.FLOAT32)};
        }

        double weightOf(int[] rows, int n) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < BLOCK; j++) {
                    sum += weights[rows[i] * BLOCK + j];
                }
            }
            return sum;
        }
    }

    // ---- n-gram baselines -----------------------------------------------------------------------

    /** Counts of the next token after each context of n-1 tokens (the start padded with '.'). */
    static final class NGram {
        final int n;
        final Map<Integer, int[]> counts = new HashMap<>(); // context -> counts of 27 tokens, then their total

        NGram(int n, List<String> words) {
            this.n = n;
            for (String w : words) {
                int context = 0;
                for (int t = 0; t <= w.length(); t++) {
                    int next = t < w.length() ? token(w.charAt(t)) : END;
                    int[] c = counts.computeIfAbsent(context, key -> new int[VOCAB + 1]);
                    c[next]++;
                    c[VOCAB]++;
                    context = shift(context, next);
                }
            }
        }

        /** The last n-1 tokens, base 27. */
        int shift(int context, int next) {
            int mod = 1;
            for (int i = 0; i < n - 1; i++) {
                mod *= VOCAB;
            }
            return n == 1 ? 0 : (context * VOCAB + next) % mod;
        }

        /** Mean negative log-likelihood per character (end token included) of {@code words} with add-k. */
        double loss(List<String> words, double k) {
            double nll = 0;
            long count = 0;
            for (String w : words) {
                int context = 0;
                for (int t = 0; t <= w.length(); t++) {
                    int next = t < w.length() ? token(w.charAt(t)) : END;
                    int[] c = counts.get(context);
                    double p = c == null ? 1.0 / VOCAB : (c[next] + k) / (c[VOCAB] + VOCAB * k);
                    nll -= Math.log(p);
                    count++;
                    context = shift(context, next);
                }
            }
            return nll / count;
        }
    }

    /** n = 2..5: k from {@link #K_GRID} by the loss on the last tenth of the training words, then refitted. */
    static List<NGramResult> ngramBaselines(Split split) {
        List<String> train = split.train();
        int validation = train.size() / 10;
        List<String> fit = train.subList(0, train.size() - validation);
        List<String> held = train.subList(train.size() - validation, train.size());
        List<NGramResult> results = new ArrayList<>();
        for (int n = 2; n <= 5; n++) {
            NGram partial = new NGram(n, fit);
            double bestK = K_GRID[0];
            double bestLoss = Double.POSITIVE_INFINITY;
            for (double k : K_GRID) {
                double loss = partial.loss(held, k);
                if (loss < bestLoss) {
                    bestLoss = loss;
                    bestK = k;
                }
            }
            NGram full = new NGram(n, train);
            results.add(new NGramResult(n, bestK, bestLoss, full.loss(split.test(), bestK)));
        }
        return results;
    }

    // ---- the model ------------------------------------------------------------------------------

    /** One pre-norm transformer block's layers. */
    record Block(LayerNormalization norm1, MultiHeadAttention attention, LayerNormalization norm2, Dense up,
                 Dense down) {
    }

    /** Token and position embeddings, the blocks, a final norm and the head: a Layer, so checkpoints work. */
    static final class Model implements Layer {
        final Embedding tokens;
        final Embedding positions;
        final List<Block> blocks = new ArrayList<>();
        final LayerNormalization norm;
        final Dense head;

        Model(int width, int layers, int heads, long seed) {
            Initializer embed = Initializer.uniform(-0.05, 0.05);
            tokens = new Embedding("token_embedding", VOCAB, width, embed, DType.FLOAT32, seed);
            positions = new Embedding("position_embedding", BLOCK, width, embed, DType.FLOAT32, seed + 1);
            for (int b = 0; b < layers; b++) {
                long s = seed + 100L * (b + 1);
                MultiHeadAttention attention = new MultiHeadAttention(heads, width / heads, 0, 0.0, true, 0, s);
                attention.build(width, width, width, DType.FLOAT32);
                blocks.add(new Block(new LayerNormalization(width),
                        attention,
                        new LayerNormalization(width),
                        new Dense("dense", width, 4 * width, Activation.GELU, Initializer.GLOROT_UNIFORM,
                                Initializer.ZEROS, DType.FLOAT32, s + 10),
                        new Dense("dense", 4 * width, width, Activation.LINEAR, Initializer.GLOROT_UNIFORM,
                                Initializer.ZEROS, DType.FLOAT32, s + 20)));
            }
            norm = new LayerNormalization(width);
            head = new Dense("dense", width, VOCAB, Activation.LINEAR, Initializer.GLOROT_UNIFORM, Initializer.ZEROS,
                    DType.FLOAT32, seed + 7);
        }

        /** {@code input}: int32 tokens [batch, t ≤ 17]; the logits [batch, t, 27]. */
        @Override
        public Tensor call(Operand input, boolean training) {
            Tensor idx = input.value();
            int t = idx.shape().dim(1);
            Tensor x = tokens.call(idx, training).add(positions.call(Spool.range(0, t, 1, DType.INT32), training));
            for (Block b : blocks) {
                Tensor h = b.norm1().call(x, training);
                x = x.add(b.attention().call(h, h, null, null, true, training));
                x = x.add(b.down().call(b.up().call(b.norm2().call(x, training), training), training));
            }
            return head.call(norm.call(x, training), training);
        }

        @Override
        public String name() {
            return "char_transformer";
        }

        @Override
        public Map<String, Variable> variables() {
            Map<String, Variable> vars = new LinkedHashMap<>();
            put(vars, "token_embedding", tokens);
            put(vars, "position_embedding", positions);
            for (int i = 0; i < blocks.size(); i++) {
                Block b = blocks.get(i);
                put(vars, "block_" + i + "/norm1", b.norm1());
                put(vars, "block_" + i + "/attention", b.attention());
                put(vars, "block_" + i + "/norm2", b.norm2());
                put(vars, "block_" + i + "/mlp_up", b.up());
                put(vars, "block_" + i + "/mlp_down", b.down());
            }
            put(vars, "norm", norm);
            put(vars, "head", head);
            return Collections.unmodifiableMap(vars);
        }

        private static void put(Map<String, Variable> vars, String prefix, Layer layer) {
            layer.variables().forEach((name, v) -> vars.put(prefix + "/" + name, v));
        }
    }

    /** Sum over counted targets of the cross-entropy, from logits [n, 17, 27]. */
    static Tensor summedLoss(Tensor logits, Tensor targets, Tensor weights) {
        int n = logits.shape().dim(0) * logits.shape().dim(1);
        Tensor ce = Spool.softmaxCrossEntropyWithLogits(Spool.oneHot(targets.reshape(n), VOCAB, 1, 0, DType.FLOAT32),
                logits.reshape(n, VOCAB));
        return ce.mul(weights).sum();
    }

    /** One training step: the loss (weighted by {@code weights}, which sum to 1) and AdamW's update. */
    static Tensor trainStep(Model model, Optimizer optimizer, List<Variable> params, Tensor tokens, Tensor targets,
                            Tensor weights) {
        GradientTape tape = new GradientTape();
        Tensor loss;
        try (tape) {
            loss = summedLoss(model.call(tokens, true), targets, weights);
        }
        optimizer.apply(tape.gradient(loss, params), params);
        return loss;
    }

    /** Mean loss per counted target over all of {@code rows}, in inference mode. */
    static double evaluate(Model model, Rows rows) {
        double total = 0;
        int[] index = new int[EVAL_BATCH];
        for (int start = 0; start < rows.count(); start += EVAL_BATCH) {
            int n = Math.min(EVAL_BATCH, rows.count() - start);
            for (int i = 0; i < n; i++) {
                index[i] = start + i;
            }
            try (TensorScope scope = new TensorScope()) {
                Tensor[] batch = rows.tensors(index, n);
                total += summedLoss(model.call(batch[0], false), batch[1], batch[2]).doubleValue();
            }
        }
        return total / rows.counted();
    }

    // ---- training -----------------------------------------------------------------------------

    public Result run(Device device, Path wordsFile, Path outDir, Options options) {
        System.setProperty("java.awt.headless", "true");
        Split split = load(wordsFile, options.seed());
        out.printf(Locale.ROOT, "%s: %d lowercase a-z words, %d for training and %d for testing (seed %d)%n",
                wordsFile, split.train().size() + split.test().size(), split.train().size(), split.test().size(),
                options.seed());
        List<NGramResult> ngrams = ngramBaselines(split);
        for (NGramResult g : ngrams) {
            out.printf(Locale.ROOT, "%d-gram, add-k smoothing with k = %s (validation %.4f): test loss %.4f nats "
                    + "per character%n", g.n(), g.k(), g.validationLoss(), g.testLoss());
        }
        Rows train = Rows.of(split.train());
        Rows test = Rows.of(split.test());
        List<CurvePoint> curve = new ArrayList<>();
        try (Device.Scope on = Device.use(device); TensorScope all = new TensorScope()) {
            Model model = new Model(options.width(), options.layers(), options.heads(), options.seed());
            List<Variable> params = new ArrayList<>(model.variables().values());
            long count = params.stream().mapToLong(v -> v.shape().size()).sum();
            out.printf(Locale.ROOT, "a transformer of %,d parameters: %d blocks of %d-head causal self-attention and "
                    + "a GELU MLP, width %d, context %d + 1; %d steps of batches of %d words, AdamW, on %s%n", count,
                    options.layers(), options.heads(), options.width(), CONTEXT, options.steps(), options.batch(),
                    device);
            Optimizer optimizer = new AdamW(LearningRateSchedule.cosineDecay(options.learningRate(), options.steps(),
                    0.1), 0.01, 0.9, 0.99, 1e-8).withGlobalClipNorm(1.0);
            // one step as a traced function (Spool.function): traced on the first call, replayed after
            TracedFunction<Tensor> stepFunction = Spool.function((Tensor tokens, Tensor targets, Tensor weights) ->
                    trainStep(model, optimizer, params, tokens, targets, weights));
            Random random = new Random(options.seed() + 2);
            int[] index = new int[options.batch()];
            double sinceLast = 0;
            int stepsSinceLast = 0;
            long start = System.nanoTime();
            double evalSeconds = 0;
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName("training").setInitialMax(options.steps())
                    .setStyle(ProgressBarStyle.ASCII).setUnit(" steps", 1).showSpeed().setUpdateIntervalMillis(500)
                    .setConsumer(new ConsoleProgressBarConsumer(out, 110)).build()) {
                for (int step = 1; step <= options.steps(); step++) {
                    for (int i = 0; i < index.length; i++) {
                        index[i] = random.nextInt(train.count());
                    }
                    double counted = train.weightOf(index, index.length);
                    try (TensorScope scope = new TensorScope()) {
                        Tensor[] batch = train.tensors(index, index.length);
                        // the mean's division outside the step, whose arguments are then all tensors (a
                        // double would be part of the function's signature and retrace at every new count)
                        Tensor weights = batch[2].div(counted);
                        Tensor loss = options.traced() ? stepFunction.call(batch[0], batch[1], weights)
                                : trainStep(model, optimizer, params, batch[0], batch[1], weights);
                        if (step % 10 == 0 || step == options.steps()) { // reading the loss waits for the device
                            double l = loss.doubleValue();
                            sinceLast += l;
                            stepsSinceLast++;
                            bar.setExtraMessage(String.format(Locale.ROOT, " loss %.3f", l));
                        }
                    }
                    bar.step();
                    if (step % options.evalEvery() == 0 || step == options.steps()) {
                        long e0 = System.nanoTime();
                        double testLoss = evaluate(model, test);
                        evalSeconds += (System.nanoTime() - e0) / 1e9;
                        double seconds = (System.nanoTime() - start) / 1e9 - evalSeconds;
                        curve.add(new CurvePoint(step, sinceLast / Math.max(1, stepsSinceLast), testLoss, seconds));
                        bar.setExtraMessage(String.format(Locale.ROOT, " test %.3f", testLoss));
                        sinceLast = 0;
                        stepsSinceLast = 0;
                    }
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9 - evalSeconds;
            if (options.traced()) {
                out.println("training step: " + stepFunction.stats());
            }
            stepFunction.close();
            for (CurvePoint p : curve) {
                out.printf(Locale.ROOT, "step %5d: train %.4f, test %.4f nats per character (%.0f s of training)%n",
                        p.step(), p.trainLoss(), p.testLoss(), p.seconds());
            }
            // the training loss on the first 2,000 training rows (all 57k would take 9x the test set's time)
            double trainLoss = evaluate(model, train.first(TRAIN_EVAL_ROWS));
            double testLoss = curve.get(curve.size() - 1).testLoss();
            NGramResult best = ngrams.stream().min((a, b) -> Double.compare(a.testLoss(), b.testLoss())).orElseThrow();
            out.printf(Locale.ROOT, "transformer: train loss %.4f, test loss %.4f nats per character after %d steps "
                    + "(%.0f s of training, %.0f ms a step); the best n-gram (%d-gram) %.4f: %s%n", trainLoss, testLoss,
                    options.steps(), seconds, 1000 * seconds / options.steps(), best.n(), best.testLoss(),
                    testLoss < best.testLoss() ? "beaten" : "not beaten");
            List<String> samples = sample(model, SAMPLES, new Random(options.seed() + 3));
            Set<String> known = new HashSet<>(split.train());
            StringBuilder line = new StringBuilder("samples (* = not a training word):");
            for (String s : samples) {
                line.append(' ').append(s).append(known.contains(s) ? "" : "*");
            }
            out.println(line);
            Files.createDirectories(outDir);
            Path checkpoint = outDir.resolve(CHECKPOINT);
            Checkpoint.save(checkpoint, model);
            Path plot = outDir.resolve(LOSS_PLOT);
            write(lossImage(curve, ngrams), plot);
            out.println("wrote " + plot + " and " + checkpoint);
            return new Result(split.train().size(), split.test().size(), ngrams, curve, trainLoss, testLoss, seconds,
                    count, samples, plot, checkpoint, model);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Words drawn token by token from the model's softmax, each up to 30 characters. */
    static List<String> sample(Model model, int count, Random random) {
        List<String> words = new ArrayList<>();
        for (int w = 0; w < count; w++) {
            List<Integer> seq = new ArrayList<>(List.of(END));
            StringBuilder word = new StringBuilder();
            while (word.length() < 30) {
                int from = Math.max(0, seq.size() - BLOCK);
                int t = seq.size() - from;
                double[] window = new double[t];
                for (int i = 0; i < t; i++) {
                    window[i] = seq.get(from + i);
                }
                float[] logits;
                try (TensorScope scope = new TensorScope()) {
                    Tensor x = Spool.constant(window, Shape.of(1, t), DType.INT32);
                    logits = model.call(x, false).slice(new int[] {0, t - 1, 0}, new int[] {1, 1, VOCAB})
                            .toFloatArray();
                }
                int next = draw(logits, random);
                if (next == END) {
                    break;
                }
                seq.add(next);
                word.append((char) ('a' + next - 1));
            }
            words.add(word.toString());
        }
        return words;
    }

    private static int draw(float[] logits, Random random) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            sum += p[i];
        }
        double u = random.nextDouble() * sum;
        for (int i = 0; i < p.length; i++) {
            u -= p[i];
            if (u <= 0) {
                return i;
            }
        }
        return p.length - 1;
    }

    // ---- the picture --------------------------------------------------------------------------

    private static final Color[] NGRAM_COLOURS = {new Color(150, 150, 150), new Color(200, 120, 40),
        new Color(150, 60, 170), new Color(200, 30, 30)};

    /** Train and test loss against steps, with each n-gram's test loss as a dashed line. */
    static BufferedImage lossImage(List<CurvePoint> curve, List<NGramResult> ngrams) {
        int width = 900;
        int height = 600;
        int left = 70;
        int right = 150;
        int top = 50;
        int bottom = 60;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (CurvePoint p : curve) {
            lo = Math.min(lo, Math.min(p.trainLoss(), p.testLoss()));
            hi = Math.max(hi, Math.max(p.trainLoss(), p.testLoss()));
        }
        for (NGramResult n : ngrams) {
            lo = Math.min(lo, n.testLoss());
            hi = Math.max(hi, n.testLoss());
        }
        lo = Math.floor(lo * 10) / 10 - 0.05;
        hi = Math.ceil(hi * 10) / 10;
        int maxStep = curve.isEmpty() ? 1 : curve.get(curve.size() - 1).step();
        int plotW = width - left - right;
        int plotH = height - top - bottom;
        double ylo = lo;
        double yhi = hi;
        java.util.function.DoubleUnaryOperator ys = v -> top + plotH * (yhi - v) / (yhi - ylo);
        java.util.function.IntUnaryOperator xs = s -> left + (int) Math.round((double) plotW * s / maxStep);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString("Character transformer on wamerican: loss in nats per character", left, 28);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawRect(left, top, plotW, plotH);
        for (double v = Math.ceil(lo * 10) / 10; v <= hi + 1e-9; v += 0.1) {
            int y = (int) Math.round(ys.applyAsDouble(v));
            g.setColor(new Color(230, 230, 230));
            g.drawLine(left + 1, y, left + plotW - 1, y);
            g.setColor(Color.BLACK);
            g.drawString(String.format(Locale.ROOT, "%.1f", v), left - 30, y + 4);
        }
        for (int i = 0; i <= 5; i++) {
            int s = maxStep * i / 5;
            g.drawString(String.valueOf(s), xs.applyAsInt(s) - 10, top + plotH + 18);
        }
        g.drawString("training steps", left + plotW / 2 - 30, height - 15);
        Graphics2D dashed = (Graphics2D) g.create();
        dashed.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {8, 6}, 0));
        for (int i = 0; i < ngrams.size(); i++) {
            NGramResult n = ngrams.get(i);
            int y = (int) Math.round(ys.applyAsDouble(n.testLoss()));
            dashed.setColor(NGRAM_COLOURS[i % NGRAM_COLOURS.length]);
            dashed.drawLine(left, y, left + plotW, y);
            g.setColor(NGRAM_COLOURS[i % NGRAM_COLOURS.length]);
            g.drawString(String.format(Locale.ROOT, "%d-gram %.3f", n.n(), n.testLoss()), left + plotW + 8, y + 4);
        }
        dashed.dispose();
        g.setStroke(new BasicStroke(2f));
        drawSeries(g, curve, xs, ys, true, new Color(40, 110, 200));
        drawSeries(g, curve, xs, ys, false, new Color(0, 140, 60));
        g.setColor(new Color(40, 110, 200));
        g.drawString("train (mean since the last point)", left + plotW - 200, top + 18);
        g.setColor(new Color(0, 140, 60));
        g.drawString("test", left + plotW - 200, top + 34);
        g.dispose();
        return image;
    }

    private static void drawSeries(Graphics2D g, List<CurvePoint> curve, java.util.function.IntUnaryOperator xs,
                                   java.util.function.DoubleUnaryOperator ys, boolean train, Color colour) {
        g.setColor(colour);
        int px = -1;
        int py = -1;
        for (CurvePoint p : curve) {
            int x = xs.applyAsInt(p.step());
            int y = (int) Math.round(ys.applyAsDouble(train ? p.trainLoss() : p.testLoss()));
            if (px >= 0) {
                g.drawLine(px, py, x, y);
            }
            g.fillOval(x - 3, y - 3, 6, 6);
            px = x;
            py = y;
        }
    }

    private static void write(BufferedImage image, Path file) throws IOException {
        if (!ImageIO.write(image, "png", file.toFile())) {
            throw new IOException("no PNG writer for " + file);
        }
    }
}
