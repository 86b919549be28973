package dev.spool.cpu;

import dev.spool.spi.BinaryOp;
import dev.spool.spi.FusedElementwise;
import dev.spool.spi.UnaryOp;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Collections;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.Vector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A tree of a fused program's cheap steps (the ops in {@link #isCheap}) compiled into one vector
 * loop that keeps every intermediate in a register: the Java form of the OpenCL kernel a traced
 * function generates. The tree becomes a method handle of {@code (float[][] arrays, int[]
 * offsets, int i, FloatVector s0, ..., s7) -> FloatVector} built from the ops' own methods, and
 * a hidden class defined from {@link FusedLoopTemplate}'s bytes holds it as a constant, so C2
 * compiles the handle tree inline with no vector boxed. No bytecode is generated; the loop is
 * the template's.
 *
 * <p>A leaf is an operand the tree reads from memory: a contiguous array (one vector at
 * {@code offsets[k] + i}) or a scalar, broadcast once before the loop and passed in as one of
 * {@link #SCALARS} vector arguments. Measured on a 2-core AVX-512 EPYC, JDK 17: the 4-op chain
 * on 16M floats ran at the speed of its memory traffic (2.2-2.8 ms) with nothing allocated per
 * vector, where one pass per step over an L1 tile took 5.5 ms; trees past about 16 steps
 * compile worse (SimdFused#BUDGET).
 */
final class FusedExpression {
    private static final VectorSpecies<Float> F = SimdMath.F;
    /** Scalars an expression takes broadcast before its loop: {@link FusedLoopTemplate}'s s0..s7. */
    static final int SCALARS = 8;
    /** {@code (float[][] arrays, int[] offsets, int i, FloatVector s0, ..., s7) -> FloatVector}. */
    private static final MethodType LEAF = MethodType.methodType(FloatVector.class, float[][].class, int[].class,
            int.class).appendParameterTypes(Collections.nCopies(SCALARS, FloatVector.class));
    private static final MethodType UNARY = MethodType.methodType(FloatVector.class, FloatVector.class);
    private static final MethodType BINARY = MethodType.methodType(FloatVector.class, FloatVector.class,
            FloatVector.class);
    /** {@code static void run(float[][] a, int[] o, float[] s, float[] r, int pr, int n)} of a hidden copy. */
    private static final MethodType RUN = MethodType.methodType(void.class, float[][].class, int[].class,
            float[].class, float[].class, int.class, int.class);
    private static final byte[] TEMPLATE = template();
    /** {@code (float[][] a, int[] o, int i, int k) -> FloatVector}: leaf k's vector at i. */
    private static final MethodHandle LOAD;

    static {
        try {
            LOAD = MethodHandles.lookup().findStatic(FusedExpression.class, "load",
                    MethodType.methodType(FloatVector.class, float[][].class, int[].class, int.class, int.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private FusedExpression() {
    }

    /**
     * Whether a step is cheap: exact per lane, with no loop of its own. Each op's method is the
     * Vector API's own (always inlined: {@code @ForceInline}) or under 35 bytecodes
     * (SimdFloatOps), which C2 inlines whatever the call site's profile.
     */
    static boolean isCheap(FusedElementwise.Step s) {
        if (s.unary() != null) {
            return switch (s.unary()) {
                case NEG, ABS, RELU, SQRT -> true;
                default -> false;
            };
        }
        return switch (s.binary()) {
            case ADD, SUB, MUL, DIV, MAX, MIN, RELU_GRAD -> true;
            default -> false;
        };
    }

    /**
     * Whether an expression can hold the step: a cheap one, or tanh ({@link SimdMath#tanh(FloatVector)},
     * one vector method of 240 bytecodes, which C2 inlines as a hot call). Other transcendentals
     * keep a pass of their own over the tile: their vector loops work through scratch blocks.
     */
    static boolean inlines(FusedElementwise.Step s) {
        return isCheap(s) || s.unary() == UnaryOp.TANH;
    }

    /**
     * What a step counts against {@link SimdFused#BUDGET}. tanh, one inlined call of some 25
     * vector operations, counts 4: GELU written with 11 ops (SimdFusedTest) and with 9 (the
     * benchmark's) stay one loop, in which C2 inlined tanh in every JVM measured (10 forks, JMH
     * {@code -prof gc}: 6 KB allocated per call on 4M floats, no vector boxed).
     */
    static int weight(FusedElementwise.Step s) {
        return isCheap(s) ? 1 : 4;
    }

    /**
     * The loop {@code (float[][] a, int[] o, float[] s, float[] r, int pr, int n) -> void}
     * computing operand {@code root} of {@code p}. Operands with {@code leaf[op] >= 0} are read
     * from memory: {@code s[leaf[op]]} where {@code scalar[op]} (below {@link #SCALARS}), else
     * the array {@code a[leaf[op]]}; every other operand on the way must be a cheap step,
     * inlined into the tree.
     */
    static MethodHandle compile(FusedElementwise p, int root, int[] leaf, boolean[] scalar) {
        MethodHandle expr = tree(p, root, leaf, scalar, new MethodHandle[leaf.length]);
        try {
            MethodHandles.Lookup copy = MethodHandles.lookup().defineHiddenClassWithClassData(TEMPLATE, expr, true);
            return copy.findStatic(copy.lookupClass(), "run", RUN);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cpu: cannot define the loop of " + p.expression(), e);
        }
    }

    private static MethodHandle tree(FusedElementwise p, int op, int[] leaf, boolean[] scalar, MethodHandle[] memo) {
        if (memo[op] != null) {
            return memo[op];
        }
        MethodHandle h;
        if (leaf[op] >= 0 && scalar[op]) {
            // (a, o, i, s0..s7) -> s_k
            int k = leaf[op];
            if (k >= SCALARS) {
                throw new IllegalArgumentException("an expression takes at most " + SCALARS + " scalars");
            }
            h = MethodHandles.dropArguments(MethodHandles.identity(FloatVector.class), 0,
                    LEAF.parameterList().subList(0, 3 + k));
            h = MethodHandles.dropArguments(h, 4 + k, LEAF.parameterList().subList(4 + k, LEAF.parameterCount()));
        } else if (leaf[op] >= 0) {
            h = MethodHandles.dropArguments(MethodHandles.insertArguments(LOAD, 3, leaf[op]), 3,
                    LEAF.parameterList().subList(3, LEAF.parameterCount()));
        } else {
            FusedElementwise.Step s = p.steps().get(op - p.inputs());
            if (!inlines(s)) {
                throw new IllegalArgumentException("step " + s + " is not a leaf and has no vector form");
            }
            MethodHandle a = tree(p, s.a(), leaf, scalar, memo);
            if (s.unary() != null) {
                h = MethodHandles.filterReturnValue(a, unary(s.unary()));
            } else {
                // (args) -> op(a(args), b(args))
                MethodHandle both = MethodHandles.collectArguments(binary(s.binary()), 1, tree(p, s.b(), leaf, scalar, memo));
                both = MethodHandles.collectArguments(both, 0, a);
                int[] twice = new int[2 * LEAF.parameterCount()];
                for (int q = 0; q < twice.length; q++) {
                    twice[q] = q % LEAF.parameterCount();
                }
                h = MethodHandles.permuteArguments(both, LEAF, twice);
            }
        }
        return memo[op] = h;
    }

    private static MethodHandle unary(UnaryOp op) {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            return switch (op) {
                case NEG -> l.findVirtual(FloatVector.class, "neg", MethodType.methodType(FloatVector.class));
                case ABS -> l.findVirtual(FloatVector.class, "abs", MethodType.methodType(FloatVector.class));
                case SQRT -> l.findVirtual(FloatVector.class, "sqrt", MethodType.methodType(FloatVector.class));
                case RELU -> l.findStatic(SimdFloatOps.class, "relu", UNARY);
                case TANH -> l.findStatic(SimdMath.class, "tanh", UNARY);
                default -> throw new IllegalArgumentException(op + " has no vector form");
            };
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static MethodHandle binary(BinaryOp op) {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            if (op == BinaryOp.RELU_GRAD) {
                return l.findStatic(SimdFloatOps.class, "reluGrad", BINARY);
            }
            String name = switch (op) {
                case ADD -> "add";
                case SUB -> "sub";
                case MUL -> "mul";
                case DIV -> "div";
                case MAX -> "max";
                case MIN -> "min";
                default -> throw new IllegalArgumentException(op + " has no vector form");
            };
            // FloatVector.add(Vector<Float>) and its kin, seen as (FloatVector, FloatVector)
            return l.findVirtual(FloatVector.class, name, MethodType.methodType(FloatVector.class, Vector.class))
                    .asType(BINARY);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static FloatVector load(float[][] a, int[] o, int i, int k) {
        return FloatVector.fromArray(F, a[k], o[k] + i);
    }

    private static byte[] template() {
        try (InputStream in = FusedExpression.class.getResourceAsStream("FusedLoopTemplate.class")) {
            if (in == null) {
                throw new IllegalStateException("cpu: FusedLoopTemplate.class is missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
