package dev.spool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.FusedElementwise;
import dev.spool.spi.FusedElementwise.Step;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link SimdFused}, the cpu device's fused elementwise chains, against the same steps run one
 * primitive at a time ({@code unary} and {@code binary} into buffers): equal to the bit, since a
 * fused chain must give each step's result exactly as its primitive does. The programs exercise
 * what the tile loop plans: a chain that runs in one reused slot, a tree that keeps several
 * values live and reads one value twice, steps on two broadcast scalars or one, a transposed
 * (gathered) input, and sizes that leave partial vectors, partial tiles and several parallel
 * pieces. Outputs start as NaN so that an element the loop forgets shows.
 */
class SimdFusedTest {
    private static final CpuBackend ONE = new CpuBackend(1);
    private static final CpuBackend TWO = new CpuBackend(2);

    @BeforeAll
    static void vectorApiIsThere() {
        Assumptions.assumeTrue(VectorSupport.ENABLED, "no Vector API in this JVM: no SIMD path to compare");
    }

    @AfterAll
    static void close() {
        ONE.close();
        TWO.close();
    }

    /** in0: a [rows, cols] matrix (read transposed when {@code transposed}); in1, in2: scalars; in3: dense. */
    private static final List<FusedElementwise> PROGRAMS = List.of(
            // (x*1.5 + 0.25)*x - 1: a chain, one slot
            new FusedElementwise(DType.FLOAT32, 4, List.of(Step.binary(BinaryOp.MUL, 0, 1),
                    Step.binary(BinaryOp.ADD, 4, 2), Step.binary(BinaryOp.MUL, 5, 0), Step.binary(BinaryOp.SUB, 6, 3))),
            // tanh(x*y) * (x - y) + relu(tanh(x*y)) / max(y, 2): values live across steps, one read twice
            new FusedElementwise(DType.FLOAT32, 4, List.of(Step.binary(BinaryOp.MUL, 0, 3),
                    Step.unary(UnaryOp.TANH, 4), Step.binary(BinaryOp.SUB, 0, 3), Step.binary(BinaryOp.MUL, 5, 6),
                    Step.unary(UnaryOp.RELU, 5), Step.binary(BinaryOp.MAX, 3, 2), Step.binary(BinaryOp.DIV, 8, 9),
                    Step.binary(BinaryOp.ADD, 7, 10))),
            // exp(s1 - s2) * sigmoid(x) + x*x: a step on two scalars, a unary of a scalar, a square
            new FusedElementwise(DType.FLOAT32, 4, List.of(Step.binary(BinaryOp.SUB, 1, 2),
                    Step.unary(UnaryOp.EXP, 4), Step.unary(UnaryOp.NEG, 1), Step.unary(UnaryOp.SIGMOID, 0),
                    Step.binary(BinaryOp.MUL, 5, 7), Step.binary(BinaryOp.MUL, 0, 0), Step.binary(BinaryOp.ADD, 8, 9),
                    Step.binary(BinaryOp.MIN, 10, 6))),
            // (x*d + 1.5)*0.25 - x*d: x*d is read again two steps after the step that uses it first
            new FusedElementwise(DType.FLOAT32, 4, List.of(Step.binary(BinaryOp.MUL, 0, 3),
                    Step.binary(BinaryOp.ADD, 4, 1), Step.binary(BinaryOp.MUL, 5, 2), Step.binary(BinaryOp.SUB, 6, 4))),
            // GELU's tanh form from ops, with 1.5 and 0.25 for its constants: cheap steps, tanh, cheap steps
            gelu(),
            // reluGrad(x, d) + sqrt(abs(-x)) * max(d, 1.5) - min(x, 0.25) / d: every other cheap op
            new FusedElementwise(DType.FLOAT32, 4, List.of(Step.binary(BinaryOp.RELU_GRAD, 0, 3),
                    Step.unary(UnaryOp.NEG, 0), Step.unary(UnaryOp.ABS, 5), Step.unary(UnaryOp.SQRT, 6),
                    Step.binary(BinaryOp.MAX, 3, 1), Step.binary(BinaryOp.MUL, 7, 8), Step.binary(BinaryOp.ADD, 4, 9),
                    Step.binary(BinaryOp.MIN, 0, 2), Step.binary(BinaryOp.DIV, 11, 3), Step.binary(BinaryOp.SUB, 10, 12))),
            // 40 steps in a chain: past the expression budget, so some results are stored
            chain(40),
            // y <- y*0.25 + y, ten times: each value read twice, so the inlined tree doubles per level
            doubling(10));

