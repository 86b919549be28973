package dev.spool.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.Operand;
import dev.spool.Padding;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.nn.data.Csv;
import dev.spool.nn.data.Dataset;
import dev.spool.nn.data.FashionMnist;
import dev.spool.nn.data.Idx;
import dev.spool.nn.io.NpyArray;
import dev.spool.nn.layers.Activation;
import dev.spool.nn.layers.AveragePooling2D;
import dev.spool.nn.layers.BatchNormalization;
import dev.spool.nn.layers.Conv2D;
import dev.spool.nn.layers.Dense;
import dev.spool.nn.layers.DepthwiseConv2D;
import dev.spool.nn.layers.Dropout;
import dev.spool.nn.layers.Embedding;
import dev.spool.nn.layers.Flatten;
import dev.spool.nn.layers.GlobalAveragePooling2D;
import dev.spool.nn.layers.Initializer;
import dev.spool.nn.layers.Layer;
import dev.spool.nn.layers.LayerNormalization;
import dev.spool.nn.layers.MaxPooling2D;
import dev.spool.nn.layers.Sequential;
import dev.spool.nn.losses.Reduction;
import dev.spool.nn.metrics.Accuracy;
import dev.spool.nn.metrics.Mean;
import dev.spool.nn.optimizers.Adam;
import dev.spool.nn.optimizers.AdamW;
import dev.spool.nn.optimizers.LearningRateSchedule;
import dev.spool.nn.optimizers.Optimizer;
import dev.spool.nn.optimizers.RMSprop;
import dev.spool.nn.optimizers.SGD;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.io.StringReader;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every public constructor and method of nn's public classes, found by reflection over nn's
 * compiled classes, is called once for each of its reference parameters with that parameter
 * {@code null} (and, for a list, array or map, once with a {@code null} element) and every other
 * argument valid. Each call must throw a {@link NullPointerException} whose message is exactly
 * {@code "<op>: <parameter> is null"} ({@code <op>}: the declaring class for a constructor,
 * {@code Class.method} otherwise; the parameter name comes from the class file, compiled with
 * {@code -parameters}), written by Spool (runtime-core's {@code NullChecks}, nn's {@code NnArgs})
 * and not by the JVM: its helpful messages ({@code Cannot invoke ... because ...}) vanish once C2
 * compiles a site that throws often.
 *
 * <p>A null check does not depend on the device: everything runs on {@code cpu}.
 * {@link #theMessageSurvivesTheJit} repeats a few sites 20,000 times, as runtime-core's
 * NullArgumentTest does.
 */
@SuppressWarnings("try")
class NullArgumentSweepTest {

    /** Optimizer.apply documents a null gradient as "no gradient for this variable". */
    static final Set<String> NULL_ELEMENTS_ALLOWED = Set.of("Optimizer.apply: gradients");

    /** Arguments documented as optional, as in Keras: null means "not given" (key = value, no mask). */
    static final Set<String> NULL_ALLOWED = Set.of("MultiHeadAttention.call: key",
            "MultiHeadAttention.call: attentionMask");

    @TempDir
    Path dir;

    private final List<AutoCloseable> resources = new ArrayList<>();

    // ---- the public surface -----------------------------------------------------------------

    /** nn's public top-level classes, from its compiled class directory (not nn.internal). */
    static List<Class<?>> publicClasses() throws IOException, URISyntaxException, ClassNotFoundException {
        Path root = Path.of(Dense.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.isDirectory(root), "nn's classes should be a directory under test: " + root);
        List<Class<?>> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root.resolve("dev/spool/nn"))) {
            for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                String rel = root.relativize(f).toString().replace('\\', '/');
                if (!rel.endsWith(".class") || rel.contains("$") || rel.startsWith("dev/spool/nn/internal/")) {
                    continue;
                }
                Class<?> c = Class.forName(rel.substring(0, rel.length() - 6).replace('/', '.'));
                if (Modifier.isPublic(c.getModifiers())) {
                    out.add(c);
                }
            }
        }
        return out;
    }

    /** The executables that take a reference argument and whose nulls are nn's to check. */
    static List<Executable> surface(Class<?> c) {
        List<Executable> all = new ArrayList<>();
        if (Throwable.class.isAssignableFrom(c)) {
            return all; // exception constructors: a null message is allowed, as in java.lang
        }
        for (Constructor<?> k : c.getConstructors()) {
            all.add(k);
        }
        for (Method m : c.getDeclaredMethods()) {
            if (!Modifier.isPublic(m.getModifiers()) || m.isSynthetic() || m.isBridge()) {
                continue;
            }
            boolean enumMember = c.isEnum() && (m.getName().equals("values") || m.getName().equals("valueOf"));
            boolean equals = m.getName().equals("equals") && m.getParameterCount() == 1; // equals(null) is false
            if (!enumMember && !equals) {
                all.add(m);
            }
        }
        all.removeIf(e -> Arrays.stream(e.getParameterTypes()).allMatch(Class::isPrimitive));
        return all;
    }

    // ---- valid arguments and receivers ------------------------------------------------------

    Tensor tensor() {
        return Spool.constant(new float[][] {{1, 2, 3}, {4, 5, 6}});
    }

    Variable variable() {
        Variable v = new Variable(Spool.constant(new float[] {1, 2}));
        resources.add(v);
        return v;
    }

    /** A valid value of {@code type} (as far as the call gets before its null check). */
    Object valid(Class<?> type, Type generic) {
        if (type == Operand.class || type == Tensor.class) {
            return tensor();
        } else if (type == Variable.class) {
            return variable();
        } else if (type == Path.class) {
            return dir.resolve("valid.npz");
        } else if (type == Layer.class) {
            return dense();
        } else if (type == String.class) {
            return "name";
        } else if (type == DType.class) {
            return DType.FLOAT32;
        } else if (type == Shape.class) {
            return Shape.of(2, 3);
        } else if (type == Device.class) {
            return Device.cpu();
        } else if (type == Class.class) {
            return NullArgumentSweepTest.class;
        } else if (type == Initializer.class) {
            return Initializer.ZEROS;
        } else if (type == Activation.class) {
            return Activation.RELU;
        } else if (type == LearningRateSchedule.class) {
            return LearningRateSchedule.constant(0.1);
        } else if (type == Idx.Type.class) {
            return Idx.Type.FLOAT;
        } else if (type == FashionMnist.Split.class) {
            return FashionMnist.Split.TEST;
        } else if (type == Padding.class) {
            return Padding.VALID;
        } else if (type == Reduction.class) {
            return Reduction.MEAN;
        } else if (type == NpyArray.class) {
            return new NpyArray(DType.FLOAT32, new int[] {2}, new float[2]);
        } else if (type == Object.class) {
            return new float[2];
        } else if (type == int[].class) {
            return new int[] {0};
        } else if (type == InputStream.class) {
            return new ByteArrayInputStream(new byte[0]);
        } else if (type == OutputStream.class) {
            return new ByteArrayOutputStream();
        } else if (type == Reader.class) {
            return new StringReader("1,2\n");
        } else if (type.isArray() && !type.getComponentType().isPrimitive()) {
            Object[] a = (Object[]) java.lang.reflect.Array.newInstance(type.getComponentType(), 2);
            a[0] = valid(type.getComponentType(), type.getComponentType());
            a[1] = valid(type.getComponentType(), type.getComponentType());
            return a;
        } else if (type == List.class) {
            Class<?> element = typeArgument(generic, 0);
            return new ArrayList<>(List.of(valid(element, element), valid(element, element)));
        } else if (type == Map.class) {
            Class<?> value = typeArgument(generic, 1);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("w", valid(value, value));
            return m;
        }
        return null;
    }

    static Class<?> typeArgument(Type generic, int i) {
        Type t = ((ParameterizedType) generic).getActualTypeArguments()[i];
        if (t instanceof java.lang.reflect.WildcardType w) {
            t = w.getUpperBounds()[0];
        }
        return (Class<?>) (t instanceof ParameterizedType p ? p.getRawType() : t);
    }

    Dense dense() {
        Dense d = new Dense(3, 2, Activation.RELU, 1);
        resources.addAll(d.variables().values());
        return d;
    }

    /**
     * Instances to call {@code e} on: for an interface's abstract method, the interface's
     * constants (Activation.RELU, Initializer.ZEROS, ...), whose messages name the interface.
     */
    List<Object> receivers(Class<?> c, Executable e) throws IOException {
        if (Modifier.isAbstract(e.getModifiers())) {
            return constants(c);
        }
        Map<Class<?>, Supplier<Object>> make = new LinkedHashMap<>();
        make.put(Dense.class, this::dense);
        make.put(Dropout.class, () -> new Dropout(0.5, 1));
        make.put(Embedding.class, () -> new Embedding(4, 2, 1));
        make.put(LayerNormalization.class, () -> new LayerNormalization(3));
        make.put(dev.spool.nn.layers.MultiHeadAttention.class, () -> new dev.spool.nn.layers.MultiHeadAttention(2, 2, 1));
        make.put(Sequential.class, () -> new Sequential(dense()));
        make.put(Conv2D.class, () -> new Conv2D(2, 1, Activation.RELU, 1));
        make.put(DepthwiseConv2D.class, () -> new DepthwiseConv2D(1, Activation.RELU, 1));
        make.put(MaxPooling2D.class, MaxPooling2D::new);
        make.put(AveragePooling2D.class, AveragePooling2D::new);
        make.put(GlobalAveragePooling2D.class, GlobalAveragePooling2D::new);
        make.put(Flatten.class, Flatten::new);
        make.put(BatchNormalization.class, BatchNormalization::new);
        make.put(Layer.class, this::dense);
        make.put(Dataset.class, () -> Dataset.fromTensors(tensor()));
        make.put(NpyArray.class, () -> new NpyArray(DType.FLOAT32, new int[] {2}, new float[2]));
        make.put(Accuracy.class, () -> track(Accuracy.binary(0.5)));
        make.put(Mean.class, () -> track(new Mean()));
        make.put(SGD.class, SGD::new);
        make.put(Adam.class, Adam::new);
        make.put(AdamW.class, AdamW::new);
        make.put(RMSprop.class, RMSprop::new);
        make.put(Optimizer.class, SGD::new);
        if (c == Csv.class) {
            return List.of(Csv.read(new StringReader("a,b\n1,2\n"), "inline", true));
        }
        if (make.containsKey(c)) {
            return List.of(make.get(c).get());
        }
        return List.of();
    }

    static List<Object> constants(Class<?> c) {
        List<Object> constants = new ArrayList<>();
        for (Field f : c.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == c) {
                try {
                    constants.add(f.get(null));
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return constants;
    }

    private <T extends AutoCloseable> T track(T t) {
        resources.add(t);
        return t;
    }

    // ---- the sweep --------------------------------------------------------------------------

    /** One call with one null in it, and the message it must throw. */
    record Case(String expected, Executable target, Object receiver, Object[] args) {
        @Override
        public String toString() {
            return target.getDeclaringClass().getSimpleName() + "." + target.getName() + " -> " + expected;
        }
    }

    static String op(Executable e) {
        String cls = e.getDeclaringClass().getSimpleName();
        return e instanceof Constructor ? cls : cls + "." + e.getName();
    }

    List<Case> cases(Executable e, Object receiver) {
        Parameter[] params = e.getParameters();
        Object[] base = new Object[params.length];
        for (int i = 0; i < params.length; i++) {
            Class<?> t = params[i].getType();
            base[i] = t.isPrimitive() ? primitive(t) : valid(t, params[i].getParameterizedType());
            if (!t.isPrimitive() && base[i] == null) {
                fail("no valid value for parameter type " + params[i].getParameterizedType() + " of " + e
                        + ": add one to valid()");
            }
        }
        List<Case> out = new ArrayList<>();
        for (int i = 0; i < params.length; i++) {
            Class<?> t = params[i].getType();
            if (t.isPrimitive()) {
                continue;
            }
            assertTrue(params[i].isNamePresent(), "nn is compiled without -parameters: " + e);
            String name = params[i].getName();
            if (NULL_ALLOWED.contains(op(e) + ": " + name)) {
                continue;
            }
            Object[] withNull = base.clone();
            withNull[i] = null;
            out.add(new Case(op(e) + ": " + name + " is null", e, receiver, withNull));
            if (NULL_ELEMENTS_ALLOWED.contains(op(e) + ": " + name)) {
                continue;
            }
            Object[] withNullElement = base.clone();
            if (t == List.class) {
                List<Object> list = new ArrayList<>((List<?>) base[i]);
                list.set(1, null);
                withNullElement[i] = list;
                out.add(new Case(op(e) + ": " + name + "[1] is null", e, receiver, withNullElement));
            } else if (t.isArray() && !t.getComponentType().isPrimitive()) {
                Object[] a = ((Object[]) base[i]).clone();
                a[1] = null;
                withNullElement[i] = a;
                out.add(new Case(op(e) + ": " + name + "[1] is null", e, receiver, withNullElement));
            } else if (t == Map.class) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("w", null);
                withNullElement[i] = m;
                out.add(new Case(op(e) + ": " + name + "['w'] is null", e, receiver, withNullElement));
            }
        }
        return out;
    }

    static Object primitive(Class<?> t) {
        if (t == int.class) {
            return 2;
        } else if (t == long.class) {
            return 1L;
        } else if (t == double.class) {
            return 0.5;
        } else if (t == float.class) {
            return 0.5f;
        } else if (t == boolean.class) {
            return false;
        }
        throw new AssertionError("no value for " + t);
    }

    @Test
    void everyPublicEntryPointRefusesNullsByName() throws Exception {
        List<Class<?>> classes = publicClasses();
        List<String> failures = new ArrayList<>();
        Set<String> sweptClasses = new TreeSet<>();
        int calls = 0;
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope scope = new TensorScope()) {
            for (Class<?> c : classes) {
                for (Executable e : surface(c)) {
                    boolean needsReceiver = e instanceof Method m && !Modifier.isStatic(m.getModifiers());
                    List<Object> receivers = needsReceiver ? receivers(c, e) : Arrays.asList((Object) null);
                    if (receivers.isEmpty()) {
                        if (Modifier.isAbstract(e.getModifiers())) {
                            continue; // an interface method without constants: its implementations are swept
                        }
                        fail("no instance of " + c.getName() + " to call " + e + " on: add one to receivers()");
                    }
                    for (Object receiver : receivers) {
                        for (Case k : cases(e, receiver)) {
                            calls++;
                            sweptClasses.add(c.getSimpleName());
                            String problem = check(k);
                            if (problem != null) {
                                failures.add(k + ": " + problem);
                            }
                        }
                    }
                }
            }
        } finally {
            for (AutoCloseable r : resources) {
                r.close();
            }
        }
        assertEquals(List.of(), failures, failures.size() + " of " + calls + " null calls misbehaved");
        // Not vacuous: the walk found nn's classes and called their entry points.
        assertTrue(classes.size() >= 25, "public classes found: " + classes);
        for (String expected : List.of("Dense", "Sequential", "Optimizer", "SGD", "Adam", "Losses", "Npz", "Npy",
                "Checkpoint", "Dataset", "Csv", "Accuracy", "Mean", "Activation", "Initializer", "Layer", "NpyArray",
                "Conv2D", "DepthwiseConv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "Flatten",
                "BatchNormalization", "Idx", "IdxArray", "FashionMnist")) {
            assertTrue(sweptClasses.contains(expected), expected + " not swept: " + sweptClasses);
        }
        assertTrue(calls >= 100, "only " + calls + " null calls");
    }

    /** Null if {@code k} threw the expected NullPointerException, else what went wrong. */
    static String check(Case k) {
        Throwable thrown;
        try {
            if (k.target() instanceof Constructor<?> ctor) {
                ctor.newInstance(k.args());
            } else {
                ((Method) k.target()).invoke(k.receiver(), k.args());
            }
            return "returned normally";
        } catch (InvocationTargetException e) {
            thrown = e.getCause();
        } catch (ReflectiveOperationException e) {
            return "could not be called: " + e;
        }
        if (!(thrown instanceof NullPointerException)) {
            return "threw " + thrown;
        }
        String message = thrown.getMessage();
        if (message == null || message.contains("Cannot invoke") || message.contains("because")) {
            return "JVM-worded message: " + message;
        }
        return k.expected().equals(message) ? null : "message '" + message + "'";
    }

    /**
     * The same nulls, thrown from the same sites until C2 has compiled them: each exception
     * still carries nn's message (an implicit dereference there would lose it).
     */
    @Test
    void theMessageSurvivesTheJit() {
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope scope = new TensorScope();
                Variable v = new Variable(Spool.constant(new float[] {1, 2}))) {
            Dense dense = dense();
            Optimizer sgd = new SGD(0.1);
            Tensor x = tensor();
            List<Tensor> grads = List.of(Spool.constant(new float[] {1, 1}), Spool.constant(new float[] {1, 1}));
            List<Variable> withNull = Arrays.asList(v, null);
            for (int i = 0; i < 20_000; i++) {
                String a = npe(() -> dense.call(null, true));
                String b = npe(() -> sgd.apply(grads, withNull));
                String c = npe(() -> dev.spool.nn.losses.Losses.meanSquaredError(x, null, Reduction.MEAN));
                String d = npe(() -> Activation.RELU.apply(null));
                if (!"Dense.call: input is null".equals(a) || !"Optimizer.apply: variables[1] is null".equals(b)
                        || !"Losses.meanSquaredError: yPred is null".equals(c)
                        || !"Activation.apply: x is null".equals(d)) {
                    throw new AssertionError("call " + i + ": " + a + " / " + b + " / " + c + " / " + d);
                }
            }
            assertEquals(0, sgd.iterations());
            assertEquals(List.of(1f, 2f), List.of(v.value().getFloat(0), v.value().getFloat(1)));
        } finally {
            for (AutoCloseable r : resources) {
                try {
                    r.close();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }
        }
    }

    private static String npe(Runnable call) {
        try {
            call.run();
        } catch (NullPointerException e) {
            return e.getMessage();
        }
        return "no exception";
    }
}
