package dev.spool.conformance;

import static dev.spool.DType.FLOAT32;
import static dev.spool.DType.FLOAT64;
import static dev.spool.DType.INT32;
import static dev.spool.DType.INT64;
import static dev.spool.testing.TensorAssert.assertClose;
import static dev.spool.testing.TensorAssert.assertExact;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.ClosedException;
import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.Device;
import dev.spool.DeviceException;
import dev.spool.DeviceStats;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.SpoolException;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UsageException;
import dev.spool.Variable;
import dev.spool.testing.TestDevices;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Errors (which exception, and a message that names the op, the shapes, the dtypes or the
 * devices), IEEE non-finite values, and memory: closing, views, scopes, variables, flat device
 * memory in a training loop, and a backward pass that makes no host transfers.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try") // scopes (device, tensors, pauses) are opened for their effect
class ErrorsAndMemoryTest {

    private static Shape s(int... dims) {
        return Shape.of(dims);
    }

    /** A float32 tensor of the given values, or of zeros when none are given. */
    private static Tensor f(Shape shape, double... values) {
        return values.length == 0 ? Spool.zeros(shape, FLOAT32) : Spool.constant(values, shape, FLOAT32);
    }

    // ---- error messages ---------------------------------------------------------------------

    /** One error row: the failing call, the exception it throws and what its message must name. */
    record Failure(String name, Executable call, Class<? extends SpoolException> type, List<String> names) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Failure fail(String name, Class<? extends SpoolException> type, Executable call, String... names) {
        return new Failure(name, call, type, List.of(names));
    }

