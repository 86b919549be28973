package dev.spool.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.Device;
import dev.spool.DeviceStats;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UsageException;
import dev.spool.Variable;
import dev.spool.function.TensorSpec;
import dev.spool.function.TracedFunction;
import dev.spool.testing.Mlp;
import dev.spool.testing.TestDevices;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Traced functions ({@code Spool.function}) on every device: a replay gives what the body gives
 * eagerly, for a whole training step (tape, gradient, variable updates) over many calls; the
 * tf.function rules (side effects once, retracing per signature, variables only on the first
 * trace, host reads refused); memory flat over many replays with nothing allocated for
 * temporaries.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try")
class FunctionTest {

    /** The MLP step of the speed issues, written with plain ops. */
    private static Tensor plainStep(Mlp m) {
        List<Tensor> grads;
        Tensor loss;
        try (GradientTape tape = new GradientTape()) {
            Tensor h = Spool.relu(Spool.add(Spool.matmul(m.x, m.params.get(0)), m.params.get(1)));
            Tensor logits = Spool.add(Spool.matmul(h, m.params.get(2)), m.params.get(3));
            loss = Spool.reduceMean(Spool.softmaxCrossEntropyWithLogits(m.labels, logits));
            grads = tape.gradient(loss, m.params);
        }
        for (int i = 0; i < m.params.size(); i++) {
            m.params.get(i).assignSub(Spool.multiply(0.1, grads.get(i)));
        }
        return loss;
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aTrainingStepReplaysAsItRunsEagerly(Device device) {
        try (var on = TestDevices.on(device); Mlp eager = new Mlp(16, 30, 12, 7); Mlp traced = new Mlp(16, 30, 12, 7);
             TracedFunction<Tensor> step = Spool.function(() -> plainStep(traced))) {
            for (int i = 0; i < 6; i++) {
                float expected;
                try (TensorScope s = new TensorScope()) {
                    expected = plainStep(eager).floatValue();
                }
                float got;
                try (TensorScope s = new TensorScope()) {
                    got = step.call().floatValue();
                }
                assertEquals(expected, got, 1e-6f * Math.abs(expected), "loss at step " + i);
                assertArrayEquals(eager.weights(), traced.weights(), 1e-6f, "weights after step " + i);
            }
            TracedFunction.Stats st = step.stats();
            assertEquals(1, st.traces());
            assertEquals(5, st.replays());
            assertTrue(st.nodesPerCall() <= st.tracedNodes(), step.describe());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aReplayLaunchesFewerKernelsThanTheEagerStep(Device device) {
        try (var on = TestDevices.on(device); Mlp eager = new Mlp(16, 30, 12, 7); Mlp traced = new Mlp(16, 30, 12, 7);
             TracedFunction<Tensor> step = Spool.function(() -> plainStep(traced))) {
            step.call();
            step.call();
            long e0 = device.stats().kernelLaunches();
            plainStep(eager);
            long e1 = device.stats().kernelLaunches();
            step.call();
            long f1 = device.stats().kernelLaunches();
            // the plain step's fills are hoisted and the mean's gradient seed (ones / n) folded, so
            // the cross-entropy's gradient is known before the loss and joins it
            String graph = step.describe();
            assertTrue(graph.contains("softmaxCrossEntropyWithGrad"), graph);
            if (e1 > e0) { // the backend counts launches (OpenCL)
                assertTrue(f1 - e1 < e1 - e0, "replay " + (f1 - e1) + " launches, eager " + (e1 - e0) + "\n" + graph);
                assertTrue(f1 - e1 <= step.stats().launchesPerCall(), graph);
                // a launch-bound backend also fuses each product's epilogue (bias and relu, the
                // bias, relu's gradient, the learning rate), runs the independent elementwise
                // nodes (the updates, the mean's division) as one group and the three reductions
                // (the loss's sum, both bias gradients) as another: 30 primitives, 8 launches
                assertEquals(8, step.stats().nodesPerCall(), graph);
                assertEquals(8, f1 - e1, graph);
                assertTrue(graph.contains("matmulEpilogue add relu") && graph.contains("matmulEpilogue relu_grad"), graph);
                assertTrue(graph.contains("group[5 programs]"), graph);
                assertTrue(graph.contains("reduceGroup[3 reductions]"), graph);
            } else {
                // relu(x.W + b) is one epilogue and each w.assignSub(g.mul(0.1)) one
                // gradient-descent update: 30 primitives become 17
                assertEquals(17, step.stats().nodesPerCall(), graph);
                assertTrue(graph.contains("binaryUnary add relu"), graph);
                assertEquals(4, graph.split("applyGradientDescent", -1).length - 1, graph);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void memoryStaysFlatAndOnlyResultsAndVariablesAreAllocated(Device device) {
        try (var on = TestDevices.on(device); Mlp m = new Mlp(8, 6, 5, 3);
             TracedFunction<Tensor> step = Spool.function(() -> plainStep(m))) {
            for (int i = 0; i < 3; i++) {
                step.call().close();
            }
            // the trace ran the body eagerly: let the collector take what it dropped (a tape's
            // bookkeeping) before counting, so that what follows counts the replays alone
            System.gc();
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            device.synchronize();
            DeviceStats before = device.stats();
            int calls = 10_000;
            for (int i = 0; i < calls; i++) {
                step.call().close();
            }
            device.synchronize();
            DeviceStats d = device.stats().minus(before);
            assertEquals(0, d.leakedTensors());
            assertEquals(0, d.liveBytes(), "live bytes changed over " + calls + " replays: " + d);
            assertEquals(0, d.liveBuffers());
            // per call: the loss and the four variables' new values, nothing for temporaries
            assertEquals(5L * calls, d.allocations(), step.describe());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void javaSideEffectsRunOnlyWhileTracingAndEachSignatureTracesOnce(Device device) {
        try (var on = TestDevices.on(device)) {
            int[] bodyRuns = {0};
            TracedFunction<Tensor> f = Spool.function(x -> {
                bodyRuns[0]++;
                return x.mul(x).add(1);
            });
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(new float[] {2, 5}, f.call(Spool.constant(new float[] {1, 2})).toFloatArray());
                assertArrayEquals(new float[] {10, 17, 26},
                        f.call(Spool.constant(new float[] {3, 4, 5})).toFloatArray());
                assertArrayEquals(new float[] {101}, f.call(Spool.constant(new float[] {10})).toFloatArray());
            }
            assertEquals(3, bodyRuns[0], "one trace per shape");
            assertEquals(3, f.stats().traces());
            assertEquals(6, f.stats().replays());
            // a Java argument is part of the signature, by value
            TracedFunction<Tensor> g = Spool.functionOfArgs(a -> ((Tensor) a[0]).mul((Double) a[1]));
            Tensor x = Spool.constant(new float[] {1, 2});
            assertArrayEquals(new float[] {2, 4}, g.call(x, 2.0).toFloatArray());
            assertArrayEquals(new float[] {3, 6}, g.call(x, 3.0).toFloatArray());
            assertArrayEquals(new float[] {2, 4}, g.call(x, 2.0).toFloatArray());
            assertEquals(2, g.stats().traces());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void variablesAreCapturedByReference(Device device) {
        try (var on = TestDevices.on(device); Variable v = new Variable(Spool.constant(new float[] {1, 2}))) {
            TracedFunction<Tensor> f = Spool.function(x -> {
                v.assignAdd(x);
                return v.value().mul(2);
            });
            Tensor one = Spool.constant(new float[] {1, 1});
            assertArrayEquals(new float[] {4, 6}, f.call(one).toFloatArray());
            assertArrayEquals(new float[] {6, 8}, f.call(one).toFloatArray());
            v.assign(Spool.constant(new float[] {10, 20})); // from outside: the next call reads it
            assertArrayEquals(new float[] {22, 42}, f.call(one).toFloatArray());
            try (Tensor now = v.value()) {
                assertArrayEquals(new float[] {11, 21}, now.toFloatArray());
            }
            Tensor before = v.value();
            f.call(one);
            assertArrayEquals(new float[] {11, 21}, before.toFloatArray(), "a read before the call keeps its value");
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void variablesMayBeCreatedOnlyOnTheFirstTrace(Device device) {
        try (var on = TestDevices.on(device)) {
            List<Variable> made = new ArrayList<>();
            TracedFunction<Tensor> f = Spool.function(x -> {
                if (made.isEmpty()) {
                    made.add(new Variable(Spool.zerosLike(x).add(3)));
                }
                return x.mul(made.get(0));
            });
            assertArrayEquals(new float[] {3, 6}, f.call(Spool.constant(new float[] {1, 2})).toFloatArray());
            made.get(0).assign(Spool.constant(new float[] {5, 5}));
            assertArrayEquals(new float[] {5, 10}, f.call(Spool.constant(new float[] {1, 2})).toFloatArray(),
                    "the variable made by the trace is read by reference at later calls");
            TracedFunction<Tensor> g = Spool.function(x -> x.mul(new Variable(x)));
            g.call(Spool.constant(new float[] {1}));
            UsageException e = assertThrows(UsageException.class, () -> g.call(Spool.constant(new float[] {1, 2})));
            assertTrue(e.getMessage().contains("only on the first trace"), e.getMessage());
            made.forEach(Variable::close);
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void readingValuesToTheHostWhileTracingIsRefused(Device device) {
        try (var on = TestDevices.on(device)) {
            TracedFunction<Float> f = Spool.function(x -> x.sum().floatValue());
            UsageException e = assertThrows(UsageException.class, () -> f.call(Spool.constant(new float[] {1, 2})));
            assertTrue(e.getMessage().contains("read to the host"), e.getMessage());
            TracedFunction.setRunEagerly(true);
            try {
                assertEquals(3f, f.call(Spool.constant(new float[] {1, 2})), "eager mode runs the body as it is");
            } finally {
                TracedFunction.setRunEagerly(false);
            }
        }
    }

    record Pair(Tensor sum, Tensor product) {
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void resultsMayBeListsAndRecordsAndCapturedTensorsAreKept(Device device) {
        try (var on = TestDevices.on(device)) {
            Tensor captured = Spool.constant(new float[] {10, 20});
            TracedFunction<Pair> f = Spool.function((a, b) -> new Pair(a.add(b).add(captured), a.mul(b)));
            Tensor a = Spool.constant(new float[] {1, 2});
            Tensor b = Spool.constant(new float[] {3, 4});
            f.call(a, b);
            captured.close(); // the function keeps its own copy
            Pair p = f.call(b, a);
            assertArrayEquals(new float[] {14, 26}, p.sum().toFloatArray());
            assertArrayEquals(new float[] {3, 8}, p.product().toFloatArray());
            TracedFunction<List<Tensor>> g = Spool.function(x -> List.of(x.neg(), x.reshape(2, 1), x));
            g.call(a);
            List<Tensor> r = g.call(b);
            assertArrayEquals(new float[] {-3, -4}, r.get(0).toFloatArray());
            assertEquals(Shape.of(2, 1), r.get(1).shape());
            assertArrayEquals(new float[] {3, 4}, r.get(1).toFloatArray());
            assertArrayEquals(new float[] {3, 4}, r.get(2).toFloatArray());
            r.get(2).close();
            assertArrayEquals(new float[] {3, 4}, b.toFloatArray(), "a returned argument is a tensor of its own");
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void randomOpsDrawNewNumbersAtEveryCall(Device device) {
        try (var on = TestDevices.on(device)) {
            TracedFunction<Tensor> f = Spool.function(() -> Spool.randomUniform(Shape.of(64), 5));
            float[] traced = f.call().toFloatArray();
            assertArrayEquals(Spool.randomUniform(Shape.of(64), 5).toFloatArray(), traced, "the trace is eager");
            float[] second = f.call().toFloatArray();
            float[] third = f.call().toFloatArray();
            assertTrue(!java.util.Arrays.equals(traced, second) && !java.util.Arrays.equals(second, third));
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aFunctionCalledInsideAnotherRunsInline(Device device) {
        try (var on = TestDevices.on(device)) {
            TracedFunction<Tensor> inner = Spool.function(x -> x.mul(3));
            TracedFunction<Tensor> outer = Spool.function(x -> inner.call(x).add(1));
            Tensor x = Spool.constant(new float[] {1, 2});
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(new float[] {4, 7}, outer.call(x).toFloatArray());
            }
            assertEquals(0, inner.stats().traces(), "inlined into the outer trace");
            assertEquals(2, outer.stats().replays());
        }
    }

    /** GELU with the tanh approximation, from eight ops, as a user writes it. */
    static Tensor geluFromOps(Tensor x) {
        Tensor inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
        return x.mul(0.5).mul(Spool.tanh(inner).add(1));
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void anElementwiseChainIsOneKernelWithTheEagerBits(Device device) {
        try (var on = TestDevices.on(device)) {
            for (DType dtype : device.supportsFloat64() ? List.of(DType.FLOAT32, DType.FLOAT64) : List.of(DType.FLOAT32)) {
                Tensor rows = Spool.randomNormal(Shape.of(37, 53), 1, 0, 2, dtype);
                Tensor bias = Spool.randomNormal(Shape.of(53), 2, 0, 1, dtype);
                Tensor wide = Spool.randomNormal(Shape.of(53, 37), 3, 0, 1, dtype);
                // dense, broadcast row, transposed (strided) and scalar inputs in one chain
                TracedFunction<Tensor> f = Spool.function((a, b, c) ->
                        geluFromOps(a.add(b)).mul(Spool.sigmoid(c.transpose())).sub(Spool.relu(a)).div(3));
                Tensor eager = geluFromOps(rows.add(bias)).mul(Spool.sigmoid(wide.transpose())).sub(Spool.relu(rows)).div(3);
                f.call(rows, bias, wide);
                long before = device.stats().kernelLaunches();
                Tensor replay = f.call(rows, bias, wide);
                long launches = device.stats().kernelLaunches() - before;
                // a + b is read five times by GELU: computed once, then everything else in one kernel
                assertEquals(2, f.stats().nodesPerCall(), f.describe());
                assertTrue(f.describe().contains("fused[14 ops]"), f.describe());
                assertTrue(launches <= 2, launches + " launches\n" + f.describe());
                assertArrayEquals(eager.toDoubleArray(), replay.toDoubleArray(), 0.0, dtype + " bits differ from eager");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void anIntermediateReadTwiceIsKeptAndTheResultIsStillEager(Device device) {
        try (var on = TestDevices.on(device)) {
            Tensor x = Spool.randomNormal(Shape.of(1000), 4);
            // t is read by two ops, and returned: it is computed once, and the chains around it fuse
            TracedFunction<List<Tensor>> f = Spool.function(a -> {
                Tensor t = a.mul(a).add(1);
                return List.of(t, Spool.exp(t.neg()).add(t.sqrt()));
            });
            f.call(x);
            List<Tensor> r = f.call(x);
            Tensor t = x.mul(x).add(1);
            assertArrayEquals(t.toFloatArray(), r.get(0).toFloatArray(), 0f);
            assertArrayEquals(Spool.exp(t.neg()).add(t.sqrt()).toFloatArray(), r.get(1).toFloatArray(), 0f);
            assertEquals(2, f.stats().nodesPerCall(), f.describe());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void independentElementwiseWorkIsOneLaunchWithTheEagerBits(Device device) {
        try (var on = TestDevices.on(device)) {
            for (DType dtype : device.supportsFloat64() ? List.of(DType.FLOAT32, DType.FLOAT64) : List.of(DType.FLOAT32)) {
                Tensor rows = Spool.randomNormal(Shape.of(37, 53), 5, 0, 2, dtype);
                Tensor bias = Spool.randomNormal(Shape.of(53), 6, 0, 1, dtype);
                Tensor wide = Spool.randomNormal(Shape.of(53, 37), 7, 0, 1, dtype);
                Tensor small = Spool.randomNormal(Shape.of(3), 8, 0, 1, dtype);
                // four results that read no other's: a unary, a broadcast epilogue, a chain over a
                // transposed input, and a tiny one; sizes 1,961, 1,961, 1,961 and 3
                Replay r = replayAgainstEager(device, dtype, t -> List.of(Spool.exp(t[0]),
                        Spool.relu(t[0].add(t[1])), t[2].transpose().mul(2).sub(t[0]), Spool.tanh(small)),
                        rows, bias, wide);
                TracedFunction<List<Tensor>> f = r.f();
                long launches = r.launches();
                if (launches > 0) { // OpenCL: one group, one launch
                    assertEquals(1, f.stats().nodesPerCall(), f.describe());
                    assertTrue(f.describe().contains("group[4 programs]"), f.describe());
                    assertEquals(1, launches, f.describe());
                } else {
                    assertEquals(4, f.stats().nodesPerCall(), f.describe());
                }
            }
        }
    }

    /** A function traced from {@code body} and replayed once, with the launches of the replay and of an eager run. */
    private record Replay(TracedFunction<List<Tensor>> f, int results, long launches, long eagerLaunches) {
    }

    /**
     * Runs {@code body} eagerly and as a function (traced, then replayed), checks that the
     * replay's results are the eager ones to the bit, and counts launches (0 where the backend
     * does not count them).
     */
    private static Replay replayAgainstEager(Device device, DType dtype,
                                             java.util.function.Function<Tensor[], List<Tensor>> body, Tensor... in) {
        TracedFunction<List<Tensor>> f = Spool.functionOfArgs(args ->
                body.apply(java.util.Arrays.copyOf(args, args.length, Tensor[].class)));
        long e0 = device.stats().kernelLaunches();
        List<Tensor> eager = body.apply(in);
        long eagerLaunches = device.stats().kernelLaunches() - e0;
        f.call((Object[]) in);
        long before = device.stats().kernelLaunches();
        List<Tensor> replay = f.call((Object[]) in);
        long launches = device.stats().kernelLaunches() - before;
        assertEquals(eager.size(), replay.size(), f.describe());
        for (int i = 0; i < eager.size(); i++) {
            assertArrayEquals(eager.get(i).toDoubleArray(), replay.get(i).toDoubleArray(), 0.0,
                    dtype + " result " + i + " differs from eager\n" + f.describe());
        }
        return new Replay(f, eager.size(), launches, eagerLaunches);
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void independentReductionsAreOneLaunchWithTheEagerBits(Device device) {
        try (var on = TestDevices.on(device)) {
            for (DType dtype : device.supportsFloat64() ? List.of(DType.FLOAT32, DType.FLOAT64) : List.of(DType.FLOAT32)) {
                Tensor small = Spool.randomNormal(Shape.of(8, 7), 21, 0, 1, dtype);
                Tensor rows = Spool.randomNormal(Shape.of(37, 53), 22, 0, 1, dtype);
                Tensor dense = Spool.randomNormal(Shape.of(45, 30), 23, 0, 1, dtype);
                Tensor wide = Spool.randomNormal(Shape.of(30, 45), 24, 0, 1, dtype);
                // four reductions that read no other's result, each one pass alone on every
                // backend: a whole tensor (56 elements: 16-wide loads on CPUs), column sums
                // (rows side by side), maxima of dense rows, minima along a transposed axis
                java.util.function.Function<Tensor[], List<Tensor>> body = t -> List.of(Spool.reduceSum(t[0]),
                        Spool.reduceSum(t[1], 0), Spool.reduceMax(t[2], 1), Spool.reduceMin(t[3].transpose(), 1));
                Replay r = replayAgainstEager(device, dtype, body, small, rows, dense, wide);
                TracedFunction<List<Tensor>> f = r.f();
                long launches = r.launches();
                if (launches > 0) { // OpenCL: one group, one launch
                    assertEquals(4, r.eagerLaunches(), f.describe());
                    assertEquals(1, f.stats().nodesPerCall(), f.describe());
                    assertTrue(f.describe().contains("reduceGroup[4 reductions]"), f.describe());
                    assertEquals(1, launches, f.describe());
                } else {
                    assertEquals(4, f.stats().nodesPerCall(), f.describe());
                }
                // a reduction that takes two passes alone (300,000 elements) is a member the
                // backend runs as alone, beside the one it can group: the same bits
                Tensor big = Spool.randomNormal(Shape.of(300_000), 25, 0, 1, dtype);
                TracedFunction<List<Tensor>> g = Spool.function((a, b) -> List.of(Spool.reduceSum(a),
                        Spool.reduceSum(b, 0)));
                g.call(big, rows);
                List<Tensor> twice = g.call(big, rows);
                assertArrayEquals(Spool.reduceSum(big).toDoubleArray(), twice.get(0).toDoubleArray(), 0.0, g.describe());
                assertArrayEquals(Spool.reduceSum(rows, 0).toDoubleArray(), twice.get(1).toDoubleArray(), 0.0,
                        g.describe());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aGroupThatReadsAReductionGroupNeverRunsBeforeIt(Device device) {
        try (var on = TestDevices.on(device)) {
            Tensor small = Spool.randomNormal(Shape.of(8, 7), 31, 0, 1, DType.FLOAT32);
            Tensor rows = Spool.randomNormal(Shape.of(37, 53), 32, 0, 1, DType.FLOAT32);
            // row sums (a reduction group opens), doubled (an elementwise group that must follow
            // it), an argmax of those (not groupable: it closes the elementwise group), then
            // column sums of another tensor (a reduction that would join the first group and
            // move it below the doubling, which reads it: the two-spirals traced step did that)
            Replay r = replayAgainstEager(device, DType.FLOAT32, t -> {
                Tensor doubled = Spool.reduceSum(t[0], 1).mul(2);
                return List.of(doubled, Spool.argMax(doubled, 0), Spool.reduceSum(t[1], 0));
            }, small, rows);
            assertTrue(r.f().stats().nodesPerCall() <= 4, r.f().describe());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aProductsElementwiseEpilogueIsComputedAsItIsStoredWithTheEagerBits(Device device) {
        try (var on = TestDevices.on(device)) {
            // each (kernel, op) is an OpenCL program build of seconds on PoCL: float64 checks one
            for (DType dtype : device.supportsFloat64() ? List.of(DType.FLOAT32, DType.FLOAT64) : List.of(DType.FLOAT32)) {
                Tensor x = Spool.randomNormal(Shape.of(33, 70), 11, 0, 1, dtype);
                Tensor w = Spool.randomNormal(Shape.of(70, 45), 12, 0, 1, dtype);
                Tensor b = Spool.randomNormal(Shape.of(45), 13, 0, 1, dtype);
                Tensor y = Spool.randomNormal(Shape.of(33, 45), 14, 0, 1, dtype);
                Tensor batched = Spool.randomNormal(Shape.of(2, 33, 70), 15, 0, 1, dtype);
                Tensor wt = Spool.randomNormal(Shape.of(45, 70), 16, 0, 1, dtype);
                // bias + relu, the same with the product as the add's second operand, a dense
                // operand with a transposed weight, a non-commuting op, a batch (relu's gradient
                // after dY·Wᵀ: the MLP step above)
                boolean wide = dtype == DType.FLOAT64;
                java.util.function.Function<Tensor[], List<Tensor>> body = t -> wide
                        ? List.of(t[4].matmul(t[1]).add(t[2]))
                        : List.of(Spool.relu(t[0].matmul(t[1]).add(t[2])),
                                Spool.relu(t[2].add(t[0].matmul(t[1]))),
                                t[0].matmul(t[5].transpose()).mul(t[3]),
                                t[0].matmul(t[1]).sub(t[3]),
                                t[4].matmul(t[1]).add(t[2]));
                Replay r = replayAgainstEager(device, dtype, body, x, w, b, y, batched, wt);
                TracedFunction<List<Tensor>> f = r.f();
                if (r.launches() > 0) { // OpenCL: each product and its epilogue in one launch
                    assertEquals(r.results(), f.stats().nodesPerCall(), f.describe());
                    assertEquals(r.results(), f.describe().split("matmulEpilogue", -1).length - 1, f.describe());
                    assertEquals(f.stats().launchesPerCall(), r.launches(), f.describe());
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aChainWithMoreInputsThanOneKernelTakesStillGivesTheEagerBits(Device device) {
        try (var on = TestDevices.on(device)) {
            // 30 inputs: 60 kernel arguments on OpenCL, past its 48; a transformer's gradient sums
            // made such chains. The backend runs the steps one by one instead.
            Tensor[] in = new Tensor[30];
            for (int i = 0; i < in.length; i++) {
                in[i] = Spool.randomNormal(Shape.of(5, 7), 40 + i);
            }
            java.util.function.Function<Object[], Tensor> body = args -> {
                Tensor acc = (Tensor) args[0];
                for (int i = 1; i < args.length; i++) {
                    acc = acc.add((Tensor) args[i]);
                }
                return Spool.tanh(acc);
            };
            TracedFunction<Tensor> f = Spool.functionOfArgs(body::apply);
            Tensor eager = body.apply(in);
            f.call((Object[]) in);
            Tensor replay = f.call((Object[]) in);
            assertArrayEquals(eager.toFloatArray(), replay.toFloatArray(), 0f, f.describe());
            assertEquals(1, f.stats().nodesPerCall(), "one fused chain\n" + f.describe());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aCrossEntropyAndItsGradientAreOneLaunchWithTheEagerBits(Device device) {
        try (var on = TestDevices.on(device)) {
            for (DType dtype : device.supportsFloat64() ? List.of(DType.FLOAT32, DType.FLOAT64) : List.of(DType.FLOAT32)) {
                Tensor logits = Spool.randomNormal(Shape.of(9, 37), 21, 0, 3, dtype);
                // labels that do not sum to 1 per row (the gradient scales exp(lsm) by their sum)
                Tensor labels = Spool.randomUniform(Shape.of(9, 37), 22, 0, 1, dtype);
                Tensor wide = Spool.randomNormal(Shape.of(37, 9), 23, 0, 3, dtype); // read transposed
                for (boolean squared : new boolean[] {false, true}) {
                    // a mean's gradient seed is a constant: the gradient joins the loss; the
                    // squared loss's seed depends on the loss, so the two stay apart
                    java.util.function.BiFunction<Tensor, Tensor, List<Tensor>> body = (x, l) -> {
                        Tensor loss;
                        try (GradientTape tape = new GradientTape()) {
                            tape.watch(x);
                            Tensor xt = x.shape().dim(0) == 37 ? x.transpose() : x;
                            Tensor ce = Spool.softmaxCrossEntropyWithLogits(l, xt);
                            loss = Spool.reduceMean(squared ? ce.mul(ce) : ce);
                            return List.of(loss, tape.gradient(loss, x));
                        }
                    };
                    for (Tensor x : List.of(logits, wide)) {
                        TracedFunction<List<Tensor>> f = Spool.function(body);
                        List<Tensor> eager = body.apply(x, labels);
                        f.call(x, labels);
                        long before = device.stats().kernelLaunches();
                        List<Tensor> replay = f.call(x, labels);
                        long launches = device.stats().kernelLaunches() - before;
                        String at = dtype + (squared ? " squared" : "") + " logits " + x.shape() + "\n" + f.describe();
                        for (int i = 0; i < eager.size(); i++) {
                            assertArrayEquals(eager.get(i).toDoubleArray(), replay.get(i).toDoubleArray(), 0.0,
                                    "result " + i + " differs from eager, " + at);
                        }
                        assertEquals(!squared, f.describe().contains("softmaxCrossEntropyWithGrad"), at);
                        assertEquals(squared, f.describe().contains("softmaxCrossEntropyGrad "), at);
                        if (launches > 0) {
                            assertEquals(f.stats().launchesPerCall(), launches, at);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void largeGroupsSplitAndKernelsThatWouldNotFitRunProgramByProgram(Device device) {
        try (var on = TestDevices.on(device)) {
            List<Tensor> in = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                in.add(Spool.randomNormal(Shape.of(9, 11), 20 + i));
            }
            // ten independent results: at most eight programs to a group, so two groups
            TracedFunction<List<Tensor>> dense = Spool.functionOfArgs(args -> {
                List<Tensor> out = new ArrayList<>();
                for (Object a : args) {
                    out.add(Spool.exp((Tensor) a).add(1));
                }
                return out;
            });
            // eight programs each reading a transposed input: their layouts would overflow the
            // smallest parameter space a device offers, so OpenCL runs them one by one
            TracedFunction<List<Tensor>> strided = Spool.functionOfArgs(args -> {
                List<Tensor> out = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    out.add(Spool.sigmoid(((Tensor) args[i]).transpose()));
                }
                return out;
            });
            Object[] args = in.toArray();
            dense.call(args);
            strided.call(args);
            long t0 = device.stats().kernelLaunches();
            List<Tensor> d = dense.call(args);
            long t1 = device.stats().kernelLaunches();
            List<Tensor> s = strided.call(args);
            long t2 = device.stats().kernelLaunches();
            for (int i = 0; i < 10; i++) {
                assertArrayEquals(Spool.exp(in.get(i)).add(1).toFloatArray(), d.get(i).toFloatArray(), 0f, "dense " + i);
                if (i < 8) {
                    assertArrayEquals(Spool.sigmoid(in.get(i).transpose()).toFloatArray(), s.get(i).toFloatArray(), 0f,
                            "strided " + i);
                }
            }
            if (t1 > t0) { // OpenCL
                assertEquals(2, dense.stats().nodesPerCall(), dense.describe());
                assertTrue(dense.describe().contains("group[8 programs]") && dense.describe().contains("group[2 programs]"),
                        dense.describe());
                assertEquals(2, t1 - t0, dense.describe());
                assertEquals(1, strided.stats().nodesPerCall(), strided.describe());
                assertEquals(8, t2 - t1, "eight transposed reads do not fit one kernel's parameters\n" + strided.describe());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void workOnConstantsAloneRunsOnceWhenTheGraphIsBuilt(Device device) {
        try (var on = TestDevices.on(device)) {
            Tensor two = Spool.constant(2f);
            Tensor three = Spool.constant(3f);
            Tensor x = Spool.randomNormal(Shape.of(100), 9);
            // two / three reads captured constants only: folded; x · (two / three) stays
            TracedFunction<Tensor> f = Spool.function(a -> a.mul(two.div(three)));
            f.call(x);
            Tensor replay = f.call(x);
            assertArrayEquals(x.mul(two.div(three)).toFloatArray(), replay.toFloatArray(), 0f);
            assertEquals(1, f.stats().nodesPerCall(), f.describe());
            assertTrue(f.describe().contains("const"), f.describe());
            // random numbers are never folded: each call draws new ones
            TracedFunction<Tensor> noise = Spool.function(a -> a.add(Spool.randomUniform(Shape.of(100), 3)));
            noise.call(x);
            float[] first = noise.call(x).toFloatArray();
            float[] second = noise.call(x).toFloatArray();
            assertTrue(!java.util.Arrays.equals(first, second), "a random op was folded into a constant");
        }
    }

    @ParameterizedTest
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void anInputSignatureRefusesACallThatDoesNotMatchAndSaysWhatItExpected(Device device) {
        try (var on = TestDevices.on(device)) {
            TracedFunction<Tensor> f = Spool.function((Tensor x) -> x.matmul(x, false, true))
                    .withInputSignature(TensorSpec.of(DType.FLOAT32, -1, 3));
            assertEquals(Shape.of(2, 2), f.call(Spool.ones(2, 3)).shape());
            assertEquals(Shape.of(4, 4), f.call(Spool.ones(4, 3)).shape(), "None matches any size");
            ShapeException rank = assertThrows(ShapeException.class, () -> f.call(Spool.ones(2, 3, 1)));
            assertTrue(rank.getMessage().contains("(2, 3, 1)") && rank.getMessage().contains("(None, 3) float32"),
                    rank.getMessage());
            ShapeException dim = assertThrows(ShapeException.class, () -> f.call(Spool.ones(2, 4)));
            assertTrue(dim.getMessage().contains("argument 0"), dim.getMessage());
            assertThrows(DTypeException.class, () -> f.call(Spool.ones(Shape.of(2, 3), DType.INT32)));
            assertEquals(2, f.stats().traces());
        }
    }
}
