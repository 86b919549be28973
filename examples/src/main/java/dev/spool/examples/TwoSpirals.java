package dev.spool.examples;

import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.function.TracedFunction;
import dev.spool.nn.layers.Activation;
import dev.spool.nn.layers.Dense;
import dev.spool.nn.layers.Sequential;
import dev.spool.nn.losses.Losses;
import dev.spool.nn.losses.Reduction;
import dev.spool.nn.metrics.Accuracy;
import dev.spool.nn.optimizers.Adam;
import dev.spool.nn.optimizers.LearningRateSchedule;
import dev.spool.nn.optimizers.Optimizer;
import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * An MLP learns the two-spirals problem (two interleaved spirals, one per class): full-batch
 * Adam with a cosine learning-rate schedule, a console progress bar with the loss and steps/s,
 * and two PNG plots written with XChart: the loss curve and the decision boundary.
 *
 * <pre>java -cp examples/target/spool-examples.jar dev.spool.examples.TwoSpirals [--device cpu|opencl] [--out DIR]</pre>
 */
public final class TwoSpirals {
    static final int POINTS_PER_CLASS = 200;
    static final int DEFAULT_STEPS = 500;
    static final int HIDDEN = 32;
    static final int GRID = 60;
    static final int WIDTH = 640;
    static final int HEIGHT = 480;

    public record Result(double trainAccuracy, double testAccuracy, List<Double> losses, Path lossPlot, Path boundaryPlot) {
    }

    private final PrintStream out;

    public TwoSpirals(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        String usage = "[--device cpu|opencl|opencl:N] [--out DIR] [--steps N] [--mode eager|function]";
        Map<String, String> options = Examples.options(args, usage, "device", "out", "steps", "mode");
        String mode = options.getOrDefault("mode", "eager");
        if (!mode.equals("eager") && !mode.equals("function")) {
            throw new IllegalArgumentException("--mode is eager or function, got " + mode + "; usage: " + usage);
        }
        new TwoSpirals(System.out).run(Examples.device(options), Path.of(options.getOrDefault("out", ".")),
                Integer.parseInt(options.getOrDefault("steps", String.valueOf(DEFAULT_STEPS))), mode.equals("function"));
    }

