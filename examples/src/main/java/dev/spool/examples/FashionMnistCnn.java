package dev.spool.examples;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
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
 * MaxPooling2D, Flatten, Dense(128, relu), Dropout(0.3), Dense(10), trained with Adam (Keras's
 * defaults, learning rate 0.001; {@code --schedule cosine} decays it to 0 over the run, as Keras's
 * {@code CosineDecay}) on batches of 128. Each epoch shows a progress bar with the
 * running loss, accuracy and images/s, then the test accuracy and the epoch's time. At the end
 * it writes a confusion matrix of the test set and a grid of test images with their predicted
 * and true classes (PNG), and a checkpoint of the model ({@code .npz}).
 *
 * <pre>java -cp examples/target/spool-examples.jar dev.spool.examples.FashionMnistCnn [--device cpu|opencl]
 *     [--epochs 5] [--limit N] [--test-limit N] [--batch 128] [--out DIR] [--data DIR] [--seed 1]
 *     [--learning-rate 0.001] [--schedule constant|cosine]</pre>
 */
public final class FashionMnistCnn {
    static final int DEFAULT_EPOCHS = 5;
    static final int DEFAULT_BATCH = 128;
    static final double DEFAULT_LEARNING_RATE = 0.001;
    static final int EVAL_BATCH = 500;
    static final String CHECKPOINT = "fashion-mnist-cnn.npz";
    static final String CONFUSION_PLOT = "fashion-mnist-confusion.png";
    static final String SAMPLES_PLOT = "fashion-mnist-samples.png";
    /** Test images in the grid: 8 columns, 5 rows. */
    static final int GRID_COLUMNS = 8;
    static final int GRID_ROWS = 5;

    /** What a run did: per epoch the mean training loss and accuracy, the test accuracy and the seconds taken. */
    public record Result(List<Double> trainLosses, List<Double> trainAccuracies, List<Double> testAccuracies,
                         List<Double> epochSeconds, int trainImages, int testImages, int[][] confusion,
                         Path confusionPlot, Path samplesPlot, Path checkpoint) {
        public double finalTestAccuracy() {
            return testAccuracies.get(testAccuracies.size() - 1);
        }
    }

    /** The run's settings; 0 for a limit means the whole split. */
    public record Options(int epochs, int trainLimit, int testLimit, int batch, long seed, double learningRate,
                          boolean cosineDecay) {
        /** Keras's defaults: Adam's learning rate 0.001, constant. */
        public Options(int epochs, int trainLimit, int testLimit, int batch, long seed) {
            this(epochs, trainLimit, testLimit, batch, seed, DEFAULT_LEARNING_RATE, false);
        }
    }

    private final PrintStream out;

