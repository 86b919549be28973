package dev.spool.bench;

import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Padding;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UnconnectedGradients;
import java.util.List;
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
 * A 3x3 convolution layer, 64 → 64 channels, SAME, on [batch, size, size, 64] float32 (ConvData,
 * shared with the DJL peer): the forward pass, the input gradient ({@code conv2dTranspose}, the
 * public op that is conv2d's input gradient, as PyTorch's conv_transpose2d is), and the filter
 * gradient (a persistent GradientTape that recorded the forward pass once, asked for the filter's
 * gradient under a given dy each time, as the peer runs PyTorch's autograd on a retained graph).
 * The fork sees two processors, so the cpu device runs two threads, as the peer does (and as
 * PoCL has on this 2-core machine, for {@code opencl:0}). Each op waits for the device.
 */
@SuppressWarnings("try") // device and tensor scopes are opened for their effect
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:ActiveProcessorCount=2"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ConvBench {
    /** The threads of the cpu device and of the peer. */
    public static final int THREADS = 2;

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"16"})
    public int batch;

    @Param({"56"})
    public int size;

    private Device dev;
    private Tensor x;
    private Tensor f;
    private Tensor dy;
    private Tensor y;
    private GradientTape tape;
    private int[] inputShape;

    @Setup
    public void setup() {
        dev = Device.get(device);
        Checks.that(!device.equals("cpu") || dev.info().name().contains("(" + THREADS + " threads)"),
                "the cpu device should run " + THREADS + " threads: " + dev.info().name());
        ConvData data = new ConvData(batch, size);
        inputShape = new int[] {batch, size, size, ConvData.IN};
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            x = scope.keep(Spool.constant(data.x).reshape(inputShape));
            f = scope.keep(Spool.constant(data.f).reshape(ConvData.K, ConvData.K, ConvData.IN, ConvData.OUT));
            dy = scope.keep(Spool.constant(data.dy).reshape(batch, size, size, ConvData.OUT));
            GradientTape recording = new GradientTape(true);
            try (recording) {
                recording.watch(f);
                y = scope.keep(forwardOp());
            }
            tape = recording;
            float[] out = y.toFloatArray();
            data.checkForward("conv2d", (n, oy, ox, o) -> out[((n * size + oy) * size + ox) * ConvData.OUT + o]);
            float[] dx = inputGradientOp().toFloatArray();
            data.checkInputGradient("conv2dTranspose", (n, iy, ix, i) -> dx[((n * size + iy) * size + ix) * ConvData.IN + i]);
            float[] df = filterGradientOp().toFloatArray();
            data.checkFilterGradient("filter gradient",
                    (ky, kx, i, o) -> df[((ky * ConvData.K + kx) * ConvData.IN + i) * ConvData.OUT + o]);
        }
    }

    private Tensor forwardOp() {
        return Spool.conv2d(x, f, new int[] {1}, Padding.SAME);
    }

    private Tensor inputGradientOp() {
        return Spool.conv2dTranspose(dy, f, inputShape, new int[] {1}, Padding.SAME);
    }

    private Tensor filterGradientOp() {
        return tape.gradient(y, List.of(f), dy, UnconnectedGradients.NONE).get(0);
    }

    @Benchmark
    public void forward() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            forwardOp();
            dev.synchronize();
        }
    }

    @Benchmark
    public void inputGradient() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            inputGradientOp();
            dev.synchronize();
        }
    }

    @Benchmark
    public void filterGradient() {
        try (Device.Scope use = Device.use(dev); TensorScope scope = new TensorScope()) {
            filterGradientOp();
            dev.synchronize();
        }
    }

    @TearDown
    public void tearDown() {
        tape.reset();
        x.close();
        f.close();
        dy.close();
        y.close();
    }
}
