package dev.spool.cpu;

import dev.spool.DType;
import dev.spool.spi.FusedElementwise;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.lang.invoke.MethodHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A traced function's fused elementwise chain ({@link FusedElementwise}) in one pass: the output
 * is cut into tiles of {@link #TILE} elements, and the program runs over each tile in stages.
 * Runs of cheap steps (arithmetic, max/min, relu, sqrt: {@link FusedExpression#isCheap}) and
 * tanh are compiled into one vector loop each ({@link FusedExpression}) that keeps intermediates
 * in registers; another transcendental step (exp, erf...) runs its own {@link SimdElementwise}
 * loop over the tile. A step's result is stored in a tile-sized slot, which stays in L1, only
 * where such a transcendental reads it, where it is a tanh read twice, or where its expression
 * would grow past {@link #BUDGET}; the last step writes the output. So a chain of cheap steps is
 * one loop that reads its inputs and writes its output once, and so is GELU from ops (it was one
 * pass per step, then three: the steps before tanh, tanh, the steps after; JMH on 4M floats, 2
 * threads, AVX-512: 1.9 ms against 3.4-3.6 ms as three passes, one tanh 1.4 ms). Slots are
 * planned by liveness, as the function's
 * buffers are: a stage may write over a slot it reads for the last time (each loop reads an
 * element before writing it). Plans, with their compiled loops, are cached per program and
 * input kind (scalar or not). Float32 with the Vector API and ops that have a vector loop;
 * anything else takes the SPI's default (each step as its primitive), so results are the
 * primitives' to the bit either way.
 */
final class SimdFused {
    /**
     * Elements per tile: the slots a program holds live, its gathered inputs and the output's
     * tile stay in L1, and the per-stage calls are few. JMH on 2 threads (AVX-512 EPYC) with
     * one pass per step: GELU from 8 ops on 4M floats took 3.1-3.4 ms with 512 or 1,024,
     * 2.3-3.6 with 2,048 and 3.0 with 4,096.
     */
    static final int TILE = 2048;

    /**
     * Most steps one compiled expression inlines (a step read twice counts twice). Past it, C2
     * compiles the tree worse: a 31-step chain on 4M floats took 3.1 ms as expressions of 8 to
     * 16 steps joined through tile slots, and 4.0 ms as one or two of 24 to 32 (2 threads,
     * AVX-512 EPYC, JDK 17).
     */
    static final int BUDGET = 16;

    /** Compiled plans by program and input kinds; a function replays the same few. */
    private static final Map<Key, Plan> PLANS = Collections.synchronizedMap(new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Plan> eldest) {
            return size() > 512;
        }
    });

    private SimdFused() {
    }

    /** Whether {@link #run} takes this program. */
    static boolean handles(FusedElementwise p) {
        if (!VectorSupport.ENABLED || p.dtype() != DType.FLOAT32) {
            return false;
        }
        for (FusedElementwise.Step s : p.steps()) {
            if (s.unary() != null ? !SimdElementwise.handlesFloat(s.unary())
                    : !SimdElementwise.handlesFloat(s.binary())) {
                return false;
            }
        }
        return true;
    }

    /** Passes over a tile that the program takes with these inputs broadcast: for tests. */
    static int stages(FusedElementwise p, boolean[] scalarInput) {
        return Plan.of(p, scalarInput).stages().length;
    }

    /** How an input is read within a tile. */
    private record Input(float[] data, long offset, boolean scalar, boolean contiguous, View view) {
    }

    private record Key(FusedElementwise program, List<Boolean> scalar) {
    }

    /**
     * One pass over a tile, writing operand {@code operand}: a transcendental's own loop over
     * {@code leaves[0]} ({@code math} set), or a compiled expression ({@code loop}) that reads
     * the arrays {@code leaves} and the broadcast {@code scalars}.
     */
    private record Stage(int operand, Loop math, MethodHandle loop, int[] leaves, int[] scalars) {
        /** Every operand the stage reads. */
        int[] reads() {
            int[] all = Arrays.copyOf(leaves, leaves.length + scalars.length);
            System.arraycopy(scalars, 0, all, leaves.length, scalars.length);
            return all;
        }
    }

    /**
     * The stages in order, with {@code slot[s]} the tile slot stage s writes (-1: the output), of
     * {@code slots} in all; gathered (strided) inputs take slots after those, as do scalar inputs
     * marked {@code filled}: those that some expression reads as an array, having more than
     * {@link FusedExpression#SCALARS} scalars already.
     */
    private record Plan(Stage[] stages, int[] slot, int slots, boolean[] filled, boolean tiled) {
        static Plan of(FusedElementwise p, boolean[] scalarInput) {
            int inputs = p.inputs();
            FusedElementwise.Step[] steps = p.steps().toArray(new FusedElementwise.Step[0]);
            int m = steps.length;
            // which step results are written to memory: the output, transcendentals and what they read
            boolean[] stored = new boolean[m];
            stored[m - 1] = true;
            // a tanh read more than once is stored, not computed again in each tree that reads it
            int[] readers = new int[m];
            for (FusedElementwise.Step s : steps) {
                for (int op : new int[] {s.a(), s.b()}) {
                    if (op >= inputs) {
                        readers[op - inputs]++;
                    }
                }
            }
            for (int j = 0; j < m; j++) {
                if (!FusedExpression.isCheap(steps[j]) && readers[j] > 1) {
                    stored[j] = true;
                }
                if (!FusedExpression.inlines(steps[j])) {
                    stored[j] = true;
                    if (steps[j].a() >= inputs) {
                        stored[steps[j].a() - inputs] = true;
                    }
                }
            }
            // and the cheap operands of a step whose inlined tree would pass the budget
            int[] size = new int[m];
            for (int j = 0; j < m; j++) {
                if (FusedExpression.inlines(steps[j])) {
                    size[j] = FusedExpression.weight(steps[j]) + inlined(steps[j].a(), inputs, stored, size) + inlined(steps[j].b(), inputs, stored, size);
                    if (size[j] > BUDGET) {
                        for (int op : new int[] {steps[j].a(), steps[j].b()}) {
                            if (op >= inputs) {
                                stored[op - inputs] = true;
                            }
                        }
                        size[j] = FusedExpression.weight(steps[j]);
                    }
                }
            }
            boolean[] filled = new boolean[inputs];
            List<Stage> stages = new ArrayList<>();
            for (int j = 0; j < m; j++) {
                if (!stored[j]) {
                    continue;
                }
                int operand = inputs + j;
                if (!FusedExpression.inlines(steps[j])) {
                    stages.add(new Stage(operand, mathLoop(steps[j].unary()), null, new int[] {steps[j].a()},
                            new int[0]));
                    continue;
                }
                List<Integer> reads = new ArrayList<>();
                collectLeaves(p, operand, operand, stored, new boolean[inputs + m], reads);
                // leaf[op]: op's index among the expression's arrays, or among its scalars
                int[] leaf = new int[inputs + m];
                Arrays.fill(leaf, -1);
                boolean[] scalar = new boolean[inputs + m];
                List<Integer> arrays = new ArrayList<>();
                List<Integer> scalars = new ArrayList<>();
                for (int op : reads) {
                    if (op < inputs && scalarInput[op] && scalars.size() < FusedExpression.SCALARS) {
                        scalar[op] = true;
                        leaf[op] = scalars.size();
                        scalars.add(op);
                    } else {
                        if (op < inputs && scalarInput[op]) {
                            filled[op] = true;
                        }
                        leaf[op] = arrays.size();
                        arrays.add(op);
                    }
                }
                MethodHandle loop = FusedExpression.compile(p, operand, leaf, scalar);
                stages.add(new Stage(operand, null, loop, arrays.stream().mapToInt(Integer::intValue).toArray(),
                        scalars.stream().mapToInt(Integer::intValue).toArray()));
            }
            // slots by liveness: a stage's slot may be one that it reads for the last time
            int[] lastUse = new int[inputs + m];
            for (int s = 0; s < stages.size(); s++) {
                for (int op : stages.get(s).reads()) {
                    lastUse[op] = s;
                }
            }
            int[] stageOf = new int[inputs + m];
            int[] slot = new int[stages.size()];
            ArrayDeque<Integer> free = new ArrayDeque<>();
            int slots = 0;
            for (int s = 0; s < stages.size(); s++) {
                for (int op : stages.get(s).reads()) {
                    if (op >= inputs && lastUse[op] == s && !free.contains(slot[stageOf[op]])) {
                        free.push(slot[stageOf[op]]);
                    }
                }
                slot[s] = s == stages.size() - 1 ? -1 : free.isEmpty() ? slots++ : free.pop();
                stageOf[stages.get(s).operand()] = s;
            }
            // an expression with tanh in it runs per tile, never as one long loop: compiled on
            // stack replacement, the loop did not inline tanh and boxed every vector
            boolean tiled = false;
            for (FusedElementwise.Step s : steps) {
                tiled |= !FusedExpression.isCheap(s);
            }
            return new Plan(stages.toArray(new Stage[0]), slot, slots, filled, tiled);
        }

        /** Steps an operand brings into its reader's tree: none for an input or a stored result. */
        private static int inlined(int op, int inputs, boolean[] stored, int[] size) {
            return op < inputs || stored[op - inputs] ? 0 : size[op - inputs];
        }

        /** The operands that root's tree reads from memory, in the order first met. */
        private static void collectLeaves(FusedElementwise p, int root, int op, boolean[] stored, boolean[] seen,
                                          List<Integer> reads) {
            if (seen[op]) {
                return;
            }
            seen[op] = true;
            if (op < p.inputs() || (op != root && stored[op - p.inputs()])) {
                reads.add(op);
                return;
            }
            FusedElementwise.Step s = p.steps().get(op - p.inputs());
            collectLeaves(p, root, s.a(), stored, seen, reads);
            if (s.b() >= 0) {
                collectLeaves(p, root, s.b(), stored, seen, reads);
            }
        }
    }

    /**
     * A transcendental's vector loop over a tile. The tile loop calls each through this
     * interface, and each op has a class of its own: the call site sees several classes, so C2
     * does not inline the loops into the tile loop but compiles each on its own. Inlined there,
     * the GELU chain's tanh was past C2's inlining budget, and its vectors were boxed: 98.6 MB
     * allocated per call on 4M floats (JMH -prof gc), 8-10 ms against 1 ms for tanh alone.
     */
    @FunctionalInterface
    private interface Loop {
        void run(float[] x, int px, float[] r, int pr, int n);
    }

    private static Loop mathLoop(UnaryOp op) {
        return switch (op) {
            case EXP -> (x, px, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.EXP, x, px, r, pr, n);
            case LOG -> (x, px, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.LOG, x, px, r, pr, n);
            case LOG1P -> (x, px, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.LOG1P, x, px, r, pr, n);
            case TANH -> (x, px, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.TANH, x, px, r, pr, n);
            case SIGMOID -> (x, px, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.SIGMOID, x, px, r, pr, n);
            case SIN -> (x, px, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.SIN, x, px, r, pr, n);
            case COS -> (x, px, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.COS, x, px, r, pr, n);
            case ERF -> (x, px, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.ERF, x, px, r, pr, n);
            case GELU -> (x, px, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.GELU, x, px, r, pr, n);
            case GELU_TANH -> (x, px, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.GELU_TANH, x, px, r, pr, n);
            default -> throw new IllegalArgumentException(op + " has no SIMD float32 loop");
        };
    }

    static void run(Parallel par, FusedElementwise p, View[] inputs, CpuBuffer out) {
        float[] r = (float[]) out.data();
        long n = inputs[0].size();
        Input[] in = new Input[inputs.length];
        Boolean[] scalars = new Boolean[inputs.length];
        for (int i = 0; i < in.length; i++) {
            View v = inputs[i];
            boolean scalar = true;
            for (long s : v.strides()) {
                scalar &= s == 0;
            }
            in[i] = new Input((float[]) CpuBuffer.data(v), v.offset(), scalar, v.isContiguous(), v);
            scalars[i] = scalar;
        }
        Plan plan = PLANS.computeIfAbsent(new Key(p, List.of(scalars)), k -> {
            boolean[] s = new boolean[scalars.length];
            for (int i = 0; i < s.length; i++) {
                s[i] = scalars[i];
            }
            return Plan.of(p, s);
        });
        int operands = in.length + p.steps().size();
        // one expression over arrays and hoisted scalars needs no slot: it runs over a piece at once
        boolean oneLoop = plan.stages().length == 1 && !plan.tiled();
        for (int i = 0; i < in.length; i++) {
            oneLoop &= in[i].scalar() ? !plan.filled()[i] : in[i].contiguous();
        }
        long tileLength = oneLoop ? 1 << 30 : TILE;
        par.forRange(n, Parallel.GRAIN, (lo, hi) -> {
            // a piece's slots, reused by each of its tiles
            float[][] slots = new float[plan.slots() + in.length][];
            float[][] arr = new float[operands][];
            int[] off = new int[operands];
            int[] stride = new int[operands];
            Leaves leaves = new Leaves(plan);
            for (long t0 = lo; t0 < hi; t0 += tileLength) {
                int len = (int) Math.min(tileLength, hi - t0);
                tile(plan, in, r, t0, len, slots, arr, off, stride, leaves);
            }
        });
    }

    /** Elements [t0, t0 + len) of the output; {@code arr}, {@code off}, {@code stride}: each operand's tile. */
    private static void tile(Plan plan, Input[] in, float[] r, long t0, int len, float[][] slots,
                             float[][] arr, int[] off, int[] stride, Leaves leaves) {
        int inputs = in.length;
        for (int i = 0; i < inputs; i++) {
            Input x = in[i];
            if (x.scalar() && plan.filled()[i]) { // read as an array by some expression
                float[] g = slot(slots, plan.slots() + i);
                Arrays.fill(g, 0, len, x.data()[(int) x.offset()]);
                arr[i] = g;
                off[i] = 0;
                stride[i] = 1;
            } else if (x.scalar()) {
                arr[i] = x.data();
                off[i] = (int) x.offset();
                stride[i] = 0;
            } else if (x.contiguous()) {
                arr[i] = x.data();
                off[i] = (int) (x.offset() + t0);
                stride[i] = 1;
            } else {
                float[] g = slot(slots, plan.slots() + i);
                gather(x.view(), x.data(), t0, len, g);
                arr[i] = g;
                off[i] = 0;
                stride[i] = 1;
            }
        }
        Stage[] stages = plan.stages();
        for (int s = 0; s < stages.length; s++) {
            Stage stage = stages[s];
            float[] dst;
            int pd;
            if (plan.slot()[s] < 0) {
                dst = r;
                pd = (int) t0;
            } else {
                dst = slot(slots, plan.slot()[s]);
                pd = 0;
            }
            if (stage.math() != null) {
                int a = stage.leaves()[0];
                if (stride[a] == 0) { // a broadcast scalar: the op over a tile of it, in place
                    Arrays.fill(dst, pd, pd + len, arr[a][off[a]]);
                    stage.math().run(dst, pd, dst, pd, len);
                } else {
                    stage.math().run(arr[a], off[a], dst, pd, len);
                }
            } else {
                float[][] a = leaves.arrays[s];
                int[] o = leaves.offsets[s];
                for (int k = 0; k < a.length; k++) {
                    a[k] = arr[stage.leaves()[k]];
                    o[k] = off[stage.leaves()[k]];
                }
                float[] sc = leaves.scalars[s];
                for (int k = 0; k < sc.length; k++) {
                    int op = stage.scalars()[k];
                    sc[k] = arr[op][off[op]];
                }
                expression(stage, a, o, sc, dst, pd, len);
            }
            arr[stage.operand()] = dst;
            off[stage.operand()] = pd;
            stride[stage.operand()] = 1;
        }
    }

    /** Where each stage's expression reads its leaves in the current tile: a piece's, reused by its tiles. */
    private static final class Leaves {
        final float[][][] arrays;
        final int[][] offsets;
        final float[][] scalars;

        Leaves(Plan plan) {
            int n = plan.stages().length;
            arrays = new float[n][][];
            offsets = new int[n][];
            scalars = new float[n][];
            for (int s = 0; s < n; s++) {
                arrays[s] = new float[plan.stages()[s].leaves().length][];
                offsets[s] = new int[arrays[s].length];
                scalars[s] = new float[plan.stages()[s].scalars().length];
            }
        }
    }

    /** A compiled expression over n elements: whole vectors in place, the last partial one in padded copies. */
    private static void expression(Stage stage, float[][] a, int[] o, float[] sc, float[] r, int pr, int n) {
        int len = SimdMath.F.length();
        int body = n - n % len;
        try {
            if (body > 0) {
                stage.loop().invokeExact(a, o, sc, r, pr, body);
            }
            if (body < n) {
                float[][] pa = new float[a.length][];
                for (int k = 0; k < a.length; k++) {
                    pa[k] = Arrays.copyOfRange(a[k], o[k] + body, o[k] + body + len); // zero-padded past the end
                    Arrays.fill(pa[k], n - body, len, 0f);
                }
                float[] pr2 = new float[len];
                stage.loop().invokeExact(pa, new int[a.length], sc, pr2, 0, len);
                System.arraycopy(pr2, 0, r, pr + body, n - body);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static float[] slot(float[][] slots, int i) {
        return slots[i] == null ? (slots[i] = new float[TILE]) : slots[i];
    }

    /** Elements [t0, t0 + len) of a strided view (in row-major order of its shape) into {@code g}. */
    private static void gather(View v, float[] data, long t0, int len, float[] g) {
        int[] shape = v.shape();
        long[] strides = v.strides();
        int rank = shape.length;
        int[] idx = new int[rank];
        long rest = t0;
        long pos = v.offset();
        for (int d = rank - 1; d >= 0; d--) {
            idx[d] = (int) (rest % shape[d]);
            rest /= shape[d];
            pos += idx[d] * strides[d];
        }
        int last = rank - 1;
        for (int t = 0; t < len; t++) {
            g[t] = data[(int) pos];
            for (int d = last; d >= 0; d--) { // the odometer
                idx[d]++;
                pos += strides[d];
                if (idx[d] < shape[d]) {
                    break;
                }
                pos -= (long) idx[d] * strides[d];
                idx[d] = 0;
            }
        }
    }
}
