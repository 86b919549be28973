package dev.spool.cpu;

import java.lang.constant.ConstantDescs;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import jdk.incubator.vector.FloatVector;

/**
 * The loop of one compiled expression ({@link FusedExpression}), never run as itself:
 * {@link FusedExpression} reads this class's bytes and defines a hidden class from them per
 * expression, with the expression's method handle as its class data. {@link #EXPR} is then a
 * constant of that copy, so C2 inlines the whole handle tree into the loop and keeps every
 * intermediate vector in a register; through a handle that is not a constant, each vector would
 * be boxed on the heap.
 */
final class FusedLoopTemplate {
    /**
     * {@code (float[][] arrays, int[] offsets, int i, FloatVector s0, ..., s7) -> FloatVector}:
     * the expression's lanes at i, with its scalars broadcast once, before the loop. (A
     * broadcast from memory inside the loop cost 7x: GELU with its constants read from an
     * array in the loop took 8 ms on 4M floats, hoisted 1.1 ms.)
     */
    private static final MethodHandle EXPR = expression();
    private static final int LEN = FloatVector.SPECIES_PREFERRED.length();

    private FusedLoopTemplate() {
    }

    /**
     * {@code r[pr + i] = EXPR(a, o, i, s...)} for i in [0, n), n a multiple of the vector length,
     * with the expression's scalars {@code s} (at most {@link FusedExpression#SCALARS}).
     */
    static void run(float[][] a, int[] o, float[] s, float[] r, int pr, int n) throws Throwable {
        FloatVector s0 = scalar(s, 0);
        FloatVector s1 = scalar(s, 1);
        FloatVector s2 = scalar(s, 2);
        FloatVector s3 = scalar(s, 3);
        FloatVector s4 = scalar(s, 4);
        FloatVector s5 = scalar(s, 5);
        FloatVector s6 = scalar(s, 6);
        FloatVector s7 = scalar(s, 7);
        for (int i = 0; i < n; i += LEN) {
            ((FloatVector) EXPR.invokeExact(a, o, i, s0, s1, s2, s3, s4, s5, s6, s7)).intoArray(r, pr + i);
        }
    }

    private static FloatVector scalar(float[] s, int k) {
        return FloatVector.broadcast(FloatVector.SPECIES_PREFERRED, k < s.length ? s[k] : 0f);
    }

    private static MethodHandle expression() {
        try {
            // null in the template itself, which is only read, never run
            return MethodHandles.classData(MethodHandles.lookup(), ConstantDescs.DEFAULT_NAME, MethodHandle.class);
        } catch (IllegalAccessException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
