package dev.spool.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.ClosedException;
import dev.spool.DType;
import dev.spool.Device;
import dev.spool.DeviceException;
import dev.spool.FusedActivation;
import dev.spool.GradientTape;
import dev.spool.Operand;
import dev.spool.Padding;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.SpoolException;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UnconnectedGradients;
import dev.spool.UsageException;
import dev.spool.Variable;
import dev.spool.testing.TestDevices;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input, everywhere: every public method and constructor of {@link Spool}, {@link Operand},
 * {@link Tensor}, {@link Variable} and {@link GradientTape}, found by reflection, is called with
 * malformed arguments (wrong ranks and dtypes, negative, huge and out-of-range axes, sizes and
 * values, empty tensors, NaN and infinities, closed tensors and variables, nulls, tensors of
 * another device, a tape of another thread). The contract (docs/RELIABILITY.md, "Errors"):
 *
 * <ul>
 *   <li>every failure is a {@link SpoolException} with a message, never an
 *       {@code ArrayIndexOutOfBoundsException}, {@code IllegalArgumentException}, an
 *       {@code OutOfMemoryError} or a native fault;</li>
 *   <li>a {@code null} argument is a {@code NullPointerException} with a message that Spool
 *       wrote, naming the argument (Java's convention), or a SpoolException; the JDK's own
 *       helpful message means an unchecked dereference, whose message C2 drops once the site
 *       is compiled and throws often;</li>
 *   <li>a closed tensor or variable is a {@link ClosedException}; tensors on two devices a
 *       {@link DeviceException}; a tape used on another thread a {@link UsageException};</li>
 *   <li>NaN and infinities never change whether a call throws: they compute (as in TF).</li>
 * </ul>
 *
 * <p>A new public method is swept as soon as it exists, provided the generator knows its
 * parameter types: {@link #everyPublicMethodIsSwept} fails naming any type it does not know
 * (add a pool for it in {@link #pool}). Semantics of particular bad inputs (which error, what an
 * empty reduction returns) are rows of {@link BadInputTableTest}. The number of calls is written
 * to {@code target/reliability/bad-input-<device>.txt} for docs/RELIABILITY.md.
 */
@ExtendWith(TestDevices.Available.class)
@SuppressWarnings("try")
class BadInputSweepTest {

    /** The public surface: methods and constructors, each named {@code Class.name(Params)}. */
    static List<Executable> surface() {
        List<Executable> all = new ArrayList<>();
        for (Class<?> c : List.of(Spool.class, Operand.class, Tensor.class, Variable.class, GradientTape.class)) {
            for (Method m : c.getDeclaredMethods()) {
                if (Modifier.isPublic(m.getModifiers()) && !m.isSynthetic()) {
                    all.add(m);
                }
            }
            for (Constructor<?> k : c.getConstructors()) {
                all.add(k);
            }
        }
        all.sort(Comparator.comparing(BadInputSweepTest::key));
        return all;
    }

    static String key(Executable e) {
        StringBuilder b = new StringBuilder(e.getDeclaringClass().getSimpleName());
        b.append('.').append(e instanceof Constructor ? "<init>" : e.getName()).append('(');
        Class<?>[] p = e.getParameterTypes();
        for (int i = 0; i < p.length; i++) {
            b.append(i > 0 ? ", " : "").append(p[i].getSimpleName());
        }
        return b.append(')').toString();
    }

    /** Methods that read only what a closed object still has (its description) or close it. */
    static final Set<String> FINE_WHEN_CLOSED = Set.of("close", "isClosed", "shape", "dtype", "device", "rank",
            "size", "toString", "name", "trainable", "isPersistent");

    // ---- argument pools ---------------------------------------------------------------------

    /** One argument for a call: how it is made, and what it is (for messages). */
    record Arg(String what, Supplier<Object> make, Kind kind) {
    }

    enum Kind { BASE, BAD, NULL, CLOSED, FOREIGN, EMPTY, NONFINITE }

    private static Arg arg(String what, Kind kind, Supplier<Object> make) {
        return new Arg(what, make, kind);
    }

    static Tensor base() {
        return Spool.constant(new float[][] {{1, 2, 3}, {4, 5, 6}});
    }

    static Tensor closed() {
        Tensor t = base();
        t.close();
        return t;
    }

    static Variable closedVariable() {
        Variable v = new Variable(base());
        v.close();
        return v;
    }

    /** Candidates for a parameter of this type: the first is the plain, valid-looking one. */
    static List<Arg> pool(Class<?> type, Type generic, Device foreign) {
        List<Arg> p = new ArrayList<>();
        if (type == Operand.class || type == Tensor.class) {
            p.add(arg("(2, 3) float32", Kind.BASE, BadInputSweepTest::base));
            p.add(arg("scalar", Kind.BAD, () -> Spool.constant(2f)));
            p.add(arg("(3,)", Kind.BAD, () -> Spool.constant(new float[] {1, 2, 3})));
            p.add(arg("(1, 2, 1, 3)", Kind.BAD, () -> base().reshape(1, 2, 1, 3)));
            p.add(arg("(3, 2) transposed view", Kind.BAD, () -> base().transpose()));
            p.add(arg("int32", Kind.BAD, () -> Spool.constant(new int[][] {{0, 1, 2}, {1, 0, 1}})));
            p.add(arg("int64", Kind.BAD, () -> Spool.constant(new long[] {-1, 5})));
            p.add(arg("bool", Kind.BAD, () -> Spool.constant(new boolean[][] {{true, false, true}, {false, true, false}})));
            p.add(arg("(0, 3) empty", Kind.EMPTY, () -> Spool.zeros(0, 3)));
            p.add(arg("(2, 0) empty", Kind.EMPTY, () -> Spool.zeros(2, 0)));
            p.add(arg("(2, 3) NaN and infinities", Kind.NONFINITE, () -> Spool.constant(new float[][] {
                    {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}, {0, -0f, Float.NaN}})));
            p.add(arg("closed tensor", Kind.CLOSED, BadInputSweepTest::closed));
            if (type == Operand.class) {
                p.add(arg("closed variable", Kind.CLOSED, BadInputSweepTest::closedVariable));
                p.add(arg("variable", Kind.BAD, () -> new Variable(base())));
            }
            if (foreign != null) {
                p.add(arg("(2, 3) on " + foreign, Kind.FOREIGN, () -> base().to(foreign)));
            }
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == Variable.class) {
            p.add(arg("variable (2, 3)", Kind.BASE, () -> new Variable(base())));
            p.add(arg("closed variable", Kind.CLOSED, BadInputSweepTest::closedVariable));
            p.add(arg("int32 variable", Kind.BAD, () -> new Variable(Spool.constant(new int[] {1}))));
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == List.class) {
            p.add(arg("[(2, 3), (2, 3)]", Kind.BASE, () -> List.of(base(), base())));
            p.add(arg("[]", Kind.BAD, List::of));
            p.add(arg("[(2, 3), (3,)]", Kind.BAD, () -> List.of(base(), Spool.constant(new float[] {1, 2, 3}))));
            p.add(arg("[(2, 3), int32]", Kind.BAD, () -> List.of(base(), Spool.constant(new int[][] {{1, 2, 3}, {4, 5, 6}}))));
            p.add(arg("[scalar, scalar]", Kind.BAD, () -> List.of(Spool.constant(1f), Spool.constant(2f))));
            p.add(arg("[(0, 3), (2, 3)]", Kind.EMPTY, () -> List.of(Spool.zeros(0, 3), base())));
            p.add(arg("[(2, 3), closed]", Kind.CLOSED, () -> List.of(base(), closed())));
            if (foreign != null) {
                p.add(arg("[(2, 3), (2, 3) on " + foreign + "]", Kind.FOREIGN, () -> List.of(base(), base().to(foreign))));
            }
            p.add(arg("[(2, 3), null]", Kind.NULL, () -> Arrays.asList(base(), null)));
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == int.class) {
            p.add(arg("0", Kind.BASE, () -> 0));
            for (int v : new int[] {-1, -3, 1, 2, 3, 5, 1 << 16, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
                p.add(arg(Integer.toString(v), Kind.BAD, () -> v));
            }
        } else if (type == int[].class) {
            p.add(arg("[0]", Kind.BASE, () -> new int[] {0}));
            for (int[] v : new int[][] {{}, {-1}, {-3}, {2}, {7}, {0, 0}, {1, 0}, {-1, -1}, {0, 1, 2}, {3, 2},
                    {2, -1}, {-2, 3}, {1 << 16, 1 << 16}, {Integer.MAX_VALUE}, {Integer.MIN_VALUE, 1}}) {
                p.add(arg(Arrays.toString(v), Kind.BAD, v::clone));
            }
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == long.class) {
            p.add(arg("7", Kind.BASE, () -> 7L));
            p.add(arg("-1", Kind.BAD, () -> -1L));
            p.add(arg("Long.MIN_VALUE", Kind.BAD, () -> Long.MIN_VALUE));
        } else if (type == double.class || type == float.class) {
            boolean f = type == float.class;
            p.add(arg("1.5", Kind.BASE, () -> f ? (Object) 1.5f : (Object) 1.5));
            for (double v : new double[] {0, -1, 1e300, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
                p.add(arg(Double.toString(v), Double.isFinite(v) ? Kind.BAD : Kind.NONFINITE,
                        () -> f ? (Object) (float) v : (Object) v));
            }
        } else if (type == boolean.class) {
            p.add(arg("false", Kind.BASE, () -> false));
            p.add(arg("true", Kind.BAD, () -> true));
        } else if (type == DType.class) {
            p.add(arg("float32", Kind.BASE, () -> DType.FLOAT32));
            for (DType d : DType.values()) {
                if (d != DType.FLOAT32) {
                    p.add(arg(d.toString(), Kind.BAD, () -> d));
                }
            }
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == Shape.class) {
            p.add(arg("(2, 3)", Kind.BASE, () -> Shape.of(2, 3)));
            p.add(arg("()", Kind.BAD, Shape::scalar));
            p.add(arg("(0, 3)", Kind.EMPTY, () -> Shape.of(0, 3)));
            p.add(arg("(65536, 65536)", Kind.BAD, () -> Shape.of(1 << 16, 1 << 16)));
            p.add(arg("(2147483647, 2)", Kind.BAD, () -> Shape.of(Integer.MAX_VALUE, 2)));
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == double[].class) {
            p.add(arg("6 values", Kind.BASE, () -> new double[] {1, 2, 3, 4, 5, 6}));
            p.add(arg("[]", Kind.BAD, () -> new double[0]));
            p.add(arg("7 values", Kind.BAD, () -> new double[7]));
            p.add(arg("NaN and infinities", Kind.NONFINITE,
                    () -> new double[] {Double.NaN, 1, Double.POSITIVE_INFINITY, 4, Double.NEGATIVE_INFINITY, 1e300}));
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == Object.class) {
            p.add(arg("float[2][3]", Kind.BASE, () -> new float[][] {{1, 2, 3}, {4, 5, 6}}));
            p.add(arg("ragged float[][]", Kind.BAD, () -> new float[][] {{1, 2}, {3}}));
            p.add(arg("float[0][]", Kind.EMPTY, () -> new float[0][]));
            p.add(arg("short[]", Kind.BAD, () -> new short[] {1}));
            p.add(arg("String", Kind.BAD, () -> "seven"));
            p.add(arg("Integer", Kind.BAD, () -> 7));
            p.add(arg("float[][] with a null row", Kind.BAD, () -> new float[][] {{1}, null}));
            p.add(arg("double[] NaN", Kind.NONFINITE, () -> new double[] {Double.NaN, Double.NEGATIVE_INFINITY}));
            p.add(arg("closed tensor (an Object, not a Java array)", Kind.BAD, BadInputSweepTest::closed));
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == Device.class) {
            p.add(arg("cpu", Kind.BASE, Device::cpu));
            if (foreign != null) {
                p.add(arg(foreign.toString(), Kind.FOREIGN, () -> foreign));
            }
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == String.class) {
            p.add(arg("\"w\"", Kind.BASE, () -> "w"));
            p.add(arg("\"\"", Kind.BAD, () -> ""));
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == UnconnectedGradients.class) {
            p.add(arg("NONE", Kind.BASE, () -> UnconnectedGradients.NONE));
            p.add(arg("ZERO", Kind.BAD, () -> UnconnectedGradients.ZERO));
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == Padding.class) {
            p.add(arg("SAME", Kind.BASE, () -> Padding.SAME));
            p.add(arg("VALID", Kind.BAD, () -> Padding.VALID));
            p.add(arg("explicit(1, 0, 2, 65536)", Kind.BAD, () -> Padding.explicit(1, 0, 2, 1 << 16)));
            p.add(arg("explicit(MAX_VALUE x4)", Kind.BAD, () -> Padding.explicit(Integer.MAX_VALUE,
                    Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE)));
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == FusedActivation.class) {
            p.add(arg("RELU", Kind.BASE, () -> FusedActivation.RELU));
            p.add(arg("TANH", Kind.BAD, () -> FusedActivation.TANH));
            p.add(arg("SIGMOID", Kind.BAD, () -> FusedActivation.SIGMOID));
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == Operand[].class) {
            p.add(arg("[(2, 3)]", Kind.BASE, () -> new Operand[] {base()}));
            p.add(arg("[]", Kind.BAD, () -> new Operand[0]));
            p.add(arg("[int32]", Kind.BAD, () -> new Operand[] {Spool.constant(new int[] {1})}));
            p.add(arg("[closed]", Kind.CLOSED, () -> new Operand[] {closed()}));
            p.add(arg("[closed variable]", Kind.CLOSED, () -> new Operand[] {closedVariable()}));
            p.add(arg("[null]", Kind.NULL, () -> new Operand[] {null}));
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == java.util.function.DoubleSupplier.class) { // learning rates read when an update runs
            p.add(arg("() -> 0.1", Kind.BASE, () -> (java.util.function.DoubleSupplier) () -> 0.1));
            p.add(arg("() -> NaN", Kind.BAD, () -> (java.util.function.DoubleSupplier) () -> Double.NaN));
            p.add(arg("() -> -1", Kind.BAD, () -> (java.util.function.DoubleSupplier) () -> -1));
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == java.util.function.Function.class) { // traced functions' bodies
            p.add(arg("x -> x.neg()", Kind.BASE,
                    () -> (java.util.function.Function<Tensor, Tensor>) x -> x.neg()));
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == java.util.function.BiFunction.class) {
            p.add(arg("(a, b) -> a.add(b)", Kind.BASE,
                    () -> (java.util.function.BiFunction<Tensor, Tensor, Tensor>) (a, b) -> a.add(b)));
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == java.util.function.Supplier.class) {
            p.add(arg("() -> ones(2)", Kind.BASE, () -> (java.util.function.Supplier<Tensor>) () -> Spool.ones(2)));
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == dev.spool.function.TracedFunction.Function3.class) {
            p.add(arg("(a, b, c) -> a", Kind.BASE,
                    () -> (dev.spool.function.TracedFunction.Function3<Tensor>) (a, b, c) -> a));
            p.add(arg("null", Kind.NULL, () -> null));
        } else if (type == dev.spool.function.TracedFunction.Body.class) {
            p.add(arg("args -> args[0]", Kind.BASE, () -> (dev.spool.function.TracedFunction.Body<Object>) a -> a[0]));
            p.add(arg("null", Kind.NULL, () -> null));
        } else {
            return null; // unknown: everyPublicMethodIsSwept names it
        }
        return p;
    }

    /** The receivers of an instance method of {@code c}, fresh per call. */
    static List<Arg> receivers(Class<?> c, Device foreign) {
        List<Arg> p = new ArrayList<>();
        if (c == Tensor.class || c == Operand.class) {
            p.add(arg("(2, 3) float32", Kind.BASE, BadInputSweepTest::base));
            p.add(arg("scalar", Kind.BAD, () -> Spool.constant(2f)));
            p.add(arg("int32 (2, 3)", Kind.BAD, () -> Spool.constant(new int[][] {{0, 1, 2}, {1, 0, 1}})));
            p.add(arg("bool (2,)", Kind.BAD, () -> Spool.constant(new boolean[] {true, false})));
            p.add(arg("(0, 3) empty", Kind.EMPTY, () -> Spool.zeros(0, 3)));
            p.add(arg("(2, 3) NaN and infinities", Kind.NONFINITE, () -> Spool.constant(new float[][] {
                    {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}, {0, -0f, Float.NaN}})));
            p.add(arg("closed tensor", Kind.CLOSED, BadInputSweepTest::closed));
            if (c == Operand.class) {
                p.add(arg("variable", Kind.BAD, () -> new Variable(base())));
                p.add(arg("closed variable", Kind.CLOSED, BadInputSweepTest::closedVariable));
            }
            if (foreign != null) {
                p.add(arg("(2, 3) on " + foreign, Kind.FOREIGN, () -> base().to(foreign)));
            }
        } else if (c == Variable.class) {
            p.add(arg("variable (2, 3)", Kind.BASE, () -> new Variable(base())));
            p.add(arg("closed variable", Kind.CLOSED, BadInputSweepTest::closedVariable));
        } else if (c == GradientTape.class) {
            p.add(arg("tape that recorded x*x", Kind.BASE, () -> recordedTape(false)));
            p.add(arg("persistent tape", Kind.BAD, () -> recordedTape(true)));
            p.add(arg("non-persistent tape already used", Kind.BAD, () -> {
                GradientTape t = recordedTape(false);
                t.gradient(Spool.constant(1f), base());
                return t;
            }));
        }
        return p;
    }

    static GradientTape recordedTape(boolean persistent) {
        GradientTape tape = new GradientTape(persistent);
        try (tape) {
            Tensor x = base();
            tape.watch(x);
            x.mul(x);
        }
        return tape;
    }

    // ---- the sweep --------------------------------------------------------------------------

    /** What a call did. */
    record Outcome(Throwable thrown) {
        String kind() {
            return thrown == null ? "ok" : thrown.getClass().getSimpleName();
        }
    }

    /** A call with one bad argument (or receiver), the others plain. */
    record Call(Executable target, Arg receiver, Arg[] args, Kind kind, int badIndex) {
        String describe() {
            StringBuilder b = new StringBuilder(key(target)).append(" with ");
            if (receiver != null) {
                b.append("this=").append(receiver.what()).append(", ");
            }
            for (int i = 0; i < args.length; i++) {
                b.append(i > 0 ? ", " : "").append(args[i].what());
            }
            return b.toString();
        }
    }

    static List<Call> calls(Executable e, Device foreign) {
        Class<?>[] types = e.getParameterTypes();
        Type[] generics = e.getGenericParameterTypes();
        List<List<Arg>> pools = new ArrayList<>();
        for (int i = 0; i < types.length; i++) {
            pools.add(pool(types[i], generics[i], foreign));
        }
        boolean instance = e instanceof Method m && !Modifier.isStatic(m.getModifiers());
        List<Arg> recv = instance ? receivers(e.getDeclaringClass(), foreign) : List.of();
        List<Call> out = new ArrayList<>();
        Arg[] plain = new Arg[types.length];
        for (int i = 0; i < types.length; i++) {
            plain[i] = pools.get(i).get(0);
        }
        Arg plainRecv = instance ? recv.get(0) : null;
        out.add(new Call(e, plainRecv, plain, Kind.BASE, -2));
        for (int r = 1; r < recv.size(); r++) {
            out.add(new Call(e, recv.get(r), plain, recv.get(r).kind(), -1));
        }
        for (int i = 0; i < types.length; i++) {
            List<Arg> pool = pools.get(i);
            for (int k = 1; k < pool.size(); k++) {
                Arg[] args = plain.clone();
                args[i] = pool.get(k);
                out.add(new Call(e, plainRecv, args, pool.get(k).kind(), i));
            }
        }
        return out;
    }

    static Outcome run(Call c) {
        try (TensorScope scope = new TensorScope()) {
            Object recv = c.receiver() == null ? null : c.receiver().make().get();
            Object[] args = new Object[c.args().length];
            for (int i = 0; i < args.length; i++) {
                args[i] = c.args()[i].make().get();
            }
            try {
                Object result;
                if (c.target() instanceof Method m) {
                    result = m.invoke(recv, args);
                } else {
                    result = ((Constructor<?>) c.target()).newInstance(args);
                }
                if (result instanceof Tensor t && !t.isClosed()) {
                    t.toFloatArray(); // the result is readable: a lazily failing op fails here
                }
                closeAll(recv, args, result);
                return new Outcome(null);
            } catch (InvocationTargetException ex) {
                closeAll(recv, args, null);
                return new Outcome(ex.getCause());
            } catch (SpoolException | NullPointerException ex) { // from reading the result
                closeAll(recv, args, null);
                return new Outcome(ex);
            } finally {
                // the debugging switches are swept like any method; the calls after them run as users' do
                Spool.disableCheckNumerics();
                Spool.disableCheckIndices();
            }
        } catch (ReflectiveOperationException ex) {
            throw new AssertionError(c.describe() + ": cannot call", ex);
        }
    }

    private static void closeAll(Object... objects) {
        for (Object o : objects) {
            if (o instanceof Variable v) {
                v.close();
            } else if (o instanceof GradientTape tape) {
                // A tape left open keeps recording on this thread, and its records keep their
                // tensors: an unclosed tape from the sweep made a later soak grow without bound.
                tape.close();
            } else if (o instanceof Object[] array) {
                closeAll(array);
            } else if (o instanceof List<?> list) {
                closeAll(list.toArray());
            }
        }
    }

    /** Whether {@code message} is one the JVM writes for a null dereference (JEP 358). */
    static boolean isHelpfulNpeMessage(String message) {
        return message.startsWith("Cannot invoke ") || message.startsWith("Cannot read ")
                || message.startsWith("Cannot load ") || message.startsWith("Cannot store ")
                || message.startsWith("Cannot assign ") || message.startsWith("Cannot enter ")
                || message.startsWith("Cannot throw ");
    }

    /** The contract for one call's outcome; returns a failure description or null. */
    static String check(Call c, Outcome o, Outcome plainOutcome, Device device) {
        Throwable t = o.thrown();
        String name = c.target() instanceof Method m ? m.getName() : "<init>";
        if (t != null && (t.getMessage() == null || t.getMessage().isBlank())) {
            return "no message: " + t;
        }
        if (t instanceof NullPointerException && isHelpfulNpeMessage(t.getMessage())) {
            // the JDK's own message for a dereference: C2 drops it (a preallocated NPE, no
            // message) once the same site has thrown often, so Spool checks arguments itself
            return "an unchecked dereference, not an argument check: " + t.getMessage();
        }
        if (t != null && !(t instanceof SpoolException) && !(t instanceof NullPointerException && c.kind() == Kind.NULL)) {
            return "threw " + t.getClass().getName() + ": " + t.getMessage();
        }
        switch (c.kind()) {
            case CLOSED -> {
                if (!FINE_WHEN_CLOSED.contains(name) && !(t instanceof ClosedException)) {
                    return "a closed argument should be a ClosedException, got " + o.kind()
                            + (t != null ? ": " + t.getMessage() : "");
                }
            }
            case FOREIGN -> {
                // Ops (Spool, Operand and variable updates) must not mix devices; a tape, a
                // constructor or Tensor.to may legitimately take a tensor of another device.
                boolean op = (c.target().getDeclaringClass() == Spool.class || c.target().getDeclaringClass() == Operand.class
                        || name.startsWith("assign")) && tensorArgs(c) >= 2;
                if (op && plainOutcome.thrown() == null && !(t instanceof DeviceException)) {
                    return "tensors on two devices should be a DeviceException, got " + o.kind();
                }
                if (op && t instanceof DeviceException && !(t.getMessage().contains(device.id())
                        && t.getMessage().contains(Device.cpu().id()))) {
                    return "the DeviceException should name both devices: " + t.getMessage();
                }
            }
            case NONFINITE -> {
                // NaN and infinities compute wherever the same call on finite values computes;
                // factories may refuse them (a range from NaN has no length).
                if (!isFactory(c.target()) && !o.kind().equals(plainOutcome.kind())) {
                    return "non-finite values changed the outcome: finite " + plainOutcome.kind() + ", non-finite "
                            + o.kind() + (t != null ? ": " + t.getMessage() : "");
                }
            }
            default -> {
            }
        }
        return null;
    }

    private static boolean isFactory(Executable e) {
        if (e.getDeclaringClass() != Spool.class) {
            return false;
        }
        for (Class<?> p : e.getParameterTypes()) {
            if (Operand.class.isAssignableFrom(p) || p == List.class) {
                return false;
            }
        }
        return true;
    }

    private static int tensorArgs(Call c) {
        int n = c.receiver() != null ? 1 : 0;
        for (Class<?> p : c.target().getParameterTypes()) {
            if (Operand.class.isAssignableFrom(p) || p == List.class) {
                n++;
            }
        }
        return n;
    }

    // ---- tests ------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void everyPublicMethodIsSwept(Device device) throws IOException {
        Device foreign = device == Device.cpu() ? null : Device.cpu();
        List<String> unknown = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        Map<Kind, Integer> counts = new TreeMap<>();
        Map<String, Integer> perMethod = new LinkedHashMap<>();
        int total = 0;
        try (Device.Scope d = Device.use(device)) {
            for (Executable e : surface()) {
                Class<?>[] types = e.getParameterTypes();
                Type[] generics = e.getGenericParameterTypes();
                boolean known = true;
                for (int i = 0; i < types.length; i++) {
                    if (pool(types[i], generics[i], foreign) == null) {
                        unknown.add(key(e) + ": parameter " + i + " of type " + generics[i].getTypeName());
                        known = false;
                    }
                }
                if (!known) {
                    continue;
                }
                List<Call> calls = calls(e, foreign);
                Outcome plain = null;
                for (Call c : calls) {
                    Outcome o = run(c);
                    if (c.kind() == Kind.BASE && c.badIndex() == -2) {
                        plain = o;
                    }
                    String problem = check(c, o, plain, device);
                    if (problem != null) {
                        failures.add(c.describe() + ": " + problem);
                    }
                    counts.merge(c.kind(), 1, Integer::sum);
                    total++;
                }
                perMethod.put(key(e), calls.size());
            }
        }
        String report = "bad-input sweep on " + device + ": " + total + " calls over " + perMethod.size()
                + " public methods and constructors; by kind " + counts;
        System.out.println(report);
        Path dir = Path.of("target", "reliability");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("bad-input-" + device.id().replace(':', '_') + ".txt"),
                report + "\n" + String.join("\n", perMethod.entrySet().stream()
                        .map(x -> x.getKey() + " " + x.getValue()).toList()) + "\n");
        assertTrue(unknown.isEmpty(), "public methods with parameter types the sweep cannot make (add a pool in "
                + "BadInputSweepTest.pool):\n" + String.join("\n", unknown));
        assertTrue(failures.isEmpty(), failures.size() + " of " + total + " calls broke the contract:\n"
                + String.join("\n", failures.subList(0, Math.min(failures.size(), 80))));
    }

    /** Every public method of a tape, on a thread that is not the tape's, is a UsageException. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void aTapeBelongsToItsThread(Device device) throws Exception {
        try (TestDevices.On on = TestDevices.on(device)) {
            Tensor x = base();
            GradientTape tape = new GradientTape(true);
            try {
                tape.watch(x);
                Tensor y = x.mul(x).sum();
                int swept = 0;
                for (Executable e : surface()) {
                    if (e.getDeclaringClass() != GradientTape.class || !(e instanceof Method m)
                            || Modifier.isStatic(m.getModifiers()) || m.getName().equals("isPersistent")) {
                        continue;
                    }
                    Object[] args = new Object[m.getParameterCount()];
                    Class<?>[] p = m.getParameterTypes();
                    for (int i = 0; i < args.length; i++) {
                        args[i] = p[i] == Operand.class ? (i == 0 ? y : x) : p[i] == List.class ? List.of(x)
                                : p[i] == Operand[].class ? new Operand[] {x}
                                : p[i] == UnconnectedGradients.class ? UnconnectedGradients.NONE : null;
                    }
                    Throwable thrown = CompletableFuture.supplyAsync(() -> {
                        try (Device.Scope d = Device.use(device)) {
                            m.invoke(tape, args);
                            return null;
                        } catch (InvocationTargetException ex) {
                            return ex.getCause();
                        } catch (IllegalAccessException ex) {
                            return ex;
                        }
                    }).get(60, TimeUnit.SECONDS);
                    assertTrue(thrown instanceof UsageException, key(m) + " on another thread: " + thrown);
                    assertTrue(thrown.getMessage().contains(Thread.currentThread().getName()), thrown.getMessage());
                    swept++;
                }
                assertTrue(swept >= 7, "tape methods swept: " + swept);
                // ...and on its own thread the tape is intact.
                float[] g = tape.gradient(y, x).toFloatArray();
                assertEquals(12, g[5], 0);
            } finally {
                tape.close();
                tape.reset();
            }
        }
    }

    /** The surface is what the doc says it is: the count is printed and must not shrink unnoticed. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.testing.TestDevices#underTest")
    void theSurfaceIsEnumerated(Device device) {
        Set<String> names = new TreeSet<>();
        for (Executable e : surface()) {
            names.add(key(e));
        }
        assertTrue(names.contains("Spool.matmul(Operand, Operand)") && names.contains("Operand.add(Operand)")
                && names.contains("Variable.<init>(Operand)") && names.contains("GradientTape.gradient(Operand, Operand)")
                && names.contains("Tensor.getDouble(int[])"), names.toString());
        assertTrue(names.size() > 200, "public surface: " + names.size());
    }
}
