package dev.spool.cpu;

import dev.spool.DType;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.FusedElementwise;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;

/**
 * A traced function's fused elementwise chain ({@link FusedElementwise}) in one pass: the output
 * is cut into tiles of {@link #TILE} elements, and each step runs over the tile with the same
 * vector loops {@link SimdElementwise} runs for the primitive alone, into a tile-sized slot
 * that stays in L1, so the chain reads its inputs and writes its output once. Slots are
 * planned by liveness, as the function's buffers are: a step writes over an operand it reads
 * for the last time (the loops read each element before writing it), so a chain needs one
 * slot and a tree only as many as it holds live at once. Float32 with the Vector API and ops
 * that have a vector loop; anything else takes the SPI's default (each step as its primitive),
 * so results are the primitives' to the bit either way.
 */
final class SimdFused {
    /**
     * Elements per tile: the tile's slots (a chain needs one), its gathered inputs and the
     * output's tile stay in L1, and the per-step calls are few. JMH on 2 threads (AVX-512 EPYC,
     * quiet but noisy): GELU from 8 ops on 4M floats took 3.1-3.4 ms with 512 or 1,024, 2.3-3.6
     * with 2,048 and 3.0 with 4,096; the memory-bound 4-op chain did not rank them.
     */
    static final int TILE = 2048;

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

    /** How an input is read within a tile. */
    private record Input(float[] data, long offset, boolean scalar, boolean contiguous, View view) {
    }

    /**
     * Where each step writes: {@code slot[j]} is the tile slot of step j's result (-1: the
     * output), of {@code slots} in all; gathered (strided) inputs take slots after those.
     */
    private record Plan(FusedElementwise.Step[] steps, Loop[] loops, int[] slot, int slots) {
        static Plan of(FusedElementwise p) {
            int inputs = p.inputs();
            FusedElementwise.Step[] steps = p.steps().toArray(new FusedElementwise.Step[0]);
            int[] lastUse = new int[inputs + steps.length];
            for (int j = 0; j < steps.length; j++) {
                lastUse[steps[j].a()] = j;
                if (steps[j].b() >= 0) {
                    lastUse[steps[j].b()] = j;
                }
            }
            int[] slot = new int[steps.length];
            java.util.ArrayDeque<Integer> free = new java.util.ArrayDeque<>();
            int slots = 0;
            for (int j = 0; j < steps.length; j++) {
                release(steps[j].a(), j, inputs, lastUse, slot, free);
                release(steps[j].b(), j, inputs, lastUse, slot, free);
                slot[j] = j == steps.length - 1 ? -1 : free.isEmpty() ? slots++ : free.pop();
            }
            Loop[] loops = new Loop[steps.length];
            for (int j = 0; j < steps.length; j++) {
                loops[j] = steps[j].unary() != null ? unaryLoop(steps[j].unary()) : binaryLoop(steps[j].binary());
            }
            return new Plan(steps, loops, slot, slots);
        }

        /** Frees the slot of {@code operand} if step j reads it for the last time (once, if read twice). */
        private static void release(int operand, int j, int inputs, int[] lastUse, int[] slot,
                                    java.util.ArrayDeque<Integer> free) {
            if (operand >= inputs && lastUse[operand] == j && slot[operand - inputs] >= 0
                    && !free.contains(slot[operand - inputs])) {
                free.push(slot[operand - inputs]);
            }
        }
    }

    /**
     * One step's vector loop over a tile ({@code y} unused by unary ops). The tile loop calls
     * each step through this interface, and each op has a class of its own: the call site sees
     * several classes, so C2 does not inline the loops into the tile loop but compiles each on
     * its own. Inlined there, the GELU chain's tanh was past C2's inlining budget, and its
     * vectors were boxed: 98.6 MB allocated per call on 4M floats (JMH -prof gc), 8-10 ms
     * against 1 ms for tanh alone.
     */
    @FunctionalInterface
    private interface Loop {
        void run(float[] x, int px, int sx, float[] y, int py, int sy, float[] r, int pr, int n);
    }

    private static Loop unaryLoop(UnaryOp op) {
        return switch (op) {
            case NEG -> (x, px, sx, y, py, sy, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.NEG, x, px, r, pr, n);
            case ABS -> (x, px, sx, y, py, sy, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.ABS, x, px, r, pr, n);
            case RELU -> (x, px, sx, y, py, sy, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.RELU, x, px, r, pr, n);
            case SQRT -> (x, px, sx, y, py, sy, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.SQRT, x, px, r, pr, n);
            case EXP -> (x, px, sx, y, py, sy, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.EXP, x, px, r, pr, n);
            case LOG -> (x, px, sx, y, py, sy, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.LOG, x, px, r, pr, n);
            case LOG1P -> (x, px, sx, y, py, sy, r, pr, n) ->
                    SimdElementwise.unaryFloat(UnaryOp.LOG1P, x, px, r, pr, n);
            case TANH -> (x, px, sx, y, py, sy, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.TANH, x, px, r, pr, n);
            case SIGMOID -> (x, px, sx, y, py, sy, r, pr, n) ->
                    SimdElementwise.unaryFloat(UnaryOp.SIGMOID, x, px, r, pr, n);
            case SIN -> (x, px, sx, y, py, sy, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.SIN, x, px, r, pr, n);
            case COS -> (x, px, sx, y, py, sy, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.COS, x, px, r, pr, n);
            case ERF -> (x, px, sx, y, py, sy, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.ERF, x, px, r, pr, n);
            case GELU -> (x, px, sx, y, py, sy, r, pr, n) -> SimdElementwise.unaryFloat(UnaryOp.GELU, x, px, r, pr, n);
            case GELU_TANH -> (x, px, sx, y, py, sy, r, pr, n) ->
                    SimdElementwise.unaryFloat(UnaryOp.GELU_TANH, x, px, r, pr, n);
            default -> throw new IllegalArgumentException(op + " has no SIMD float32 loop");
        };
    }

