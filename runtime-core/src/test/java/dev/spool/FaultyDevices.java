package dev.spool;

import dev.spool.spi.Backend;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.Conv2dGeometry;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.DeviceInfo;
import dev.spool.spi.MemoryPressure;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;

/**
 * For fault tests: a second {@link Device} over a real device's backend whose primitives can be
 * told to fail, as a kernel that does not build or a device error would, in the middle of an op.
 * The faulty device has its own counters, so its live statistics are the test's alone. Use it
 * from one thread; it shares the backend (and so its memory and kernels) with the real device.
 */
public final class FaultyDevices {
    private FaultyDevices() {
    }

    /** A faulty device over {@code real}'s backend. */
    public static Faulty wrap(Device real) {
        FaultyBackend backend = new FaultyBackend(real.backend());
        return new Faulty(new Device(backend), backend);
    }

    /** The backend of a device, for tests that need its own API (e.g. to build a kernel). */
    public static Backend backendOf(Device device) {
        return device.backend();
    }

    /** The device and its fault switch. */
    public record Faulty(Device device, FaultyBackend backend) {
    }

    /** Delegates every primitive; {@link #failOn} makes the n-th call of one primitive throw. */
    public static final class FaultyBackend implements Backend {
        private final Backend inner;
        private String failing;
        private int callsLeft;
        private RuntimeException failure;

        FaultyBackend(Backend inner) {
            this.inner = inner;
        }

        /**
         * The {@code nth} call (1 = the next) of {@code primitive} ({@code unary}, {@code copy},
         * {@code write}, ...) throws {@code failure} instead of running; earlier calls run.
         */
        public void failOn(String primitive, int nth, RuntimeException failure) {
            this.failing = primitive;
            this.callsLeft = nth;
            this.failure = failure;
        }

        /** Whether the failure set by {@link #failOn} has been thrown. */
        public boolean fired() {
            return failing == null;
        }

        private void maybeFail(String primitive) {
            if (primitive.equals(failing) && --callsLeft == 0) {
                failing = null;
                throw failure;
            }
        }

        @Override
        public DeviceInfo info() {
            DeviceInfo i = inner.info();
            return new DeviceInfo("faulty-" + i.backend(), i.index(), i.name(), i.vendor(), i.type(),
                    i.computeUnits(), i.globalMemBytes(), i.maxAllocBytes(), i.fp64());
        }

        @Override
        public DeviceBuffer allocate(DType dtype, long size) {
            maybeFail("allocate");
            return inner.allocate(dtype, size);
        }

        @Override
        public void release(DeviceBuffer buffer) {
            inner.release(buffer);
        }

        @Override
        public long releaseCachedMemory() {
            return inner.releaseCachedMemory();
        }

        @Override
        public void setMemoryPressure(MemoryPressure pressure) {
            // the real device's reclaim stays in place
        }

        @Override
        public void write(DeviceBuffer dst, Object hostArray) {
            maybeFail("write");
            inner.write(dst, hostArray);
        }

        @Override
        public void read(View src, Object hostArray) {
            maybeFail("read");
            inner.read(src, hostArray);
        }

        @Override
        public void fill(DeviceBuffer dst, Number value) {
            maybeFail("fill");
            inner.fill(dst, value);
        }

        @Override
        public void copy(View src, View dst) {
            maybeFail("copy");
            inner.copy(src, dst);
        }

        @Override
        public void unary(UnaryOp op, View x, DeviceBuffer out) {
            maybeFail("unary");
            inner.unary(op, x, out);
        }

        @Override
        public void binary(BinaryOp op, View a, View b, DeviceBuffer out) {
            maybeFail("binary");
            inner.binary(op, a, b, out);
        }

        @Override
        public void select(View cond, View a, View b, DeviceBuffer out) {
            maybeFail("select");
            inner.select(cond, a, b, out);
        }

        @Override
        public void softmax(View x, DeviceBuffer out, boolean log) {
            maybeFail("softmax");
            inner.softmax(x, out, log);
        }

        @Override
        public void attention(View q, View k, View v, View mask, boolean causal, double scale, DeviceBuffer out,
                              DeviceBuffer lse) {
            maybeFail("attention");
            inner.attention(q, k, v, mask, causal, scale, out, lse);
        }

        @Override
        public void attentionGrad(View q, View k, View v, View mask, boolean causal, double scale, View out,
                                  View dOut, View lse, DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv) {
            maybeFail("attentionGrad");
            inner.attentionGrad(q, k, v, mask, causal, scale, out, dOut, lse, dq, dk, dv);
        }

        @Override
        public void softmaxGrad(View y, View g, DeviceBuffer out, boolean log) {
            maybeFail("softmaxGrad");
            inner.softmaxGrad(y, g, out, log);
        }

