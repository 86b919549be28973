package dev.spool.bench;

import dev.spool.Device;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleBinaryOperator;
import java.util.function.Supplier;
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
 * Elementwise ops on {@code size} float32 elements (4M: 16 MB per operand), one op per call,
 * waited for. {@code logAbs} is {@code log(abs(x))} (two ops) and {@code addScalar} is
 * {@code x + 0.5}: rows the OpenCL issue names. Every float unary op that is not a sign or
 * abs is here (the OpenCL target: each within 2x an add); log, log1p, sqrt and rsqrt take
 * {@code |y| + 0.25}, inside their domain.
 */
@SuppressWarnings("try") // device and tensor scopes are opened for their effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ElementwiseBench {
    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"add", "mul", "exp", "tanh", "sigmoid", "relu", "logAbs", "addScalar", "log", "log1p", "sqrt", "rsqrt",
        "sin", "cos"})
    public String op;

    @Param({"4194304"})
    public int size;

    private static final java.util.Set<String> POSITIVE_OPERAND = java.util.Set.of("log", "log1p", "sqrt", "rsqrt");

    private Device dev;
    private Tensor x;
    private Tensor y;
    private Supplier<Tensor> run;

    @Setup
    public void setup() {
        dev = Device.get(device);
        float[] hx = Inputs.uniform(size, 1, -3, 3);
        float[] hy = Inputs.uniform(size, 2, -3, 3);
        DoubleBinaryOperator ref;
        switch (op) {
            case "add" -> {
                run = () -> x.add(y);
                ref = (p, q) -> (float) p + (float) q;
            }
            case "mul" -> {
                run = () -> x.mul(y);
                ref = (p, q) -> (float) p * (float) q;
            }
            case "exp" -> {
                run = () -> x.exp();
                ref = (p, q) -> Math.exp(p);
            }
            case "tanh" -> {
                run = () -> x.tanh();
                ref = (p, q) -> Math.tanh(p);
            }
            case "sigmoid" -> {
                run = () -> x.sigmoid();
                ref = (p, q) -> 1 / (1 + Math.exp(-p));
            }
            case "relu" -> {
                run = () -> x.relu();
                ref = (p, q) -> Math.max(p, 0);
            }
            case "logAbs" -> {
                run = () -> x.abs().log();
                ref = (p, q) -> Math.log(Math.abs(p));
            }
            // log, log1p, sqrt and rsqrt of |x| + 0.25 (their domain), made on the host
            case "log" -> {
                run = () -> y.log();
                ref = (p, q) -> Math.log(q);
            }
            case "log1p" -> {
                run = () -> y.log1p();
                ref = (p, q) -> Math.log1p(q);
            }
            case "sqrt" -> {
                run = () -> y.sqrt();
                ref = (p, q) -> Math.sqrt(q);
            }
            case "rsqrt" -> {
                run = () -> y.rsqrt();
                ref = (p, q) -> 1 / Math.sqrt(q);
            }
            case "sin" -> {
                run = () -> x.sin();
                ref = (p, q) -> Math.sin(p);
            }
            case "cos" -> {
                run = () -> x.cos();
                ref = (p, q) -> Math.cos(p);
            }
            case "addScalar" -> {
                run = () -> x.add(0.5);
                ref = (p, q) -> (float) p + 0.5f;
            }
            default -> throw new IllegalArgumentException("unknown op " + op);
        }
        if (POSITIVE_OPERAND.contains(op)) {
            for (int i = 0; i < size; i++) {
                hy[i] = (float) (Math.abs(hy[i]) + 0.25);
            }
        }
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            x = scope.keep(Spool.constant(hx));
            y = scope.keep(Spool.constant(hy));
            float[] out = run.get().toFloatArray();
            Checks.that(out.length == size, op + " returned " + out.length + " elements");
            for (int i = 0; i < size; i++) {
                // a few ulp: the backends may use vectorised approximations of exp and tanh
                Checks.close(op + "[" + i + "]", ref.applyAsDouble(hx[i], hy[i]), out[i], 1e-5, 1e-6);
            }
        }
    }

    @Benchmark
    public void op() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            run.get();
            dev.synchronize();
        }
    }

    @TearDown
    public void tearDown() {
        x.close();
        y.close();
    }
}
