package dev.spool.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.Device;
import dev.spool.DeviceStats;
import dev.spool.FaultyDevices;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.testing.TestDevices;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Ops that fail halfway, as a kernel that does not build or a device error makes them: the op
 * throws the backend's exception unchanged, no half-written result is visible (nothing is
 * returned, variables keep their values), no buffer is left behind (the live counters before and
 * after are equal), and the tape records on and differentiates correctly afterwards.
 */
@ExtendWith(TestDevices.Available.class)
class FaultsTest {

    /**
     * An op, the primitive to fail and at which of its calls (2 = after one call has run).
     * A {@code composite} op made tensors before the failing launch; like any intermediate
     * they belong to the enclosing scope, so the check closes one around the op first.
     */
    record Fault(String name, String primitive, int nth, boolean composite, OpCall op) {
        @Override
        public String toString() {
            return name;
        }
    }

    interface OpCall {
        Tensor run(Tensor x, Tensor w);
    }

    static final List<Fault> FAULTS = List.of(
            new Fault("exp: its one launch", "unary", 1, false, (x, w) -> x.exp()),
            new Fault("matmul", "matmul", 1, false, (x, w) -> x.matmul(w)),
            new Fault("concat: the second part's copy", "copy", 2, false, (x, w) -> Spool.concat(List.of(x, x, x), 0)),
            new Fault("constant: the host copy", "write", 1, false, (x, w) -> Spool.constant(new float[] {1, 2, 3})),
            new Fault("softmax: its one launch", "softmax", 1, false, (x, w) -> x.softmax(-1)),
            new Fault("softmax along axis 0: its one launch between views", "softmax", 1, true, (x, w) -> x.softmax(0)),
            new Fault("softmax cross-entropy: its one launch, two outputs", "softmaxCrossEntropy", 1, false,
                    (x, w) -> Spool.softmaxCrossEntropyWithLogits(x, x)),
            new Fault("softmax cross-entropy: the backward launch", "softmaxCrossEntropyGrad", 1, true, (x, w) -> {
                GradientTape tape = new GradientTape();
                Tensor loss;
                try (tape) {
                    tape.watch(x);
                    loss = Spool.softmaxCrossEntropyWithLogits(w.transpose(), x).sum();
                }
                return tape.gradient(loss, x);
            }),
            new Fault("mean: the division after the sum", "binary", 1, true, (x, w) -> x.mean(1)),
            new Fault("gradient: a launch of the backward pass", "matmul", 2, true, (x, w) -> {
                GradientTape tape = new GradientTape();
                Tensor loss;
                try (tape) {
                    tape.watch(w);
                    loss = x.matmul(w).tanh().sum();
                }
                return tape.gradient(loss, w);
            }));

    static Stream<Arguments> faults() {
        return TestDevices.withEach(FAULTS);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("faults")
    void aFailedOpLeavesNothingBehindAndTheTapeWorksOn(Device real, Fault fault) {
        FaultyDevices.Faulty faulty = FaultyDevices.wrap(real);
        Device device = faulty.device();
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope()) {
            Tensor x = Spool.constant(new double[] {0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, Shape.of(2, 3), DType.FLOAT32);
            Tensor w = Spool.constant(new double[] {1, -1, 0.5, 2, 0, 1}, Shape.of(3, 2), DType.FLOAT32);
            float[] expected;
            try (TensorScope once = new TensorScope()) {
                expected = fault.op().run(x, w).toFloatArray(); // the answer when nothing fails
            }
            GradientTape tape = new GradientTape(true);
            Tensor y;
            try (tape) {
                tape.watch(x);
                Tensor before = x.square(); // recorded before the fault
                DeviceStats start = device.stats();
                BackendException error = new BackendException("injected: CL_OUT_OF_RESOURCES in " + fault.primitive());
                faulty.backend().failOn(fault.primitive(), fault.nth(), error);
                BackendException thrown;
                if (fault.composite()) {
                    try (TensorScope inner = new TensorScope(); GradientTape.Pause p = tape.stopRecording()) {
                        thrown = assertThrows(BackendException.class, () -> fault.op().run(x, w));
                    }
                } else { // one primitive, recorded by the tape if it succeeded: nothing may outlive the throw
                    thrown = assertThrows(BackendException.class, () -> fault.op().run(x, w));
                }
                assertSame(error, thrown, "the backend's exception, unchanged");
                assertTrue(faulty.backend().fired());
                DeviceStats end = device.stats();
                assertEquals(start.liveBuffers(), end.liveBuffers(), "live buffers after the failed op");
                assertEquals(start.liveBytes(), end.liveBytes(), "live bytes after the failed op");
                y = before.mul(x).sum(); // sum(x^3), recorded after the fault
            }
            // The same op works now, and the tape differentiates what it recorded: d sum(x^3) = 3x^2.
            assertArrayEquals(expected, fault.op().run(x, w).toFloatArray(), 1e-6f);
            float[] xs = x.toFloatArray();
            float[] grad = tape.gradient(y, x).toFloatArray();
            for (int i = 0; i < xs.length; i++) {
                assertEquals(3 * xs[i] * xs[i], grad[i], 1e-5f, "d/dx sum(x^3) at " + i);
            }
            tape.reset();
        }
        assertEquals(0, device.stats().liveBuffers(), "every buffer of the faulty device went back");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aVariableWhoseUpdateFailsKeepsItsValue(Device real) {
        FaultyDevices.Faulty faulty = FaultyDevices.wrap(real);
        Device device = faulty.device();
        try (Device.Scope on = Device.use(device);
             Variable v = new Variable(Spool.constant(new float[] {1, 2, 3}), "v");
             TensorScope scope = new TensorScope()) {
            Tensor delta = Spool.constant(new float[] {1, 1, 1});
            DeviceStats start = device.stats();
            faulty.backend().failOn("binary", 1, new BackendException("injected device error"));
            assertThrows(BackendException.class, () -> v.assignSub(delta));
            assertEquals(start.liveBuffers(), device.stats().liveBuffers());
            assertArrayEquals(new float[] {1, 2, 3}, v.value().toFloatArray(), "no half-done update");
            v.assignSub(delta);
            assertArrayEquals(new float[] {0, 1, 2}, v.value().toFloatArray());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void oneHotOfANegativeDepthIsAnError(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope()) {
            Supplier<Tensor> bad = () -> Spool.oneHot(Spool.constant(new int[] {0, 1}), -1);
            ShapeException e = assertThrows(ShapeException.class, bad::get);
            assertTrue(e.getMessage().contains("oneHot") && e.getMessage().contains("-1")
                    && e.getMessage().contains("non-negative"), e.getMessage());
            assertEquals(Shape.of(2, 0), Spool.oneHot(Spool.constant(new int[] {0, 1}), 0).shape(),
                    "depth 0 is allowed, as in TensorFlow");
        }
    }
}
