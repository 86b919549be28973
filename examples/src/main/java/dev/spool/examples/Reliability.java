package dev.spool.examples;

import dev.spool.Device;
import dev.spool.DeviceStats;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import java.util.Locale;

/**
 * The training loop of issue 10, with or without {@link TensorScope}, and what it did to device
 * memory: X rows×width, W width×width float32 (a {@link Variable}),
 * loss = mean(square(tanh(X@W)@W)), SGD. One mode per run, so that the peak is the run's own.
 * Figures go to docs/RELIABILITY.md (scripts/reliability.sh runs it).
 *
 * <pre>
 * usage: Reliability [--device cpu|opencl:N] [--steps N] [--rows R] [--width K]
 *                    [--budget 64m] [--scoped]
 * </pre>
 * Prints one line: device, mode, budget, steps, steps/s, peak live bytes, reclaim cycles,
 * tensors freed by the garbage collector, Java heap in use, and a checksum of the final W.
 */
public final class Reliability {
    private Reliability() {
    }

    public static void main(String[] args) {
        String deviceName = "cpu";
        int steps = 1000;
        int rows = 256;
        int width = 512;
        String budget = null;
        boolean scoped = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> deviceName = args[++i];
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--rows" -> rows = Integer.parseInt(args[++i]);
                case "--width" -> width = Integer.parseInt(args[++i]);
                case "--budget" -> budget = args[++i];
                case "--scoped" -> scoped = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (budget != null) {
            System.setProperty("spool.memory.budget", budget); // read when the device opens
        }
        Device device = Device.get(deviceName);
        long maxLive = 0;
        double checksum = 0;
        long start;
        long end;
        try (Device.Scope on = Device.use(device);
             Tensor x = Spool.randomNormal(Shape.of(rows, width), 1);
             Variable w = new Variable(Spool.randomNormal(Shape.of(width, width), 2).mul(0.05), "w")) {
            start = System.nanoTime();
            for (int step = 0; step < steps; step++) {
                TensorScope scope = scoped ? new TensorScope() : null;
                GradientTape tape = new GradientTape();
                Tensor loss;
                try (tape) {
                    loss = x.matmul(w).tanh().matmul(w).square().mean();
                }
                w.assignSub(tape.gradient(loss, w).mul(0.1));
                if (scope != null) {
                    scope.close();
                }
                maxLive = Math.max(maxLive, device.stats().liveBytes());
            }
            device.synchronize();
            end = System.nanoTime();
            try (Tensor value = w.value()) {
                for (float v : value.toFloatArray()) {
                    checksum += v;
                }
            }
        }
        DeviceStats s = device.stats();
        Runtime rt = Runtime.getRuntime();
        System.out.printf(Locale.ROOT, "device=%s mode=%s budget=%d steps=%d x=%dx%d w=%dx%d steps_per_s=%.1f "
                        + "peak_live_bytes=%d max_live_after_step=%d reclaims=%d freed_by_gc=%d allocations=%d "
                        + "heap_used_mb=%.0f max_heap_mb=%.0f w_checksum=%.9g%n",
                device.id(), scoped ? "scoped" : "no-scope", device.memoryBudget(), steps, rows, width, width,
                width, steps / ((end - start) / 1e9), s.peakLiveBytes(), maxLive, s.reclaims(), s.leakedTensors(),
                s.allocations(), (rt.totalMemory() - rt.freeMemory()) / 1e6, rt.maxMemory() / 1e6, checksum);
    }
}
