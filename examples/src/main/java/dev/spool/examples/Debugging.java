package dev.spool.examples;

import dev.spool.Device;
import dev.spool.DeviceStats;
import dev.spool.GradientTape;
import dev.spool.IndexOutOfRangeException;
import dev.spool.NumericsException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.nn.losses.Losses;
import dev.spool.nn.losses.Reduction;
import java.io.PrintStream;

/**
 * The README's "Debugging" section, runnable: where a NaN came from (check-numerics mode), a label
 * out of range (checked indices), and a step that leaves no tensor behind ({@code TensorScope},
 * read with {@code device.stats()}). {@code DebuggingTest} runs it on every device.
 *
 * <pre>java -cp examples/target/spool-examples.jar dev.spool.examples.Debugging [--device cpu|opencl]</pre>
 */
public final class Debugging {
    /** What each part found: the two error messages and the live buffers a step left behind. */
    public record Result(String nan, String forwardOp, String label, long buffersLeftBySteps) {
    }

    private final PrintStream out;

    public Debugging(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        new Debugging(System.out).run(Examples.deviceFromArgs(args));
    }

    @SuppressWarnings("try") // the device scope is opened for its effect
    public Result run(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope()) {
            out.println("Device: " + device);
            // 1. Where did my NaN come from?
            Tensor x = Spool.constant(new float[] {0, 1, 4});
            Spool.enableCheckNumerics();
            String nan;
            String forwardOp;
            try {
                GradientTape tape = new GradientTape();
                Tensor loss;
                try (tape) {
                    tape.watch(x);
                    loss = x.sqrt().relu().sum(); // sqrt'(0) = 1/0 meets relu'(0) = 0: NaN
                }
                tape.gradient(loss, x);
                throw new AssertionError("no NaN found");
            } catch (NumericsException e) {
                nan = e.getMessage();
                forwardOp = e.forwardOp();
                out.println(nan);
            } finally {
                Spool.disableCheckNumerics();
            }
            // 2. A label out of range
            Spool.enableCheckIndices();
            String label;
            try {
                Tensor logits = Spool.constant(new float[][] {{1, 2, 3}, {3, 2, 1}});
                Losses.sparseSoftmaxCrossEntropy(Spool.constant(new int[] {2, 3}), logits, Reduction.MEAN);
                throw new AssertionError("no bad label found");
            } catch (IndexOutOfRangeException e) {
                label = e.getMessage();
                out.println(label);
            } finally {
                Spool.disableCheckIndices();
            }
            // 3. Training steps in a TensorScope leave no buffer behind
            long left;
            try (Variable w = new Variable(Spool.constant(new float[] {0.5f, -0.5f}))) {
                Tensor features = Spool.constant(new float[] {1, 2});
                step(w, features); // the first write gives the variable its own buffer
                DeviceStats before = device.stats();
                for (int i = 0; i < 10; i++) {
                    step(w, features);
                }
                left = device.stats().minus(before).liveBuffers();
                out.println("live buffers left by 10 steps: " + left);
            }
            return new Result(nan, forwardOp, label, left);
        }
    }

    private static void step(Variable w, Tensor features) {
        try (TensorScope step = new TensorScope()) {
            GradientTape tape = new GradientTape();
            Tensor loss;
            try (tape) {
                loss = w.mul(features).sum().square();
            }
            Spool.applyGradientDescent(w, 0.1, tape.gradient(loss, w));
        }
    }
}
