package dev.spool.bench;

import dev.spool.Device;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
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
 * One Adam update of a 784 × 256 float32 parameter (the first layer of the MLP): the fused
 * {@code Spool.applyAdam} (one primitive) against the same update written with ops as nn's
 * Adam was (twelve primitives, eleven temporaries, scalar fills), on the same device in the
 * same run. The device is synchronised after each update.
 */
@SuppressWarnings("try") // device and tensor scopes are opened for their effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AdamStepBench {
    private static final double LR = 0.001;
    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPSILON = 1e-7;

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"fused", "composite"})
    public String path;

    private Device dev;
    private Variable w;
    private Variable m;
    private Variable v;
    private Tensor g;
    private long step;

    @Setup
    public void setup() {
        dev = Device.get(device);
        Shape shape = Shape.of(MlpData.IN, MlpData.HIDDEN);
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            w = new Variable(Spool.randomUniform(shape, 1), "w");
            m = new Variable(Spool.zeros(shape, w.dtype()), "w/m");
            v = new Variable(Spool.zeros(shape, w.dtype()), "w/v");
            g = scope.keep(Spool.randomUniform(shape, 2, -1, 1, w.dtype()));
        }
    }

    @Benchmark
    public void update() {
        long t = ++step;
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            if (path.equals("fused")) {
                Spool.applyAdam(w, m, v, Math.pow(BETA1, t), Math.pow(BETA2, t), LR, BETA1, BETA2, EPSILON, g);
            } else {
                double alpha = LR * Math.sqrt(1 - Math.pow(BETA2, t)) / (1 - Math.pow(BETA1, t));
                m.assignAdd(g.sub(m).mul(1 - BETA1));
                v.assignAdd(g.square().sub(v).mul(1 - BETA2));
                w.assignSub(m.mul(alpha).div(v.sqrt().add(EPSILON)));
            }
            dev.synchronize();
        }
    }

    @TearDown
    public void tearDown() {
        g.close();
        w.close();
        m.close();
        v.close();
    }
}