    static final List<Failure> FAILURES = List.of(
            fail("add: shapes", ShapeException.class, () -> f(s(2, 3)).add(f(s(4))), "add", "(2, 3)", "(4,)"),
            fail("mul: shapes", ShapeException.class, () -> f(s(2, 3)).mul(f(s(3, 2))), "mul", "(2, 3)", "(3, 2)"),
            fail("greater: shapes", ShapeException.class, () -> f(s(2)).greater(f(s(3))), "greater", "(2,)", "(3,)"),
            fail("matmul: inner dimensions", ShapeException.class, () -> f(s(2, 3)).matmul(f(s(4, 5))),
                    "matmul", "(2, 3)", "(4, 5)"),
            fail("matmul: rank", ShapeException.class, () -> f(s(3)).matmul(f(s(3, 3))), "matmul", "(3,)", "(3, 3)"),
            fail("matmul: batch", ShapeException.class, () -> f(s(2, 2, 3)).matmul(f(s(3, 3, 4))),
                    "matmul", "(2,)", "(3,)"),
            fail("reshape: size", ShapeException.class, () -> f(s(2, 3)).reshape(4), "reshape", "(2, 3)", "(4,)"),
            fail("reshape: two -1", ShapeException.class, () -> f(s(2, 3)).reshape(-1, -1), "reshape", "-1"),
            fail("where: shapes", ShapeException.class,
                    () -> Spool.where(Spool.constant(new boolean[] {true, false}), f(s(3)), f(s(3))), "where", "(2,)", "(3,)"),
            fail("concat: shapes", ShapeException.class, () -> Spool.concat(List.of(f(s(2, 3)), f(s(2, 4))), 0),
                    "concat", "(2, 3)", "(2, 4)"),
            fail("concat: scalars", ShapeException.class, () -> Spool.concat(List.of(f(s()), f(s())), 0), "concat"),
            fail("stack: shapes", ShapeException.class, () -> Spool.stack(List.of(f(s(2)), f(s(3))), 0),
                    "stack", "(2,)", "(3,)"),
            fail("broadcastTo: shapes", ShapeException.class, () -> f(s(3)).broadcastTo(2, 2),
                    "broadcastTo", "(3,)", "(2, 2)"),
            fail("slice: bounds", ShapeException.class, () -> f(s(3, 4)).slice(new int[] {2, 0}, new int[] {2, 4}),
                    "slice", "(3, 4)"),
            fail("squeeze: not 1", ShapeException.class, () -> f(s(2, 3)).squeeze(0), "squeeze", "(2, 3)"),
            fail("sum: axis", ShapeException.class, () -> f(s(2, 3)).sum(2), "sum", "axis 2", "rank 2"),
            fail("transpose: not a permutation", ShapeException.class, () -> f(s(2, 3)).transpose(0, 0),
                    "transpose", "[0, 0]"),
            fail("tile: multiples", ShapeException.class, () -> f(s(2, 3)).tile(2), "tile", "(2, 3)"),
            fail("gather: axis", ShapeException.class, () -> f(s(2, 3)).gather(Spool.constant(new int[] {0}), 2),
                    "gather", "axis 2"),
            fail("argMax: empty axis", ShapeException.class, () -> f(s(0, 3)).argMax(0), "argMax", "(0, 3)"),
            fail("softmaxCrossEntropyWithLogits: shapes", ShapeException.class,
                    () -> Spool.softmaxCrossEntropyWithLogits(f(s(2, 3)), f(s(2, 2))),
                    "softmaxCrossEntropyWithLogits", "(2, 3)", "(2, 2)"),
            fail("constant: values for shape", ShapeException.class,
                    () -> Spool.constant(new double[] {1, 2, 3}, s(2, 2), FLOAT32), "constant", "(2, 2)"),
            fail("constant: ragged", ShapeException.class, () -> Spool.constant(new float[][] {{1, 2}, {3}}), "ragged"),
            fail("floatValue: not one element", ShapeException.class, () -> f(s(2)).floatValue(), "(2,)"),
            fail("getDouble: out of bounds", ShapeException.class, () -> f(s(2, 2)).getDouble(0, 2), "(2, 2)"),
            fail("add: dtypes", DTypeException.class, () -> f(s(2)).add(Spool.constant(new int[] {1, 2})),
                    "add", "float32", "int32"),
            fail("maximum: dtypes", DTypeException.class,
                    () -> Spool.constant(new long[] {1}).maximum(Spool.constant(new int[] {1})), "maximum", "int64", "int32"),
            fail("matmul: dtypes", DTypeException.class, () -> f(s(2, 2)).matmul(Spool.constant(new int[][] {{1}, {2}})),
                    "matmul", "float32", "int32"),
            fail("matmul: integers", DTypeException.class,
                    () -> Spool.constant(new int[][] {{1}}).matmul(Spool.constant(new int[][] {{1}})), "matmul", "int32"),
            fail("exp: integer", DTypeException.class, () -> Spool.constant(new int[] {1}).exp(), "exp", "int32"),
            fail("softmax: integer", DTypeException.class, () -> Spool.constant(new int[] {1}).softmax(0),
                    "softmax", "int32"),
            fail("sum: bool", DTypeException.class, () -> Spool.constant(new boolean[] {true}).sum(), "sum", "bool"),
            fail("where: condition", DTypeException.class, () -> Spool.where(f(s(2)), f(s(2)), f(s(2))),
                    "where", "float32"),
            fail("where: branches", DTypeException.class,
                    () -> Spool.where(Spool.constant(new boolean[] {true}), f(s(1)), Spool.constant(new long[] {1})),
                    "where", "float32", "int64"),
            fail("gather: float indices", DTypeException.class, () -> f(s(3)).gather(f(s(1), 0), 0), "gather", "float32"),
            fail("oneHot: float indices", DTypeException.class, () -> Spool.oneHot(f(s(1)), 3), "oneHot", "float32"),
            fail("logicalNot: float", DTypeException.class, () -> f(s(1)).logicalNot(), "logicalNot", "float32"),
            fail("concat: dtypes", DTypeException.class,
                    () -> Spool.concat(List.of(f(s(1)), Spool.constant(new int[] {1})), 0), "concat", "float32", "int32"),
            fail("randomUniform: integer dtype", DTypeException.class,
                    () -> Spool.randomUniform(s(2), 1, 0, 1, INT32), "randomUniform", "int32"),
            fail("constant: element type", DTypeException.class, () -> Spool.constant(new short[] {1}), "short"));

