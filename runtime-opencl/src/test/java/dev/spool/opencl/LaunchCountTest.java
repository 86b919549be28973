package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.spool.Device;
import dev.spool.DeviceStats;
import dev.spool.FusedActivation;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Kernel launches of one training step, counted (a number, never a time): a change that adds a
 * launch to a common op shows up here. The MLP is the one of the benchmarks: 784 → 256 → 10,
 * batch 128, relu, mean softmax cross-entropy, SGD with learning rate 0.1 on four variables,
 * written as a user would with the fused ops (bias-add + relu, applyGradientDescent).
 */
@ExtendWith(TestDevices.class)
@SuppressWarnings("try") // device and tensor scopes are opened for their effect, not referenced
class LaunchCountTest {

    @Test
    void oneMlpTrainingStepLaunchesAFixedNumberOfKernels() {
        TestDevices.all(); // fails under SPOOL_REQUIRE_OPENCL=1 without a device
        Device d = Device.get("opencl:0");
        try (Device.Scope s = Device.use(d)) {
            Tensor x = Spool.randomUniform(Shape.of(128, 784), 1);
            Tensor labels = Spool.oneHot(Spool.cast(Spool.multiply(10.0, Spool.randomUniform(Shape.of(128), 2)),
                    dev.spool.DType.INT32), 10);
            Variable w1 = new Variable(Spool.multiply(0.05, Spool.randomUniform(Shape.of(784, 256), 3)));
            Variable b1 = new Variable(Spool.zeros(256));
            Variable w2 = new Variable(Spool.multiply(0.05, Spool.randomUniform(Shape.of(256, 10), 4)));
            Variable b2 = new Variable(Spool.zeros(10));
            List<Variable> params = List.of(w1, b1, w2, b2);
            step(x, labels, params); // anything done once (none is expected) is not counted
            long first = launches(d, () -> step(x, labels, params));
            long second = launches(d, () -> step(x, labels, params));
            assertEquals(first, second, "launches per step must not vary between steps");
            assertEquals(expected(d), first, "kernel launches of one MLP training step on " + d.info().name()
                    + " (" + strategy() + " kernels)");
        }
    }

    /**
     * The same with either kernel strategy (CPU-style kernels are what PoCL runs, GPU-style ones
     * what GPUs run): no primitive of this step takes two passes on either. Counted, not derived:
     * 47 while relu was a composite (where(x > 0, x, 0)), 44 with UnaryOp.RELU and RELU_GRAD;
     * 21 with the fused ops of issue 7: softmax cross-entropy one primitive forward (was 9: max,
     * sub, exp, sum, log, sub, mul, sum, neg) and one backward (softmaxCrossEntropyGrad), 44 to
     * 30; applyGradientDescent one launch per variable where assignSub(multiply(0.1, g)) was
     * three (fill of the scalar, mul, sub), 12 to 4; biasAdd(.., RELU) one launch where add then
     * relu were two.
     */
    private static long expected(Device d) {
        return 21;
    }

    private static String strategy() {
        return TestDevices.all().get(0).strategy();
    }

    private static long launches(Device d, Runnable work) {
        d.synchronize();
        DeviceStats before = d.stats();
        work.run();
        d.synchronize();
        return d.stats().minus(before).kernelLaunches();
    }

    private static void step(Tensor x, Tensor labels, List<Variable> p) {
        try (TensorScope scope = new TensorScope()) {
            List<Tensor> grads;
            try (GradientTape tape = new GradientTape()) {
                Tensor h = Spool.biasAdd(Spool.matmul(x, p.get(0)), p.get(1), FusedActivation.RELU);
                Tensor logits = Spool.biasAdd(Spool.matmul(h, p.get(2)), p.get(3));
                Tensor loss = Spool.reduceMean(Spool.softmaxCrossEntropyWithLogits(labels, logits));
                grads = tape.gradient(loss, p);
            }
            for (int i = 0; i < p.size(); i++) {
                Spool.applyGradientDescent(p.get(i), 0.1, grads.get(i));
            }
        }
    }

    /**
     * Check-numerics mode costs no launch when off: the same MLP step launches the same 21
     * kernels before the mode is turned on and after it is turned off again, and more while it is
     * on (two per floating output: x - x and its sum), which shows the check runs on the device.
     */
    @Test
    void checkNumericsCostsNoLaunchWhenOff() {
        TestDevices.all();
        Device d = Device.get("opencl:0");
        try (Device.Scope s = Device.use(d); TensorScope scope = new TensorScope()) {
            Tensor x = Spool.randomUniform(Shape.of(128, 784), 1);
            Tensor labels = Spool.oneHot(Spool.cast(Spool.multiply(10.0, Spool.randomUniform(Shape.of(128), 2)),
                    dev.spool.DType.INT32), 10);
            List<Variable> params = List.of(new Variable(Spool.multiply(0.05, Spool.randomUniform(Shape.of(784, 256), 3))),
                    new Variable(Spool.zeros(256)), new Variable(Spool.multiply(0.05, Spool.randomUniform(Shape.of(256, 10), 4))),
                    new Variable(Spool.zeros(10)));
            step(x, labels, params);
            long before = launches(d, () -> step(x, labels, params));
            long on;
            Spool.enableCheckNumerics();
            try {
                on = launches(d, () -> step(x, labels, params));
            } finally {
                Spool.disableCheckNumerics();
            }
            long after = launches(d, () -> step(x, labels, params));
            assertEquals(expected(d), before, "mode never turned on");
            assertEquals(expected(d), after, "mode turned off again");
            org.junit.jupiter.api.Assertions.assertTrue(on > before, "check-numerics on: " + on + " launches");
            org.slf4j.LoggerFactory.getLogger(LaunchCountTest.class).info(
                    "MLP step launches: {} with check-numerics off, {} with it on", before, on);
            params.forEach(Variable::close);
        }
    }