    private static FusedElementwise gelu() {
        // 0.25*x * (1 + tanh(1.5*(x + 0.25*x*x*x))), with 1 made as 1.5 - 0.25*2
        return new FusedElementwise(DType.FLOAT32, 4, List.of(Step.binary(BinaryOp.MUL, 0, 0),
                Step.binary(BinaryOp.MUL, 4, 0), Step.binary(BinaryOp.MUL, 5, 2), Step.binary(BinaryOp.ADD, 0, 6),
                Step.binary(BinaryOp.MUL, 7, 1), Step.unary(UnaryOp.TANH, 8), Step.binary(BinaryOp.ADD, 2, 2),
                Step.binary(BinaryOp.SUB, 1, 10), Step.binary(BinaryOp.ADD, 9, 11), Step.binary(BinaryOp.MUL, 0, 2),
                Step.binary(BinaryOp.MUL, 13, 12)));
    }

    private static FusedElementwise chain(int steps) {
        List<Step> s = new ArrayList<>();
        for (int j = 0; j < steps; j++) {
            s.add(Step.binary(j % 2 == 0 ? BinaryOp.MUL : BinaryOp.ADD, j == 0 ? 0 : 4 + j - 1, j % 3 == 0 ? 2 : 3));
        }
        return new FusedElementwise(DType.FLOAT32, 4, s);
    }

    private static FusedElementwise doubling(int levels) {
        List<Step> s = new ArrayList<>();
        int y = 0;
        for (int k = 0; k < levels; k++) {
            s.add(Step.binary(BinaryOp.MUL, y, 2));
            s.add(Step.binary(BinaryOp.ADD, 4 + s.size() - 1, y));
            y = 4 + s.size() - 1;
        }
        return new FusedElementwise(DType.FLOAT32, 4, s);
    }

    /**
     * The stages the plan makes: one loop for a chain of cheap steps and tanh, a pass of its own
     * for each other transcendental, for a tanh read twice and for the expression each reads, and stored results where
     * a tree would pass the budget. Counts, so that a plan that falls back to a pass per step
     * shows.
     */
    @org.junit.jupiter.api.Test
    void cheapStepsShareOneLoop() {
        boolean[] scalars = {false, true, true, false};
        assertEquals(1, SimdFused.stages(PROGRAMS.get(0), scalars));
        assertEquals(2, SimdFused.stages(PROGRAMS.get(1), scalars)); // tanh(x*y), read twice, then the rest
        assertEquals(4, SimdFused.stages(PROGRAMS.get(2), scalars)); // s1 - s2, exp, sigmoid, the rest
        assertEquals(1, SimdFused.stages(gelu(), scalars)); // tanh inlined between the steps around it
        assertEquals(1, SimdFused.stages(PROGRAMS.get(5), scalars));
        int longChain = SimdFused.stages(chain(40), scalars);
        assertEquals(true, longChain >= 2 && longChain <= 40 / SimdFused.BUDGET + 2, "40 steps took " + longChain);
        int doubled = SimdFused.stages(doubling(10), scalars);
        assertEquals(true, doubled >= 2 && doubled < 20, "the doubling tree took " + doubled);
    }

