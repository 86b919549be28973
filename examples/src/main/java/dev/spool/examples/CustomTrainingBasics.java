package dev.spool.examples;

import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.nn.losses.Losses;
import dev.spool.nn.losses.Reduction;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * TensorFlow's "custom training basics" tutorial in Java: fit {@code y = W·x + b} to 1000 noisy
 * samples of {@code y = 3x + 2} with a hand-written gradient-descent loop (a tape, two
 * Variables, {@code assignSub}), printing the loss per epoch and the fitted W and b.
 *
 * <pre>java -cp examples/target/spool-examples.jar dev.spool.examples.CustomTrainingBasics [--device cpu|opencl]</pre>
 */
public final class CustomTrainingBasics {
    static final double TRUE_W = 3.0;
    static final double TRUE_B = 2.0;
    static final int SAMPLES = 1000;
    static final int EPOCHS = 20; // TF runs 10; plain gradient descent shrinks W's error by 0.8 per epoch
    static final double LEARNING_RATE = 0.1;

    /** The fitted parameters and the loss after each epoch. */
    public record Result(double w, double b, List<Double> losses) {
    }

    private final PrintStream out;

    public CustomTrainingBasics(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        Map<String, String> options = Examples.options(args, "[--device cpu|opencl|opencl:N]", "device");
        new CustomTrainingBasics(System.out).run(Examples.device(options));
    }

    /** TF: {@code class MyModel(tf.Module)} with {@code w = tf.Variable(5.0)}, {@code b = tf.Variable(0.0)}. */
    static final class LinearModel implements AutoCloseable {
        final Variable w = new Variable(Spool.constant(5.0f), "w");
        final Variable b = new Variable(Spool.constant(0.0f), "b");

        Tensor call(Tensor x) {
            return x.mul(w).add(b);
        }

        @Override
        public void close() {
            w.close();
            b.close();
        }
    }

    public Result run(Device device) {
        out.println("Custom training basics on " + device);
        try (Device.Scope on = Device.use(device); TensorScope data = new TensorScope();
                LinearModel model = new LinearModel()) {
            // TF: x = tf.random.normal([1000]); noise = tf.random.normal([1000]); y = x * 3 + 2 + noise
            Tensor x = Spool.randomNormal(Shape.of(SAMPLES), 1);
            Tensor noise = Spool.randomNormal(Shape.of(SAMPLES), 2);
            Tensor y = x.mul(TRUE_W).add(TRUE_B).add(noise);
            List<Variable> params = List.of(model.w, model.b);
            List<Double> losses = new java.util.ArrayList<>();
            for (int epoch = 0; epoch < EPOCHS; epoch++) {
                try (TensorScope step = new TensorScope()) {
                    GradientTape tape = new GradientTape();
                    Tensor loss;
                    try (tape) {
                        loss = Losses.meanSquaredError(y, model.call(x), Reduction.MEAN);
                    }
                    List<Tensor> grads = tape.gradient(loss, params);
                    model.w.assignSub(grads.get(0).mul(LEARNING_RATE));
                    model.b.assignSub(grads.get(1).mul(LEARNING_RATE));
                    double l = loss.doubleValue();
                    losses.add(l);
                    out.printf("Epoch %2d: W=%1.2f b=%1.2f, loss=%2.5f%n", epoch,
                            model.w.value().doubleValue(), model.b.value().doubleValue(), l);
                }
            }
            double w = model.w.value().doubleValue();
            double b = model.b.value().doubleValue();
            out.printf("Fitted W = %.4f (true %.1f), b = %.4f (true %.1f)%n", w, TRUE_W, b, TRUE_B);
            return new Result(w, b, losses);
        }
    }
}