    static Stream<Arguments> failures() {
        return TestDevices.withEach(FAILURES);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("failures")
    void errorsNameWhatWentWrong(Device device, Failure failure) {
        try (TestDevices.On on = TestDevices.on(device)) {
            SpoolException e = assertThrows(failure.type(), failure.call());
            for (String name : failure.names()) {
                assertTrue(e.getMessage().contains(name), "message should name '" + name + "': " + e.getMessage());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void float64IsOfferedOnlyWhereSupported(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            if (device.supportsFloat64()) {
                assertExact(Spool.constant(new double[] {0.1}).mul(Spool.constant(0.5, FLOAT64)), s(1), FLOAT64, 0.05);
            } else {
                DTypeException e = assertThrows(DTypeException.class, () -> Spool.zeros(s(1), FLOAT64));
                assertTrue(e.getMessage().contains(device.id()) && e.getMessage().contains("float64"), e.getMessage());
            }
        }
    }

    // ---- devices ----------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void mixingDevicesIsAnErrorNamingBoth(Device device) {
        Device cpu = Device.cpu();
        if (device == cpu) {
            // One CPU device only: nothing to mix with here (runtime-opencl mixes cpu and OpenCL).
            // Check instead that asking for a device that does not exist says what does.
            DeviceException e = assertThrows(DeviceException.class, () -> Device.get("nosuch"));
            assertTrue(e.getMessage().contains("nosuch") && e.getMessage().contains("cpu"), e.getMessage());
            assertThrows(DeviceException.class, () -> Device.get("cpu:7"));
            assertThrows(DeviceException.class, () -> Device.get("cpu:x"));
            assertEquals(cpu, Device.get(" CPU "));
            return;
        }
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor here = Spool.constant(new float[] {1, 2});
            Tensor there = here.to(cpu);
            assertEquals(cpu, there.device());
            assertEquals(device, here.device());
            for (Executable mixed : List.<Executable>of(
                    () -> here.add(there),
                    () -> there.mul(here),
                    () -> here.reshape(2, 1).matmul(there.reshape(1, 2)),
                    () -> Spool.where(here.greater(Spool.constant(1f)), here, there),
                    () -> Spool.concat(List.of(here, there), 0),
                    () -> here.gather(Spool.constant(new int[] {0}).to(cpu), 0))) {
                DeviceException e = assertThrows(DeviceException.class, mixed);
                assertTrue(e.getMessage().contains(device.id()) && e.getMessage().contains("cpu"), e.getMessage());
            }
            try (Variable v = new Variable(here)) {
                DeviceException e = assertThrows(DeviceException.class, () -> v.assign(there));
                assertTrue(e.getMessage().contains(device.id()) && e.getMessage().contains("cpu"), e.getMessage());
            }
            // Moving data explicitly works both ways.
            assertArrayEquals(new float[] {2, 4}, there.add(there).to(device).toFloatArray());
            there.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void deviceScopesSelectTheDevice(Device device) {
        try (Device.Scope scope = Device.use(device)) {
            assertEquals(device, Device.current());
            try (Device.Scope inner = Device.use(Device.cpu())) {
                assertEquals(Device.cpu(), Device.current());
            }
            assertEquals(device, Device.current());
            try (TensorScope tensors = new TensorScope()) {
                assertEquals(device, Spool.ones(1).device());
                assertEquals(device, Spool.ones(1).exp().device());
            }
        }
        assertTrue(Device.list().contains(device));
        assertEquals(device, Device.get(device.id()));
    }

    // ---- closing ----------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void usingAClosedTensorThrows(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor t = f(s(2, 3), 1, 2, 3, 4, 5, 6);
            Tensor other = f(s(2, 3), 1, 2, 3, 4, 5, 6);
            assertFalse(t.isClosed());
            t.close();
            assertTrue(t.isClosed());
            assertDoesNotThrow(t::close); // idempotent
            assertDoesNotThrow(t::close);
            List<Executable> uses = List.of(t::exp, () -> t.add(other), () -> other.add(t), t::toFloatArray,
                    () -> t.reshape(6), t::transpose, () -> t.getDouble(0, 0), () -> t.to(device), t::sum,
                    () -> new Variable(t), () -> {
                        try (GradientTape tape = new GradientTape()) {
                            tape.watch(t);
                        }
                    });
            for (Executable use : uses) {
                ClosedException e = assertThrows(ClosedException.class, use);
                assertTrue(e.getMessage().contains("closed") && e.getMessage().contains("(2, 3)"), e.getMessage());
            }
            assertEquals(shapeOf(other), s(2, 3)); // the other tensor is untouched
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, other.toFloatArray());
        }
    }

