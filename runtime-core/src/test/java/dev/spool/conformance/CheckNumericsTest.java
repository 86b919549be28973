package dev.spool.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.NumericsException;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.testing.TestDevices;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Check-numerics mode on every device: a NaN made deep in a model's backward pass (the gradient
 * of sqrt at 0, 1/0 = Inf, meeting relu's zero gradient at 0: 0·Inf = NaN) names the forward op
 * whose VJP made it and the line that recorded it; a forward Inf names its op and the caller's
 * line; finite programs pass untouched; nothing is checked when the mode is off.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try") // scopes are opened for their effect
class CheckNumericsTest {

    @AfterEach
    void off() {
        Spool.disableCheckNumerics();
    }

    private static int nextLine() {
        return new Throwable().getStackTrace()[1].getLineNumber() + 1;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aNanDeepInTheBackwardPassNamesTheForwardOpAndTheLineThatRecordedIt(Device device) {
        try (TestDevices.On on = TestDevices.on(device);
                Variable w = new Variable(Spool.constant(new float[][] {{0.5f, -1}, {2, 0.25f}, {-0.75f, 1}}))) {
            Tensor x = Spool.constant(new float[][] {{0, 1, 4}, {9, 0, 2}});
            Spool.enableCheckNumerics();
            GradientTape tape = new GradientTape();
            Tensor loss;
            int sqrtLine;
            try (tape) {
                tape.watch(x);
                sqrtLine = nextLine();
                Tensor h = x.sqrt().relu(); // at x = 0: sqrt 0, relu's gradient 0
                loss = h.matmul(w).tanh().square().mean();
            }
            assertTrue(Double.isFinite(loss.doubleValue()), "the forward pass is finite");
            NumericsException e = assertThrows(NumericsException.class, () -> tape.gradient(loss, x));
            assertEquals("sqrt", e.forwardOp(), e.getMessage());
            assertEquals("div", e.op(), e.getMessage()); // sqrt's VJP: g * 0.5 / sqrt(x) = 0 / 0
            assertTrue(e.getMessage().contains("produced NaN (first at flat index 0 of its float32 (2, 3) output)"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("VJP of forward op 'sqrt', recorded at "
                    + getClass().getName() + ".aNanDeepInTheBackwardPassNamesTheForwardOpAndTheLineThatRecordedIt"
                    + "(CheckNumericsTest.java:" + sqrtLine + ")"), e.getMessage());
            assertTrue(e.getMessage().contains("from inputs [float32 (2, 3), float32 (2, 3)]"), e.getMessage());
            // the cause carries the whole stack of the recording, as PyTorch's anomaly mode prints it
            assertNotNull(e.getCause());
            assertEquals("forward op 'sqrt' was recorded here", e.getCause().getMessage());
            assertEquals(sqrtLine, firstFrameOf(e.getCause(), "CheckNumericsTest").getLineNumber());
            // this exception's own stack is the gradient call's
            assertNotNull(firstFrameOf(e, "CheckNumericsTest"));
        }
    }

    private static StackTraceElement firstFrameOf(Throwable t, String simpleClass) {
        for (StackTraceElement f : t.getStackTrace()) {
            if (f.getClassName().endsWith("." + simpleClass)) {
                return f;
            }
        }
        return null;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void anInfInTheForwardPassNamesTheOpItsInputsAndTheCaller(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(new float[] {1, 0, 2});
            Spool.enableCheckNumerics();
            int line = nextLine();
            NumericsException e = assertThrows(NumericsException.class, () -> x.log());
            assertEquals("log", e.op());
            assertNull(e.forwardOp());
            assertNull(e.getCause());
            assertTrue(e.getMessage().startsWith("check-numerics: op 'log' produced -Inf (first at flat index 1 of its"
                    + " float32 (3,) output) from inputs [float32 (3,)]; called from " + getClass().getName() + "."),
                    e.getMessage());
            assertTrue(e.getMessage().endsWith("(CheckNumericsTest.java:" + line + ")"), e.getMessage());
            // a NaN in float64 too, and division
            if (device.supportsFloat64()) {
                Tensor z = Spool.constant(new double[] {0, 3});
                NumericsException d = assertThrows(NumericsException.class, () -> z.div(z));
                assertTrue(d.getMessage().startsWith("check-numerics: op 'div' produced NaN (first at flat index 0 "
                        + "of its float64 (2,) output) from inputs [float64 (2,), float64 (2,)]"), d.getMessage());
            }
        }
    }

    /** The fused optimizer updates are checked too, before any variable changes. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void anUpdateThatWouldStoreAnInfChangesNoVariable(Device device) {
        try (TestDevices.On on = TestDevices.on(device);
                Variable w = new Variable(Spool.constant(new float[] {1, 2}))) {
            Tensor g = Spool.constant(new float[] {0, -3e38f}); // finite; 2 - 2 · g is not
            Spool.enableCheckNumerics();
            NumericsException e = assertThrows(NumericsException.class, () -> Spool.applyGradientDescent(w, 2, g));
            assertEquals("applyGradientDescent", e.op(), e.getMessage());
            assertTrue(e.getMessage().contains("produced +Inf (first at flat index 1"), e.getMessage());
            dev.spool.testing.TensorAssert.assertExact(w.value(), Shape.of(2), dev.spool.DType.FLOAT32, 1, 2);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void finiteProgramsPassAndTheModeOffChecksNothing(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(new float[][] {{1, 2, 3}, {4, 5, 6}});
            Spool.enableCheckNumerics();
            assertTrue(Spool.isCheckNumericsEnabled());
            Tensor g;
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                Tensor y = x.sqrt().mul(x).softmax(1).sum();
                g = tape.gradient(y, x);
            }
            assertEquals(Shape.of(2, 3), g.shape());
            // integer and bool outputs are not floating: never checked
            Spool.constant(new int[] {1, 2}).mul(Spool.constant(new int[] {3, 4}));
            Spool.disableCheckNumerics();
            assertFalse(Spool.isCheckNumericsEnabled());
            double v = x.sub(x.add(1)).log().sum().doubleValue(); // log of -1: NaN, unchecked
            assertTrue(Double.isNaN(v));
        }
    }
}