    @ParameterizedTest(name = "{0} elements")
    @ValueSource(ints = {1, 15, 17, 511, 513, 3 * 17 * 641, 200_000})
    void equalsTheStepsRunOneByOne(int n) {
        int cols = n % 17 == 0 ? 17 : 1; // a 2-d shape, so that the transposed read is a real gather
        int rows = n / cols;
        Random rnd = new Random(n);
        float[] x = new float[n];
        float[] d = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian() * 3;
            d[i] = (float) rnd.nextGaussian();
        }
        for (int threads : new int[] {1, 2}) {
            CpuBackend b = threads == 1 ? ONE : TWO;
            for (boolean transposed : new boolean[] {false, true}) {
                for (int p = 0; p < PROGRAMS.size(); p++) {
                    FusedElementwise program = PROGRAMS.get(p);
                    DeviceBuffer xb = upload(b, x);
                    View in0 = transposed
                            ? new View(xb, new int[] {cols, rows}, new long[] {1, cols}, 0)
                            : new View(xb, new int[] {rows, cols}, new long[] {cols, 1}, 0);
                    int[] shape = in0.shape();
                    View[] inputs = {in0, scalar(b, 1.5f, shape), scalar(b, 0.25f, shape),
                            new View(upload(b, d), shape, View.rowMajorStrides(shape), 0)};
                    float[] want = oneByOne(b, program, inputs);
                    DeviceBuffer out = b.allocate(DType.FLOAT32, n);
                    b.fill(out, Float.NaN);
                    b.fusedElementwise(program, inputs, out);
                    float[] got = new float[n];
                    b.read(View.contiguous(out, n), got);
                    for (int i = 0; i < n; i++) {
                        int at = i;
                        assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                                () -> "program " + program.expression() + ", transposed " + transposed + ", "
                                        + threads + " threads: element " + at + " differs");
                    }
                }
            }
        }
    }

    /**
     * An expression hoists at most {@link FusedExpression#SCALARS} scalars out of its loop; here
     * eleven scalars meet in one chain, and the rest are read as filled arrays.
     */
    @ParameterizedTest(name = "{0} elements")
    @ValueSource(ints = {7, 4099})
    void moreScalarsThanAnExpressionHoists(int n) {
        int scalars = FusedExpression.SCALARS + 3;
        List<Step> steps = new ArrayList<>();
        for (int k = 0; k < scalars; k++) { // ((x + s1) * s2 + s3) * s4 ...
            steps.add(Step.binary(k % 2 == 0 ? BinaryOp.ADD : BinaryOp.MUL, k == 0 ? 0 : scalars + 1 + k - 1, 1 + k));
        }
        FusedElementwise program = new FusedElementwise(DType.FLOAT32, scalars + 1, steps);
        assertEquals(1, SimdFused.stages(program, new boolean[scalars + 1]));
        float[] x = new float[n];
        Random rnd = new Random(n);
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        int[] shape = {n};
        View[] inputs = new View[scalars + 1];
        inputs[0] = View.contiguous(upload(TWO, x), n);
        for (int k = 1; k <= scalars; k++) {
            inputs[k] = scalar(TWO, 0.5f + k / 8f, shape);
        }
        float[] want = oneByOne(TWO, program, inputs);
        DeviceBuffer out = TWO.allocate(DType.FLOAT32, n);
        TWO.fusedElementwise(program, inputs, out);
        float[] got = new float[n];
        TWO.read(View.contiguous(out, n), got);
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "element " + i);
        }
    }

    /**
     * GELU's loop with tanh inlined keeps its vectors in registers once C2 has compiled it: no
     * allocation per element. Were tanh left out of line, each of its vectors would be boxed on
     * the heap (about 100 bytes per 16 floats, measured at 75-98 MB per 4M-float call) and the
     * chain would run several times slower. Counted with the JVM's per-thread allocation counter
     * on the one-thread backend, which runs the loop on this thread; the calls go on until one
     * allocates less than a byte per element (after C2's compile) or a bound that only a loop that
     * C2 never compiles without boxing reaches.
     */
    @org.junit.jupiter.api.Test
    void geluWithTanhInlinedAllocatesNothingPerElementOnceCompiled() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        Assumptions.assumeTrue(mx instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemorySupported(),
                "this JVM does not count allocations per thread");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) mx;
        int n = 1 << 16;
        float[] x = new float[n];
        Random rnd = new Random(7);
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian() * 3;
        }
        int[] shape = {n};
        View[] inputs = {View.contiguous(upload(ONE, x), n), scalar(ONE, 1.5f, shape), scalar(ONE, 0.25f, shape),
            View.contiguous(upload(ONE, x), n)};
        FusedElementwise gelu = gelu();
        assertEquals(1, SimdFused.stages(gelu, new boolean[] {false, true, true, false}));
        DeviceBuffer out = ONE.allocate(DType.FLOAT32, n);
        long fewest = Long.MAX_VALUE;
        for (int call = 0; call < 20_000 && fewest >= n; call++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            ONE.fusedElementwise(gelu, inputs, out);
            fewest = Math.min(fewest, threads.getCurrentThreadAllocatedBytes() - before);
        }
        assertTrue(fewest < n, "the fused GELU loop allocated " + fewest + " bytes for " + n
                + " elements at its best call: its vectors are boxed");
        float[] got = new float[n];
        ONE.read(View.contiguous(out, n), got);
        float[] want = oneByOne(ONE, gelu, inputs);
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "element " + i);
        }
    }

    private static float[] oneByOne(CpuBackend b, FusedElementwise p, View[] inputs) {
        int[] shape = inputs[0].shape();
        int n = (int) inputs[0].size();
        View[] operands = new View[p.inputs() + p.steps().size()];
        System.arraycopy(inputs, 0, operands, 0, inputs.length);
        for (int j = 0; j < p.steps().size(); j++) {
            Step s = p.steps().get(j);
            DeviceBuffer out = b.allocate(DType.FLOAT32, n);
            if (s.unary() != null) {
                b.unary(s.unary(), operands[s.a()], out);
            } else {
                b.binary(s.binary(), operands[s.a()], operands[s.b()], out);
            }
            operands[p.inputs() + j] = new View(out, shape, View.rowMajorStrides(shape), 0);
        }
        float[] r = new float[n];
        b.read(operands[operands.length - 1], r);
        return r;
    }

    private static DeviceBuffer upload(CpuBackend b, float[] values) {
        DeviceBuffer buf = b.allocate(DType.FLOAT32, values.length);
        b.write(buf, values);
        return buf;
    }

    private static View scalar(CpuBackend b, float value, int[] shape) {
        return new View(upload(b, new float[] {value}), shape, new long[shape.length], 0);
    }
}
