package dev.spool.bench;

import dev.spool.Device;
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
 * SGEMM n×n×n, float32, row-major: {@code a @ b} and {@code a @ bᵀ} (the transposed operand
 * that a linear layer's backward pass produces). Each op waits for the device.
 */
@SuppressWarnings("try") // device and tensor scopes are opened for their effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MatmulBench {
    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"256", "512", "1024", "2048"})
    public int n;

    private Device dev;
    private Tensor a;
    private Tensor b;

    @Setup
    public void setup() {
        dev = Device.get(device);
        float[] ha = Inputs.uniform(n * n, 1, -1, 1);
        float[] hb = Inputs.uniform(n * n, 2, -1, 1);
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            a = scope.keep(Spool.constant(ha).reshape(n, n));
            b = scope.keep(Spool.constant(hb).reshape(n, n));
            Checks.matmulSamples("a @ b", n, ha, hb, false, a.matmul(b).toFloatArray());
            Checks.matmulSamples("a @ bT", n, ha, hb, true, a.matmul(b, false, true).toFloatArray());
        }
    }

    @Benchmark
    public void matmul() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            a.matmul(b);
            dev.synchronize();
        }
    }

    @Benchmark
    public void matmulTransposedB() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            a.matmul(b, false, true);
            dev.synchronize();
        }
    }

    @TearDown
    public void tearDown() {
        a.close();
        b.close();
    }
}
