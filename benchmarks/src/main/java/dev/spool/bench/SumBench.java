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

/** Full float32 sum of {@code size} elements (16M: 64 MB, larger than the last-level cache). */
@SuppressWarnings("try") // device and tensor scopes are opened for their effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SumBench {
    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"16777216"})
    public int size;

    private Device dev;
    private Tensor x;

    @Setup
    public void setup() {
        dev = Device.get(device);
        float[] hx = Inputs.uniform(size, 1, 0, 1);
        double ref = 0;
        for (float v : hx) {
            ref += v;
        }
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            x = scope.keep(Spool.constant(hx));
            Checks.close("sum", ref, x.sum().floatValue(), 1e-5, 0);
        }
    }

    @Benchmark
    public float sum() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            return x.sum().floatValue(); // reading the scalar waits for the device
        }
    }

    @TearDown
    public void tearDown() {
        x.close();
    }
}
