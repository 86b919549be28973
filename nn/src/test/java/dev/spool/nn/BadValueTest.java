package dev.spool.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.ClosedException;
import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.Device;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.SpoolException;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.nn.data.Csv;
import dev.spool.nn.data.Dataset;
import dev.spool.nn.io.NpyArray;
import dev.spool.nn.io.NpyFormatException;
import dev.spool.nn.io.Npz;
import dev.spool.nn.layers.Dense;
import dev.spool.nn.layers.Dropout;
import dev.spool.nn.layers.Embedding;
import dev.spool.nn.layers.LayerNormalization;
import dev.spool.nn.metrics.Mean;
import dev.spool.nn.optimizers.Adam;
import dev.spool.nn.optimizers.AdamW;
import dev.spool.nn.optimizers.LearningRateSchedule;
import dev.spool.nn.optimizers.Optimizer;
import dev.spool.nn.optimizers.RMSprop;
import dev.spool.nn.optimizers.SGD;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad values given to nn: each is a {@link SpoolException} of the kind runtime-core uses for the
 * same error (sizes: {@link ShapeException}; values a dtype cannot hold: {@link DTypeException})
 * or nn's own ({@link HyperparameterException}, {@code CsvFormatException}, ...), never an
 * {@code IllegalArgumentException}, with a message that names the op and says what was given and
 * what is expected. And a step that fails changes nothing.
 */
@SuppressWarnings("try")
class BadValueTest {

    /** A call with one bad value, the exception it must throw and its whole message. */
    record Row(Class<? extends Throwable> type, String message, Runnable call) {
        @Override
        public String toString() {
            return message;
        }
    }

