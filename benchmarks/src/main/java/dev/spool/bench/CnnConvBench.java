package dev.spool.bench;

import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Padding;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UnconnectedGradients;
import java.util.List;
import java.util.SplittableRandom;
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
 * The convolutions of one training step of issue 20's Fashion-MNIST CNN (Conv2D(32, 3x3) on
 * 28x28x1, max pooling, Conv2D(64, 3x3) on 13x13x32, both VALID, float32): conv1 forward and its
 * filter gradient (the images need no gradient), conv2 forward and its input and filter
 * gradients, as the step runs them: queued one after another, one wait at the end. The layer
 * gradients come from persistent GradientTapes that recorded each forward pass once, asked each
 * time under a given dy (as ConvBench does). Pooling, activations and the dense layers are not
 * in it: this is the part of the step the convolution kernels decide. The fork sees two
 * processors, so the cpu device runs two threads, as PoCL does here.
 */
@SuppressWarnings("try") // device and tensor scopes are opened for their effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:ActiveProcessorCount=2"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CnnConvBench {
    static final int SIZE = 28;
    static final int K = 3;
    static final int C1 = 32;
    static final int C2 = 64;
    /** conv2's input: conv1's 26x26 output max-pooled 2x2. */
    static final int POOLED = (SIZE - K + 1) / 2;

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"128"})
    public int batch;

    private Device dev;
    private float[][] host; // x, f1, h, f2, dy1, dy2
    private Tensor x;
    private Tensor f1;
    private Tensor h;
    private Tensor f2;
    private Tensor dy1;
    private Tensor dy2;
    private Tensor y1;
    private Tensor y2;
    private GradientTape tape1;
    private GradientTape tape2;

    @Setup
    public void setup() {
        dev = Device.get(device);
        int o1 = SIZE - K + 1;
        int o2 = POOLED - K + 1;
        host = new float[][] {
            Inputs.uniform(batch * SIZE * SIZE, 1, 0, 1),
            Inputs.uniform(K * K * C1, 2, -0.4, 0.4),
            Inputs.uniform(batch * POOLED * POOLED * C1, 3, 0, 1),
            Inputs.uniform(K * K * C1 * C2, 4, -0.1, 0.1),
            Inputs.uniform(batch * o1 * o1 * C1, 5, -1, 1),
            Inputs.uniform(batch * o2 * o2 * C2, 6, -1, 1)};
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            x = scope.keep(Spool.constant(host[0]).reshape(batch, SIZE, SIZE, 1));
            f1 = scope.keep(Spool.constant(host[1]).reshape(K, K, 1, C1));
            h = scope.keep(Spool.constant(host[2]).reshape(batch, POOLED, POOLED, C1));
            f2 = scope.keep(Spool.constant(host[3]).reshape(K, K, C1, C2));
            dy1 = scope.keep(Spool.constant(host[4]).reshape(batch, o1, o1, C1));
            dy2 = scope.keep(Spool.constant(host[5]).reshape(batch, o2, o2, C2));
            GradientTape recording1 = new GradientTape(true);
            try (recording1) {
                recording1.watch(f1);
                y1 = scope.keep(Spool.conv2d(x, f1, new int[] {1}, Padding.VALID));
            }
            tape1 = recording1;
            GradientTape recording2 = new GradientTape(true);
            try (recording2) {
                recording2.watch(h, f2);
                y2 = scope.keep(Spool.conv2d(h, f2, new int[] {1}, Padding.VALID));
            }
            tape2 = recording2;
            check("conv1", 0, 1, SIZE, 1, C1, y1.toFloatArray(), tape1.gradient(y1, List.of(f1), dy1,
                    UnconnectedGradients.NONE).get(0).toFloatArray(), null, 4);
            List<Tensor> g2 = tape2.gradient(y2, List.of(h, f2), dy2, UnconnectedGradients.NONE);
            check("conv2", 2, 3, POOLED, C1, C2, y2.toFloatArray(), g2.get(1).toFloatArray(), g2.get(0).toFloatArray(), 5);
        }
    }

    @Benchmark
    public void convolutionsOfAStep() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            Spool.conv2d(x, f1, new int[] {1}, Padding.VALID);
            Spool.conv2d(h, f2, new int[] {1}, Padding.VALID);
            tape2.gradient(y2, List.of(h, f2), dy2, UnconnectedGradients.NONE);
            tape1.gradient(y1, List.of(f1), dy1, UnconnectedGradients.NONE);
            dev.synchronize();
        }
    }

    /**
     * 32 sampled elements of a layer's output, filter gradient and (when given) input gradient
     * against float64 sums here: input {@code host[in]} [batch, n, n, ci], filter {@code host[f]}
     * [3, 3, ci, co], VALID, dy {@code host[dyAt]}.
     */
    private void check(String layer, int in, int f, int n, int ci, int co, float[] y, float[] df, float[] dx, int dyAt) {
        float[] xs = host[in];
        float[] fs = host[f];
        float[] dys = host[dyAt];
        int o = n - K + 1;
        SplittableRandom r = new SplittableRandom(9);
        for (int s = 0; s < 32; s++) {
            int b = r.nextInt(batch);
            int oy = r.nextInt(o);
            int ox = r.nextInt(o);
            int c = r.nextInt(co);
            double ref = 0;
            double mag = 0;
            for (int ky = 0; ky < K; ky++) {
                for (int kx = 0; kx < K; kx++) {
                    for (int i = 0; i < ci; i++) {
                        double p = (double) xs[((b * n + oy + ky) * n + ox + kx) * ci + i] * fs[((ky * K + kx) * ci + i) * co + c];
                        ref += p;
                        mag += Math.abs(p);
                    }
                }
            }
            Checks.close(layer + " y", ref, y[((b * o + oy) * o + ox) * co + c], 0, 1e-4 * mag + 1e-6);
            int ky = r.nextInt(K);
            int kx = r.nextInt(K);
            int i = r.nextInt(ci);
            ref = 0;
            mag = 0;
            for (int bb = 0; bb < batch; bb++) {
                for (int yy = 0; yy < o; yy++) {
                    for (int xx = 0; xx < o; xx++) {
                        double p = (double) xs[((bb * n + yy + ky) * n + xx + kx) * ci + i] * dys[((bb * o + yy) * o + xx) * co + c];
                        ref += p;
                        mag += Math.abs(p);
                    }
                }
            }
            Checks.close(layer + " filter gradient", ref, df[((ky * K + kx) * ci + i) * co + c], 0, 1e-4 * mag + 1e-6);
            if (dx != null) {
                int iy = r.nextInt(n);
                int ix = r.nextInt(n);
                ref = 0;
                mag = 0;
                for (ky = 0; ky < K; ky++) {
                    for (kx = 0; kx < K; kx++) {
                        int yy = iy - ky;
                        int xx = ix - kx;
                        if (yy < 0 || yy >= o || xx < 0 || xx >= o) {
                            continue;
                        }
                        for (int cc = 0; cc < co; cc++) {
                            double p = (double) dys[((b * o + yy) * o + xx) * co + cc] * fs[((ky * K + kx) * ci + i) * co + cc];
                            ref += p;
                            mag += Math.abs(p);
                        }
                    }
                }
                Checks.close(layer + " input gradient", ref, dx[((b * n + iy) * n + ix) * ci + i], 0, 1e-4 * mag + 1e-6);
            }
        }
    }

    @TearDown
    public void tearDown() {
        tape1.reset();
        tape2.reset();
        for (Tensor t : new Tensor[] {x, f1, h, f2, dy1, dy2, y1, y2}) {
            t.close();
        }
    }
}
