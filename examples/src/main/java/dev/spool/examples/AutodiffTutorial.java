package dev.spool.examples;

import dev.spool.Device;
import dev.spool.DeviceException;
import dev.spool.GradientTape;
import dev.spool.Operand;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.Variable;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * TensorFlow's tutorial "Automatic differentiation and gradient tape", cell by cell, in Java.
 * Each cell prints what the tutorial shows and checks the tutorial's values; the program exits
 * with status 1 if any differs.
 *
 * <pre>
 * usage: AutodiffTutorial [--device cpu|opencl|opencl:N]   (default: the best device)
 *        AutodiffTutorial --devices   (lists every device found, and every one skipped with the reason)
 * </pre>
 */
public final class AutodiffTutorial {
    private final PrintStream out;
    private final List<String> failures = new ArrayList<>();

    public AutodiffTutorial(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        if (args.length == 1 && args[0].equals("--devices")) {
            // every backend, every OpenCL platform and device, and what was skipped and why
            System.out.print(Device.report());
            return;
        }
        Device device;
        try {
            device = Examples.deviceFromArgs(args);
        } catch (IllegalArgumentException | DeviceException e) { // a bad argument, or no such device here
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        List<String> failures = new AutodiffTutorial(System.out).run(device);
        if (!failures.isEmpty()) {
            System.err.println("FAILED: " + failures.size() + " value(s) differ from the tutorial:");
            failures.forEach(f -> System.err.println("  " + f));
            System.exit(1);
        }
        System.out.println("All tutorial values match.");
    }

    /** Runs every cell on {@code device}; returns the values that differ from the tutorial. */
    public List<String> run(Device device) {
        out.println("Running TensorFlow's autodiff tutorial on " + device + " (" + device.info().name() + ")");
        try (Device.Scope scope = Device.use(device)) {
            gradientTapes();
            gradientWithRespectToIntermediate();
            persistentTape();
            controlFlow();
            higherOrderGradients();
        }
        return failures;
    }

    /** In [2]: dz/dx for z = (sum x)^2 at x = ones(2, 2). */
    private void gradientTapes() {
        section("Gradient tapes");
        Tensor x = Spool.ones(2, 2);
        Tensor y;
        Tensor z;
        GradientTape t = new GradientTape();
        try (t) {
            t.watch(x);
            y = Spool.reduceSum(x);
            z = Spool.multiply(y, y);
        }
        // Derivative of z with respect to the original input tensor x
        Tensor dzDx = t.gradient(z, x);
        out.println("x = " + x);
        out.println("z = " + z);
        out.println("dz_dx = " + dzDx);
        for (int i : new int[] {0, 1}) {
            for (int j : new int[] {0, 1}) {
                check("dz_dx[" + i + "][" + j + "]", dzDx.getFloat(i, j), 8.0f);
            }
        }
        check("z", z.floatValue(), 16.0f);
        checkEqual("z shape", z.shape().toString(), "()");
        checkEqual("z dtype", z.dtype().toString(), "float32");
    }

    /** In [3]: dz/dy with respect to the intermediate y. */
    private void gradientWithRespectToIntermediate() {
        section("Gradient with respect to an intermediate value");
        Tensor x = Spool.ones(2, 2);
        Tensor y;
        Tensor z;
        GradientTape t = new GradientTape();
        try (t) {
            t.watch(x);
            y = Spool.reduceSum(x);
            z = Spool.multiply(y, y);
        }
        // Use the tape to compute the derivative of z with respect to the intermediate value y.
        Tensor dzDy = t.gradient(z, y);
        out.println("dz_dy = " + dzDy);
        check("dz_dy", dzDy.floatValue(), 8.0f);
    }

    /** In [4]: a persistent tape answers twice. */
    private void persistentTape() {
        section("Persistent tape");
        Tensor x = Spool.constant(3.0f);
        Tensor y;
        Tensor z;
        GradientTape t = new GradientTape(true);
        try (t) {
            t.watch(x);
            y = x.mul(x);
            z = y.mul(y);
        }
        Tensor dzDx = t.gradient(z, x); // 108.0 (4*x^3 at x = 3)
        Tensor dyDx = t.gradient(y, x); // 6.0
        out.println("dz_dx = " + dzDx);
        out.println("dy_dx = " + dyDx);
        check("dz_dx", dzDx.floatValue(), 108.0f);
        check("dy_dx", dyDx.floatValue(), 6.0f);
        t.reset(); // drop what the tape holds, as `del t` does
    }

    /** In [5]: Java control flow is recorded as it runs. */
    private void controlFlow() {
        section("Recording control flow");
        Tensor x = Spool.convertToTensor(2.0);
        Tensor g6 = grad(x, 6);
        Tensor g5 = grad(x, 5);
        Tensor g4 = grad(x, 4);
        out.println("grad(x, 6) = " + g6);
        out.println("grad(x, 5) = " + g5);
        out.println("grad(x, 4) = " + g4);
        check("grad(x, 6)", g6.floatValue(), 12.0f);
        check("grad(x, 5)", g5.floatValue(), 12.0f);
        check("grad(x, 4)", g4.floatValue(), 4.0f);
    }

    static Operand f(Tensor x, int y) {
        Operand output = Spool.constant(1.0f);
        for (int i = 0; i < y; i++) {
            if (i > 1 && i < 5) {
                output = Spool.multiply(output, x);
            }
        }
        return output;
    }

    static Tensor grad(Tensor x, int y) {
        GradientTape t = new GradientTape();
        Operand out;
        try (t) {
            t.watch(x);
            out = f(x, y);
        }
        return t.gradient(out, x);
    }

    /** In [6]: nested tapes give the second derivative. */
    private void higherOrderGradients() {
        section("Higher-order gradients");
        Variable x = new Variable(Spool.constant(1.0f)); // a variable initialised to 1.0
        Tensor dyDx;
        GradientTape t = new GradientTape();
        try (t) {
            GradientTape t2 = new GradientTape();
            Tensor y;
            try (t2) {
                y = x.mul(x).mul(x);
            }
            // Compute the gradient inside the outer tape's scope,
            // which means the gradient computation is differentiable as well.
            dyDx = t2.gradient(y, x);
        }
        Tensor d2yDx2 = t.gradient(dyDx, x);
        out.println("dy_dx = " + dyDx);
        out.println("d2y_dx2 = " + d2yDx2);
        check("dy_dx", dyDx.floatValue(), 3.0f);
        check("d2y_dx2", d2yDx2.floatValue(), 6.0f);
    }

    private void section(String title) {
        out.println();
        out.println("== " + title + " ==");
    }

    private void check(String what, float actual, float expected) {
        if (actual != expected) {
            failures.add(what + ": expected " + expected + ", got " + actual);
        }
    }

    private void checkEqual(String what, String actual, String expected) {
        if (!actual.equals(expected)) {
            failures.add(what + ": expected " + expected + ", got " + actual);
        }
    }
}