        @Override
        public void softmaxCrossEntropy(View labels, View logits, DeviceBuffer loss, DeviceBuffer logSoftmax) {
            maybeFail("softmaxCrossEntropy");
            inner.softmaxCrossEntropy(labels, logits, loss, logSoftmax);
        }

        @Override
        public void softmaxCrossEntropyGrad(View g, View logSoftmax, View labels, DeviceBuffer out) {
            maybeFail("softmaxCrossEntropyGrad");
            inner.softmaxCrossEntropyGrad(g, logSoftmax, labels, out);
        }

        @Override
        public void conv2d(View x, View filter, Conv2dGeometry g, DeviceBuffer out) {
            maybeFail("conv2d");
            inner.conv2d(x, filter, g, out);
        }

        @Override
        public void conv2dBackpropInput(View dy, View filter, Conv2dGeometry g, DeviceBuffer dx) {
            maybeFail("conv2dBackpropInput");
            inner.conv2dBackpropInput(dy, filter, g, dx);
        }

        @Override
        public void conv2dBackpropFilter(View x, View dy, Conv2dGeometry g, DeviceBuffer dfilter) {
            maybeFail("conv2dBackpropFilter");
            inner.conv2dBackpropFilter(x, dy, g, dfilter);
        }

        @Override
        public void avgPool2d(View x, Conv2dGeometry g, DeviceBuffer out) {
            maybeFail("avgPool2d");
            inner.avgPool2d(x, g, out);
        }

        @Override
        public void avgPool2dGrad(View dy, Conv2dGeometry g, DeviceBuffer dx) {
            maybeFail("avgPool2dGrad");
            inner.avgPool2dGrad(dy, g, dx);
        }

        @Override
        public void maxPool2d(View x, View values, Conv2dGeometry g, DeviceBuffer out) {
            maybeFail("maxPool2d");
            inner.maxPool2d(x, values, g, out);
        }

        @Override
        public void maxPool2dGrad(View x, View dy, Conv2dGeometry g, DeviceBuffer dx) {
            maybeFail("maxPool2dGrad");
            inner.maxPool2dGrad(x, dy, g, dx);
        }

        @Override
        public void batchNormTraining(View x, View scale, View offset, double epsilon, DeviceBuffer y, DeviceBuffer mean,
                                      DeviceBuffer variance) {
            maybeFail("batchNormTraining");
            inner.batchNormTraining(x, scale, offset, epsilon, y, mean, variance);
        }

        @Override
        public void batchNormTrainingGrad(View dy, View x, View scale, View mean, View variance, double epsilon,
                                          DeviceBuffer dx, DeviceBuffer dscale, DeviceBuffer doffset) {
            maybeFail("batchNormTrainingGrad");
            inner.batchNormTrainingGrad(dy, x, scale, mean, variance, epsilon, dx, dscale, doffset);
        }

        @Override
        public void binaryUnary(BinaryOp op, UnaryOp epilogue, View a, View b, DeviceBuffer out) {
            maybeFail("binaryUnary");
            inner.binaryUnary(op, epilogue, a, b, out);
        }

        @Override
        public void applyGradientDescent(View var, View grad, double lr, DeviceBuffer varOut) {
            maybeFail("applyGradientDescent");
            inner.applyGradientDescent(var, grad, lr, varOut);
        }

        @Override
        public void applyMomentum(View var, View accum, View grad, double lr, double momentum, boolean nesterov,
                                  boolean keras, DeviceBuffer varOut, DeviceBuffer accumOut) {
            maybeFail("applyMomentum");
            inner.applyMomentum(var, accum, grad, lr, momentum, nesterov, keras, varOut, accumOut);
        }

        @Override
        public void applyAdam(View var, View m, View v, View grad, double alpha, double beta1, double beta2,
                              double epsilon, DeviceBuffer varOut, DeviceBuffer mOut, DeviceBuffer vOut) {
            maybeFail("applyAdam");
            inner.applyAdam(var, m, v, grad, alpha, beta1, beta2, epsilon, varOut, mOut, vOut);
        }

        @Override
        public void reduce(ReduceOp op, View x, int reducedDims, DeviceBuffer out) {
            maybeFail("reduce");
            inner.reduce(op, x, reducedDims, out);
        }

        @Override
        public void matmul(View a, View b, DeviceBuffer out) {
            maybeFail("matmul");
            inner.matmul(a, b, out);
        }

        @Override
        public void gather(View params, View indices, DeviceBuffer out) {
            maybeFail("gather");
            inner.gather(params, indices, out);
        }

        @Override
        public void scatterAdd(View updates, View indices, DeviceBuffer out) {
            maybeFail("scatterAdd");
            inner.scatterAdd(updates, indices, out);
        }

        @Override
        public void randomUniform(DeviceBuffer out, long seed) {
            maybeFail("randomUniform");
            inner.randomUniform(out, seed);
        }

        @Override
        public void synchronize() {
            inner.synchronize();
        }

        @Override
        public void close() {
            // the real device owns the backend
        }
    }
}
