package dev.spool.bench.gpu;

import dev.spool.Device;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** SGEMM n×n×n, float32, on an OpenCL device; 2n³ flops per operation. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class GpuMatmulBench {
    @Param({"opencl"})
    public String device;

    @Param({"1024", "4096"})
    public int n;

    private Device dev;
    private Device.Scope use;
    private Tensor a;
    private Tensor b;

    @Setup
    public void setup() {
        dev = Device.get(device);
        use = Device.use(dev);
        a = Spool.randomUniform(Shape.of(n, n), 1);
        b = Spool.randomUniform(Shape.of(n, n), 2);
    }

    @Benchmark
    public void sgemm() {
        try (TensorScope scope = new TensorScope()) {
            a.matmul(b);
            dev.synchronize();
        }
    }

    @TearDown
    public void tearDown() {
        a.close();
        b.close();
        use.close();
    }
}
