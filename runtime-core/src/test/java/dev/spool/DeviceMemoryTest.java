package dev.spool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.spool.spi.Backend;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.Conv2dGeometry;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.DeviceInfo;
import dev.spool.spi.MemoryPressure;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The memory budget and reclaim of {@link DeviceMemory}, on a fake device whose driver has a
 * fixed capacity and can be told to fail: what core does when the budget is reached, when the
 * driver refuses an allocation, when it reports running out at a launch (OpenCL's lazy
 * allocation), and when a primitive fails halfway.
 */
class DeviceMemoryTest {
    private final FakeBackend fake = new FakeBackend(1L << 30);
    private final Device device = new Device(fake);

    @AfterEach
    void shutdown() {
        device.shutdown();
    }

    @Test
    void budgetsParseBytesMultiplesAndPercentages() {
        assertEquals(64L << 20, DeviceMemory.parseBudget("64m", 0, "test"));
        assertEquals(2L << 30, DeviceMemory.parseBudget(" 2G ", 0, "test"));
        assertEquals(1L << 30, DeviceMemory.parseBudget("1gb", 0, "test"));
        assertEquals(512L << 10, DeviceMemory.parseBudget("512k", 0, "test"));
        assertEquals(1073741824L, DeviceMemory.parseBudget("1073741824", 0, "test"));
        assertEquals(900, DeviceMemory.parseBudget("90%", 1000, "test"));
        for (String bad : new String[] {"", "-1", "0", "abc", "10x", "%", "-5%", "99999999999t"}) {
            DeviceException e = assertThrows(DeviceException.class,
                    () -> DeviceMemory.parseBudget(bad, 1000, "system property spool.memory.budget"));
            assertTrue(e.getMessage().contains("'" + bad + "'") && e.getMessage().contains("spool.memory.budget"),
                    e.getMessage());
        }
        assertEquals((long) (0.8 * (1L << 30)), device.memoryBudget(), "default: 80% of the device's memory");
    }

    @Test
    void droppedTensorsAreReclaimedWhenTheBudgetIsReached() {
        device.setMemoryBudget(1L << 20);
        DeviceStats before = device.stats();
        try (Device.Scope on = Device.use(device)) {
            for (int i = 0; i < 200; i++) { // 200 × 64 KiB = 12.5 MiB through a 1 MiB budget
                Tensor t = Spool.zeros(16 * 1024);
                assertEquals(0f, t.getFloat(5));
                assertTrue(device.stats().liveBytes() <= 1L << 20, "live bytes within the budget");
            }
        }
        DeviceStats delta = device.stats().minus(before);
        assertTrue(delta.reclaims() > 0, delta.toString());
        assertTrue(delta.leakedTensors() > 0, delta.toString());
        assertTrue(fake.peakUsed <= 1L << 20, "the driver never held more than the budget: " + fake.peakUsed);
    }

