package dev.spool.bench;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
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
 * Mean softmax cross-entropy, forward and gradient in the logits: the fused primitive
 * ({@code Spool.softmaxCrossEntropyWithLogits}) against the composite it replaced (max, sub, exp,
 * sum, log, sub, mul, sum, neg, written here with the public ops exactly as core had it), in the
 * same run on the same device.
 */
@SuppressWarnings("try") // device, tape and tensor scopes are opened for their effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SoftmaxXentBench {
    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"128x10", "1024x1000"})
    public String shape;

    @Param({"fused", "composite"})
    public String impl;

    private Device dev;
    private Tensor logits;
    private Tensor labels;

    @Setup
    public void setup() {
        dev = Device.get(device);
        String[] d = shape.split("x");
        int rows = Integer.parseInt(d[0]);
        int n = Integer.parseInt(d[1]);
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            logits = scope.keep(Spool.multiply(4.0, Spool.randomNormal(Shape.of(rows, n), 1)));
            labels = scope.keep(Spool.oneHot(Spool.cast(Spool.multiply((double) n,
                    Spool.randomUniform(Shape.of(rows), 2)), DType.INT32), n));
            double fused = Spool.reduceMean(Spool.softmaxCrossEntropyWithLogits(labels, logits)).doubleValue();
            double composite = Spool.reduceMean(composite(labels, logits)).doubleValue();
            Checks.close("fused vs composite loss", composite, fused, 1e-5, 1e-6);
        }
    }

    /** The composite core used before the fused primitive. */
    static Tensor composite(Tensor labels, Tensor logits) {
        Tensor shifted = logits.sub(Spool.stopGradient(logits.max(new int[] {1}, true)));
        Tensor logSum = shifted.exp().sum(new int[] {1}, true).log();
        return labels.mul(shifted.sub(logSum)).sum(new int[] {1}, false).neg();
    }

    @Benchmark
    public Tensor forwardAndGradient() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            Tensor g;
            try (GradientTape tape = new GradientTape()) {
                tape.watch(logits);
                Tensor perRow = impl.equals("fused") ? Spool.softmaxCrossEntropyWithLogits(labels, logits)
                        : composite(labels, logits);
                g = tape.gradient(Spool.reduceMean(perRow), logits);
            }
            dev.synchronize(); // OpenCL enqueues: wait for the work
            return g.shape().size() == 0 ? null : logits; // g is closed with the scope
        }
    }

    @TearDown
    public void tearDown() {
        logits.close();
        labels.close();
    }
}
