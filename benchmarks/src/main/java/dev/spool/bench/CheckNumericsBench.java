package dev.spool.bench;

import dev.spool.Device;
import dev.spool.FusedActivation;
import dev.spool.GradientTape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import java.util.List;
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
 * What the debugging modes cost: the MLP step of {@link MlpStepBench} (784 → 256 relu → 10,
 * batch 128, SGD) with sparse int labels turned into one-hot rows inside the step (what
 * sparse cross-entropy does), with check-numerics and checked indices off, or one of them on.
 * Compare the modes' times from one run: their ratio is the overhead.
 *
 * <p>On a loaded machine JMH's forks, one mode after another, drift apart; {@link #main} instead
 * alternates the modes in one JVM, block by block, and prints the median of each round's ratio:
 * {@code java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar
 * dev.spool.bench.CheckNumericsBench [rounds] [steps per block] [device]}.
 */
@SuppressWarnings("try") // device and tensor scopes are opened for their effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 8, time = 1)
@Measurement(iterations = 5, time = 1)
public class CheckNumericsBench {
    @Param({"cpu"})
    public String device;

    @Param({"off", "checkNumerics", "checkIndices"})
    public String mode;

    private Device dev;
    private Tensor x;
    private Tensor classes;
    private List<Variable> params;

    @Setup
    public void setup() {
        dev = Device.get(device);
        MlpData data = new MlpData(128);
        try (Device.Scope use = Device.use(dev)) {
            x = Spool.constant(data.x).reshape(128, MlpData.IN);
            classes = Spool.constant(data.classes);
            params = List.of(new Variable(Spool.constant(data.w1).reshape(MlpData.IN, MlpData.HIDDEN), "w1"),
                    new Variable(Spool.zeros(MlpData.HIDDEN), "b1"),
                    new Variable(Spool.constant(data.w2).reshape(MlpData.HIDDEN, MlpData.OUT), "w2"),
                    new Variable(Spool.zeros(MlpData.OUT), "b2"));
        }
        switch (mode) {
            case "checkNumerics" -> Spool.enableCheckNumerics();
            case "checkIndices" -> Spool.enableCheckIndices();
            default -> { }
        }
    }

    @Benchmark
    public void step() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            GradientTape tape = new GradientTape();
            Tensor loss;
            try (tape) {
                Tensor labels = Spool.oneHot(classes, MlpData.OUT);
                Tensor hidden = Spool.biasAdd(x.matmul(params.get(0)), params.get(1), FusedActivation.RELU);
                Tensor logits = Spool.biasAdd(hidden.matmul(params.get(2)), params.get(3));
                loss = Spool.softmaxCrossEntropyWithLogits(labels, logits).mean();
            }
            List<Tensor> grads = tape.gradient(loss, params);
            for (int i = 0; i < params.size(); i++) {
                Spool.applyGradientDescent(params.get(i), MlpData.LR, grads.get(i));
            }
            dev.synchronize();
        }
    }

    @TearDown
    public void tearDown() {
        Spool.disableCheckNumerics();
        Spool.disableCheckIndices();
        x.close();
        classes.close();
        params.forEach(Variable::close);
    }

    /** Interleaved rounds: off, check-numerics, checked indices, each a block of steps; median ratios. */
    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 40;
        CheckNumericsBench b = new CheckNumericsBench();
        b.device = args.length > 2 ? args[2] : "cpu";
        b.mode = "off";
        b.setup();
        String[] modes = {"off", "checkNumerics", "checkIndices"};
        double[][] ms = new double[modes.length][rounds];
        for (int warm = 0; warm < 300; warm++) { // C2 and the caches, every mode's path
            set(modes[warm % 3]);
            b.step();
        }
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < modes.length; k++) {
                int m = (r % 2 == 0) ? k : modes.length - 1 - k; // alternate the order
                set(modes[m]);
                long t0 = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    b.step();
                }
                ms[m][r] = (System.nanoTime() - t0) / 1e6 / steps;
            }
        }
        set("off");
        b.tearDown();
        double[] off = ms[0];
        System.out.printf("device %s, %d rounds of %d steps per mode; load average %s%n", b.device, rounds, steps,
                loadAverage());
        for (int k = 0; k < modes.length; k++) {
            double[] ratio = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                ratio[r] = ms[k][r] / off[r];
            }
            double[] t = ms[k].clone();
            java.util.Arrays.sort(t);
            java.util.Arrays.sort(ratio);
            System.out.printf("%-14s median %.3f ms/step [%.3f–%.3f], ratio to off %.2f [%.2f–%.2f]%n", modes[k],
                    t[rounds / 2], t[0], t[rounds - 1], ratio[rounds / 2], ratio[0], ratio[rounds - 1]);
        }
    }

    private static void set(String mode) {
        if (mode.equals("checkNumerics")) {
            Spool.enableCheckNumerics();
        } else {
            Spool.disableCheckNumerics();
        }
        if (mode.equals("checkIndices")) {
            Spool.enableCheckIndices();
        } else {
            Spool.disableCheckIndices();
        }
    }

    private static String loadAverage() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
