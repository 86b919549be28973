package dev.spool.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Operand;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UnconnectedGradients;
import dev.spool.Variable;
import dev.spool.testing.TestDevices;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A {@code null} argument, or a {@code null} element of a list or array argument, is a
 * {@link NullPointerException} whose message names the op and the argument. Spool checks these
 * itself: the JVM's helpful messages (JEP 358) disappear once C2 compiles a site that throws
 * often (a preallocated exception with no message, {@code OmitStackTraceInFastThrow}), which
 * made {@link BadInputSweepTest} fail at random before. {@link BadInputSweepTest} covers every
 * public method; this table pins the wording, and {@link #theMessageSurvivesTheJit} calls the
 * same sites until they are compiled.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try")
class NullArgumentTest {

    static Tensor m23() {
        return Spool.constant(new float[][] {{1, 2, 3}, {4, 5, 6}});
    }

    /** A call with a null somewhere, and the whole message it must throw. */
    record Row(String message, Runnable call) {
        @Override
        public String toString() {
            return message;
        }
    }

    static final List<Row> ROWS = List.of(
            new Row("add: other is null", () -> m23().add(null)),
            new Row("matmul: other is null", () -> m23().matmul(null, false, true)),
            new Row("gather: indices is null", () -> m23().gather(null, 0)),
            new Row("add: a is null", () -> Spool.add(null, m23())),
            new Row("add: b is null", () -> Spool.add(m23(), null)),
            new Row("where: cond is null", () -> Spool.where(null, m23(), m23())),
            new Row("subtract: b is null", () -> Spool.subtract(m23(), null)),
            new Row("reduceSum: x is null", () -> Spool.reduceSum(null, 0)),
            new Row("cast: dtype is null", () -> m23().cast(null)),
            new Row("cast: x is null", () -> Spool.cast(null, DType.FLOAT64)),
            new Row("reshape: dims is null", () -> m23().reshape((int[]) null)),
            new Row("slice: size is null", () -> m23().slice(new int[] {0, 0}, null)),
            new Row("concat: parts is null", () -> Spool.concat(null, 0)),
            new Row("concat: parts[1] is null", () -> Spool.concat(Arrays.asList(m23(), null), 0)),
            new Row("stack: parts[0] is null", () -> Spool.stack(Arrays.asList(null, m23()), 0)),
            new Row("zeros: shape is null", () -> Spool.zeros(null, DType.FLOAT32)),
            new Row("zeros: dims is null", () -> Spool.zeros((int[]) null)),
            new Row("randomNormal: dtype is null", () -> Spool.randomNormal(Shape.of(2), 1, 0, 1, null)),
            new Row("Shape.of: dims is null", () -> Shape.of((int[]) null)),
            new Row("to: device is null", () -> m23().to(null)),
            new Row("Device.use: device is null", () -> Device.use((Device) null)),
            new Row("TensorScope.keep: t is null", () -> {
                try (TensorScope scope = new TensorScope()) {
                    scope.keep(null);
                }
            }),
            new Row("Variable: initialValue is null", () -> new Variable(null, "w")),
            new Row("assign: newValue is null", () -> {
                try (Variable v = new Variable(m23())) {
                    v.assign(null);
                }
            }),
            new Row("assignSub: delta is null", () -> {
                try (Variable v = new Variable(m23())) {
                    v.assignSub(null);
                }
            }),
            new Row("applyAdam: grad is null", () -> {
                try (Variable w = new Variable(m23()); Variable m = new Variable(Spool.zeros(2, 3));
                     Variable v = new Variable(Spool.zeros(2, 3))) {
                    Spool.applyAdam(w, m, v, 0.9, 0.999, 0.1, 0.9, 0.999, 1e-7, null);
                }
            }),
            new Row("GradientTape.watch: tensors[1] is null", () -> {
                try (GradientTape tape = new GradientTape()) {
                    tape.watch(m23(), null);
                }
            }),
            new Row("GradientTape.gradient: sources[1] is null", () -> {
                Tensor x = m23();
                try (GradientTape tape = new GradientTape()) {
                    tape.watch(x);
                    tape.gradient(x.mul(x), Arrays.asList(x, null));
                }
            }),
            new Row("GradientTape.gradient: unconnected is null", () -> {
                Tensor x = m23();
                try (GradientTape tape = new GradientTape()) {
                    tape.watch(x);
                    tape.gradient(x.mul(x), List.of(x), null, null);
                }
            }),
            new Row("GradientTape.jacobian: source is null", () -> {
                Tensor x = m23();
                try (GradientTape tape = new GradientTape()) {
                    tape.watch(x);
                    tape.jacobian(x.mul(x), null);
                }
            }));

    static Stream<Arguments> rows() {
        return TestDevices.withEach(ROWS);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("rows")
    void nullIsNamed(Device device, Row row) {
        try (TestDevices.On on = TestDevices.on(device)) {
            NullPointerException e = assertThrows(NullPointerException.class, row.call()::run);
            assertEquals(row.message(), e.getMessage());
        }
    }

    /** A non-persistent tape asked with a null argument is not used up by it. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aNullArgumentDoesNotConsumeTheTape(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = m23();
            GradientTape tape = new GradientTape();
            Tensor y;
            try (tape) {
                tape.watch(x);
                y = x.mul(x).sum();
            }
            assertThrows(NullPointerException.class, () -> tape.gradient(y, (Operand) null));
            assertEquals(12f, tape.gradient(y, x).getFloat(1, 2));
        }
    }

    /**
     * The same null, thrown from the same sites until C2 has compiled them: every exception still
     * carries its message (an implicit null dereference there loses it; see the class comment).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void theMessageSurvivesTheJit(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = m23();
            List<Operand> withNull = Arrays.asList(x, null);
            for (int i = 0; i < 20_000; i++) {
                NullPointerException a = assertThrows(NullPointerException.class, () -> x.add(null));
                NullPointerException b = assertThrows(NullPointerException.class, () -> Spool.concat(withNull, 0));
                NullPointerException c = assertThrows(NullPointerException.class,
                        () -> Spool.zeros(null, DType.FLOAT32));
                if (!"add: other is null".equals(a.getMessage()) || !"concat: parts[1] is null".equals(b.getMessage())
                        || !"zeros: shape is null".equals(c.getMessage())) {
                    throw new AssertionError("call " + i + ": " + a.getMessage() + " / " + b.getMessage() + " / "
                            + c.getMessage());
                }
            }
        }
    }
}
