package dev.spool.examples;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.function.TracedFunction;
import dev.spool.nn.data.Dataset;
import dev.spool.nn.data.FashionMnist;
import dev.spool.nn.io.Checkpoint;
import dev.spool.nn.layers.Activation;
import dev.spool.nn.layers.Conv2D;
import dev.spool.nn.layers.Dense;
import dev.spool.nn.layers.Dropout;
import dev.spool.nn.layers.Flatten;
import dev.spool.nn.layers.MaxPooling2D;
import dev.spool.nn.layers.Sequential;
import dev.spool.nn.losses.Losses;
import dev.spool.nn.losses.Reduction;
import dev.spool.nn.metrics.Accuracy;
import dev.spool.nn.metrics.Mean;
import dev.spool.nn.optimizers.Adam;
import dev.spool.nn.optimizers.LearningRateSchedule;
import dev.spool.nn.optimizers.Optimizer;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Keras's classic small CNN on Zalando's Fashion-MNIST, from Debian's
 * {@code dataset-fashion-mnist}: Conv2D(32, 3x3, relu), MaxPooling2D, Conv2D(64, 3x3, relu),
 * MaxPooling2D, Flatten, Dense(128, relu), Dropout(0.3), Dense(10), trained with Adam (β₁ 0.9,
 * β₂ 0.999, ε 1e-7, Keras's) on batches of 128. The default recipe, measured to reach 0.91 test
 * accuracy in 5 epochs on {@code cpu} (README): images standardized with the training set's
 * mean pixel and standard deviation, and the learning rate warmed up linearly from 0 to 0.008
 * over the first tenth of the steps and then decayed to 0 by a cosine (Keras's
 * {@code CosineDecay(0, decay_steps, warmup_target=0.008, warmup_steps)}). Each epoch shows a
 * progress bar with the running loss, accuracy and images/s, then the test accuracy and the
 * epoch's time. At the end it writes a confusion matrix of the test set and a grid of test images
 * with their predicted and true classes (PNG), and a checkpoint of the model ({@code .npz}; it
 * expects standardized images, {@code (x - mean) / std} with the values it prints).
 *
 * <p>Options, all measured in the README: {@code --learning-rate} (0.008), {@code --schedule
 * cosine|constant} (cosine), {@code --warmup F} (0.1 of the steps; 0 with a constant rate),
 * {@code --inputs standardized|scaled} (standardized; scaled is Keras's tutorial, {@code x/255}
 * only), {@code --ema off|M} (off; Keras's {@code use_ema=True, ema_momentum=M}: the test accuracy
 * and the checkpoint use the moving average of the weights), {@code --label-smoothing S} (0;
 * Keras's {@code CategoricalCrossentropy(label_smoothing=S)}), {@code --flip off|on} (off; Keras's
 * {@code RandomFlip("horizontal")} on the training batches), {@code --dropout R} (0.3, the rate
 * of the Dropout layer), {@code --seed} (1: the initial weights, the shuffles, dropout and flips;
 * a run is deterministic for a seed), {@code --mode eager|function} (eager).
 *
 * <p>With {@code --mode function} the training step (flip, forward, tape, Adam) runs as one
 * traced function ({@link Spool#function}): the same arithmetic, recorded on the first call and
 * replayed after. Its random draws (dropout, flips) come from the same seeds but
 * are mixed with the function's call count, as TF's stateful random ops in {@code tf.function}, so
 * the two modes draw different masks; with {@code --dropout 0} and no flips they compute the
 * same numbers (FashionMnistCnnTest).
 *
 * <pre>java -cp examples/target/spool-examples.jar dev.spool.examples.FashionMnistCnn [--device cpu|opencl]
 *     [--epochs 5] [--limit N] [--test-limit N] [--batch 128] [--out DIR] [--data DIR] [--seed 1]
 *     [--learning-rate 0.008] [--schedule cosine|constant] [--warmup 0.1] [--inputs standardized|scaled]
 *     [--ema off|M] [--label-smoothing S] [--flip off|on] [--dropout 0.3] [--mode eager|function]</pre>
 */
public final class FashionMnistCnn {
    static final int DEFAULT_EPOCHS = 5;
    static final int DEFAULT_BATCH = 128;
    static final double DEFAULT_LEARNING_RATE = 0.008;
    static final boolean DEFAULT_COSINE = true;
    static final double DEFAULT_EMA = -1;
    static final double DEFAULT_LABEL_SMOOTHING = 0;
    static final boolean DEFAULT_STANDARDIZE = true;
    static final boolean DEFAULT_FLIP = false;
    static final double DEFAULT_WARMUP = 0.1;
    static final double DEFAULT_DROPOUT = 0.3;
    /**
     * Eager by default: the step is bound by its convolutions, so a function saves little (3 epochs
     * of 6,400 images, 2-core AVX-512 EPYC: 42-43 ms a step against 41-45 eagerly on cpu, 23-24
     * against 25 on PoCL), and its dropout masks differ from the ones the README's recipe was
     * measured with.
     */
    static final boolean DEFAULT_TRACED = false;
    static final int EVAL_BATCH = 500;
    static final String CHECKPOINT = "fashion-mnist-cnn.npz";
    static final String CONFUSION_PLOT = "fashion-mnist-confusion.png";
    static final String SAMPLES_PLOT = "fashion-mnist-samples.png";
    /** Test images in the grid: 8 columns, 5 rows. */
    static final int GRID_COLUMNS = 8;
    static final int GRID_ROWS = 5;

    /**
     * What a run did: per epoch the mean training loss and accuracy, the test accuracy (of the
     * moving average of the weights when {@code --ema} is on), the test accuracy of the model's own
     * weights (the same list without EMA) and the seconds taken. {@code inputMean} and
     * {@code inputStd} are what the images were standardized with (0 and 1: only scaled to [0, 1]).
     */
    public record Result(List<Double> trainLosses, List<Double> trainAccuracies, List<Double> testAccuracies,
                         List<Double> ownTestAccuracies, List<Double> epochSeconds, int trainImages, int testImages,
                         int[][] confusion,
                         Path confusionPlot, Path samplesPlot, Path checkpoint, double inputMean, double inputStd) {
        public double finalTestAccuracy() {
            return testAccuracies.get(testAccuracies.size() - 1);
        }
    }

    /**
     * The run's settings; 0 for a limit means the whole split. {@code emaMomentum} below 0 turns the
     * moving average of the weights off; {@code labelSmoothing} 0 is plain cross-entropy.
     */
    public record Options(int epochs, int trainLimit, int testLimit, int batch, long seed, double learningRate,
                          boolean cosineDecay, double emaMomentum, double labelSmoothing, boolean standardize,
                          boolean flip, double warmup, double dropout, boolean traced) {
        /** The shipped recipe (the defaults of {@link #main}) with these sizes and seed. */
        public Options(int epochs, int trainLimit, int testLimit, int batch, long seed) {
            this(epochs, trainLimit, testLimit, batch, seed, DEFAULT_LEARNING_RATE, DEFAULT_COSINE, DEFAULT_EMA,
                    DEFAULT_LABEL_SMOOTHING, DEFAULT_STANDARDIZE, DEFAULT_FLIP, DEFAULT_WARMUP, DEFAULT_DROPOUT,
                    DEFAULT_TRACED);
        }

        /** These options with the step run as a traced function ({@code traced}) or eagerly. */
        public Options withTraced(boolean traced) {
            return new Options(epochs, trainLimit, testLimit, batch, seed, learningRate, cosineDecay, emaMomentum,
                    labelSmoothing, standardize, flip, warmup, dropout, traced);
        }

        /** These options with another dropout rate. */
        public Options withDropout(double rate) {
            return new Options(epochs, trainLimit, testLimit, batch, seed, learningRate, cosineDecay, emaMomentum,
                    labelSmoothing, standardize, flip, warmup, rate, traced);
        }

        public Options {
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("--dropout must be a rate in [0, 1), not " + dropout);
            }
            if (!(warmup >= 0 && warmup < 1) || warmup > 0 && !cosineDecay) {
                throw new IllegalArgumentException("--warmup must be a fraction of the run's steps in [0, 1), and 0"
                        + " unless --schedule is cosine (Keras's CosineDecay warm-up), not " + warmup
                        + (cosineDecay ? "" : " with a constant rate"));
            }
        }

        /** Keras's {@code warmup_steps}: the fraction {@link #warmup} of {@code totalSteps}, rounded. */
        public long warmupSteps(long totalSteps) {
            return Math.round(warmup * totalSteps);
        }
    }

    private final PrintStream out;

    public FashionMnistCnn(PrintStream out) {
        this.out = out;
    }

    static final String USAGE = "[--device cpu|opencl|opencl:N] [--epochs N] [--limit N] [--test-limit N] [--batch N] "
            + "[--out DIR] [--data DIR] [--seed N] [--learning-rate R] [--schedule constant|cosine] [--ema off|M] "
            + "[--label-smoothing S] [--inputs scaled|standardized] [--flip off|on] [--warmup F] [--dropout R] "
            + "[--mode eager|function]";

    public static void main(String[] args) {
        Map<String, String> o = Examples.options(args, USAGE, "device", "epochs", "limit", "test-limit", "batch", "out",
                "data", "seed", "learning-rate", "schedule", "ema", "label-smoothing", "inputs", "flip",
                "warmup", "dropout", "mode");
        boolean cosine = o.containsKey("schedule") ? schedule(o.get("schedule")) : DEFAULT_COSINE;
        Options options = new Options(Integer.parseInt(o.getOrDefault("epochs", String.valueOf(DEFAULT_EPOCHS))),
                Integer.parseInt(o.getOrDefault("limit", "0")), Integer.parseInt(o.getOrDefault("test-limit", "0")),
                Integer.parseInt(o.getOrDefault("batch", String.valueOf(DEFAULT_BATCH))),
                Long.parseLong(o.getOrDefault("seed", "1")),
                Double.parseDouble(o.getOrDefault("learning-rate", String.valueOf(DEFAULT_LEARNING_RATE))),
                cosine,
                o.containsKey("ema") ? ema(o.get("ema")) : DEFAULT_EMA,
                o.containsKey("label-smoothing") ? labelSmoothing(o.get("label-smoothing")) : DEFAULT_LABEL_SMOOTHING,
                o.containsKey("inputs") ? standardize(o.get("inputs")) : DEFAULT_STANDARDIZE,
                o.containsKey("flip") ? flip(o.get("flip")) : DEFAULT_FLIP,
                o.containsKey("warmup") ? warmup(o.get("warmup")) : cosine ? DEFAULT_WARMUP : 0,
                o.containsKey("dropout") ? dropout(o.get("dropout")) : DEFAULT_DROPOUT,
                o.containsKey("mode") ? traced(o.get("mode")) : DEFAULT_TRACED);
        Path data = o.containsKey("data") ? Path.of(o.get("data")) : FashionMnist.directory();
        new FashionMnistCnn(System.out).run(Examples.device(o), data, Path.of(o.getOrDefault("out", ".")), options);
    }

    static boolean schedule(String name) {
        return switch (name) {
            case "constant" -> false;
            case "cosine" -> true;
            default -> throw new IllegalArgumentException("--schedule must be constant or cosine, not " + name);
        };
    }

    /** {@code off} (-1), or Keras's {@code ema_momentum} in [0, 1]. */
    static double ema(String value) {
        if (value.equals("off")) {
            return -1;
        }
        double m;
        try {
            m = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            m = Double.NaN;
        }
        if (!(m >= 0 && m <= 1)) {
            throw new IllegalArgumentException("--ema must be off or a momentum in [0, 1] (Keras's 0.99), not " + value);
        }
        return m;
    }

    /** Keras's {@code label_smoothing}, in [0, 1). */
    static double labelSmoothing(String value) {
        return fraction("--label-smoothing", value);
    }

    /** The Dropout layer's rate, in [0, 1). */
    static double dropout(String value) {
        return fraction("--dropout", value);
    }

    /** {@code value} as a number in [0, 1), or an error that names {@code flag}. */
    private static double fraction(String flag, String value) {
        double f;
        try {
            f = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            f = Double.NaN;
        }
        if (!(f >= 0 && f < 1)) {
            throw new IllegalArgumentException(flag + " must be a number in [0, 1), not " + value);
        }
        return f;
    }

    /** A number for {@code --warmup}; {@link Options} checks its range. */
    static double warmup(String value) {
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--warmup must be a fraction of the run's steps in [0, 1), not " + value);
        }
    }

    static boolean traced(String mode) {
        return switch (mode) {
            case "function" -> true;
            case "eager" -> false;
            default -> throw new IllegalArgumentException("--mode is function or eager, got " + mode);
        };
    }

    static boolean standardize(String name) {
        return switch (name) {
            case "scaled" -> false;
            case "standardized" -> true;
            default -> throw new IllegalArgumentException("--inputs must be scaled or standardized, not " + name);
        };
    }

    static boolean flip(String name) {
        return switch (name) {
            case "off" -> false;
            case "on" -> true;
            default -> throw new IllegalArgumentException("--flip must be off or on, not " + name);
        };
    }

    /** The model of the issue (and of Keras's tutorials); its layers take their input sizes from the first call. */
    static Sequential model(long seed) {
        return model(seed, DEFAULT_DROPOUT);
    }

    /** The same with another dropout rate (which changes no weight: a checkpoint fits either). */
    static Sequential model(long seed, double dropout) {
        return new Sequential(
                new Conv2D(32, 3, Activation.RELU, seed),
                new MaxPooling2D(),
                new Conv2D(64, 3, Activation.RELU, seed + 10),
                new MaxPooling2D(),
                new Flatten(),
                new Dense(128, Activation.RELU, seed + 20),
                new Dropout(dropout, seed + 30),
                new Dense(10, Activation.LINEAR, seed + 40));
    }

    /** Trains on {@code device} with the data in {@code dataDir}; writes the PNGs and the checkpoint into {@code outDir}. */
    public Result run(Device device, Path dataDir, Path outDir, Options options) {
        System.setProperty("java.awt.headless", "true");
        FashionMnist.Data trainData = FashionMnist.load(dataDir, FashionMnist.Split.TRAIN, options.trainLimit());
        FashionMnist.Data testData = FashionMnist.load(dataDir, FashionMnist.Split.TEST, options.testLimit());
        double[] moments = options.standardize() ? moments(trainData.images()) : new double[] {0, 1};
        FashionMnist.Data trainInputs = standardized(trainData, moments[0], moments[1]);
        FashionMnist.Data testInputs = standardized(testData, moments[0], moments[1]);
        List<Double> ownTestAccuracies = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        List<Double> accuracies = new ArrayList<>();
        List<Double> testAccuracies = new ArrayList<>();
        List<Double> seconds = new ArrayList<>();
        int[] predicted = null;
        try (Device.Scope on = Device.use(device); TensorScope all = new TensorScope();
                Mean meanLoss = new Mean(); Accuracy accuracy = Accuracy.sparseCategorical()) {
            Tensor trainImages = trainInputs.imageTensor();
            Tensor trainLabels = trainData.labelTensor();
            Sequential model = model(options.seed(), options.dropout()).build(Shape.of(1, FashionMnist.SIDE, FashionMnist.SIDE, 1),
                    DType.FLOAT32);
            List<Variable> params = model.trainableVariables();
            long count = params.stream().mapToLong(v -> v.shape().size()).sum();
            out.printf(Locale.ROOT, "Fashion-MNIST: %d training and %d test images from %s; a CNN of %,d parameters, "
                    + "%d epochs of batches of %d, Adam, on %s%n", trainData.size(), testData.size(), dataDir, count,
                    options.epochs(), options.batch(), device);
            Dataset train = Dataset.fromTensors(trainImages, trainLabels).shuffle(options.seed()).batch(options.batch());
            long totalSteps = (long) options.epochs() * train.batchesPerEpoch();
            long warmupSteps = options.warmupSteps(totalSteps);
            if (warmupSteps >= totalSteps) {
                throw new IllegalArgumentException("--warmup " + options.warmup() + " is " + warmupSteps
                        + " steps and leaves none to decay over: the run has " + totalSteps);
            }
            LearningRateSchedule rate = !options.cosineDecay() ? LearningRateSchedule.constant(options.learningRate())
                    : warmupSteps == 0 ? LearningRateSchedule.cosineDecay(options.learningRate(), totalSteps, 0)
                    : LearningRateSchedule.cosineDecay(0, totalSteps - warmupSteps, 0, options.learningRate(),
                            warmupSteps);
            Optimizer optimizer = new Adam(rate, 0.9, 0.999, 1e-7);
            out.println(recipe(options, moments, totalSteps));
            if (options.emaMomentum() >= 0) {
                optimizer.withEma(options.emaMomentum());
            }
            Tensor reversedColumns = options.flip() ? Spool.constant(reversed(FashionMnist.SIDE)) : null;
            long[] globalStep = {0};
            // the step as one traced function (Spool.function): traced on the first call (and once more for
            // a smaller last batch), replayed after; the Java code in trainStep runs only while tracing
            TracedFunction<StepResult> stepFunction = !options.traced() ? null : Spool.function(
                    (Tensor images, Tensor labels) -> trainStep(model, optimizer, params, images, labels, options,
                            reversedColumns, globalStep[0]));
            Iterator<List<Tensor>> batches = train.repeat(options.epochs()).iterator(); // a new order each epoch
            for (int epoch = 0; epoch < options.epochs(); epoch++) {
                long start = System.nanoTime();
                int steps = 0;
                try (ProgressBar bar = new ProgressBarBuilder()
                        .setTaskName(String.format(Locale.ROOT, "epoch %d/%d", epoch + 1, options.epochs()))
                        .setInitialMax(trainData.size()).setStyle(ProgressBarStyle.ASCII).setUnit(" img", 1)
                        .showSpeed().setUpdateIntervalMillis(500)
                        .setConsumer(new ConsoleProgressBarConsumer(out, 110)).build()) {
                    for (int b = 0; b < train.batchesPerEpoch(); b++) {
                        List<Tensor> batch = batches.next();
                        try (TensorScope step = new TensorScope()) {
                            StepResult r = options.traced() ? stepFunction.call(batch.get(0), batch.get(1))
                                    : trainStep(model, optimizer, params, batch.get(0), batch.get(1), options,
                                            reversedColumns, globalStep[0]);
                            meanLoss.update(r.loss());
                            accuracy.update(batch.get(1), r.logits());
                        }
                        bar.stepBy(batch.get(0).shape().dim(0));
                        steps++;
                        globalStep[0]++;
                        if (steps % 10 == 0) { // reading the metrics waits for the device: every 10 steps
                            bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f acc %.4f", meanLoss.result(),
                                    accuracy.result()));
                        }
                    }
                    bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f acc %.4f", meanLoss.result(),
                            accuracy.result()));
                }
                double elapsed = (System.nanoTime() - start) / 1e9;
                predicted = predict(model, testInputs);
                double ownAccuracy = accuracy(predicted, testData.labels());
                if (optimizer.usesEma()) { // evaluate the averaged weights, as Keras's SwapEMAWeights callback
                    if (epoch + 1 < options.epochs()) {
                        optimizer.swapEmaWeights(params);
                        predicted = predict(model, testInputs);
                        optimizer.swapEmaWeights(params);
                    } else { // the end of training: the averages become the model (Keras's fit does this)
                        optimizer.finalizeVariableValues(params);
                        predicted = predict(model, testInputs);
                    }
                }
                double testAccuracy = accuracy(predicted, testData.labels());
                ownTestAccuracies.add(ownAccuracy);
                losses.add(meanLoss.result());
                accuracies.add(accuracy.result());
                testAccuracies.add(testAccuracy);
                seconds.add(elapsed);
                out.printf(Locale.ROOT, "epoch %d/%d: loss %.4f, accuracy %.4f, test accuracy %.4f%s; %.1f s "
                        + "(%.0f ms a step, %.0f images/s)%n", epoch + 1, options.epochs(), meanLoss.result(),
                        accuracy.result(), testAccuracy, optimizer.usesEma()
                                ? String.format(Locale.ROOT, " (EMA weights; own weights %.4f)", ownAccuracy) : "",
                        elapsed, 1000 * elapsed / steps, trainData.size() / elapsed);
                meanLoss.reset();
                accuracy.reset();
            }
            Files.createDirectories(outDir);
            Path checkpoint = outDir.resolve(CHECKPOINT);
            Checkpoint.save(checkpoint, model);
            int[][] confusion = confusion(predicted, testData.labels());
            Path confusionPlot = outDir.resolve(CONFUSION_PLOT);
            Path samplesPlot = outDir.resolve(SAMPLES_PLOT);
            write(confusionImage(confusion, testAccuracies.get(testAccuracies.size() - 1)), confusionPlot);
            write(samplesImage(testData, predicted), samplesPlot);
            if (stepFunction != null) {
                out.println("training step: " + stepFunction.stats());
                stepFunction.close();
            }
            out.println("wrote " + confusionPlot + ", " + samplesPlot + " and " + checkpoint);
            return new Result(losses, accuracies, testAccuracies, ownTestAccuracies, seconds, trainData.size(),
                    testData.size(), confusion, confusionPlot, samplesPlot, checkpoint, moments[0], moments[1]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One line naming the recipe of a run. */
    /** What a training step returns: the batch's mean loss and the logits (for the running accuracy). */
    record StepResult(Tensor loss, Tensor logits) {
    }

    /**
     * One training step: the flip (with {@code --flip}), the forward pass under a tape, the loss
     * and Adam's update. {@code step} keys the flip's coin; in a traced function the key traced
     * is mixed with the call count instead, as every random op's there.
     */
    static StepResult trainStep(Sequential model, Optimizer optimizer, List<Variable> params, Tensor images,
                                Tensor labels, Options options, Tensor reversedColumns, long step) {
        if (options.flip()) { // Keras's RandomFlip("horizontal"): each image with probability 1/2
            Tensor flipped = Spool.gather(images, reversedColumns, 2);
            Tensor coin = Spool.randomUniform(Shape.of(images.shape().dim(0), 1, 1, 1),
                    options.seed() * 1_000_003L + 777 + step).less(0.5);
            images = Spool.where(coin, flipped, images);
        }
        GradientTape tape = new GradientTape();
        Tensor logits;
        Tensor loss;
        try (tape) {
            logits = model.call(images, true);
            loss = options.labelSmoothing() > 0
                    ? Losses.softmaxCrossEntropy(smoothed(labels, options.labelSmoothing()), logits, Reduction.MEAN)
                    : Losses.sparseSoftmaxCrossEntropy(labels, logits, Reduction.MEAN);
        }
        optimizer.apply(tape.gradient(loss, params), params);
        return new StepResult(loss, logits);
    }

    static String recipe(Options o, double[] moments, long totalSteps) {
        return String.format(Locale.ROOT, "recipe: Adam, learning rate %s%s, EMA of the weights %s, label smoothing %s, "
                        + "inputs %s, horizontal flips %s, dropout %s, seed %d, the step %s", o.learningRate(),
                o.cosineDecay() ? (o.warmup() > 0 ? " reached by a linear warm-up from 0 over "
                        + o.warmupSteps(totalSteps) + " steps," : "") + " with cosine decay to 0 over "
                        + (totalSteps - o.warmupSteps(totalSteps)) + " steps" : " constant",
                o.emaMomentum() >= 0 ? "with momentum " + o.emaMomentum() : "off", o.labelSmoothing(),
                o.standardize() ? String.format(Locale.ROOT, "standardized (x/255 - %.4f) / %.4f", moments[0], moments[1])
                        : "scaled to [0, 1]", o.flip() ? "on" : "off", o.dropout(), o.seed(),
                o.traced() ? "as a traced function" : "eager");
    }

    /** The mean and (population) standard deviation of all the pixels, in double. */
    static double[] moments(float[] pixels) {
        double sum = 0;
        for (float p : pixels) {
            sum += p;
        }
        double mean = sum / pixels.length;
        double squares = 0;
        for (float p : pixels) {
            squares += (p - mean) * (p - mean);
        }
        return new double[] {mean, Math.sqrt(squares / pixels.length)};
    }

    /** {@code (x - mean) / std} for every pixel; the data itself when mean is 0 and std 1. */
    static FashionMnist.Data standardized(FashionMnist.Data data, double mean, double std) {
        if (mean == 0 && std == 1) {
            return data;
        }
        float[] in = data.images();
        float[] x = new float[in.length];
        for (int i = 0; i < in.length; i++) {
            x[i] = (float) ((in[i] - mean) / std);
        }
        return new FashionMnist.Data(x, data.labels());
    }

    /** Keras's {@code CategoricalCrossentropy(label_smoothing=s)} targets: {@code onehot·(1 - s) + s/classes}. */
    static Tensor smoothed(Tensor labels, double s) {
        int classes = FashionMnist.CLASS_NAMES.size();
        return Spool.oneHot(labels, classes, 1 - s + s / classes, s / classes, DType.FLOAT32);
    }

    private static int[] reversed(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = n - 1 - i;
        }
        return r;
    }

    /** The predicted class of every image, in inference mode, {@value #EVAL_BATCH} at a time. */
    static int[] predict(Sequential model, FashionMnist.Data data) {
        int[] out = new int[data.size()];
        try (TensorScope scope = new TensorScope()) {
            Tensor images = data.imageTensor();
            int done = 0;
            for (List<Tensor> batch : Dataset.fromTensors(images).batch(EVAL_BATCH)) {
                try (TensorScope step = new TensorScope()) {
                    int[] classes = model.call(batch.get(0)).argMax(1).toIntArray();
                    System.arraycopy(classes, 0, out, done, classes.length);
                    done += classes.length;
                }
            }
        }
        return out;
    }

    static double accuracy(int[] predicted, int[] labels) {
        int right = 0;
        for (int i = 0; i < labels.length; i++) {
            right += predicted[i] == labels[i] ? 1 : 0;
        }
        return (double) right / labels.length;
    }

    /** {@code confusion[true][predicted]}: how many images of each class went to each class. */
    static int[][] confusion(int[] predicted, int[] labels) {
        int n = FashionMnist.CLASS_NAMES.size();
        int[][] m = new int[n][n];
        for (int i = 0; i < labels.length; i++) {
            m[labels[i]][predicted[i]]++;
        }
        return m;
    }

    // ---- pictures ---------------------------------------------------------------------------

    private static final Color RIGHT = new Color(0, 130, 60);
    private static final Color WRONG = new Color(200, 30, 30);

    /** A 10x10 grid: rows are true classes, columns predicted ones; shade by the row's fraction, counts written in. */
    static BufferedImage confusionImage(int[][] m, double accuracy) {
        int n = m.length;
        int cell = 56;
        int left = 110;
        int top = 60;
        int bottom = 100;
        BufferedImage image = new BufferedImage(left + n * cell + 80, top + n * cell + bottom, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(image);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(String.format(Locale.ROOT, "Fashion-MNIST test set: confusion matrix (accuracy %.4f)", accuracy),
                10, 25);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        FontMetrics fm = g.getFontMetrics();
        for (int t = 0; t < n; t++) {
            int rowTotal = 0;
            for (int p = 0; p < n; p++) {
                rowTotal += m[t][p];
            }
            for (int p = 0; p < n; p++) {
                double f = rowTotal == 0 ? 0 : (double) m[t][p] / rowTotal;
                int shade = (int) Math.round(255 * (1 - f));
                g.setColor(t == p ? new Color(shade, 255 - (255 - shade) / 3, shade) : new Color(255, shade, shade));
                g.fillRect(left + p * cell, top + t * cell, cell, cell);
                g.setColor(f > 0.5 ? Color.WHITE : Color.BLACK);
                String s = String.valueOf(m[t][p]);
                g.drawString(s, left + p * cell + (cell - fm.stringWidth(s)) / 2, top + t * cell + cell / 2 + 4);
            }
            g.setColor(Color.BLACK);
            String name = FashionMnist.CLASS_NAMES.get(t);
            g.drawString(name, left - 6 - fm.stringWidth(name), top + t * cell + cell / 2 + 4);
        }
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1));
        for (int i = 0; i <= n; i++) {
            g.drawLine(left, top + i * cell, left + n * cell, top + i * cell);
            g.drawLine(left + i * cell, top, left + i * cell, top + n * cell);
        }
        g.setColor(Color.BLACK);
        for (int p = 0; p < n; p++) { // column names, turned to fit
            Graphics2D turned = (Graphics2D) g.create();
            turned.translate(left + p * cell + cell / 2 + 4, top + n * cell + 6);
            turned.rotate(Math.PI / 4);
            turned.drawString(FashionMnist.CLASS_NAMES.get(p), 0, 0);
            turned.dispose();
        }
        g.drawString("rows: true class; columns: predicted class", left, image.getHeight() - 8);
        g.dispose();
        return image;
    }

    /** The first test images, 3x enlarged, each captioned with its predicted class (green if right, red if not) and the true one. */
    static BufferedImage samplesImage(FashionMnist.Data data, int[] predicted) {
        int scale = 3;
        int side = FashionMnist.SIDE * scale;
        int cellWidth = side + 36;
        int cellHeight = side + 34;
        int shown = Math.min(GRID_COLUMNS * GRID_ROWS, data.size());
        BufferedImage image = new BufferedImage(GRID_COLUMNS * cellWidth, 30 + GRID_ROWS * cellHeight,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(image);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString("Fashion-MNIST test images: predicted (true)", 10, 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        FontMetrics fm = g.getFontMetrics();
        float[] pixels = data.images();
        for (int k = 0; k < shown; k++) {
            int x0 = (k % GRID_COLUMNS) * cellWidth + (cellWidth - side) / 2;
            int y0 = 30 + (k / GRID_COLUMNS) * cellHeight;
            for (int y = 0; y < FashionMnist.SIDE; y++) {
                for (int x = 0; x < FashionMnist.SIDE; x++) {
                    int v = 255 - Math.round(255 * pixels[(k * FashionMnist.SIDE + y) * FashionMnist.SIDE + x]);
                    g.setColor(new Color(v, v, v)); // dark clothes on white
                    g.fillRect(x0 + x * scale, y0 + y * scale, scale, scale);
                }
            }
            boolean right = predicted[k] == data.labels()[k];
            String caption = FashionMnist.CLASS_NAMES.get(predicted[k]);
            String truth = "(" + FashionMnist.CLASS_NAMES.get(data.labels()[k]) + ")";
            int cx = (k % GRID_COLUMNS) * cellWidth + cellWidth / 2;
            g.setColor(right ? RIGHT : WRONG);
            g.drawString(caption, cx - fm.stringWidth(caption) / 2, y0 + side + 12);
            g.setColor(Color.DARK_GRAY);
            g.drawString(truth, cx - fm.stringWidth(truth) / 2, y0 + side + 24);
        }
        g.dispose();
        return image;
    }

    private static Graphics2D canvas(BufferedImage image) {
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        g.setColor(Color.BLACK);
        return g;
    }

    private static void write(BufferedImage image, Path file) throws IOException {
        if (!ImageIO.write(image, "png", file.toFile())) {
            throw new IOException("no PNG writer for " + file);
        }
    }
}
