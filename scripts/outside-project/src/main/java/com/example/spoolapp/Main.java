package com.example.spoolapp;

import dev.spool.Device;
import dev.spool.DeviceException;
import dev.spool.GradientTape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.function.TracedFunction;
import dev.spool.nn.layers.Activation;
import dev.spool.nn.layers.Dense;
import dev.spool.nn.losses.Losses;
import dev.spool.nn.losses.Reduction;
import dev.spool.nn.optimizers.SGD;
import java.util.ArrayList;
import java.util.List;

/**
 * A program outside Spool's build: on the device it is given, a second derivative from nested
 * tapes and a Dense layer fitted to a line, each checked against the exact answer; and that it
 * runs the way it was launched (class path, or module path with Spool's jars as automatic
 * modules). Prints what it checked; exits 1 on any wrong value, 2 if the device is not there.
 *
 * <pre>java ... com.example.spoolapp.Main cpu|opencl|opencl:N class-path|module-path</pre>
 */
public final class Main {
    /** The exit status when the requested device does not exist on this machine. */
    static final int NO_DEVICE = 2;

    private final List<String> failures = new ArrayList<>();

    public static void main(String[] args) {
        if (args.length != 2 || !List.of("class-path", "module-path").contains(args[1])) {
            System.err.println("usage: Main <device> class-path|module-path");
            System.exit(64);
        }
        Device device;
        try {
            device = Device.get(args[0]);
        } catch (DeviceException e) {
            System.err.println(e.getMessage());
            System.exit(NO_DEVICE);
            return;
        }
        Main main = new Main();
        main.checkLaunch(args[1]);
        main.checkHigherOrderGradient(device);
        main.checkTraining(device);
        main.checkTracedFunction(device);
        if (!main.failures.isEmpty()) {
            main.failures.forEach(f -> System.out.println("FAILED: " + f));
            System.exit(1);
        }
        System.out.println("OK on " + device + " (" + args[1] + ")");
    }

    /** Spool's classes come from where the launch says: named automatic modules, or the class path. */
    private void checkLaunch(String path) {
        Module core = Tensor.class.getModule();
        Module nn = Dense.class.getModule();
        System.out.println("modules: " + core + ", " + nn);
        if (path.equals("module-path")) {
            check("runtime-core's module", String.valueOf(core.getName()), "dev.spool.core");
            check("nn's module", String.valueOf(nn.getName()), "dev.spool.nn");
            check("runtime-core is automatic", core.getDescriptor() != null && core.getDescriptor().isAutomatic(), true);
            // The backends are required by nobody; they must still be resolved, and ServiceLoader
            // must find them (Device.list() names their devices).
            for (String backend : List.of("dev.spool.cpu", "dev.spool.opencl", "dev.spool.kernels")) {
                check(backend + " resolved", ModuleLayer.boot().findModule(backend).isPresent(), true);
            }
        } else {
            check("runtime-core on the class path", core.isNamed(), false);
        }
        List<Device> devices = Device.list();
        System.out.println("devices: " + devices);
        check("the cpu device is listed", devices.stream().anyMatch(d -> d.id().equals("cpu")), true);
    }

    /** y = Σ x³ over a 2×2 variable: dy/dx = 3x², and the outer tape gives d(Σ dy/dx)/dx = 6x. */
    private void checkHigherOrderGradient(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope()) {
            Variable x = new Variable(Spool.constant(new float[][] {{1, 2}, {3, 4}}), "x");
            Tensor dyDx;
            GradientTape outer = new GradientTape();
            try (outer) {
                GradientTape inner = new GradientTape();
                Tensor y;
                try (inner) {
                    y = Spool.reduceSum(x.mul(x).mul(x));
                }
                dyDx = inner.gradient(y, x);
            }
            Tensor d2yDx2 = outer.gradient(dyDx, x);
            System.out.println("dy/dx = " + dyDx + ", d2y/dx2 = " + d2yDx2);
            check("dy/dx's device", dyDx.device().id(), device.id());
            float[] first = dyDx.toFloatArray();
            float[] second = d2yDx2.toFloatArray();
            float[] xs = {1, 2, 3, 4};
            for (int i = 0; i < xs.length; i++) { // small integers: exact in float32 on any device
                check("dy/dx[" + i + "]", first[i], 3 * xs[i] * xs[i]);
                check("d2y/dx2[" + i + "]", second[i], 6 * xs[i]);
            }
            x.close();
        }
    }

    /**
     * An elementwise chain as a traced function: replayed as one fused node, with eager's bits.
     * On cpu the node is a loop compiled at run time into a hidden class of Spool's cpu module,
     * which must work from an automatic module on the module path as on the class path.
     */
    private void checkTracedFunction(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope()) {
            Tensor x = Spool.linspace(-3, 3, 1001);
            try (TracedFunction<Tensor> chain = Spool.function(t -> t.mul(1.5).add(0.25).mul(t).sub(1))) {
                chain.call(x); // traces
                float[] replayed = chain.call(x).toFloatArray();
                float[] eager = x.mul(1.5).add(0.25).mul(x).sub(1).toFloatArray();
                System.out.println("traced chain: " + chain.stats().nodesPerCall() + " node(s) per call");
                check("the chain's nodes per call", chain.stats().nodesPerCall(), 1);
                check("the replay equals eager", java.util.Arrays.equals(replayed, eager), true);
            }
        }
    }

    /**
     * A Dense(1 → 1) layer fitted by SGD to 32 exact points of y = 3x + 2 on [-1, 1]. With
     * learning rate 0.5 the error shrinks at least 1.5-fold per step, so 150 steps reach float32
     * precision: the kernel must be 3 and the bias 2.
     */
    private void checkTraining(Device device) {
        double trueW = 3;
        double trueB = 2;
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope()) {
            Tensor x = Spool.linspace(-1, 1, 32).reshape(32, 1);
            Tensor y = x.mul(trueW).add(trueB);
            Dense layer = new Dense(1, 1, Activation.LINEAR, 7);
            List<Variable> params = layer.trainableVariables();
            SGD sgd = new SGD(0.5);
            double firstLoss = Double.NaN;
            double loss = Double.NaN;
            for (int step = 0; step < 150; step++) {
                try (TensorScope stepScope = new TensorScope()) {
                    GradientTape tape = new GradientTape();
                    Tensor l;
                    try (tape) {
                        l = Losses.meanSquaredError(y, layer.call(x, true), Reduction.MEAN);
                    }
                    sgd.apply(tape.gradient(l, params), params);
                    loss = l.doubleValue();
                    if (step == 0) {
                        firstLoss = loss;
                    }
                }
            }
            double w = layer.kernel().value().getDouble(0, 0);
            double b = layer.bias().value().getDouble(0);
            System.out.printf("fitted w = %.6f, b = %.6f; loss %.3g -> %.3g%n", w, b, firstLoss, loss);
            check("the kernel's device", layer.kernel().value().device().id(), device.id());
            checkNear("fitted w", w, trueW, 1e-4);
            checkNear("fitted b", b, trueB, 1e-4);
            check("the first loss is positive", firstLoss > 0.1, true);
            checkNear("the last loss", loss, 0, 1e-8);
        }
    }

    private void check(String what, Object actual, Object expected) {
        if (!actual.equals(expected)) {
            failures.add(what + ": expected " + expected + ", got " + actual);
        }
    }

    private void checkNear(String what, double actual, double expected, double tolerance) {
        if (!(Math.abs(actual - expected) <= tolerance)) { // also fails on NaN
            failures.add(what + ": expected " + expected + " ± " + tolerance + ", got " + actual);
        }
    }
}
