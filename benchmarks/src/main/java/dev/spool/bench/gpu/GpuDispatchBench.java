package dev.spool.bench.gpu;

import dev.spool.Device;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Per-op overhead: 20,000 one-element {@code add}s enqueued back to back, then one wait for the
 * device; the score is per {@code add}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class GpuDispatchBench {
    public static final int OPS = 20_000;

    @Param({"opencl"})
    public String device;

    private Device dev;
    private Device.Scope use;
    private Tensor x;
    private Tensor y;

    @Setup
    public void setup() {
        dev = Device.get(device);
        use = Device.use(dev);
        x = Spool.constant(new float[] {1f});
        y = Spool.constant(new float[] {2f});
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void add1() {
        try (TensorScope scope = new TensorScope()) {
            for (int i = 0; i < OPS; i++) {
                x.add(y);
            }
            dev.synchronize();
        }
    }

    @TearDown
    public void tearDown() {
        x.close();
        y.close();
        use.close();
    }
}
