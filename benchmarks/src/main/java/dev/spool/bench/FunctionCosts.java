package dev.spool.bench;

import dev.spool.Device;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.function.TracedFunction;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a traced function costs besides its replays, and what it saves in launches, for the MLP
 * step of {@link FunctionStepBench} on each device given: kernel launches per step (eager plain,
 * eager hand-fused, function), the trace (first call: the body run eagerly plus recording,
 * passes and planning), the first replay (on OpenCL it builds the generated kernels: the
 * driver's compiler, once per JVM: {@code coldFirstReplayMs} is the first function's, the
 * median reuses its kernels), and the planned bytes. Counts and one-off times, not a benchmark: prints
 * JSON for scripts/bench/functions.sh. Times are medians of 7 fresh functions in one warmed JVM.
 *
 * <p>usage: {@code FunctionCosts [device...]} (default {@code cpu})
 */
public final class FunctionCosts {
    private FunctionCosts() {
    }

    public static void main(String[] args) throws Exception {
        List<String> devices = args.length == 0 ? List.of("cpu") : List.of(args);
        List<String> rows = new ArrayList<>();
        for (String name : devices) {
            for (int batch : new int[] {16, 128}) {
                rows.add(measure(Device.get(name), batch));
            }
        }
        System.out.println("[\n" + String.join(",\n", rows) + "\n]");
    }

    private static String measure(Device dev, int batch) throws Exception {
        FunctionStepBench b = new FunctionStepBench();
        b.device = dev.id();
        b.batch = batch;
        b.setup();
        try (Device.Scope use = Device.use(dev)) {
            for (int i = 0; i < 30; i++) { // warm the eager paths
                try (TensorScope s = new TensorScope()) {
                    b.plainStep();
                    b.handFusedStep();
                }
            }
            long plain = launches(dev, b::plainStep);
            long fused = launches(dev, b::handFusedStep);
            double[] trace = new double[7];
            double[] first = new double[7];
            long replay = 0;
            TracedFunction.Stats stats = null;
            for (int r = 0; r < trace.length; r++) {
                try (TracedFunction<Tensor> f = Spool.function(b::plainStep); TensorScope s = new TensorScope()) {
                    dev.synchronize();
                    long t0 = System.nanoTime();
                    f.call();
                    dev.synchronize();
                    long t1 = System.nanoTime();
                    f.call();
                    dev.synchronize();
                    long t2 = System.nanoTime();
                    trace[r] = (t1 - t0) / 1e6;
                    first[r] = (t2 - t1) / 1e6;
                    replay = launches(dev, f::call);
                    stats = f.stats();
                }
            }
            double coldFirst = first[0]; // the first function in this JVM: OpenCL builds its fused kernels here
            java.util.Arrays.sort(trace);
            java.util.Arrays.sort(first);
            return String.format(Locale.ROOT, "  {\"device\": \"%s\", \"batch\": %d, \"launchesPlainEager\": %d,"
                    + " \"launchesHandFusedEager\": %d, \"launchesFunction\": %d, \"tracedNodes\": %d, \"nodes\": %d,"
                    + " \"plannedBytes\": %d, \"traceMs\": %.2f, \"firstReplayMs\": %.2f, \"coldFirstReplayMs\": %.2f}",
                    dev.id(), batch, plain, fused, replay, stats.tracedNodes(), stats.nodesPerCall(), stats.plannedBytes(),
                    trace[3], first[3], coldFirst);
        } finally {
            b.tearDown();
        }
    }

    private static long launches(Device dev, java.util.function.Supplier<Tensor> step) {
        try (TensorScope s = new TensorScope()) {
            dev.synchronize();
            long before = dev.stats().kernelLaunches();
            step.get();
            dev.synchronize();
            return dev.stats().kernelLaunches() - before;
        }
    }
}
