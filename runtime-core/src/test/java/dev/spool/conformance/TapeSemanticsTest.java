package dev.spool.conformance;

import static dev.spool.DType.FLOAT32;
import static dev.spool.testing.TensorAssert.assertClose;
import static dev.spool.testing.TensorAssert.assertExact;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.DTypeException;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.UsageException;
import dev.spool.UnconnectedGradients;
import dev.spool.Variable;
import dev.spool.testing.TestDevices;
import java.util.List;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * GradientTape behaves as TensorFlow's {@code tf.GradientTape}: the autodiff tutorial step by
 * step, watching, persistence, unconnected sources, nesting, pausing, variables, output gradients
 * and Jacobians.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try") // scopes (device, tensors, pauses) are opened for their effect
class TapeSemanticsTest {

    private static Shape s(int... dims) {
        return Shape.of(dims);
    }

    // ---- the tutorial -----------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void tutorialGradientOfSumSquared(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.ones(2, 2);
            Tensor y;
            Tensor z;
            GradientTape t = new GradientTape();
            try (t) {
                t.watch(x);
                y = Spool.reduceSum(x);
                z = Spool.multiply(y, y);
            }
            assertExact(z, s(), FLOAT32, 16);
            assertEquals("Tensor(16.0, shape=(), dtype=float32, device=" + device.id() + ")", z.toString());
            // The tape answers after its block closed, as TF's does after the with-block.
            Tensor dzDx = t.gradient(z, x);
            assertExact(dzDx, s(2, 2), FLOAT32, 8, 8, 8, 8);
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    assertEquals(8.0f, dzDx.getFloat(i, j));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void gradientWithRespectToAnIntermediate(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.ones(2, 2);
            Tensor y;
            Tensor z;
            GradientTape t = new GradientTape();
            try (t) {
                t.watch(x);
                y = Spool.reduceSum(x);
                z = Spool.multiply(y, y);
            }
            assertExact(t.gradient(z, y), s(), FLOAT32, 8);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void persistentTapeAnswersManyTimes(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(3.0);
            Tensor y;
            Tensor z;
            GradientTape t = new GradientTape(true);
            try (t) {
                t.watch(x);
                y = x.mul(x);
                z = y.mul(y);
            }
            assertTrue(t.isPersistent());
            assertExact(t.gradient(z, x), s(), FLOAT32, 108);
            assertExact(t.gradient(y, x), s(), FLOAT32, 6);
            assertExact(t.gradient(z, x), s(), FLOAT32, 108);
            assertExact(t.gradient(z, y), s(), FLOAT32, 18);
            List<Tensor> both = t.gradient(z, List.of(x, y));
            assertExact(both.get(0), s(), FLOAT32, 108);
            assertExact(both.get(1), s(), FLOAT32, 18);
            t.reset();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void nonPersistentTapeAnswersOnce(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(3.0);
            Tensor y;
            GradientTape t = new GradientTape();
            try (t) {
                t.watch(x);
                y = x.mul(x);
            }
            assertFalse(t.isPersistent());
            assertExact(t.gradient(y, x), s(), FLOAT32, 6);
            UsageException e = assertThrows(UsageException.class, () -> t.gradient(y, x));
            assertTrue(e.getMessage().contains("non-persistent"), e.getMessage());
            UsageException j = assertThrows(UsageException.class, () -> t.jacobian(y, x));
            assertTrue(j.getMessage().contains("non-persistent"), j.getMessage());
        }
    }

    /** The tutorial's f(x, y): multiplies by x for 1 < i < 5, i < y. */
    private static Tensor f(Tensor x, int y) {
        Tensor output = Spool.constant(1.0);
        for (int i = 0; i < y; i++) {
            if (i > 1 && i < 5) {
                output = Spool.multiply(output, x);
            }
        }
        return output;
    }

    private static Tensor grad(Tensor x, int y) {
        GradientTape t = new GradientTape();
        Tensor out;
        try (t) {
            t.watch(x);
            out = f(x, y);
        }
        return t.gradient(out, x);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void controlFlowIsRecordedAsItRuns(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.convertToTensor(2.0);
            assertEquals(12.0f, grad(x, 6).floatValue());
            assertEquals(12.0f, grad(x, 5).floatValue());
            assertEquals(4.0f, grad(x, 4).floatValue());
            assertEquals(1.0f, grad(x, 3).floatValue());
            // No multiplication at all: the output does not depend on x.
            assertNull(grad(x, 2));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void nestedTapesGiveHigherOrderGradients(Device device) {
        try (TestDevices.On on = TestDevices.on(device); Variable x = new Variable(Spool.constant(1.0))) {
            GradientTape t = new GradientTape();
            Tensor dyDx;
            try (t) {
                GradientTape t2 = new GradientTape();
                Tensor y;
                try (t2) {
                    y = x.mul(x).mul(x);
                }
                dyDx = t2.gradient(y, x); // computed inside t's block: t records it
            }
            Tensor d2yDx2 = t.gradient(dyDx, x);
            assertExact(dyDx, s(), FLOAT32, 3);
            assertExact(d2yDx2, s(), FLOAT32, 6);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void threeNestedTapesGiveTheThirdDerivative(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(2.0);
            GradientTape t1 = new GradientTape();
            GradientTape t2 = new GradientTape();
            GradientTape t3 = new GradientTape();
            Tensor d1;
            Tensor d2;
            try (t1) {
                try (t2) {
                    Tensor y;
                    try (t3) {
                        t1.watch(x);
                        t2.watch(x);
                        t3.watch(x);
                        y = x.pow(3).add(x.sin()); // y' = 3x^2 + cos x, y'' = 6x - sin x, y''' = 6 - cos x
                    }
                    d1 = t3.gradient(y, x);    // recorded by t2 and t1
                }
                d2 = t2.gradient(d1, x);       // recorded by t1
            }
            Tensor d3 = t1.gradient(d2, x);
            assertClose(d1, s(), FLOAT32, new double[] {12 + Math.cos(2)}, 1e-6, 1e-6);
            assertClose(d2, s(), FLOAT32, new double[] {12 - Math.sin(2)}, 1e-6, 1e-6);
            assertClose(d3, s(), FLOAT32, new double[] {6 - Math.cos(2)}, 1e-6, 1e-6);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void gradientOfAGradientWithAPersistentInnerTape(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(new float[] {1, 2});
            Tensor y = Spool.constant(new float[] {3, -1});
            GradientTape outer = new GradientTape(true);
            Tensor gx;
            Tensor gy;
            try (outer) {
                outer.watch(x, y);
                GradientTape inner = new GradientTape(true);
                Tensor z;
                try (inner) {
                    inner.watch(x, y);
                    z = x.mul(x).mul(y).sum(); // z = sum(x^2 y)
                }
                gx = inner.gradient(z, x); // 2xy
                gy = inner.gradient(z, y); // x^2
                inner.reset();
            }
            assertExact(gx, s(2), FLOAT32, 6, -4);
            assertExact(gy, s(2), FLOAT32, 1, 4);
            assertExact(outer.gradient(gx, x), s(2), FLOAT32, 6, -2);  // d/dx sum(2xy) = 2y
            assertExact(outer.gradient(gx, y), s(2), FLOAT32, 2, 4);   // 2x
            assertExact(outer.gradient(gy, x), s(2), FLOAT32, 2, 4);   // 2x
            assertNull(outer.gradient(gy, y));                          // x^2 does not depend on y
            outer.reset();
        }
    }

    // ---- what is watched --------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void unconnectedSourcesGiveNullOrZeros(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(new float[] {1, 2});
            Tensor unrelated = Spool.constant(new float[][] {{5, 6, 7}});
            Tensor unwatched = Spool.constant(2f);
            Tensor y;
            GradientTape t = new GradientTape(true);
            try (t) {
                t.watch(x, unrelated);
                y = x.mul(2).sum();
                unrelated.mul(unwatched); // recorded (unrelated is watched) but not on y's path
            }
            assertNull(t.gradient(y, unrelated));
            assertNull(t.gradient(y, unwatched));
            List<Tensor> g = t.gradient(y, List.of(x, unrelated, unwatched), null, UnconnectedGradients.ZERO);
            assertExact(g.get(0), s(2), FLOAT32, 2, 2);
            assertExact(g.get(1), s(1, 3), FLOAT32, 0, 0, 0);
            assertExact(g.get(2), s(), FLOAT32, 0);
            List<Tensor> n = t.gradient(y, List.of(x, unrelated), null, UnconnectedGradients.NONE);
            assertNotNull(n.get(0));
            assertNull(n.get(1));
            t.reset();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void stopRecordingPausesTheTape(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(3f);
            Tensor y;
            Tensor z;
            Tensor w;
            GradientTape t = new GradientTape(true);
            try (t) {
                t.watch(x);
                y = x.mul(x);
                try (GradientTape.Pause p = t.stopRecording()) {
                    z = y.mul(10); // not recorded
                }
                w = y.mul(x);      // recorded again
            }
            assertExact(z, s(), FLOAT32, 90);
            assertNull(t.gradient(z, x));
            assertExact(t.gradient(w, x), s(), FLOAT32, 27);
            t.reset();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void stopGradientCutsThePath(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(3f);
            Tensor y;
            Tensor z;
            GradientTape t = new GradientTape(true);
            try (t) {
                t.watch(x);
                y = x.mul(x.stopGradient()); // d/dx = x, not 2x
                z = Spool.stopGradient(x.square());
            }
            assertExact(t.gradient(y, x), s(), FLOAT32, 3);
            assertNull(t.gradient(z, x));
            assertExact(t.gradient(z, List.of(x), null, UnconnectedGradients.ZERO).get(0), s(), FLOAT32, 0);
            t.reset();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void variablesAreWatchedWhenRead(Device device) {
        try (TestDevices.On on = TestDevices.on(device);
             Variable w = new Variable(Spool.constant(new float[] {2, -1}), "w");
             Variable frozen = new Variable(Spool.constant(5f), "frozen", false);
             Variable unread = new Variable(Spool.constant(1f), "unread");
             Variable bias = new Variable(Spool.constant(0.5f), "bias")) {
            Tensor loss;
            GradientTape t = new GradientTape();
            try (t) {
                Tensor b = bias.value(); // read first
                loss = b.add(w.mul(frozen).sum());
            }
            assertEquals(List.of(bias, w), t.watchedVariables()); // read and trainable, in the order read
            List<Tensor> g = t.gradient(loss, List.of(w, frozen, unread, bias));
            assertExact(g.get(0), s(2), FLOAT32, 5, 5);
            assertNull(g.get(1)); // not trainable: not watched
            assertNull(g.get(2)); // never read
            assertExact(g.get(3), s(), FLOAT32, 1);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void watchAccessedVariablesFalseWatchesOnlyWhatIsAsked(Device device) {
        try (TestDevices.On on = TestDevices.on(device);
             Variable a = new Variable(Spool.constant(2f), "a");
             Variable b = new Variable(Spool.constant(3f), "b")) {
            Tensor y;
            GradientTape t = new GradientTape(true, false);
            try (t) {
                t.watch(b);
                y = a.mul(b).mul(b);
            }
            assertEquals(List.of(b), t.watchedVariables());
            assertNull(t.gradient(y, a));
            assertExact(t.gradient(y, b), s(), FLOAT32, 12); // d(a b^2)/db = 2ab
            t.reset();
            assertTrue(t.watchedVariables().isEmpty());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void variableReadSeveralTimesSumsItsGradients(Device device) {
        try (TestDevices.On on = TestDevices.on(device); Variable v = new Variable(Spool.constant(3f))) {
            Tensor y;
            GradientTape t = new GradientTape();
            try (t) {
                y = v.mul(v).add(v.value().mul(2)).add(Spool.square(v)); // v^2 + 2v + v^2
            }
            assertExact(t.gradient(y, v), s(), FLOAT32, 14); // 4v + 2
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void assignedValuesAreNotRecorded(Device device) {
        try (TestDevices.On on = TestDevices.on(device); Variable v = new Variable(Spool.constant(3f))) {
            Tensor before;
            Tensor after;
            Tensor total;
            GradientTape t = new GradientTape(true);
            try (t) {
                before = v.mul(v);       // reads 3
                v.assignAdd(Spool.constant(1f));
                after = v.mul(v);        // reads 4
                total = before.add(after);
            }
            assertExact(before, s(), FLOAT32, 9);
            assertExact(after, s(), FLOAT32, 16);
            // The gradient with respect to v sums over every read: 2*3 from before, 2*4 from after.
            assertExact(t.gradient(total, v), s(), FLOAT32, 14);
            // An op after the tape stopped recording is not on the tape.
            assertNull(t.gradient(before.add(after), v));
            assertExact(t.gradient(after, v), s(), FLOAT32, 8);
            t.reset();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void watchingAnIntegerTensorIsIgnored(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor i = Spool.constant(new int[] {1, 2});
            Tensor x = Spool.constant(new float[] {1, 2});
            Tensor y;
            GradientTape t = new GradientTape(true);
            try (t) {
                t.watch(i, x);
                y = i.cast(FLOAT32).mul(x).sum();
            }
            assertNull(t.gradient(y, i));
            assertExact(t.gradient(y, x), s(2), FLOAT32, 1, 2);
            Tensor zeros = t.gradient(y, List.of(i), null, UnconnectedGradients.ZERO).get(0);
            assertExact(zeros, s(2), DType.INT32, 0, 0);
            t.reset();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void resetForgetsAndKeepsRecording(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(2f);
            GradientTape t = new GradientTape(true);
            try (t) {
                t.watch(x);
                Tensor y = x.mul(x);
                t.reset();
                assertNull(t.gradient(y, x)); // forgotten, x no longer watched
                t.watch(x);
                Tensor z = x.mul(x).mul(x);
                assertExact(t.gradient(z, x), s(), FLOAT32, 12);
            }
            t.reset();
            // A non-persistent tape can answer again after a reset.
            GradientTape once = new GradientTape();
            try (once) {
                once.watch(x);
                Tensor y = x.exp();
                assertNotNull(once.gradient(y, x));
                once.reset();
                once.watch(x);
                Tensor z = x.square();
                assertExact(once.gradient(z, x), s(), FLOAT32, 4);
            }
        }
    }

    // ---- targets, output gradients, Jacobians -----------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void nonScalarTargetIsSummed(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(new float[] {1, 2, 3});
            Tensor y;
            GradientTape t = new GradientTape();
            try (t) {
                t.watch(x);
                y = x.square().reshape(3, 1).mul(Spool.constant(new float[] {1, 10})); // (3, 2)
            }
            assertExact(t.gradient(y, x), s(3), FLOAT32, 22, 44, 66); // d sum(11 x^2) = 22 x
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void outputGradientWeightsTheTarget(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(new float[] {1, 2, 3});
            Tensor y;
            GradientTape t = new GradientTape(true);
            try (t) {
                t.watch(x);
                y = x.square();
            }
            Tensor weights = Spool.constant(new float[] {1, 0, -2});
            List<Tensor> g = t.gradient(y, List.of(x), weights, UnconnectedGradients.NONE);
            assertExact(g.get(0), s(3), FLOAT32, 2, 0, -12);
            ShapeException shape = assertThrows(ShapeException.class,
                    () -> t.gradient(y, List.of(x), Spool.ones(2), UnconnectedGradients.NONE));
            assertTrue(shape.getMessage().contains("(2,)") && shape.getMessage().contains("(3,)"), shape.getMessage());
            DTypeException dtype = assertThrows(DTypeException.class,
                    () -> t.gradient(y, List.of(x), Spool.constant(new int[] {1, 1, 1}), UnconnectedGradients.NONE));
            assertTrue(dtype.getMessage().contains("int32") && dtype.getMessage().contains("float32"), dtype.getMessage());
            t.reset();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void jacobianOfAVectorFunction(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            float x0 = 1.5f;
            float x1 = -0.5f;
            Tensor x = Spool.constant(new float[] {x0, x1});
            Tensor y;
            GradientTape t = new GradientTape();
            try (t) {
                t.watch(x);
                Tensor a = x.slice(new int[] {0}, new int[] {1});
                Tensor b = x.slice(new int[] {1}, new int[] {1});
                // y = [x0^2, x0 x1, sin x1]
                y = Spool.concat(List.of(a.square(), a.mul(b), b.sin()), 0);
            }
            Tensor j = t.jacobian(y, x);
            double[] expected = {
                2 * x0, 0,
                x1, x0,
                0, Math.cos(x1)};
            assertClose(j, s(3, 2), FLOAT32, expected, 1e-6, 1e-7);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void jacobianShapesAndUnconnected(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(new float[][] {{1, 2}, {3, 4}});
            Tensor other = Spool.constant(new float[] {1, 1, 1});
            Tensor y;
            GradientTape t = new GradientTape(true);
            try (t) {
                t.watch(x, other);
                y = x.mul(Spool.constant(new float[] {10, 100})).sum(0); // y_j = sum_i x_ij * c_j
            }
            Tensor j = t.jacobian(y, x);
            assertExact(j, s(2, 2, 2), FLOAT32,
                    10, 0, 10, 0,    // dy0/dx
                    0, 100, 0, 100); // dy1/dx
            assertNull(t.jacobian(y, other));
            assertExact(t.jacobian(y, other, UnconnectedGradients.ZERO), s(2, 3), FLOAT32, 0, 0, 0, 0, 0, 0);
            Tensor total;
            Tensor empty;
            GradientTape u = new GradientTape(true);
            try (u) {
                u.watch(x);
                total = x.square().sum();                       // a scalar target
                empty = x.slice(new int[] {0, 0}, new int[] {0, 2}).mul(2); // a target with no elements
            }
            assertExact(u.jacobian(total, x), s(2, 2), FLOAT32, 2, 4, 6, 8);
            assertExact(u.jacobian(empty, x), s(0, 2, 2, 2), FLOAT32); // connected, with no elements
            assertNull(u.jacobian(empty, other));
            assertExact(u.jacobian(x, x), s(2, 2, 2, 2), FLOAT32,
                    1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1);
            u.reset();
            t.reset();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void targetThatIsTheSourceAndRepeatedSources(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(new float[] {1, 2});
            Tensor y;
            GradientTape t = new GradientTape(true);
            try (t) {
                t.watch(x);
                y = x.mul(3);
            }
            assertExact(t.gradient(x, x), s(2), FLOAT32, 1, 1);
            List<Tensor> g = t.gradient(y, List.of(x, x));
            assertExact(g.get(0), s(2), FLOAT32, 3, 3);
            assertExact(g.get(1), s(2), FLOAT32, 3, 3);
            t.reset();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void gradientsLiveOnTheSourceDeviceWithTheSourceDtype(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(new float[] {1, 2});
            Tensor y;
            GradientTape t = new GradientTape();
            try (t) {
                t.watch(x);
                y = x.exp().sum();
            }
            Tensor g = t.gradient(y, x);
            assertEquals(device, g.device());
            assertEquals(FLOAT32, g.dtype());
            assertClose(g, s(2), FLOAT32, new double[] {Math.E, Math.exp(2)}, 1e-6, 0);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void closingUserTensorsDoesNotBreakTheTape(Device device) {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = Spool.constant(new float[] {1, 2});
            Tensor y;
            Tensor z;
            GradientTape t = new GradientTape();
            try (t) {
                t.watch(x);
                y = x.sin();
                z = y.mul(y).sum();
            }
            y.close(); // the tape holds its own references to what the backward pass needs
            assertClose(t.gradient(z, x), s(2), FLOAT32,
                    new double[] {Math.sin(2 * 1.0), Math.sin(2 * 2.0)}, 1e-5, 1e-6);
        }
    }
}
