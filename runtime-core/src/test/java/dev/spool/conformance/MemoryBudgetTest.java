package dev.spool.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.Device;
import dev.spool.DeviceOutOfMemoryException;
import dev.spool.DeviceStats;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.testing.TestDevices;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Device memory that takes care of itself: a training loop that never closes a tensor runs
 * within a small memory budget, because allocations past the budget have the garbage collector
 * reclaim the dropped tensors first; an allocation no reclaim can satisfy is a clear
 * {@link DeviceOutOfMemoryException}, and the device works on afterwards.
 */
@ExtendWith(TestDevices.Available.class)
class MemoryBudgetTest {
    /**
     * The loop: X 32×128, W 128×128 float32, loss = mean(square(tanh(X@W)@W)), SGD. A step
     * allocates 23 buffers, ≈0.5 MB, so 2,000 steps go through ≈1 GB of device memory: some
     * 250 times the 4 MiB budget.
     */
    static final int STEPS = 2000;
    static final int ROWS = 32;
    static final int WIDTH = 128;
    static final long BUDGET = 4L << 20;

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aLoopWithoutScopesStaysWithinTheBudgetAndMatchesTheScopedLoop(Device device) {
        long saved = device.memoryBudget();
        try (Device.Scope on = Device.use(device)) {
            float[] scoped = train(device, true, Long.MAX_VALUE);
            DeviceStats before = device.stats();
            // The budget is 4 MiB above what other tests left behind (they are reclaimable too).
            long budget = before.liveBytes() + BUDGET;
            device.setMemoryBudget(budget);
            float[] unscoped = train(device, false, budget);
            DeviceStats delta = device.stats().minus(before);
            assertTrue(delta.leakedTensors() > STEPS, "tensors were left to the garbage collector: " + delta);
            assertTrue(delta.reclaims() > 0, "the budget was reached and memory reclaimed: " + delta);
            assertArrayEquals(scoped, unscoped, "final W with and without scopes");
        } finally {
            device.setMemoryBudget(saved);
        }
    }

    /** Trains W and returns it; without scopes nothing is closed. Checks live bytes after each step. */
    private static float[] train(Device device, boolean withScopes, long budget) {
        try (Tensor x = Spool.randomNormal(Shape.of(ROWS, WIDTH), 1);
             Variable w = new Variable(Spool.randomNormal(Shape.of(WIDTH, WIDTH), 2).mul(0.05), "w")) {
            for (int step = 0; step < STEPS; step++) {
                TensorScope scope = withScopes ? new TensorScope() : null;
                GradientTape tape = new GradientTape();
                Tensor loss;
                try (tape) {
                    loss = x.matmul(w).tanh().matmul(w).square().mean();
                }
                w.assignSub(tape.gradient(loss, w).mul(0.1));
                if (scope != null) {
                    scope.close();
                }
                long live = device.stats().liveBytes();
                if (live > budget) {
                    throw new AssertionError("step " + step + ": " + live + " live bytes > budget " + budget);
                }
            }
            try (Tensor value = w.value()) {
                return value.toFloatArray();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void anAllocationLargerThanTheBudgetIsAClearErrorAndTheDeviceStaysUsable(Device device) {
        long saved = device.memoryBudget();
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope()) {
            long budget = device.stats().liveBytes() + (1L << 20);
            device.setMemoryBudget(budget);
            DeviceStats before = device.stats();
            int elements = (int) (budget / 4 + 1);
            DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class,
                    () -> Spool.zeros(elements));
            String m = e.getMessage();
            for (String part : new String[] {device.id(), "float32[" + elements + "]",
                    (elements * 4L) + " bytes", "budget of " + budget, "live:", "TensorScope", "spool.memory.budget"}) {
                assertTrue(m.contains(part), "the message names '" + part + "': " + m);
            }
            assertEquals(elements * 4L, e.requestedBytes());
            DeviceStats after = device.stats();
            assertTrue(after.liveBuffers() <= before.liveBuffers() && after.liveBytes() <= before.liveBytes(),
                    "the failed allocation holds nothing: " + before + " -> " + after);
            // Within the budget, tensors still work; with the budget raised, so does the big one.
            assertArrayEquals(new float[] {2, 4, 6}, Spool.constant(new float[] {1, 2, 3}).mul(2f).toFloatArray());
            device.setMemoryBudget(saved);
            assertEquals(elements, Spool.ones(elements).sum().floatValue(), 0f);
        } finally {
            device.setMemoryBudget(saved);
        }
    }
}
