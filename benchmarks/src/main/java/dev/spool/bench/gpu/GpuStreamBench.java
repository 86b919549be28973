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

/**
 * Memory-bound work on {@code length} float32, 64M (256 MiB a tensor) unless JMH's
 * {@code -p length=...} says otherwise: {@code add} (reads two, writes one),
 * {@code sum} (reads one) and, as their bandwidth reference, a device-to-device copy
 * (reads one, writes one) done by the driver's {@code clEnqueueCopyBuffer} on the same device
 * through bare JOCL, with no Spool code in the way.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class GpuStreamBench {
    @State(Scope.Thread)
    public static class Vectors {
        @Param({"opencl"})
        public String device;

        /** Elements per tensor. */
        @Param({"67108864"})
        public int length;

        Device dev;
        Device.Scope use;
        Tensor x;
        Tensor y;

        @Setup
        public void setup() {
            dev = Device.get(device);
            use = Device.use(dev);
            x = Spool.randomUniform(Shape.of(length), 1);
            y = Spool.randomUniform(Shape.of(length), 2);
        }

        @TearDown
        public void tearDown() {
            x.close();
            y.close();
            use.close();
        }
    }

    @State(Scope.Thread)
    public static class Buffers {
        @Param({"opencl"})
        public String device;

        @Param({"67108864"})
        public int length;

        BareJoclCopy copy;

        @Setup
        public void setup() {
            copy = new BareJoclCopy(Device.get(device), 4L * length);
        }

        @TearDown
        public void tearDown() {
            copy.close();
        }
    }

    @Benchmark
    public void add(Vectors v) {
        try (TensorScope scope = new TensorScope()) {
            v.x.add(v.y);
            v.dev.synchronize();
        }
    }

    @Benchmark
    public void sum(Vectors v) {
        try (TensorScope scope = new TensorScope()) {
            v.x.sum();
            v.dev.synchronize();
        }
    }

    @Benchmark
    public void copyBareJocl(Buffers b) {
        b.copy.copyAndFinish();
    }
}
