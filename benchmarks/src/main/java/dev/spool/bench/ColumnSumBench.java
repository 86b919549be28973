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
 * Sum over axis 0 of a [rows, cols] float32 matrix (a bias gradient's shape of work): the
 * reduced axis is the strided one.
 */
@SuppressWarnings("try") // device and tensor scopes are opened for their effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ColumnSumBench {
    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"4096"})
    public int rows;

    @Param({"1024"})
    public int cols;

    private Device dev;
    private Tensor x;

    @Setup
    public void setup() {
        dev = Device.get(device);
        float[] hx = Inputs.uniform(rows * cols, 1, 0, 1);
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            x = scope.keep(Spool.constant(hx).reshape(rows, cols));
            float[] out = x.sum(0).toFloatArray();
            Checks.that(out.length == cols, "column sum has " + out.length + " elements");
            for (int j = 0; j < cols; j++) {
                double ref = 0;
                for (int i = 0; i < rows; i++) {
                    ref += hx[i * cols + j];
                }
                Checks.close("sum(axis 0)[" + j + "]", ref, out[j], 1e-5, 0);
            }
        }
    }

    @Benchmark
    public void columnSum() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            x.sum(0);
            dev.synchronize();
        }
    }

    @TearDown
    public void tearDown() {
        x.close();
    }
}
