package dev.spool.bench;

import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UnconnectedGradients;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Issue 21's attention target: scaled dot-product attention forward and backward (the gradients
 * of q, k and v under a given output gradient) at batch 8, 4 heads, T = 256, d = 64, float32, no
 * mask, scale 1/sqrt(d): the fused primitives, recorded by a tape and asked for the gradient
 * once per call, one wait at the end. Its peer is DjlAttentionBench (PyTorch through DJL: matmul,
 * softmax, matmul under a GradientCollector). The fork sees two processors, so the cpu device
 * runs two threads, as PoCL and PyTorch do here.
 */
@SuppressWarnings("try") // device and tensor scopes are opened for their effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:ActiveProcessorCount=2"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AttentionBench {
    static final int BATCH = 8;
    static final int HEADS = 4;
    static final int T = 256;
    static final int D = 64;

    @Param({"cpu", "opencl:0"})
    public String device;

    private Device dev;
    private Tensor q;
    private Tensor k;
    private Tensor v;
    private Tensor dy;

    /** q, k, v and dy, from fixed seeds (the peer uses the same values). */
    public static float[][] inputs() {
        int n = BATCH * HEADS * T * D;
        return new float[][] {Inputs.uniform(n, 1, -1, 1), Inputs.uniform(n, 2, -1, 1), Inputs.uniform(n, 3, -1, 1),
            Inputs.uniform(n, 4, -1, 1)};
    }

    @Setup
    public void setup() {
        dev = Device.get(device);
        float[][] host = inputs();
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            q = scope.keep(Spool.constant(host[0]).reshape(BATCH, HEADS, T, D));
            k = scope.keep(Spool.constant(host[1]).reshape(BATCH, HEADS, T, D));
            v = scope.keep(Spool.constant(host[2]).reshape(BATCH, HEADS, T, D));
            dy = scope.keep(Spool.constant(host[3]).reshape(BATCH, HEADS, T, D));
            List<Tensor> r = step();
            check(host, r.get(0).toFloatArray(), r.get(3).toFloatArray());
        }
    }

    /** out and the gradients of q, k, v. */
    private List<Tensor> step() {
        GradientTape tape = new GradientTape();
        Tensor y;
        try (tape) {
            tape.watch(q, k, v);
            y = Spool.scaledDotProductAttention(q, k, v, null, false);
        }
        List<Tensor> g = tape.gradient(y, List.of(q, k, v), dy, UnconnectedGradients.NONE);
        return List.of(y, g.get(0), g.get(1), g.get(2));
    }

    @Benchmark
    public void forwardAndBackward() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            step();
            dev.synchronize();
        }
    }

    /** A few rows of out and of dv against float64 sums here. */
    public static void check(float[][] host, float[] out, float[] dv) {
        float[] qs = host[0];
        float[] ks = host[1];
        float[] vs = host[2];
        float[] gs = host[3];
        double scale = 1 / Math.sqrt(D);
        int bh = 5;
        double[][] p = new double[T][T];
        for (int i = 0; i < T; i++) {
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < T; j++) {
                double s = 0;
                for (int c = 0; c < D; c++) {
                    s += (double) qs[(bh * T + i) * D + c] * ks[(bh * T + j) * D + c];
                }
                p[i][j] = s * scale;
                m = Math.max(m, p[i][j]);
            }
            double sum = 0;
            for (int j = 0; j < T; j++) {
                p[i][j] = Math.exp(p[i][j] - m);
                sum += p[i][j];
            }
            for (int j = 0; j < T; j++) {
                p[i][j] /= sum;
            }
        }
        for (int i : new int[] {0, 17, 255}) {
            for (int c : new int[] {0, 63}) {
                double o = 0;
                double g = 0;
                for (int j = 0; j < T; j++) {
                    o += p[i][j] * vs[(bh * T + j) * D + c];
                    g += p[j][i] * gs[(bh * T + j) * D + c]; // dv[i] = sum over queries j of p[j][i] dy[j]
                }
                Checks.close("attention out", o, out[(bh * T + i) * D + c], 0, 1e-4);
                Checks.close("attention dv", g, dv[(bh * T + i) * D + c], 0, 1e-4);
            }
        }
    }
}
