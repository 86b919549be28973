package dev.spool.bench.peers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.spool.bench.Checks;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Peer of DispatchBench: a 1-element add through DJL and PyTorch, 20 000 per invocation, each
 * result closed at once (DJL's cheapest way to keep memory flat), reported per op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class DjlDispatchBench {
    private static final int BATCH = 20_000;

    private NDManager manager;
    private NDArray x;
    private NDArray y;

    @Setup
    public void setup() {
        manager = NDManager.newBaseManager();
        x = manager.create(new float[] {1.5f});
        y = manager.create(new float[] {2.25f});
        try (NDArray z = x.add(y)) {
            Checks.close("1.5 + 2.25", 3.75, z.toFloatArray()[0], 0, 0);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void add() {
        for (int i = 0; i < BATCH; i++) {
            x.add(y).close();
        }
    }

    @TearDown
    public void tearDown() {
        manager.close();
    }
}
