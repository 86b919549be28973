package dev.spool.bench;

import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fixed cost of one op: a 1-element {@code add}, {@value #BATCH} of them enqueued back to
 * back and then one device synchronize, reported per op. With an active GradientTape that
 * watches the input, every op is also recorded (and the records released at the end). Results are freed by a TensorScope, the way a
 * training loop keeps memory flat.
 */
@SuppressWarnings("try") // device and tensor scopes are opened for their effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class DispatchBench {
    /** Ops per invocation; JMH divides by it (@OperationsPerInvocation needs a constant). */
    static final int BATCH = 20_000;

    @Param({"cpu", "opencl:0"})
    public String device;

    /** {@value #BATCH} in a measured run; the smoke test lowers it. */
    @Param({"20000"})
    public int batch;

    private Device dev;
    private Tensor x;
    private Tensor y;

    @Setup
    public void setup() {
        dev = Device.get(device);
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            x = scope.keep(Spool.constant(new float[] {1.5f}));
            y = scope.keep(Spool.constant(new float[] {2.25f}));
            Checks.close("1.5 + 2.25", 3.75, x.add(y).toFloatArray()[0], 0, 0);
            GradientTape tape = new GradientTape();
            Tensor z;
            try (tape) {
                tape.watch(x);
                z = x.add(y);
            }
            Checks.close("d(x + y)/dx", 1, tape.gradient(z, x).toFloatArray()[0], 0, 0);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void add() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            for (int i = 0; i < batch; i++) {
                x.add(y);
            }
            dev.synchronize();
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void addUnderTape() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope();
                GradientTape tape = new GradientTape()) {
            tape.watch(x);
            for (int i = 0; i < batch; i++) {
                x.add(y);
            }
            dev.synchronize();
            tape.reset(); // releases the records, as gradient() would
        }
    }

    @TearDown
    public void tearDown() {
        x.close();
        y.close();
    }
}