    /**
     * Batch normalization in training mode, with the batch's statistics: one launch forward (a
     * work-group per block of channels sums over the rows, then normalises) and one backward for
     * the fused op, against the composite of moments and batchNormalization, counted in the same
     * run. Was three each way (partial statistics, their combination, the normalization), as it
     * still is where one work-item of the single launch would pass llvmpipe's loop limit
     * (NormKernelsTest).
     */
    @Test
    void fusedBatchNormTakesOneLaunchEachWay() {
        TestDevices.all();
        Device d = Device.get("opencl:0");
        try (Device.Scope s = Device.use(d); TensorScope scope = new TensorScope()) {
            Tensor x = Spool.randomUniform(Shape.of(16, 12, 12, 32), 1);
            Tensor scale = Spool.randomUniform(Shape.of(32), 2);
            Tensor offset = Spool.randomUniform(Shape.of(32), 3);
            Tensor dy = Spool.randomUniform(Shape.of(16, 12, 12, 32), 4);
            long[] fused = forwardAndBackward(d, x, scale, offset, dy, true);
            long[] composite = forwardAndBackward(d, x, scale, offset, dy, false);
            assertEquals(1, fused[0], "fused forward on " + d.info().name() + " (" + strategy() + " kernels)");
            assertEquals(1, fused[1], "fused backward on " + d.info().name() + " (" + strategy() + " kernels)");
            // recorded for the README's comparison; the composite's counts depend on its op mix
            org.junit.jupiter.api.Assertions.assertTrue(composite[0] > 1 && composite[1] > 1,
                    "composite forward " + composite[0] + ", backward " + composite[1]);
            org.slf4j.LoggerFactory.getLogger(LaunchCountTest.class).info(
                    "batch normalization launches, forward/backward: fused {}/{}, composite {}/{}",
                    fused[0], fused[1], composite[0], composite[1]);
        }
    }

    /**
     * One convolution layer (3x3, 8 -> 16 channels, SAME, on [4, 10, 10, 8]) forward, then the
     * gradients of x and of the filter: the implicit GEMMs take one launch forward; two for the
     * input gradient (the filter with in and out channels swapped, then the product); two for the
     * filter gradient (the parts of the pixels, then their sum in order: this shape splits into
     * several parts in both styles on a CPU device, and the packed kernel's parts lie transposed).
     */
    @Test
    void oneConvolutionLayerForwardAndBackward() {
        TestDevices.all();
        Device d = Device.get("opencl:0");
        try (Device.Scope s = Device.use(d); TensorScope scope = new TensorScope()) {
            Tensor x = Spool.randomUniform(Shape.of(4, 10, 10, 8), 1);
            Tensor f = Spool.randomUniform(Shape.of(3, 3, 8, 16), 2);
            Tensor dy = Spool.randomUniform(Shape.of(4, 10, 10, 16), 3);
            Tensor[] y = new Tensor[1];
            GradientTape tape = new GradientTape();
            long forward;
            try (tape) {
                tape.watch(x, f);
                forward = launches(d, () -> y[0] = Spool.conv2d(x, f, new int[] {1}, dev.spool.Padding.SAME));
            }
            long backward = launches(d, () -> tape.gradient(y[0], List.of(x, f), dy,
                    dev.spool.UnconnectedGradients.NONE));
            assertEquals(1, forward, "conv2d forward on " + d.info().name() + " (" + strategy() + " kernels)");
            assertEquals(4, backward, "conv2d input and filter gradients on " + d.info().name() + " ("
                    + strategy() + " kernels)");
        }
    }

    private static long[] forwardAndBackward(Device d, Tensor x, Tensor scale, Tensor offset, Tensor dy,
                                             boolean fused) {
        long[] out = new long[2];
        GradientTape tape = new GradientTape();
        Tensor[] y = new Tensor[1];
        try (tape) {
            tape.watch(x, scale, offset);
            out[0] = launches(d, () -> {
                if (fused) {
                    y[0] = Spool.fusedBatchNorm(x, scale, offset, 1e-3).y();
                } else {
                    dev.spool.Moments m = Spool.moments(x, new int[] {0, 1, 2}, false);
                    y[0] = Spool.batchNormalization(x, m.mean(), m.variance(), offset, scale, 1e-3);
                }
            });
        }
        out[1] = launches(d, () -> tape.gradient(y[0], List.of(x, scale, offset), dy,
                dev.spool.UnconnectedGradients.NONE));
        return out;
    }
}
