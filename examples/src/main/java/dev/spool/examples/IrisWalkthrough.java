package dev.spool.examples;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.nn.data.Csv;
import dev.spool.nn.data.Dataset;
import dev.spool.nn.layers.Activation;
import dev.spool.nn.layers.Dense;
import dev.spool.nn.layers.Sequential;
import dev.spool.nn.losses.Losses;
import dev.spool.nn.losses.Reduction;
import dev.spool.nn.metrics.Accuracy;
import dev.spool.nn.metrics.Mean;
import dev.spool.nn.optimizers.Optimizer;
import dev.spool.nn.optimizers.SGD;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * TensorFlow's "custom training walkthrough" in Java: classify Fisher's Iris flowers (150 rows,
 * four measurements in cm, three species) with a 4→10→10→3 ReLU network trained by SGD on
 * sparse softmax cross-entropy, report loss and accuracy per epoch, then accuracy on held-out
 * rows.
 *
 * <p>The data ({@code iris.csv}, a class-path resource) is Fisher's 1936 data set (public
 * domain) as R's {@code datasets::iris} has it; species 0 = setosa, 1 = versicolor,
 * 2 = virginica. Every fifth row of each species (30 rows) is held out for testing.
 *
 * <pre>java -cp examples/target/spool-examples.jar dev.spool.examples.IrisWalkthrough [--device cpu|opencl]</pre>
 */
public final class IrisWalkthrough {
    static final int EPOCHS = 201; // as the tutorial
    static final int BATCH = 32;
    static final String[] SPECIES = {"setosa", "versicolor", "virginica"};

    public record Result(double trainAccuracy, double testAccuracy, List<Double> epochLosses) {
    }

    private final PrintStream out;

    public IrisWalkthrough(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        Map<String, String> options = Examples.options(args, "[--device cpu|opencl|opencl:N]", "device");
        new IrisWalkthrough(System.out).run(Examples.device(options));
    }

    public Result run(Device device) {
        Csv csv = Csv.readResource(IrisWalkthrough.class, "iris.csv", true);
        List<Integer> trainRows = new ArrayList<>();
        List<Integer> testRows = new ArrayList<>();
        for (int r = 0; r < csv.rows(); r++) {
            (r % 5 == 4 ? testRows : trainRows).add(r);
        }
        out.printf("Iris: %d rows, features %s; %d for training, %d held out; on %s%n",
                csv.rows(), csv.header().subList(0, 4), trainRows.size(), testRows.size(), device);
        try (Device.Scope on = Device.use(device); TensorScope all = new TensorScope();
                Mean epochLoss = new Mean(); Accuracy epochAccuracy = Accuracy.sparseCategorical();
                Accuracy testAccuracy = Accuracy.sparseCategorical()) {
            Tensor features = csv.columns(DType.FLOAT32, 0, 1, 2, 3);
            Tensor labels = csv.column(DType.INT32, 4);
            Tensor trainX = rows(features, trainRows);
            Tensor trainY = rows(labels, trainRows);
            Dataset train = Dataset.fromTensors(trainX, trainY).shuffle(7).batch(BATCH);

            // TF: tf.keras.Sequential([Dense(10, relu, input_shape=(4,)), Dense(10, relu), Dense(3)])
            Sequential model = new Sequential(
                    new Dense(4, 10, Activation.RELU, 1),
                    new Dense(10, 10, Activation.RELU, 2),
                    new Dense(10, 3, Activation.LINEAR, 3));
            List<Variable> params = model.trainableVariables();
            Optimizer optimizer = new SGD(0.01);
            List<Double> losses = new ArrayList<>();
            double trainAcc = 0;
            for (int epoch = 0; epoch < EPOCHS; epoch++) {
                epochLoss.reset();
                epochAccuracy.reset();
                for (List<Tensor> batch : train) {
                    try (TensorScope step = new TensorScope()) {
                        GradientTape tape = new GradientTape();
                        Tensor logits;
                        Tensor loss;
                        try (tape) {
                            logits = model.call(batch.get(0), true);
                            loss = Losses.sparseSoftmaxCrossEntropy(batch.get(1), logits, Reduction.MEAN);
                        }
                        optimizer.apply(tape.gradient(loss, params), params);
                        epochLoss.update(loss);
                        epochAccuracy.update(batch.get(1), logits);
                    }
                }
                losses.add(epochLoss.result());
                trainAcc = epochAccuracy.result();
                if (epoch % 50 == 0 || epoch == EPOCHS - 1) {
                    out.printf("Epoch %03d: Loss: %.3f, Accuracy: %.3f%%%n", epoch, epochLoss.result(), 100 * trainAcc);
                }
            }
            Tensor testX = rows(features, testRows);
            Tensor testY = rows(labels, testRows);
            Tensor testLogits = model.call(testX);
            testAccuracy.update(testY, testLogits);
            double testAcc = testAccuracy.result();
            out.printf("Test set accuracy: %.3f%%%n", 100 * testAcc);
            int[] predicted = testLogits.argMax(1).toIntArray();
            for (int i = 0; i < 3; i++) {
                int r = testRows.get(i * 10);
                out.printf("Example %d (%.1f, %.1f, %.1f, %.1f) prediction: %s (true: %s)%n", r,
                        csv.get(r, 0), csv.get(r, 1), csv.get(r, 2), csv.get(r, 3),
                        SPECIES[predicted[i * 10]], SPECIES[(int) csv.get(r, 4)]);
            }
            return new Result(trainAcc, testAcc, losses);
        }
    }

    private static Tensor rows(Tensor t, List<Integer> rows) {
        return t.gather(dev.spool.Spool.constant(rows.stream().mapToInt(Integer::intValue).toArray()), 0);
    }
}