    @Test
    void anAllocationNoReclaimCanSatisfyFailsClearlyAndHoldsNothing() {
        device.setMemoryBudget(1L << 20);
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope()) {
            List<Tensor> kept = new ArrayList<>();
            for (int i = 0; i < 15; i++) {
                kept.add(Spool.zeros(16 * 1024)); // 960 KiB live, all reachable
            }
            DeviceStats before = device.stats();
            DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class,
                    () -> Spool.zeros(32 * 1024));
            String m = e.getMessage();
            for (String part : new String[] {"fake:0", "float32[32768]", "131072 bytes", "budget of 1048576",
                    "live: 15 buffers, 983040 bytes", "TensorScope"}) {
                assertTrue(m.contains(part), "the message names '" + part + "': " + m);
            }
            DeviceStats after = device.stats();
            assertEquals(before.liveBuffers(), after.liveBuffers());
            assertEquals(before.liveBytes(), after.liveBytes());
            kept.remove(0).close();
            kept.remove(0).close();
            assertEquals(0f, Spool.zeros(32 * 1024).getFloat(7), "room again once tensors are closed");
        }
    }

    @Test
    void aDriverThatRunsOutGetsAReclaimAndARetry() {
        fake.capacity = 1L << 20; // the driver holds less than the budget allows
        try (Device.Scope on = Device.use(device)) {
            for (int i = 0; i < 100; i++) {
                assertEquals(0f, Spool.zeros(16 * 1024).getFloat(3));
            }
        }
        assertTrue(fake.driverFailures > 0, "the driver did fail");
        assertTrue(fake.cacheReleases > 0, "core emptied the backend's caches before retrying");
        assertTrue(device.stats().reclaims() > 0);

        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope()) {
            List<Tensor> kept = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                kept.add(Spool.zeros(16 * 1024));
            }
            DeviceStats before = device.stats();
            DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class, () -> Spool.zeros(16));
            assertTrue(e.getMessage().contains("fake:0") && e.getMessage().contains("driver")
                    && e.getMessage().contains("fake driver is full"), e.getMessage());
            assertEquals(before.liveBytes(), device.stats().liveBytes(), "the failed request is not counted");
        }
    }

    @Test
    void aLaunchThatRunsOutCallsTheReclaimAndRetries() {
        try (Device.Scope on = Device.use(device)) {
            dropTensors(8);
            long used = fake.used;
            long reclaims = device.stats().reclaims();
            fake.failNextLaunchWithOutOfMemory = true;
            try (Tensor t = Spool.zeros(4).neg()) {
                assertArrayEquals(new float[] {-0f, -0f, -0f, -0f}, t.toFloatArray());
            }
            assertEquals(reclaims + 1, device.stats().reclaims(), "the launch asked core to reclaim");
            assertTrue(fake.usedAtRetry < used, "the reclaim released the dropped tensors before the retry: "
                    + fake.usedAtRetry + " >= " + used);
        }
    }

    private static void dropTensors(int n) {
        for (int i = 0; i < n; i++) {
            Spool.zeros(16 * 1024);
        }
    }

    @Test
    void reclaimWorksWhileTheCallerHoldsTheDevicesLock() {
        device.setMemoryBudget(1L << 20);
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (Device.Scope on = Device.use(device)) {
                synchronized (device) { // as an op dispatching under the lock would
                    for (int i = 0; i < 50; i++) {
                        Spool.zeros(16 * 1024);
                    }
                }
            }
        });
        assertTrue(device.stats().reclaims() > 0);
    }

    @Test
    void theFirstReclaimOfDroppedTensorsWarnsOnce() {
        Logger logger = (Logger) LoggerFactory.getLogger(DeviceMemory.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try (Device.Scope on = Device.use(device)) {
            device.setMemoryBudget(1L << 20);
            for (int i = 0; i < 200; i++) {
                Spool.zeros(16 * 1024);
            }
        } finally {
            logger.detachAppender(appender);
        }
        assertTrue(device.stats().reclaims() > 1, "several reclaims");
        List<ILoggingEvent> warnings = appender.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
        assertEquals(1, warnings.size(), "one warning: " + warnings);
        String m = warnings.get(0).getFormattedMessage();
        assertTrue(m.contains("fake:0") && m.contains("garbage collector") && m.contains("TensorScope"), m);
    }

    @Test
    void aPrimitiveThatFailsLeaksNothingAndTheTapeWorksOn() {
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope()) {
            Tensor x = Spool.constant(new float[] {1, 2, 3});
            GradientTape tape = new GradientTape();
            Tensor y;
            try (tape) {
                tape.watch(x);
                DeviceStats before = device.stats();
                fake.failNextLaunch = new BackendException("fake: device lost");
                BackendException e = assertThrows(BackendException.class, x::neg);
                assertEquals("fake: device lost", e.getMessage());
                DeviceStats after = device.stats();
                assertEquals(before.liveBuffers(), after.liveBuffers(), "the output of the failed op was freed");
                assertEquals(before.liveBytes(), after.liveBytes());
                y = x.neg();
            }
            assertArrayEquals(new float[] {-1, -1, -1}, tape.gradient(y, x).toFloatArray());
        }
    }

    /** A device of float32 buffers with a capacity, which fails on request. */
    static final class FakeBackend implements Backend {
        long capacity;
        long used;
        long peakUsed;
        long usedAtRetry = -1;
        int driverFailures;
        int cacheReleases;
        boolean failNextLaunchWithOutOfMemory;
        RuntimeException failNextLaunch;
        private MemoryPressure pressure;

        FakeBackend(long capacity) {
            this.capacity = capacity;
        }

        record Buffer(float[] data) implements DeviceBuffer {
            @Override
            public DType dtype() {
                return DType.FLOAT32;
            }

            @Override
            public long size() {
                return data.length;
            }
        }

        @Override
        public DeviceInfo info() {
            return new DeviceInfo("fake", 0, "fake device", "test", DeviceInfo.DeviceType.OTHER, 1, 1L << 30,
                    1L << 30, true);
        }

        @Override
        public synchronized DeviceBuffer allocate(DType dtype, long size) {
            if (dtype != DType.FLOAT32) {
                throw new UnsupportedOperationException("fake: float32 only");
            }
            if (used + size * 4 > capacity) {
                driverFailures++;
                throw new DeviceOutOfMemoryException("fake driver is full", size * 4);
            }
            used += size * 4;
            peakUsed = Math.max(peakUsed, used);
            return new Buffer(new float[(int) size]);
        }

        @Override
        public synchronized void release(DeviceBuffer buffer) {
            used -= buffer.byteSize();
        }

        @Override
        public long releaseCachedMemory() {
            cacheReleases++;
            return 0;
        }

        @Override
        public void setMemoryPressure(MemoryPressure pressure) {
            this.pressure = pressure;
        }

        @Override
        public void write(DeviceBuffer dst, Object hostArray) {
            System.arraycopy(hostArray, 0, ((Buffer) dst).data, 0, (int) dst.size());
        }

        @Override
        public void read(View src, Object hostArray) {
            float[] out = (float[]) hostArray;
            float[] in = ((Buffer) src.buffer()).data;
            for (int i = 0; i < src.size(); i++) {
                out[i] = in[(int) src.offset() + i * (src.rank() == 0 ? 0 : (int) src.strides()[src.rank() - 1])];
            }
        }

        @Override
        public void fill(DeviceBuffer dst, Number value) {
            java.util.Arrays.fill(((Buffer) dst).data, value.floatValue());
        }

        /** NEG only; a launch can be told to fail, or to run out of memory the first time. */
        @Override
        public void unary(UnaryOp op, View x, DeviceBuffer out) {
            if (failNextLaunch != null) {
                RuntimeException e = failNextLaunch;
                failNextLaunch = null;
                throw e;
            }
            if (failNextLaunchWithOutOfMemory) {
                failNextLaunchWithOutOfMemory = false;
                pressure.reclaim(); // what OpenClBackend does on CL_MEM_OBJECT_ALLOCATION_FAILURE
                usedAtRetry = used;
            }
            if (op != UnaryOp.NEG) {
                throw new UnsupportedOperationException("fake: " + op);
            }
            float[] in = ((Buffer) x.buffer()).data;
            float[] o = ((Buffer) out).data;
            for (int i = 0; i < o.length; i++) {
                o[i] = -in[(int) x.offset() + i * (int) x.strides()[0]];
            }
        }

        @Override
        public void copy(View src, View dst) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void binaryUnary(BinaryOp op, UnaryOp epilogue, View a, View b, DeviceBuffer out) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void applyGradientDescent(View var, View grad, double lr, DeviceBuffer varOut) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void applyMomentum(View var, View accum, View grad, double lr, double momentum, boolean nesterov,
                                  boolean keras, DeviceBuffer varOut, DeviceBuffer accumOut) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void applyAdam(View var, View m, View v, View grad, double alpha, double beta1, double beta2,
                              double epsilon, DeviceBuffer varOut, DeviceBuffer mOut, DeviceBuffer vOut) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void binary(BinaryOp op, View a, View b, DeviceBuffer out) {
            if (op != BinaryOp.MUL) {
                throw new UnsupportedOperationException("fake: " + op);
            }
            float[] x = ((Buffer) a.buffer()).data;
            float[] y = ((Buffer) b.buffer()).data;
            float[] o = ((Buffer) out).data;
            for (int i = 0; i < o.length; i++) {
                o[i] = x[(int) (a.offset() + i * a.strides()[0])] * y[(int) (b.offset() + i * b.strides()[0])];
            }
        }

        @Override
        public void select(View cond, View a, View b, DeviceBuffer out) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void softmax(View x, DeviceBuffer out, boolean log) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void attention(View q, View k, View v, View mask, boolean causal, double scale, DeviceBuffer out,
                              DeviceBuffer lse) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void attentionGrad(View q, View k, View v, View mask, boolean causal, double scale, View out,
                                  View dOut, View lse, DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void softmaxGrad(View y, View g, DeviceBuffer out, boolean log) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void softmaxCrossEntropy(View labels, View logits, DeviceBuffer loss, DeviceBuffer logSoftmax) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void conv2d(View x, View filter, Conv2dGeometry g, DeviceBuffer out) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void conv2dBackpropInput(View dy, View filter, Conv2dGeometry g, DeviceBuffer dx) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void conv2dBackpropFilter(View x, View dy, Conv2dGeometry g, DeviceBuffer dfilter) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void avgPool2d(View x, Conv2dGeometry g, DeviceBuffer out) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void avgPool2dGrad(View dy, Conv2dGeometry g, DeviceBuffer dx) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void maxPool2d(View x, View values, Conv2dGeometry g, DeviceBuffer out) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void maxPool2dGrad(View x, View dy, Conv2dGeometry g, DeviceBuffer dx) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void batchNormTraining(View x, View scale, View offset, double epsilon, DeviceBuffer y, DeviceBuffer mean,
                                      DeviceBuffer variance) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void batchNormTrainingGrad(View dy, View x, View scale, View mean, View variance, double epsilon,
                                          DeviceBuffer dx, DeviceBuffer dscale, DeviceBuffer doffset) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void softmaxCrossEntropyGrad(View g, View logSoftmax, View labels, DeviceBuffer out) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void reduce(ReduceOp op, View x, int reducedDims, DeviceBuffer out) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void matmul(View a, View b, DeviceBuffer out) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void gather(View params, View indices, DeviceBuffer out) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void scatterAdd(View updates, View indices, DeviceBuffer out) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void randomUniform(DeviceBuffer out, long seed) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void synchronize() {
        }

        @Override
        public void close() {
        }
    }
}
