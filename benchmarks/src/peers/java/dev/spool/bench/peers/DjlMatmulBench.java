package dev.spool.bench.peers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.spool.bench.Checks;
import dev.spool.bench.Inputs;
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

/** Peer of MatmulBench: DJL with the PyTorch CPU engine, same sizes and inputs. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class DjlMatmulBench {
    @Param({"256", "512", "1024", "2048"})
    public int n;

    private NDManager manager;
    private NDArray a;
    private NDArray b;

    @Setup
    public void setup() {
        manager = NDManager.newBaseManager();
        float[] ha = Inputs.uniform(n * n, 1, -1, 1);
        float[] hb = Inputs.uniform(n * n, 2, -1, 1);
        a = manager.create(ha, new Shape(n, n));
        b = manager.create(hb, new Shape(n, n));
        try (NDArray c = a.matMul(b)) {
            Checks.matmulSamples("a @ b", n, ha, hb, false, c.toFloatArray());
        }
        try (NDArray bt = b.transpose(); NDArray c = a.matMul(bt)) {
            Checks.matmulSamples("a @ bT", n, ha, hb, true, c.toFloatArray());
        }
    }

    @Benchmark
    public void matmul() {
        a.matMul(b).close(); // PyTorch on the CPU is synchronous: the product is complete here
    }

    @Benchmark
    public void matmulTransposedB() {
        try (NDArray bt = b.transpose()) { // a strided view: BLAS gets it as a transposed operand
            a.matMul(bt).close();
        }
    }

    @TearDown
    public void tearDown() {
        manager.close();
    }
}