    public FashionMnistCnn(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        Map<String, String> o = Examples.options(args, "[--device cpu|opencl|opencl:N] [--epochs N] [--limit N] "
                + "[--test-limit N] [--batch N] [--out DIR] [--data DIR] [--seed N] [--learning-rate R] "
                + "[--schedule constant|cosine]",
                "device", "epochs", "limit", "test-limit", "batch", "out", "data", "seed", "learning-rate", "schedule");
        Options options = new Options(Integer.parseInt(o.getOrDefault("epochs", String.valueOf(DEFAULT_EPOCHS))),
                Integer.parseInt(o.getOrDefault("limit", "0")), Integer.parseInt(o.getOrDefault("test-limit", "0")),
                Integer.parseInt(o.getOrDefault("batch", String.valueOf(DEFAULT_BATCH))),
                Long.parseLong(o.getOrDefault("seed", "1")),
                Double.parseDouble(o.getOrDefault("learning-rate", String.valueOf(DEFAULT_LEARNING_RATE))),
                schedule(o.getOrDefault("schedule", "constant")));
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

    /** The model of the issue (and of Keras's tutorials); its layers take their input sizes from the first call. */
    static Sequential model(long seed) {
        return new Sequential(
                new Conv2D(32, 3, Activation.RELU, seed),
                new MaxPooling2D(),
                new Conv2D(64, 3, Activation.RELU, seed + 10),
                new MaxPooling2D(),
                new Flatten(),
                new Dense(128, Activation.RELU, seed + 20),
                new Dropout(0.3, seed + 30),
                new Dense(10, Activation.LINEAR, seed + 40));
    }

    /** Trains on {@code device} with the data in {@code dataDir}; writes the PNGs and the checkpoint into {@code outDir}. */
    public Result run(Device device, Path dataDir, Path outDir, Options options) {
        System.setProperty("java.awt.headless", "true");
        FashionMnist.Data trainData = FashionMnist.load(dataDir, FashionMnist.Split.TRAIN, options.trainLimit());
        FashionMnist.Data testData = FashionMnist.load(dataDir, FashionMnist.Split.TEST, options.testLimit());
        List<Double> losses = new ArrayList<>();
        List<Double> accuracies = new ArrayList<>();
        List<Double> testAccuracies = new ArrayList<>();
        List<Double> seconds = new ArrayList<>();
        int[] predicted = null;
        try (Device.Scope on = Device.use(device); TensorScope all = new TensorScope();
                Mean meanLoss = new Mean(); Accuracy accuracy = Accuracy.sparseCategorical()) {
            Tensor trainImages = trainData.imageTensor();
            Tensor trainLabels = trainData.labelTensor();
            Sequential model = model(options.seed()).build(Shape.of(1, FashionMnist.SIDE, FashionMnist.SIDE, 1),
                    DType.FLOAT32);
            List<Variable> params = model.trainableVariables();
            long count = params.stream().mapToLong(v -> v.shape().size()).sum();
            out.printf(Locale.ROOT, "Fashion-MNIST: %d training and %d test images from %s; a CNN of %,d parameters, "
                    + "%d epochs of batches of %d, Adam, on %s%n", trainData.size(), testData.size(), dataDir, count,
                    options.epochs(), options.batch(), device);
            Dataset train = Dataset.fromTensors(trainImages, trainLabels).shuffle(options.seed()).batch(options.batch());
            Optimizer optimizer = new Adam(options.cosineDecay()
                    ? LearningRateSchedule.cosineDecay(options.learningRate(),
                            (long) options.epochs() * train.batchesPerEpoch(), 0)
                    : LearningRateSchedule.constant(options.learningRate()), 0.9, 0.999, 1e-7);
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
                            GradientTape tape = new GradientTape();
                            Tensor logits;
                            Tensor loss;
                            try (tape) {
                                logits = model.call(batch.get(0), true);
                                loss = Losses.sparseSoftmaxCrossEntropy(batch.get(1), logits, Reduction.MEAN);
                            }
                            optimizer.apply(tape.gradient(loss, params), params);
                            meanLoss.update(loss);
                            accuracy.update(batch.get(1), logits);
                        }
                        bar.stepBy(batch.get(0).shape().dim(0));
                        steps++;
                        if (steps % 10 == 0) { // reading the metrics waits for the device: every 10 steps
                            bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f acc %.4f", meanLoss.result(),
                                    accuracy.result()));
                        }
                    }
                    bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f acc %.4f", meanLoss.result(),
                            accuracy.result()));
                }
                double elapsed = (System.nanoTime() - start) / 1e9;
                predicted = predict(model, testData);
                double testAccuracy = accuracy(predicted, testData.labels());
                losses.add(meanLoss.result());
                accuracies.add(accuracy.result());
                testAccuracies.add(testAccuracy);
                seconds.add(elapsed);
                out.printf(Locale.ROOT, "epoch %d/%d: loss %.4f, accuracy %.4f, test accuracy %.4f; %.1f s "
                        + "(%.0f ms a step, %.0f images/s)%n", epoch + 1, options.epochs(), meanLoss.result(),
                        accuracy.result(), testAccuracy, elapsed, 1000 * elapsed / steps, trainData.size() / elapsed);
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
            out.println("wrote " + confusionPlot + ", " + samplesPlot + " and " + checkpoint);
            return new Result(losses, accuracies, testAccuracies, seconds, trainData.size(), testData.size(), confusion,
                    confusionPlot, samplesPlot, checkpoint);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
