package dev.spool.examples;

import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Plain timed benchmarks: each Spool op on each device against a baseline run in the same
 * process (a straightforward Java loop over float arrays), reported as median time and as a
 * ratio to the baseline. Figures go to docs/PERFORMANCE.md.
 *
 * <pre>
 * usage: Benchmarks [--device cpu|opencl|opencl:N] ...   (default: every device)
 * </pre>
 */
public final class Benchmarks {
    private static final int RUNS = 7;

    private Benchmarks() {
    }

    public static void main(String[] args) {
        List<Device> devices = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--device") && i + 1 < args.length) {
                devices.add(Device.get(args[++i]));
            }
        }
        if (devices.isEmpty()) {
            devices.addAll(Device.list());
        }
        System.out.printf(Locale.ROOT, "JVM %s, %d cores%n", Runtime.version(),
                Runtime.getRuntime().availableProcessors());
        int n = 512;
        int len = 1 << 22;
        double javaMatmul = median(() -> naiveMatmul(n));
        double javaAdd = median(() -> javaAdd(len));
        double javaSum = median(() -> javaSum(len));
        System.out.printf(Locale.ROOT, "%-12s %-28s %10s %12s %10s%n", "device", "op", "median ms", "rate", "vs Java");
        row("java", "matmul 512x512x512 (ijk)", javaMatmul, gflops(n, javaMatmul), 1);
        row("java", "add 4M float32", javaAdd, gbs(3L * 4 * len, javaAdd), 1);
        row("java", "sum 4M float32", javaSum, gbs(4L * len, javaSum), 1);
        for (Device d : devices) {
            try (Device.Scope s = Device.use(d); TensorScope scope = new TensorScope()) {
                Tensor a = Spool.randomUniform(Shape.of(n, n), 1);
                Tensor b = Spool.randomUniform(Shape.of(n, n), 2);
                Tensor x = Spool.randomUniform(Shape.of(len), 3);
                Tensor y = Spool.randomUniform(Shape.of(len), 4);
                double mm = median(() -> timeOp(d, () -> a.matmul(b)));
                double add = median(() -> timeOp(d, () -> x.add(y)));
                double sum = median(() -> timeOp(d, () -> x.sum()));
                double grad = median(() -> timeOp(d, () -> mlpGradient(a, b)));
                row(d.id(), "matmul 512x512x512", mm, gflops(n, mm), javaMatmul / mm);
                row(d.id(), "add 4M float32", add, gbs(3L * 4 * len, add), javaAdd / add);
                row(d.id(), "sum 4M float32", sum, gbs(4L * len, sum), javaSum / sum);
                row(d.id(), "tanh-MLP fwd+bwd 512", grad, "", Double.NaN);
            }
        }
    }

    /** Forward and backward of sum(tanh(a @ b) @ b): three matmuls forward, four backward. */
    private static Tensor mlpGradient(Tensor a, Tensor b) {
        GradientTape t = new GradientTape();
        Tensor loss;
        try (t) {
            t.watch(a);
            loss = a.matmul(b).tanh().matmul(b).sum();
        }
        return t.gradient(loss, a);
    }

    /** Runs op, waits for the device, frees the result; returns elapsed ms. */
    private static double timeOp(Device d, Supplier<Tensor> op) {
        try (TensorScope scope = new TensorScope()) {
            long t0 = System.nanoTime();
            op.get();
            d.synchronize();
            return (System.nanoTime() - t0) / 1e6;
        }
    }

    private static double median(Supplier<Double> run) {
        run.get(); // warm-up: JIT, kernel builds, buffer pool
        run.get();
        double[] t = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            t[i] = run.get();
        }
        Arrays.sort(t);
        return t[RUNS / 2];
    }

    private static double naiveMatmul(int n) {
        float[] a = new float[n * n];
        float[] b = new float[n * n];
        float[] c = new float[n * n];
        Arrays.fill(a, 1.5f);
        Arrays.fill(b, 0.5f);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int k = 0; k < n; k++) {
                    s += a[i * n + k] * b[k * n + j];
                }
                c[i * n + j] = s;
            }
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        if (c[n + 1] != 0.75f * n) {
            throw new AssertionError("baseline matmul is wrong");
        }
        return ms;
    }

    private static double javaAdd(int len) {
        float[] x = new float[len];
        float[] y = new float[len];
        Arrays.fill(x, 1);
        long t0 = System.nanoTime();
        float[] z = new float[len];
        for (int i = 0; i < len; i++) {
            z[i] = x[i] + y[i];
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        if (z[len - 1] != 1) {
            throw new AssertionError();
        }
        return ms;
    }

    private static double javaSum(int len) {
        float[] x = new float[len];
        Arrays.fill(x, 1);
        long t0 = System.nanoTime();
        float s = 0;
        for (int i = 0; i < len; i++) {
            s += x[i];
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        if (s <= 0) {
            throw new AssertionError();
        }
        return ms;
    }

    private static String gflops(int n, double ms) {
        return String.format(Locale.ROOT, "%.2f GFLOP/s", 2.0 * n * n * n / ms / 1e6);
    }

    private static String gbs(long bytes, double ms) {
        return String.format(Locale.ROOT, "%.2f GB/s", bytes / ms / 1e6);
    }

    private static void row(String device, String op, double ms, String rate, double ratio) {
        System.out.printf(Locale.ROOT, "%-12s %-28s %10.3f %12s %10s%n", device, op, ms, rate,
                Double.isNaN(ratio) ? "" : String.format(Locale.ROOT, "%.2fx", ratio));
    }
}
