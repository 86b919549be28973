package dev.spool.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.ClosedException;
import dev.spool.Device;
import dev.spool.DeviceStats;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.testing.Mlp;
import dev.spool.testing.TestDevices;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Eight threads training on one shared device, each its own model, tapes and scopes: every
 * thread's weights equal a single-thread run's bit for bit, with scopes and without them within
 * a small memory budget (reclaim from several threads at once), and nothing deadlocks (every
 * wait has a bound: a hang fails the test rather than the build). A tensor closed by one thread
 * while others read it gives those readers correct values or a {@link ClosedException}, never
 * another exception, a native fault or wrong data.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try")
class ThreadsTest {
    static final int THREADS = 8;
    static final int STEPS = 30;
    static final int NO_SCOPE_STEPS = 100;
    /** A smaller model than the soak's: the point is interleaving, not arithmetic. */
    static final int BATCH = 16;
    static final int INPUTS = 64;
    static final int HIDDEN = 32;
    static final Duration BOUND = Duration.ofMinutes(5);

    static float[] train(Device device, boolean scoped, int steps) {
        try (Device.Scope on = Device.use(device); Mlp mlp = new Mlp(BATCH, INPUTS, HIDDEN, 11)) {
            for (int step = 0; step < steps; step++) {
                if (Thread.currentThread().isInterrupted()) { // the test gave up: stop, do not outlive it
                    throw new IllegalStateException("interrupted at step " + step);
                }
                mlp.step(scoped);
            }
            return mlp.weights();
        }
    }