    /** {@code n} points per class: radius grows with the angle over 1.75 turns; class 1 is class 0 turned by π. */
    static float[][] spirals(int n, long seed, int[] labels) {
        Random noise = new Random(seed);
        float[][] xy = new float[2 * n][2];
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < n; i++) {
                double t = 0.15 + 0.85 * i / (n - 1); // radius in (0, 1]
                double angle = t * 1.75 * 2 * Math.PI + c * Math.PI;
                xy[c * n + i][0] = (float) (t * Math.cos(angle) + 0.02 * noise.nextGaussian());
                xy[c * n + i][1] = (float) (t * Math.sin(angle) + 0.02 * noise.nextGaussian());
                labels[c * n + i] = c;
            }
        }
        return xy;
    }

    /** Trains for {@code steps} full-batch steps and writes the plots into {@code outDir}. */
    public Result run(Device device, Path outDir, int steps) {
        return run(device, outDir, steps, false);
    }

    /**
     * {@link #run(Device, Path, int)}, with the training step (forward, tape, gradient, Adam with
     * its cosine schedule) as one traced function when {@code traced}: the same losses and weights
     * as eager, fewer launches and no temporaries allocated per step.
     */
    public Result run(Device device, Path outDir, int steps, boolean traced) {
        System.setProperty("java.awt.headless", "true");
        int[] trainLabels = new int[2 * POINTS_PER_CLASS];
        float[][] trainXy = spirals(POINTS_PER_CLASS, 1, trainLabels);
        int[] testLabels = new int[2 * POINTS_PER_CLASS];
        float[][] testXy = spirals(POINTS_PER_CLASS, 2, testLabels);
        out.printf("Two spirals: %d training points, %d test points, %d full-batch steps on %s%s%n",
                trainLabels.length, testLabels.length, steps, device, traced ? ", as a traced function" : "");
        try (Device.Scope on = Device.use(device); TensorScope all = new TensorScope();
                Accuracy trainAccuracy = Accuracy.sparseCategorical(); Accuracy testAccuracy = Accuracy.sparseCategorical()) {
            Tensor x = Spool.constant(trainXy);
            Tensor y = Spool.constant(trainLabels);
            Sequential model = new Sequential(
                    new Dense(2, HIDDEN, Activation.TANH, 1),
                    new Dense(HIDDEN, HIDDEN, Activation.TANH, 2),
                    new Dense(HIDDEN, 2, Activation.LINEAR, 3));
            List<Variable> params = model.trainableVariables();
            Optimizer optimizer = new Adam(LearningRateSchedule.cosineDecay(0.05, steps, 0.02), 0.9, 0.999, 1e-7);
            Supplier<Tensor> trainStep = () -> {
                GradientTape tape = new GradientTape();
                Tensor loss;
                try (tape) {
                    loss = Losses.sparseSoftmaxCrossEntropy(y, model.call(x, true), Reduction.MEAN);
                }
                optimizer.apply(tape.gradient(loss, params), params);
                return loss;
            };
            TracedFunction<Tensor> function = traced ? Spool.function(trainStep) : null;
            double[] losses = new double[steps];
            List<Tensor> lossTensors = new ArrayList<>(); // read in bulk, not every step
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(steps)
                    .setStyle(ProgressBarStyle.ASCII).setUnit(" steps", 1).showSpeed()
                    .setUpdateIntervalMillis(250).setConsumer(new ConsoleProgressBarConsumer(out, 100)).build();
                    TensorScope kept = new TensorScope()) {
                for (int step = 0; step < steps; step++) {
                    try (TensorScope scope = new TensorScope()) {
                        Tensor loss = traced ? function.call() : trainStep.get();
                        lossTensors.add(scope.keep(loss));
                    }
                    bar.step();
                    if ((step + 1) % 50 == 0) {
                        // Reading values waits for the device: once per 50 steps.
                        for (int i = step + 1 - lossTensors.size(); i <= step; i++) {
                            losses[i] = lossTensors.get(i - (step + 1 - lossTensors.size())).doubleValue();
                        }
                        lossTensors.forEach(Tensor::close);
                        lossTensors.clear();
                        bar.setExtraMessage(String.format(" loss %.4f", losses[step]));
                    }
                }
                for (int i = steps - lossTensors.size(); i < steps; i++) {
                    losses[i] = lossTensors.get(i - (steps - lossTensors.size())).doubleValue();
                }
            }
            if (function != null) {
                out.println(function.stats());
                function.close();
            }
            trainAccuracy.update(y, model.call(x));
            testAccuracy.update(Spool.constant(testLabels), model.call(Spool.constant(testXy)));
            out.printf("final loss %.4f, training accuracy %.3f, test accuracy %.3f%n",
                    losses[steps - 1], trainAccuracy.result(), testAccuracy.result());

            Path lossPlot = outDir.resolve("two-spirals-loss.png");
            Path boundaryPlot = outDir.resolve("two-spirals-boundary.png");
            writeLossPlot(losses, lossPlot);
            writeBoundaryPlot(model, trainXy, trainLabels, boundaryPlot);
            out.println("wrote " + lossPlot + " and " + boundaryPlot);
            List<Double> lossList = new ArrayList<>();
            for (double l : losses) {
                lossList.add(l);
            }
            return new Result(trainAccuracy.result(), testAccuracy.result(), lossList, lossPlot, boundaryPlot);
        }
    }

    private static void writeLossPlot(double[] losses, Path file) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title("Two spirals: training loss")
                .xAxisTitle("step").yAxisTitle("softmax cross-entropy").build();
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setYAxisLogarithmic(true);
        double[] steps = new double[losses.length];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = i;
        }
        chart.addSeries("loss", steps, losses).setMarker(SeriesMarkers.NONE);
        save(chart, file);
    }

    /** The predicted class on a grid (light colours) under the training points (dark). */
    private static void writeBoundaryPlot(Sequential model, float[][] xy, int[] labels, Path file) {
        float[][] grid = new float[GRID * GRID][2];
        for (int i = 0; i < GRID; i++) {
            for (int j = 0; j < GRID; j++) {
                grid[i * GRID + j][0] = -1.1f + 2.2f * i / (GRID - 1);
                grid[i * GRID + j][1] = -1.1f + 2.2f * j / (GRID - 1);
            }
        }
        int[] predicted;
        try (TensorScope scope = new TensorScope()) {
            predicted = model.call(Spool.constant(grid)).argMax(1).toIntArray();
        }
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title("Two spirals: decision boundary")
                .xAxisTitle("x").yAxisTitle("y").build();
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(5);
        Color[] light = {new Color(255, 205, 190), new Color(190, 215, 255)};
        Color[] dark = {new Color(200, 40, 20), new Color(20, 60, 200)};
        for (int c = 0; c < 2; c++) {
            List<Double> gx = new ArrayList<>();
            List<Double> gy = new ArrayList<>();
            for (int k = 0; k < grid.length; k++) {
                if (predicted[k] == c) {
                    gx.add((double) grid[k][0]);
                    gy.add((double) grid[k][1]);
                }
            }
            if (!gx.isEmpty()) {
                XYSeries s = chart.addSeries("predicted " + c, gx, gy);
                s.setMarker(SeriesMarkers.SQUARE);
                s.setMarkerColor(light[c]);
            }
        }
        for (int c = 0; c < 2; c++) {
            List<Double> px = new ArrayList<>();
            List<Double> py = new ArrayList<>();
            for (int k = 0; k < xy.length; k++) {
                if (labels[k] == c) {
                    px.add((double) xy[k][0]);
                    py.add((double) xy[k][1]);
                }
            }
            XYSeries s = chart.addSeries("class " + c, px, py);
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setMarkerColor(dark[c]);
        }
        save(chart, file);
    }

    private static void save(XYChart chart, Path file) {
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            try (OutputStream o = Files.newOutputStream(file)) {
                BitmapEncoder.saveBitmap(chart, o, BitmapEncoder.BitmapFormat.PNG);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file, e);
        }
    }
}
