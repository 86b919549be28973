package dev.spool.bench;

import dev.spool.Device;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.function.TracedFunction;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
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
 * Elementwise chains written from ops, eagerly and as traced functions (one fused kernel), beside
 * their peers in the same run: {@code tanh} of the same 4M floats for GELU (tanh form, 8 ops:
 * target ≤ 1.3× one tanh), and a 4-op chain {@code (x·1.5 + 0.25)·x − 1} on 16M floats whose
 * bytes moved (one read, one write) are compared with a C STREAM add (scripts/bench/stream_add.c)
 * by scripts/bench/functions.sh (target ≥ 0.8× its bandwidth).
 */
@SuppressWarnings("try")
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class FunctionChainBench {
    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"tanh", "geluEager", "geluFunction", "chainEager", "chainFunction"})
    public String variant;

    /** Elements of the GELU rows; the chain rows take 4x as many (16M). */
    @Param({"4194304"})
    public int size;

    private Device dev;
    private Tensor x;
    private UnaryOperator<Tensor> run;
    private TracedFunction<Tensor> function;

    static Tensor gelu(Tensor x) {
        Tensor inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
        return x.mul(0.5).mul(Spool.tanh(inner).add(1));
    }

    static Tensor chain(Tensor x) {
        return x.mul(1.5).add(0.25).mul(x).sub(1);
    }

    @Setup
    public void setup() {
        dev = Device.get(device);
        boolean isChain = variant.startsWith("chain");
        int n = isChain ? 4 * size : size;
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            x = scope.keep(Spool.constant(Inputs.uniform(n, 1, -3, 3)).reshape(n));
        }
        UnaryOperator<Tensor> body = isChain ? FunctionChainBench::chain : FunctionChainBench::gelu;
        switch (variant) {
            case "tanh" -> run = Spool::tanh;
            case "geluEager", "chainEager" -> run = body;
            default -> {
                function = Spool.function(body::apply);
                run = function::call;
            }
        }
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            float[] got = run.apply(x).toFloatArray(); // traces
            got = run.apply(x).toFloatArray(); // replays
            float[] want = (variant.equals("tanh") ? Spool.tanh(x) : body.apply(x)).toFloatArray();
            Checks.that(java.util.Arrays.equals(got, want), variant + ": the function's values differ from eager");
            if (function != null) {
                Checks.that(function.stats().nodesPerCall() == 1, variant + " is not one fused kernel: "
                        + function.describe());
            }
        }
    }

    @Benchmark
    public void run() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            run.apply(x);
            dev.synchronize();
        }
    }

    @TearDown
    public void tearDown() {
        if (function != null) {
            function.close();
        }
        x.close();
    }
}