    /** Runs {@code train} on {@link #THREADS} threads released together; returns their weights. */
    static List<float[]> inThreads(Device device, boolean scoped, int steps) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<float[]>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                done.add(pool.submit(() -> {
                    start.await();
                    return train(device, scoped, steps);
                }));
            }
            start.countDown();
            List<float[]> out = new ArrayList<>();
            for (Future<float[]> f : done) {
                out.add(f.get(BOUND.toSeconds(), TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(BOUND.toSeconds(), TimeUnit.SECONDS); // no thread outlives the test
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void eightThreadsTrainAsOneDoes(Device device) {
        assertTimeoutPreemptively(BOUND, () -> {
            float[] alone = train(device, true, STEPS);
            DeviceStats before = device.stats();
            List<float[]> threads = inThreads(device, true, STEPS);
            for (int t = 0; t < THREADS; t++) {
                assertArrayEquals(alone, threads.get(t), "thread " + t + "'s weights equal the single-thread run's");
            }
            DeviceStats after = device.stats();
            assertTrue(after.liveBuffers() <= before.liveBuffers() && after.liveBytes() <= before.liveBytes(),
                    "every thread closed what it made: " + before + " -> " + after);
        });
    }

    /**
     * The same without scopes, 100 steps, within a budget of 8 MiB above what is live (the eight
     * threads allocate some 40 MB in all): the threads run into it, and reclaim (a collection,
     * then the Cleaner's releases) serves them all. With 2 MiB, on the loaded 2-core build
     * machine, a thread sometimes found the budget still full after three collections (the
     * others took what its reclaim freed, or the Cleaner thread got no core in time): a
     * DeviceOutOfMemoryException, the documented outcome when reclaim cannot keep up.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void eightThreadsWithoutScopesShareASmallBudget(Device device) {
        float[] alone = train(device, true, NO_SCOPE_STEPS);
        long saved = device.memoryBudget();
        try {
            assertTimeoutPreemptively(BOUND, () -> {
                DeviceStats before = device.stats();
                long budget = before.liveBytes() + (8L << 20);
                device.setMemoryBudget(budget);
                // The device's peak counter is a high-water mark since start (an earlier test may
                // have set it higher): sample live bytes while the threads run instead.
                java.util.concurrent.atomic.AtomicLong maxLive = new java.util.concurrent.atomic.AtomicLong();
                java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
                Thread monitor = new Thread(() -> {
                    while (running.get()) {
                        maxLive.accumulateAndGet(device.stats().liveBytes(), Math::max);
                        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
                    }
                });
                monitor.start();
                List<float[]> threads;
                try {
                    threads = inThreads(device, false, NO_SCOPE_STEPS);
                } finally {
                    running.set(false);
                    monitor.join();
                }
                for (int t = 0; t < THREADS; t++) {
                    assertArrayEquals(alone, threads.get(t), "thread " + t + " without scopes");
                }
                DeviceStats delta = device.stats().minus(before);
                assertTrue(delta.reclaims() > 0, "the budget was reached: " + delta);
                assertTrue(maxLive.get() <= budget, "live bytes stayed within the budget: sampled max " + maxLive
                        + ", budget " + budget);
            });
        } finally {
            device.setMemoryBudget(saved);
        }
    }

    /**
     * One thread closes a tensor while three others read it (an op, a host read, an element
     * read) in a loop: each read gives the right values or a ClosedException that names the
     * tensor, and after the close every read is a ClosedException.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aTensorClosedWhileOthersReadIt(Device device) {
        assertTimeoutPreemptively(BOUND, () -> {
            int n = 1 << 14;
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                values[i] = i % 7;
            }
            AtomicInteger closedSeen = new AtomicInteger();
            AtomicInteger readsOk = new AtomicInteger();
            for (int round = 0; round < 20; round++) {
                Tensor shared;
                try (Device.Scope on = Device.use(device)) {
                    shared = Spool.constant(values);
                }
                ExecutorService pool = Executors.newFixedThreadPool(4);
                try {
                    CountDownLatch start = new CountDownLatch(1);
                    List<Future<?>> readers = new ArrayList<>();
                    for (int r = 0; r < 3; r++) {
                        int kind = r;
                        readers.add(pool.submit(() -> {
                            start.await();
                            boolean closed = false;
                            while (!closed) { // ends: the closer closes the tensor
                                try (Device.Scope on = Device.use(device)) {
                                    switch (kind) {
                                        case 0 -> {
                                            try (Tensor y = shared.mul(2f)) {
                                                float[] got = y.toFloatArray();
                                                for (int k = 0; k < n; k += 97) {
                                                    if (got[k] != 2 * values[k]) {
                                                        throw new AssertionError("wrong value at " + k + ": " + got[k]);
                                                    }
                                                }
                                            }
                                        }
                                        case 1 -> assertArrayEquals(values, shared.toFloatArray());
                                        default -> {
                                            if (shared.getFloat(n - 1) != values[n - 1]) {
                                                throw new AssertionError("wrong element");
                                            }
                                        }
                                    }
                                    readsOk.incrementAndGet();
                                } catch (ClosedException e) {
                                    assertTrue(e.getMessage().contains("(" + n + ",)"), e.getMessage());
                                    closedSeen.incrementAndGet();
                                    closed = true;
                                }
                            }
                            return null;
                        }));
                    }
                    int delay = round % 5;
                    Future<?> closer = pool.submit(() -> {
                        start.await();
                        Thread.sleep(delay); // close at different points of the readers' loops
                        shared.close();
                        return null;
                    });
                    start.countDown();
                    closer.get(BOUND.toSeconds(), TimeUnit.SECONDS);
                    for (Future<?> f : readers) {
                        f.get(BOUND.toSeconds(), TimeUnit.SECONDS); // rethrows a reader's failure
                    }
                } finally {
                    pool.shutdownNow();
                }
                // After the close, every use is a ClosedException.
                try (Device.Scope on = Device.use(device)) {
                    ClosedException e = org.junit.jupiter.api.Assertions.assertThrows(ClosedException.class,
                            () -> shared.mul(2f));
                    assertTrue(e.getMessage().contains("closed"), e.getMessage());
                }
            }
            assertTrue(closedSeen.get() == 3 * 20, "every reader met the closed tensor: " + closedSeen + " closed, "
                    + readsOk + " reads");
            System.out.println("close while reading on " + device + ": " + readsOk + " reads, " + closedSeen
                    + " ClosedExceptions");
        });
    }
}