    private static Loop binaryLoop(BinaryOp op) {
        return switch (op) {
            case ADD -> (x, px, sx, y, py, sy, r, pr, n) ->
                    SimdElementwise.binaryFloat(BinaryOp.ADD, x, px, sx, y, py, sy, r, pr, n);
            case SUB -> (x, px, sx, y, py, sy, r, pr, n) ->
                    SimdElementwise.binaryFloat(BinaryOp.SUB, x, px, sx, y, py, sy, r, pr, n);
            case MUL -> (x, px, sx, y, py, sy, r, pr, n) ->
                    SimdElementwise.binaryFloat(BinaryOp.MUL, x, px, sx, y, py, sy, r, pr, n);
            case DIV -> (x, px, sx, y, py, sy, r, pr, n) ->
                    SimdElementwise.binaryFloat(BinaryOp.DIV, x, px, sx, y, py, sy, r, pr, n);
            case MAX -> (x, px, sx, y, py, sy, r, pr, n) ->
                    SimdElementwise.binaryFloat(BinaryOp.MAX, x, px, sx, y, py, sy, r, pr, n);
            case MIN -> (x, px, sx, y, py, sy, r, pr, n) ->
                    SimdElementwise.binaryFloat(BinaryOp.MIN, x, px, sx, y, py, sy, r, pr, n);
            case RELU_GRAD -> (x, px, sx, y, py, sy, r, pr, n) ->
                    SimdElementwise.binaryFloat(BinaryOp.RELU_GRAD, x, px, sx, y, py, sy, r, pr, n);
            default -> throw new IllegalArgumentException(op + " has no SIMD float32 loop");
        };
    }

    static void run(Parallel par, FusedElementwise p, View[] inputs, CpuBuffer out) {
        float[] r = (float[]) out.data();
        long n = inputs[0].size();
        Input[] in = new Input[inputs.length];
        for (int i = 0; i < in.length; i++) {
            View v = inputs[i];
            boolean scalar = true;
            for (long s : v.strides()) {
                scalar &= s == 0;
            }
            in[i] = new Input((float[]) CpuBuffer.data(v), v.offset(), scalar, v.isContiguous(), v);
        }
        Plan plan = Plan.of(p);
        int operands = in.length + plan.steps().length;
        par.forRange(n, Parallel.GRAIN, (lo, hi) -> {
            // a piece's slots, reused by each of its tiles
            float[][] slots = new float[plan.slots() + in.length][];
            float[][] arr = new float[operands][];
            int[] off = new int[operands];
            int[] stride = new int[operands];
            for (long t0 = lo; t0 < hi; t0 += TILE) {
                int len = (int) Math.min(TILE, hi - t0);
                tile(plan, in, r, t0, len, slots, arr, off, stride);
            }
        });
    }

    /** Elements [t0, t0 + len) of the output; {@code arr}, {@code off}, {@code stride}: each operand's tile. */
    private static void tile(Plan plan, Input[] in, float[] r, long t0, int len, float[][] slots,
                             float[][] arr, int[] off, int[] stride) {
        int inputs = in.length;
        FusedElementwise.Step[] steps = plan.steps();
        for (int i = 0; i < inputs; i++) {
            Input x = in[i];
            if (x.scalar()) {
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
        for (int j = 0; j < steps.length; j++) {
            FusedElementwise.Step s = steps[j];
            float[] dst;
            int pd;
            if (plan.slot()[j] < 0) {
                dst = r;
                pd = (int) t0;
            } else {
                dst = slot(slots, plan.slot()[j]);
                pd = 0;
            }
            int a = s.a();
            int b = s.b() >= 0 ? s.b() : a; // a unary step's loop ignores its second operand
            Loop loop = plan.loops()[j];
            if (stride[a] == 0 && stride[b] == 0) { // broadcast scalars (inputs, never slots): a's tile, once
                java.util.Arrays.fill(dst, pd, pd + len, arr[a][off[a]]);
                loop.run(dst, pd, 1, arr[b], off[b], 0, dst, pd, len);
            } else {
                loop.run(arr[a], off[a], stride[a], arr[b], off[b], stride[b], dst, pd, len);
            }
            arr[inputs + j] = dst;
            off[inputs + j] = pd;
            stride[inputs + j] = 1;
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