    private static Shape shapeOf(Tensor t) {
        return t.shape(); // shape, dtype and device stay readable after close
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void viewsKeepTheirStorageAliveAfterTheBaseCloses(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            DeviceStats start = device.stats();
            Tensor base = f(s(2, 3), 0, 1, 2, 3, 4, 5);
            DeviceStats withBase = device.stats();
            Tensor row = base.reshape(1, 6);
            Tensor column = base.slice(new int[] {0, 2}, new int[] {2, 1});
            List<Tensor> views = List.of(base.reshape(3, 2), base.transpose(), base.slice(new int[] {1, 1}, new int[] {1, 2}),
                    base.expandDims(0), row, row.squeeze(), base.identity(), base.stopGradient(),
                    column, column.broadcastTo(2, 4));
            DeviceStats withViews = device.stats();
            assertEquals(withBase.allocations(), withViews.allocations(), "views allocate nothing");
            base.close();
            assertTrue(base.isClosed());
            assertBuffersBack(withViews, device.stats(), "closing the base while views live frees nothing");
            assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, views.get(0).toFloatArray());
            assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, views.get(1).toFloatArray());
            assertArrayEquals(new float[] {4, 5}, views.get(2).toFloatArray());
            assertArrayEquals(new float[] {2, 2, 2, 2, 5, 5, 5, 5}, views.get(9).toFloatArray());
            try (TensorScope scope = new TensorScope()) {
                assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, views.get(1).exp().log().toFloatArray(), 1e-5f);
            }
            for (Tensor v : views) {
                assertFalse(v.isClosed());
                v.close();
            }
            assertBuffersBack(start, device.stats(), "closing the last view frees the buffer");
        }
    }


    /**
     * The Cleaner safety net: a tensor dropped without {@code close()} has its buffer freed when
     * the garbage collector finds it, and is counted in leakedTensors. GC timing is not ours, so
     * the test asks for collections until the count moves, for at most 20 seconds.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aTensorDroppedWithoutCloseIsFreedByTheGarbageCollector(Device device) throws InterruptedException {
        try (Device.Scope d = Device.use(device)) {
            DeviceStats before = device.stats();
            dropOneTensor();
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (device.stats().leakedTensors() == before.leakedTensors() && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(20);
            }
            DeviceStats after = device.stats();
            assertTrue(after.leakedTensors() > before.leakedTensors(), "the dropped tensor was never collected");
            assertTrue(after.liveBuffers() <= before.liveBuffers(),
                    "live buffers " + after.liveBuffers() + " > " + before.liveBuffers() + " after the collection");
        }
    }

    private static void dropOneTensor() {
        Tensor t = Spool.ones(1000);
        assertEquals(1000f, t.sum().floatValue()); // used, then unreachable once this frame returns
    }

    /**
     * {@code after} has as many live buffers as {@code before}. Tensors that other code dropped
     * without closing are freed by the garbage collector at any time; when that happened in between
     * (counted in leakedTensors) only "no more than before" can be checked.
     */
    static void assertBuffersBack(DeviceStats before, DeviceStats after, String what) {
        if (after.leakedTensors() == before.leakedTensors()) {
            assertEquals(before.liveBuffers(), after.liveBuffers(), what + ": live buffers");
        } else {
            assertTrue(after.liveBuffers() <= before.liveBuffers(), what + ": live buffers " + after.liveBuffers()
                    + " > " + before.liveBuffers());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void tensorScopeClosesWhatItOwnsAndKeepsWhatItIsTold(Device device) {
        try (Device.Scope d = Device.use(device)) {
            DeviceStats before = device.stats();
            Tensor kept;
            Tensor keptTwice;
            List<Tensor> owned = new ArrayList<>();
            try (TensorScope outer = new TensorScope()) {
                try (TensorScope inner = new TensorScope()) {
                    Tensor a = Spool.ones(3);
                    Tensor b = a.mul(Spool.constant(2f)).exp();
                    owned.add(a);
                    owned.add(b);
                    owned.add(a.reshape(3, 1)); // a view is owned too
                    assertTrue(inner.size() >= 4, "inner scope owns " + inner.size());
                    kept = inner.keep(b.sum());
                    keptTwice = outer.keep(inner.keep(Spool.zeros(2))); // kept by both: owned by none
                    assertEquals(kept, inner.keep(kept));
                }
                for (Tensor t : owned) {
                    assertTrue(t.isClosed());
                }
                assertFalse(kept.isClosed());
                assertEquals(3 * Math.exp(2), kept.doubleValue(), 1e-4);
                assertFalse(keptTwice.isClosed());
                assertTrue(outer.size() >= 1);
            }
            assertTrue(kept.isClosed(), "a kept tensor moves to the enclosing scope and closes with it");
            assertFalse(keptTwice.isClosed(), "kept by every scope: owned by none");
            keptTwice.close();
            assertBuffersBack(before, device.stats(), "after the scopes");
            TensorScope scope = new TensorScope();
            scope.close();
            assertDoesNotThrow(scope::close); // idempotent
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void scopesClosedOutOfOrderThrowAndStayUsable(Device device) {
        try (Device.Scope d = Device.use(device)) {
            TensorScope outer = new TensorScope();
            Tensor a = Spool.ones(2);
            TensorScope inner = new TensorScope();
            Tensor b = Spool.ones(2);
            assertThrows(UsageException.class, outer::close);
            assertFalse(a.isClosed(), "a refused close closes nothing");
            inner.close();
            assertTrue(b.isClosed());
            outer.close(); // now in order: it closes, and what it owns with it
            assertTrue(a.isClosed());
            Tensor c = Spool.ones(1);
            assertFalse(c.isClosed());
            c.close();

            if (device != Device.cpu()) { // device scopes compare devices: it takes two to mix up the order
                Device.Scope first = Device.use(Device.cpu());
                Device.Scope second = Device.use(device);
                assertThrows(UsageException.class, first::close);
                second.close();
                first.close();
            }
            assertEquals(device, Device.current());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void liveBuffersReturnToTheBaselineAfterAScope(Device device) {
        try (Device.Scope d = Device.use(device)) {
            DeviceStats before = device.stats();
            try (TensorScope scope = new TensorScope();
                 Variable w = new Variable(Spool.randomNormal(s(4, 3), 1))) {
                Tensor x = Spool.randomUniform(s(5, 4), 2);
                GradientTape tape = new GradientTape(true);
                Tensor loss;
                try (tape) {
                    loss = x.matmul(w).tanh().softmax(-1).max(new int[] {1}, false).mean();
                }
                assertNotNull(tape.gradient(loss, w));
                assertNull(tape.gradient(loss, w.value().exp())); // unconnected: the walk leaves nothing behind
                tape.reset(); // a persistent tape holds its records until reset
                Tensor view = x.transpose().slice(new int[] {0, 0}, new int[] {2, 2});
                assertTrue(device.stats().liveBuffers() > before.liveBuffers());
                assertEquals(2, view.rank());
            }
            assertBuffersBack(before, device.stats(), "after the scope");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aNonPersistentTapeFreesItsRecordsAfterGradient(Device device) {
        try (Device.Scope d = Device.use(device)) {
            DeviceStats before = device.stats();
            try (TensorScope scope = new TensorScope()) {
                Tensor x = Spool.randomNormal(s(16), 3);
                GradientTape tape = new GradientTape();
                Tensor y;
                try (tape) {
                    tape.watch(x);
                    y = x.sin().mul(x).exp().sum();
                }
                tape.gradient(y, x);
            }
            assertBuffersBack(before, device.stats(), "after gradient and the scope");
        }
    }

    // ---- variables --------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void variableAssignChecksShapeAndDtype(Device device) {
        try (TestDevices.On on = TestDevices.on(device); Variable v = new Variable(f(s(2), 1, 2), "weights")) {
            ShapeException shape = assertThrows(ShapeException.class, () -> v.assign(f(s(3), 1, 2, 3)));
            assertTrue(shape.getMessage().contains("weights") && shape.getMessage().contains("(3,)")
                    && shape.getMessage().contains("(2,)"), shape.getMessage());
            DTypeException dtype = assertThrows(DTypeException.class, () -> v.assign(Spool.constant(new int[] {1, 2})));
            assertTrue(dtype.getMessage().contains("weights") && dtype.getMessage().contains("int32")
                    && dtype.getMessage().contains("float32"), dtype.getMessage());
            assertThrows(ShapeException.class, () -> v.assignAdd(f(s(3), 1, 2, 3)));
            assertArrayEquals(new float[] {1, 2}, v.value().toFloatArray(), "a failed assign changes nothing");
            Tensor old = v.value();
            v.assign(f(s(2), 5, 6));
            assertArrayEquals(new float[] {1, 2}, old.toFloatArray(), "values read earlier keep the old value");
            assertArrayEquals(new float[] {5, 6}, v.value().toFloatArray());
            v.assignAdd(f(s(), 1));
            assertArrayEquals(new float[] {6, 7}, v.value().toFloatArray(), "assignAdd broadcasts its delta");
            v.assignSub(f(s(2), 6, 6));
            assertArrayEquals(new float[] {0, 1}, v.value().toFloatArray());
            assertEquals("weights", v.name());
            assertTrue(v.trainable());
            assertEquals(s(2), v.shape());
            assertEquals(FLOAT32, v.dtype());
            assertEquals(device, v.device());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void variablesOutliveScopesAndCloseOnce(Device device) {
        try (Device.Scope d = Device.use(device)) {
            DeviceStats before = device.stats();
            Variable v;
            try (TensorScope scope = new TensorScope()) {
                Tensor init = Spool.ones(3);
                v = new Variable(init, "v");
                init.close(); // the variable holds its own reference
            }
            try (TensorScope scope = new TensorScope()) {
                assertArrayEquals(new float[] {1, 1, 1}, v.value().toFloatArray());
                v.assignAdd(Spool.ones(3));
            }
            try (TensorScope scope = new TensorScope()) {
                assertArrayEquals(new float[] {2, 2, 2}, v.value().toFloatArray());
            }
            v.close();
            assertDoesNotThrow(v::close);
            ClosedException e = assertThrows(ClosedException.class, v::value);
            assertTrue(e.getMessage().contains("'v'") && e.getMessage().contains("closed"), e.getMessage());
            try (TensorScope scope = new TensorScope()) {
                assertThrows(ClosedException.class, () -> v.assign(Spool.ones(3)));
            }
            assertEquals("<Variable 'v' (closed)>", v.toString());
            assertBuffersBack(before, device.stats(), "after the variable closed");
        }
    }

    // ---- non-finite values ------------------------------------------------------------------

    /** IEEE results, no clamping: (name, computation, expected values). */
    record NonFinite(String name, Supplier<Tensor> compute, double[] expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final double INF = Double.POSITIVE_INFINITY;
    private static final double NAN = Double.NaN;

    private static NonFinite nf(String name, Supplier<Tensor> compute, double... expected) {
        return new NonFinite(name, compute, expected);
    }

    static final List<NonFinite> NON_FINITE = List.of(
            nf("exp overflows to inf", () -> f(s(2), 1000, -1000).exp(), INF, 0),
            nf("log of negative is NaN, of 0 is -inf", () -> f(s(2), -1, 0).log(), NAN, -INF),
            nf("sqrt of negative is NaN", () -> f(s(1), -1).sqrt(), NAN),
            nf("rsqrt of 0 is inf", () -> f(s(1), 0).rsqrt(), INF),
            nf("0/0 is NaN, x/0 is ±inf", () -> f(s(3), 0, 1, -1).div(f(s(), 0)), NAN, INF, -INF),
            nf("reciprocal of 0 is inf", () -> f(s(1), 0).reciprocal(), INF),
            nf("inf - inf is NaN", () -> f(s(1), INF).sub(f(s(1), INF)), NAN),
            nf("0 * inf is NaN", () -> f(s(1), 0).mul(f(s(1), INF)), NAN),
            nf("maximum propagates NaN", () -> f(s(2), NAN, 1).maximum(f(s(2), 1, NAN)), NAN, NAN),
            nf("minimum propagates NaN", () -> f(s(2), NAN, 1).minimum(f(s(2), 1, NAN)), NAN, NAN),
            nf("reduce max with NaN is NaN", () -> f(s(3), 1, NAN, 2).max(), NAN),
            nf("reduce min with NaN is NaN", () -> f(s(3), 1, NAN, 2).min(), NAN),
            nf("sum with inf is inf", () -> f(s(3), 1, INF, 2).sum(), INF),
            nf("sum with NaN is NaN", () -> f(s(3), 1, NAN, 2).sum(), NAN),
            nf("pow(0, -1) is inf", () -> f(s(1), 0).pow(-1), INF),
            nf("sigmoid saturates", () -> f(s(2), -1000, 1000).sigmoid(), 0, 1),
            nf("tanh saturates", () -> f(s(2), -1000, 1000).tanh(), -1, 1),
            nf("softplus stays finite", () -> f(s(2), -1000, 1000).softplus(), 0, 1000),
            nf("NaN through matmul", () -> f(s(1, 2), NAN, 1).matmul(f(s(2, 1), 1, 1)), NAN),
            nf("argMax picks a NaN", () -> f(s(3), 1, NAN, 2).argMax(0), 1),
            nf("cast keeps inf", () -> f(s(2), INF, -INF).cast(FLOAT32).neg(), -INF, INF));

    static Stream<Arguments> nonFinite() {
        return TestDevices.withEach(NON_FINITE);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("nonFinite")
    void nonFiniteValuesPassThrough(Device device, NonFinite row) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor y = row.compute().get();
            assertClose(y.toDoubleArray(), row.expected(), 0, 0, row.name());
        }
    }

    // ---- memory over a training loop and transfers during backward --------------------------

    /** A two-layer perceptron with its loss: matmul, bias, tanh, relu, softmax cross-entropy, mean. */
    private static Tensor mlpLoss(Tensor x, Tensor labels, Variable w1, Variable b1, Variable w2, Variable b2) {
        Tensor h = x.matmul(w1).add(b1).tanh();
        Tensor logits = h.matmul(w2).add(b2).relu();
        return Spool.softmaxCrossEntropyWithLogits(labels, logits).mean();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aTrainingLoopKeepsDeviceMemoryFlat(Device device) {
        try (Device.Scope d = Device.use(device); TensorScope data = new TensorScope();
             Variable w1 = new Variable(Spool.randomNormal(s(4, 8), 1, 0, 0.5, FLOAT32), "w1");
             Variable b1 = new Variable(Spool.zeros(8), "b1");
             Variable w2 = new Variable(Spool.randomNormal(s(8, 3), 2, 0, 0.5, FLOAT32), "w2");
             Variable b2 = new Variable(Spool.fill(s(3), 0.1), "b2")) {
            Tensor x = Spool.randomNormal(s(16, 4), 3);
            Tensor labels = Spool.oneHot(x.argMax(1).cast(INT32).minimum(Spool.constant(2)), 3);
            List<Variable> params = List.of(w1, b1, w2, b2);
            DeviceStats afterFirst = null;
            double firstLoss = 0;
            double lastLoss = 0;
            for (int step = 0; step < 300; step++) {
                try (TensorScope scope = new TensorScope()) {
                    GradientTape tape = new GradientTape();
                    Tensor loss;
                    try (tape) {
                        loss = mlpLoss(x, labels, w1, b1, w2, b2);
                    }
                    List<Tensor> grads = tape.gradient(loss, params);
                    for (int i = 0; i < params.size(); i++) {
                        params.get(i).assignSub(grads.get(i).mul(0.5));
                    }
                    if (step == 0) {
                        firstLoss = loss.doubleValue();
                    }
                    if (step == 299) {
                        lastLoss = loss.doubleValue();
                    }
                }
                if (step == 0) {
                    afterFirst = device.stats();
                }
            }
            DeviceStats end = device.stats();
            assertBuffersBack(afterFirst, end, "after 299 more steps");
            assertTrue(end.allocations() - afterFirst.allocations() > 299, "the loop did allocate");
            assertTrue(lastLoss < firstLoss, "training lowers the loss: " + firstLoss + " -> " + lastLoss);
        }
    }

    /**
     * Several threads on one device at once, each with its own tapes, scopes and tensors: the
     * device serialises its backend calls, tapes are per thread, and every answer is right.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void threadsShareADevice(Device device) throws Exception {
        DeviceStats before = device.stats();
        int threads = 4;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                float c = t + 1;
                done.add(pool.submit(() -> {
                    for (int step = 0; step < 25; step++) {
                        try (Device.Scope d = Device.use(device); TensorScope scope = new TensorScope()) {
                            Tensor x = Spool.constant(new float[] {1, 2, 3}).mul(c); // c, 2c, 3c
                            GradientTape tape = new GradientTape();
                            Tensor y;
                            try (tape) {
                                tape.watch(x);
                                y = x.mul(x).mul(c).sum(); // c * sum(x^2): dy/dx = 2 c x
                            }
                            assertArrayEquals(new float[] {2 * c * c, 4 * c * c, 6 * c * c},
                                    tape.gradient(y, x).toFloatArray(), 1e-4f * c * c);
                            assertEquals(14 * c * c * c, y.floatValue(), 1e-4f * c * c * c);
                        }
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : done) {
                f.get(60, java.util.concurrent.TimeUnit.SECONDS); // rethrows a thread's assertion
            }
        } finally {
            pool.shutdownNow();
        }
        assertBuffersBack(before, device.stats(), "after every thread closed its scopes");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void backwardOfACubeMakesNoTransfers(Device device) {
        try (TestDevices.On on = TestDevices.on(device); Variable x = new Variable(Spool.constant(new float[] {1, 2}))) {
            GradientTape tape = new GradientTape();
            Tensor y;
            try (tape) {
                y = x.mul(x).mul(x);
            }
            device.synchronize();
            DeviceStats before = device.stats();
            Tensor g = tape.gradient(y, x);
            device.synchronize();
            DeviceStats delta = device.stats().minus(before);
            assertEquals(0, delta.hostToDeviceCalls(), "host to device copies during gradient");
            assertEquals(0, delta.deviceToHostCalls(), "device to host copies during gradient");
            assertEquals(0, delta.hostToDeviceBytes() + delta.deviceToHostBytes());
            assertTrue(delta.allocations() > 0, "the backward pass ran on the device");
            assertArrayEquals(new float[] {3, 12}, g.toFloatArray());
            assertEquals(1, device.stats().minus(before).deviceToHostCalls(), "reading the answer is one transfer");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void backwardOfAnMlpLossMakesNoTransfers(Device device) {
        try (TestDevices.On on = TestDevices.on(device);
             Variable w1 = new Variable(Spool.randomNormal(s(5, 7), 1), "w1");
             Variable b1 = new Variable(Spool.zeros(7), "b1");
             Variable w2 = new Variable(Spool.randomNormal(s(7, 3), 2), "w2");
             Variable b2 = new Variable(Spool.zeros(3), "b2")) {
            Tensor x = Spool.randomNormal(s(6, 5), 3);
            Tensor labels = Spool.oneHot(Spool.constant(new int[] {0, 1, 2, 0, 1, 2}), 3);
            GradientTape tape = new GradientTape();
            Tensor loss;
            try (tape) {
                loss = mlpLoss(x, labels, w1, b1, w2, b2);
            }
            device.synchronize();
            DeviceStats before = device.stats();
            List<Tensor> grads = tape.gradient(loss, List.of(w1, b1, w2, b2));
            device.synchronize();
            DeviceStats delta = device.stats().minus(before);
            assertEquals(0, delta.transfers(), "host<->device copies during gradient: " + delta);
            assertEquals(List.of(s(5, 7), s(7), s(7, 3), s(3)), grads.stream().map(Tensor::shape).toList());
            for (Tensor g : grads) {
                assertEquals(device, g.device());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void backwardOfEveryOpMakesNoTransfers(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.randomUniform(s(4, 3), 5, 0.5, 2, FLOAT32);
            Tensor y = Spool.randomUniform(s(3), 6, -1, 1, FLOAT32);
            Tensor idx = Spool.constant(new int[] {2, 0, 2});
            Tensor labels = Spool.oneHot(Spool.constant(new int[] {0, 1, 2, 1}), 3);
            GradientTape tape = new GradientTape();
            Tensor loss;
            try (tape) {
                tape.watch(x, y);
                Tensor a = x.gather(idx, 0).add(x.transpose().reshape(-1).slice(new int[] {1}, new int[] {9}).reshape(3, 3));
                Tensor b = Spool.concat(List.of(a, x.tile(1, 1)), 0).max(new int[] {0}, true).mul(y.broadcastTo(2, 3).min(0));
                Tensor c = Spool.stack(List.of(x.prod(0), x.mean(0), x.sqrt().rsqrt().sum(0)), 0).pow(y.abs().add(1));
                Tensor d = Spool.where(x.greater(1), x.sigmoid(), x.softplus()).maximum(x.log().exp().sin().cos())
                        .minimum(x.tanh().square().reciprocal()).relu();
                Tensor e = Spool.softmaxCrossEntropyWithLogits(labels, d.logSoftmax(-1).add(d.softmax(0))).sum();
                loss = b.sum().add(c.sum()).add(e).add(x.cast(FLOAT32).div(y.sub(2)).neg().identity().sum());
            }
            device.synchronize();
            DeviceStats before = device.stats();
            List<Tensor> grads = tape.gradient(loss, List.of(x, y));
            device.synchronize();
            DeviceStats delta = device.stats().minus(before);
            assertEquals(0, delta.transfers(), "host<->device copies during gradient: " + delta);
            assertEquals(s(4, 3), grads.get(0).shape());
            assertEquals(s(3), grads.get(1).shape());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void statsCountAllocationsAndTransfers(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            DeviceStats before = device.stats();
            Tensor t = Spool.constant(new float[] {1, 2, 3});
            DeviceStats afterWrite = device.stats().minus(before);
            assertEquals(1, afterWrite.hostToDeviceCalls());
            assertEquals(12, afterWrite.hostToDeviceBytes());
            assertEquals(1, afterWrite.allocations());
            t.toFloatArray();
            DeviceStats afterRead = device.stats().minus(before);
            assertEquals(1, afterRead.deviceToHostCalls());
            assertEquals(12, afterRead.deviceToHostBytes());
            Spool.zeros(4).exp();
            assertEquals(afterRead.transfers(), device.stats().minus(before).transfers(), "fills and ops copy nothing");
            assertNotEquals(0, device.stats().liveBytes());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void integerDTypesSurviveTheRoundTrip(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            for (DType dt : new DType[] {INT32, INT64, DType.BOOL, FLOAT32}) {
                Tensor t = Spool.constant(new double[] {0, 1, 1, 0}, s(2, 2), dt);
                assertExact(t.transpose(), s(2, 2), dt, 0, 1, 1, 0);
            }
        }
    }
}