    static Csv csv() {
        try {
            return Csv.read(new StringReader("a,b\n1,2.5\n3,4\n"), "inline", true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Tensor m23() {
        return Spool.constant(new float[][] {{1, 2, 3}, {4, 5, 6}});
    }

    static final List<Row> ROWS = List.of(
            // sizes: ShapeException, as core
            new Row(ShapeException.class, "Dense: inputs and units must be > 0, got 0 and 3", () -> new Dense(0, 3, dev.spool.nn.layers.Activation.LINEAR, 1)),
            new Row(ShapeException.class, "Dense: inputs and units must be > 0, got 2 and -1",
                    () -> new Dense(2, -1, dev.spool.nn.layers.Activation.LINEAR, 1)),
            new Row(ShapeException.class, "Embedding: inputDim and outputDim must be > 0, got 10 and 0",
                    () -> new Embedding(10, 0, 1)),
            new Row(ShapeException.class, "LayerNormalization: features must be > 0, got 0", () -> new LayerNormalization(0)),
            new Row(ShapeException.class, "Dataset.batch: size must be > 0, got 0", () -> Dataset.fromTensors(m23()).batch(0)),
            new Row(ShapeException.class, "Dataset.batch: size must be > 0, got -4",
                    () -> Dataset.fromTensors(m23()).batch(-4, true)),
            new Row(ShapeException.class, "Dataset.repeat: count must be >= 0, got -1", () -> Dataset.fromTensors(m23()).repeat(-1)),
            new Row(ShapeException.class, "Dataset.fromTensors: needs at least one tensor, got none", Dataset::fromTensors),
            new Row(ShapeException.class, "Csv.get: row 2 of a CSV with 2 rows", () -> csv().get(2, 0)),
            new Row(ShapeException.class, "Csv.get: column -1 of a CSV with 2 columns", () -> csv().get(0, -1)),
            new Row(ShapeException.class, "Csv.column: column 2 of a CSV with 2 columns", () -> csv().column(DType.FLOAT32, 2)),
            new Row(ShapeException.class, "Csv.columns: column 5 of a CSV with 2 columns",
                    () -> csv().columns(DType.FLOAT32, 0, 5)),
            new Row(ShapeException.class, "NpyArray: negative dimension in shape [2, -1]",
                    () -> new NpyArray(DType.FLOAT32, new int[] {2, -1}, new float[0])),
            new Row(ShapeException.class, "NpyArray: 5 elements for shape [2, 3], which holds 6",
                    () -> new NpyArray(DType.FLOAT32, new int[] {2, 3}, new float[5])),
            // values a dtype cannot hold
            new Row(DTypeException.class, "Csv.column: column 1 row 0: 2.5 is not an integer, as int32 needs",
                    () -> csv().column(DType.INT32, 1)),
            new Row(DTypeException.class, "NpyArray: data for int32 must be a int[], got float[]",
                    () -> new NpyArray(DType.INT32, new int[] {2}, new float[2])),
            // hyperparameters
            new Row(HyperparameterException.class, "Dropout: rate must be in [0, 1), got 1.0", () -> new Dropout(1.0, 1)),
            new Row(HyperparameterException.class, "Dropout: rate must be in [0, 1), got NaN", () -> new Dropout(Double.NaN, 1)),
            new Row(HyperparameterException.class, "LayerNormalization: epsilon must be a finite number >= 0, got -0.001",
                    () -> new LayerNormalization("ln", 3, -1e-3, DType.FLOAT32)),
            new Row(HyperparameterException.class, "SGD: learningRate must be a finite number >= 0, got -0.1",
                    () -> new SGD(-0.1)),
            new Row(HyperparameterException.class, "SGD: momentum must be in [0, 1], got 1.5", () -> new SGD(0.1, 1.5, false)),
            new Row(HyperparameterException.class, "Adam: learningRate must be a finite number >= 0, got Infinity",
                    () -> new Adam(Double.POSITIVE_INFINITY)),
            new Row(HyperparameterException.class, "Adam: beta1 must be in [0, 1), got 1.0",
                    () -> new Adam(LearningRateSchedule.constant(0.1), 1.0, 0.9, 1e-7)),
            new Row(HyperparameterException.class, "Adam: beta2 must be in [0, 1), got -0.5",
                    () -> new Adam(LearningRateSchedule.constant(0.1), 0.9, -0.5, 1e-7)),
            new Row(HyperparameterException.class, "Adam: epsilon must be a finite number >= 0, got NaN",
                    () -> new Adam(LearningRateSchedule.constant(0.1), 0.9, 0.999, Double.NaN)),
            new Row(HyperparameterException.class, "AdamW: weightDecay must be a finite number >= 0, got -0.004",
                    () -> new AdamW(0.001, -0.004)),
            new Row(HyperparameterException.class, "AdamW: beta1 must be in [0, 1), got 2.0",
                    () -> new AdamW(LearningRateSchedule.constant(0.1), 0.004, 2.0, 0.999, 1e-7)),
            new Row(HyperparameterException.class, "RMSprop: rho must be in [0, 1), got 1.0",
                    () -> new RMSprop(LearningRateSchedule.constant(0.1), 1.0, 0, 1e-7, false)),
            new Row(HyperparameterException.class, "RMSprop: momentum must be in [0, 1], got -0.1",
                    () -> new RMSprop(LearningRateSchedule.constant(0.1), 0.9, -0.1, 1e-7, false)),
            new Row(HyperparameterException.class, "RMSprop: epsilon must be a finite number >= 0, got -1.0",
                    () -> new RMSprop(LearningRateSchedule.constant(0.1), 0.9, 0, -1, false)),
            new Row(HyperparameterException.class, "Optimizer.withGlobalClipNorm: clipNorm must be a finite number > 0, got 0.0",
                    () -> new SGD().withGlobalClipNorm(0)),
            new Row(HyperparameterException.class, "Optimizer.withGlobalClipNorm: clipNorm must be a finite number > 0, got NaN",
                    () -> new SGD().withGlobalClipNorm(Double.NaN)),
            new Row(HyperparameterException.class,
                    "LearningRateSchedule.constant: learningRate must be a finite number >= 0, got NaN",
                    () -> LearningRateSchedule.constant(Double.NaN)),
            new Row(HyperparameterException.class,
                    "LearningRateSchedule.stepDecay: decaySteps must be > 0, got 0",
                    () -> LearningRateSchedule.stepDecay(1, 0.5, 0)),
            new Row(HyperparameterException.class,
                    "LearningRateSchedule.stepDecay: initial must be a finite number >= 0, got -1.0",
                    () -> LearningRateSchedule.stepDecay(-1, 0.5, 10)),
            new Row(HyperparameterException.class,
                    "LearningRateSchedule.cosineDecay: alpha must be in [0, 1], got 2.0",
                    () -> LearningRateSchedule.cosineDecay(1, 100, 2.0)),
            new Row(HyperparameterException.class,
                    "LearningRateSchedule.cosineDecay: decaySteps must be > 0, got -5",
                    () -> LearningRateSchedule.cosineDecay(1, -5, 0)));

    static Stream<Arguments> rows() {
        return ROWS.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void badValuesAreNamed(Row row) {
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope scope = new TensorScope()) {
            Throwable e = assertThrows(row.type(), row.call()::run);
            assertEquals(row.message(), e.getMessage());
            assertInstanceOf(SpoolException.class, e);
        }
    }

    @Test
    void csvFormatAndMissingResources() {
        assertThrows(dev.spool.nn.data.CsvFormatException.class,
                () -> Csv.read(new StringReader("1,2\n3,x\n"), "bad.csv", false));
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> Csv.readResource(BadValueTest.class, "no-such.csv", false));
        assertInstanceOf(FileNotFoundException.class, e.getCause());
        assertEquals("no resource 'no-such.csv' next to dev.spool.nn.BadValueTest", e.getCause().getMessage());
    }

    @Test
    void anEmptyNpzNameIsRefusedBeforeTheFileIsCreated(@TempDir Path dir) {
        Path file = dir.resolve("bad.npz");
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put("ok", new NpyArray(DType.FLOAT32, new int[] {1}, new float[1]));
        arrays.put("", new NpyArray(DType.FLOAT32, new int[] {1}, new float[1]));
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npz.writeArrays(file, arrays));
        assertEquals("Npz.writeArrays: an array needs a non-empty name, got ''", e.getMessage());
        assertFalse(Files.exists(file));
    }

    // ---- a step that fails changes nothing ---------------------------------------------------

    /** A bad gradient list for [a, b], and what apply must throw for it. */
    record BadStep(String what, Class<? extends Throwable> type, String message,
            java.util.function.BiFunction<Variable, Variable, List<Tensor>> gradients, boolean closeB) {
        @Override
        public String toString() {
            return what;
        }
    }

    static final List<BadStep> BAD_STEPS = List.of(
            new BadStep("b's gradient has the wrong shape", ShapeException.class,
                    "Optimizer.apply: gradient (3,) for variable 'b' of shape (2,)",
                    (a, b) -> List.of(Spool.constant(new float[] {1, 1}), Spool.constant(new float[] {1, 1, 1})), false),
            new BadStep("b's gradient is closed", ClosedException.class,
                    "Optimizer.apply: gradients[1], for variable 'b', is closed",
                    (a, b) -> {
                        Tensor closed = Spool.constant(new float[] {1, 1});
                        closed.close();
                        return List.of(Spool.constant(new float[] {1, 1}), closed);
                    }, false),
            new BadStep("b is closed", ClosedException.class, "Optimizer.apply: variables[1] ('b') is closed",
                    (a, b) -> List.of(Spool.constant(new float[] {1, 1}), Spool.constant(new float[] {1, 1})), true),
            new BadStep("one gradient for two variables", ShapeException.class,
                    "Optimizer.apply: 1 gradients for 2 variables; there must be one per variable",
                    (a, b) -> List.of(Spool.constant(new float[] {1, 1})), false));

    static Stream<Arguments> badSteps() {
        return NnDevices.all().stream().flatMap(d -> Stream.of(
                        (Supplier<Optimizer>) () -> new SGD(0.1, 0.9, false), Adam::new, RMSprop::new)
                .flatMap(o -> BAD_STEPS.stream().map(s -> Arguments.of(d, o.get(), s))));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("badSteps")
    void aStepThatFailsChangesNothing(Device device, Optimizer optimizer, BadStep bad) {
        try (Device.Scope on = Device.use(device); TensorScope scope = new TensorScope();
                Variable a = new Variable(Spool.constant(new float[] {1, 2}), "a");
                Variable b = new Variable(Spool.constant(new float[] {3, 4}), "b")) {
            List<Tensor> gradients = bad.gradients().apply(a, b);
            if (bad.closeB()) {
                b.close();
            }
            Throwable e = assertThrows(bad.type(), () -> optimizer.apply(gradients, List.of(a, b)));
            assertEquals(bad.message(), e.getMessage());
            assertEquals(List.of(1f, 2f), floats(a), "a was updated before the step failed");
            if (!bad.closeB()) {
                assertEquals(List.of(3f, 4f), floats(b));
            }
            assertEquals(0, optimizer.iterations());
            assertTrue(optimizer.slots(a).isEmpty(), "slots made for a: " + optimizer.slots(a));
            // and the optimizer still works
            if (!bad.closeB()) {
                optimizer.apply(List.of(Spool.constant(new float[] {1, 1}), Spool.constant(new float[] {1, 1})),
                        List.of(a, b));
                assertEquals(1, optimizer.iterations());
                assertTrue(floats(a).get(0) < 1f, "a after a good step: " + floats(a));
            }
        }
    }

    @Test
    void aNullVariableOrABadScheduleChangesNothing() {
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope scope = new TensorScope();
                Variable a = new Variable(Spool.constant(new float[] {1, 2}), "a")) {
            List<Tensor> grads = List.of(Spool.constant(new float[] {1, 1}), Spool.constant(new float[] {1, 1}));
            Optimizer adam = new Adam();
            assertThrows(NullPointerException.class, () -> adam.apply(grads, Arrays.asList(a, null)));
            // a schedule that is fine at first and then is not
            Optimizer sgd = new SGD(step -> step == 0 ? 0.5 : Double.NaN, 0, false);
            sgd.apply(List.of(Spool.constant(new float[] {1, 1})), List.of(a));
            HyperparameterException e = assertThrows(HyperparameterException.class,
                    () -> sgd.apply(List.of(Spool.constant(new float[] {1, 1})), List.of(a)));
            assertEquals("Optimizer.apply: the learning rate schedule gives NaN at step 1; a learning rate must be "
                    + "a finite number >= 0", e.getMessage());
            assertEquals(List.of(0.5f, 1.5f), floats(a));
            assertEquals(1, sgd.iterations());
            assertEquals(0, adam.iterations());
            assertTrue(adam.slots(a).isEmpty());
        }
    }

    @Test
    void aMetricGivenNullCountsNothing() {
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope scope = new TensorScope(); Mean mean = new Mean()) {
            mean.update(Spool.constant(new float[] {2, 4}));
            assertThrows(NullPointerException.class, () -> mean.update(null));
            assertEquals(2, mean.count());
            assertEquals(3.0, mean.result());
        }
    }

    private static List<Float> floats(Variable v) {
        float[] f = v.value().toFloatArray();
        return List.of(f[0], f[1]);
    }
}
