package dev.spool.nn.optimizers;

import dev.spool.ClosedException;
import dev.spool.DType;
import dev.spool.Device;
import dev.spool.DeviceException;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.UsageException;
import dev.spool.Variable;
import dev.spool.function.TracedFunction;
import dev.spool.internal.NullChecks;
import dev.spool.nn.HyperparameterException;
import dev.spool.nn.internal.NnArgs;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies gradients to variables, as a Keras optimizer's {@code apply_gradients}. Update rules
 * and defaults are Keras's. Every update is composed from Spool ops on the variable's device,
 * and the optimizer's state (momentum, moments) lives in non-trainable variables on that same
 * device: nothing is copied to the host. The temporaries of a step are freed before
 * {@link #apply} returns.
 *
 * <p>Call {@code apply} after the tape has stopped recording (outside its {@code try} block).
 * {@code apply} checks every argument (nulls, lengths, shapes, devices, closed tensors, the
 * learning rate of the step) before it changes any variable, so a step that fails leaves the
 * variables, the optimizer's state and {@link #iterations()} as they were.
 *
 * <p>{@link #withEma} keeps an exponential moving average of the weights, as Keras's
 * {@code use_ema=True}: the model trains on its own weights, and {@link #finalizeVariableValues}
 * (what Keras's {@code fit} calls after the last epoch) or {@link #swapEmaWeights} (Keras's
 * {@code SwapEMAWeights} callback) put the averages into the model for evaluation and saving.
 */
public abstract class Optimizer {
    private static final Logger log = LoggerFactory.getLogger(Optimizer.class);

    private final LearningRateSchedule schedule;
    private double globalClipNorm;
    private long iterations;
    private boolean warnedNull;
    private double emaMomentum = -1; // below 0: no moving average
    /** The step at which each variable's average was created: its first average is the variable itself. */
    private final Map<Variable, Long> emaStart = new IdentityHashMap<>();
    private final Map<Variable, Map<String, Variable>> slots = new IdentityHashMap<>();

    protected Optimizer(LearningRateSchedule schedule) {
        this.schedule = NullChecks.nonNull(schedule, "Optimizer", "schedule");
    }

    /**
     * Scales all gradients of a step together so that their global norm
     * {@code sqrt(Σ ||g||²)} is at most {@code clipNorm} (Keras's {@code global_clipnorm},
     * {@code tf.clip_by_global_norm}); computed on the device. Returns this optimizer.
     */
    public Optimizer withGlobalClipNorm(double clipNorm) {
        this.globalClipNorm = NnArgs.positive(clipNorm, "Optimizer.withGlobalClipNorm", "clipNorm");
        return this;
    }

    /**
     * Keeps an exponential moving average of every variable this optimizer updates, Keras's
     * {@code use_ema=True, ema_momentum=momentum} (Keras's default momentum is 0.99). After each
     * step's updates (Keras's {@code _update_model_variables_moving_average}):
     * <pre>
     * average ← momentum·average + (1 - momentum)·variable     (the variable's new value)
     * </pre>
     * except at the first step, where Keras's momentum is 0 ({@code iterations == 0}), so that the
     * average starts as the variable after one update rather than as zeros. The average is
     * computed on the device as {@code average -= r·(average - variable)} with {@code r} read when
     * the update runs ({@code 1} at the first step, else {@code 1 - momentum}), so it also advances
     * in a traced function. Every variable passed to {@link #apply} is averaged, those without a
     * gradient in that step too (Keras averages all the variables it was built with). The averages
     * are slots named {@code "average"} ({@link #slots}); the model's variables are not changed
     * until {@link #finalizeVariableValues} or {@link #swapEmaWeights}. As in Keras, where
     * {@code use_ema} is fixed when the optimizer is made, this must be called before the first
     * step. Returns this optimizer.
     */
    public Optimizer withEma(double momentum) {
        NnArgs.unit(momentum, "Optimizer.withEma", "momentum");
        if (iterations > 0) {
            throw new UsageException("Optimizer.withEma after " + iterations + " steps: the moving average must"
                    + " start with the first step (Keras's use_ema is set when the optimizer is made)");
        }
        this.emaMomentum = momentum;
        return this;
    }

    /** Whether {@link #withEma} is on. */
    public boolean usesEma() {
        return emaMomentum >= 0;
    }

    /**
     * Keras's {@code finalize_variable_values}: with {@link #withEma} on, assigns each variable its
     * moving average (what {@code fit} does after the last epoch, so that evaluation and the saved
     * model use the averages); without it, does nothing. A variable this optimizer has not updated
     * is a {@link UsageException}, and then nothing is changed.
     */
    public void finalizeVariableValues(List<Variable> variables) {
        NullChecks.elements(variables, "Optimizer.finalizeVariableValues", "variables");
        if (!usesEma()) {
            return;
        }
        List<Variable> averages = averages(variables, "Optimizer.finalizeVariableValues");
        try (TensorScope scope = new TensorScope()) {
            for (int i = 0; i < variables.size(); i++) {
                variables.get(i).assign(averages.get(i).value());
            }
        }
    }

    /**
     * Swaps the value of each variable with its moving average, as Keras's {@code SwapEMAWeights}
     * callback: call it before an evaluation to evaluate the averaged weights, and again after it
     * to go on training the model's own. Requires {@link #withEma}; a variable this optimizer has
     * not updated is a {@link UsageException}, and then nothing is changed.
     */
    public void swapEmaWeights(List<Variable> variables) {
        NullChecks.elements(variables, "Optimizer.swapEmaWeights", "variables");
        if (!usesEma()) {
            throw new UsageException("Optimizer.swapEmaWeights: this optimizer keeps no moving average (withEma)");
        }
        List<Variable> averages = averages(variables, "Optimizer.swapEmaWeights");
        try (TensorScope scope = new TensorScope()) {
            for (int i = 0; i < variables.size(); i++) {
                Tensor own = variables.get(i).value();
                variables.get(i).assign(averages.get(i).value());
                averages.get(i).assign(own);
            }
        }
    }

    private List<Variable> averages(List<Variable> variables, String op) {
        List<Variable> averages = new ArrayList<>(variables.size());
        for (Variable v : variables) {
            Variable average = slots.getOrDefault(v, Map.of()).get(AVERAGE);
            if (average == null) {
                throw new UsageException(op + ": variable '" + v.name() + "' has no moving average: this optimizer"
                        + " has not updated it");
            }
            averages.add(average);
        }
        return averages;
    }

    private static final String AVERAGE = "average";

    /** Number of steps applied so far (Keras's {@code iterations}). */
    public long iterations() {
        return iterations;
    }

    /** The learning rate the next step will use. */
    public double learningRate() {
        return schedule.at(iterations);
    }

    /**
     * One step: updates {@code variables.get(i)} with {@code gradients.get(i)}. A {@code null}
     * gradient (a variable the loss does not depend on) leaves its variable unchanged.
     */
    public void apply(List<Tensor> gradients, List<Variable> variables) {
        NullChecks.nonNull(gradients, "Optimizer.apply", "gradients"); // null elements: no gradient
        NullChecks.elements(variables, "Optimizer.apply", "variables");
        if (gradients.size() != variables.size()) {
            throw new ShapeException("Optimizer.apply: " + gradients.size() + " gradients for "
                    + variables.size() + " variables; there must be one per variable");
        }
        double lr = schedule.at(iterations);
        if (!(lr >= 0 && lr < Double.POSITIVE_INFINITY)) {
            throw new HyperparameterException("Optimizer.apply: the learning rate schedule gives " + lr + " at step "
                    + iterations + "; a learning rate must be a finite number >= 0");
        }
        long step = iterations + 1; // Keras's local_step: 1 for the first update
        boolean tracing = TracedFunction.isTracing();
        if (tracing && !schedule.isConstant() && !readsScheduleWhenReplayed()) {
            throw new UsageException(getClass().getSimpleName() + ".apply inside a traced function: its update"
                    + " uses the learning rate as a constant, and this schedule changes it per step. Use a constant"
                    + " rate, SGD, Adam or AdamW (which read the schedule at every call), or apply it outside the function");
        }
        try (TensorScope scope = new TensorScope()) {
            check(gradients, variables); // all of it before the first update
            List<Tensor> grads = new ArrayList<>(gradients);
            for (int i = 0; i < grads.size(); i++) {
                Tensor g = grads.get(i);
                if (g != null && g.dtype() != variables.get(i).dtype()) {
                    grads.set(i, g.cast(variables.get(i).dtype()));
                }
            }
            if (globalClipNorm > 0) {
                clipByGlobalNorm(grads, globalClipNorm);
            }
            for (int i = 0; i < grads.size(); i++) {
                if (grads.get(i) != null) {
                    update(variables.get(i), grads.get(i), lr, step);
                }
            }
            if (usesEma()) {
                for (Variable v : variables) {
                    updateAverage(v);
                }
            }
        }
        iterations++;
        if (tracing) { // at every later call of the function, in order with its updates
            TracedFunction.onEachCall(() -> iterations++);
        }
    }

    /** One variable's moving average, after its update (see {@link #withEma}). */
    private void updateAverage(Variable v) {
        Variable average = slot(v, AVERAGE);
        long start = emaStart.computeIfAbsent(v, k -> iterations);
        double momentum = emaMomentum;
        // read when the update runs: in a traced function at every call, before iterations advances
        DoubleSupplier rate = () -> iterations == start ? 1.0 : 1 - momentum;
        Spool.applyGradientDescent(average, rate, average.value().sub(v.value()));
    }

    /**
     * Whether {@link #update} reads the learning rate and step through {@link #learningRateNow()}
     * and {@link #stepNow()} (so a traced function's replays see them change), rather than the
     * values it is given.
     */
    protected boolean readsScheduleWhenReplayed() {
        return false;
    }

    /** The learning rate of the step being applied, read when the update runs (in a traced function, at every call). */
    protected DoubleSupplier learningRateNow() {
        return () -> schedule.at(iterations);
    }

    /** The step (from 1) being applied, read when the update runs. */
    protected LongSupplier stepNow() {
        return () -> iterations + 1;
    }

    /** Every variable open; every gradient null (none) or open, of its variable's shape and device. */
    private void check(List<Tensor> gradients, List<Variable> variables) {
        String unchanged = null;
        for (int i = 0; i < gradients.size(); i++) {
            Tensor g = gradients.get(i);
            Variable v = variables.get(i);
            try {
                v.value(); // an alias in the step's scope, no copy; the only way to ask a Variable
            } catch (ClosedException e) {
                throw new ClosedException("Optimizer.apply: variables[" + i + "] ('" + v.name() + "') is closed");
            }
            if (g == null) {
                unchanged = unchanged == null ? v.name() : unchanged;
                continue;
            }
            if (g.isClosed()) {
                throw new ClosedException("Optimizer.apply: gradients[" + i + "], for variable '" + v.name()
                        + "', is closed");
            }
            if (!g.shape().equals(v.shape())) {
                throw new ShapeException("Optimizer.apply: gradient " + g.shape() + " for variable '" + v.name()
                        + "' of shape " + v.shape());
            }
            if (g.device() != v.device()) {
                throw new DeviceException("Optimizer.apply: gradient on " + g.device() + " for variable '"
                        + v.name() + "' on " + v.device());
            }
        }
        if (unchanged != null && !warnedNull) {
            warnedNull = true;
            log.warn("no gradient for variable '{}': it is left unchanged", unchanged);
        }
    }

    /**
     * {@code g · clipNorm / max(globalNorm, clipNorm)} for every gradient, in place in the list;
     * {@code tf.clip_by_global_norm}. All gradients must be on one device. The norm is computed in
     * float64 when any gradient is float64 (else float32), so a float64 model's updates keep
     * float64's precision.
     */
    static void clipByGlobalNorm(List<Tensor> grads, double clipNorm) {
        DType acc = grads.stream().anyMatch(g -> g != null && g.dtype() == DType.FLOAT64) ? DType.FLOAT64 : DType.FLOAT32;
        Tensor sumSquares = null;
        for (Tensor g : grads) {
            if (g == null) {
                continue;
            }
            Tensor part = g.square().sum().cast(acc);
            if (sumSquares != null && part.device() != sumSquares.device()) {
                throw new DeviceException("clipping by global norm: gradients on " + sumSquares.device()
                        + " and " + part.device());
            }
            sumSquares = sumSquares == null ? part : sumSquares.add(part);
        }
        if (sumSquares == null) {
            return;
        }
        Tensor norm = sumSquares.sqrt();
        Tensor clip;
        try (Device.Scope on = Device.use(norm.device())) {
            clip = Spool.constant(clipNorm, acc);
        }
        Tensor scale = clip.div(norm.maximum(clip));
        for (int i = 0; i < grads.size(); i++) {
            Tensor g = grads.get(i);
            if (g != null) {
                grads.set(i, g.mul(scale.cast(g.dtype())));
            }
        }
    }

    /** Applies this optimizer's rule to one variable; {@code step} counts from 1. */
    protected abstract void update(Variable variable, Tensor gradient, double learningRate, long step);

    /** The state variable {@code name} of {@code variable}: zeros of its shape, on its device. */
    protected final Variable slot(Variable variable, String name) {
        return slots.computeIfAbsent(variable, k -> new LinkedHashMap<>()).computeIfAbsent(name, n -> {
            try (Device.Scope on = Device.use(variable.device());
                    Tensor zeros = Spool.zeros(variable.shape(), variable.dtype())) {
                return new Variable(zeros, variable.name() + "/" + n, false);
            }
        });
    }

    /** The state of {@code variable} by slot name (empty before its first update). */
    public Map<String, Variable> slots(Variable variable) {
        NullChecks.nonNull(variable, "Optimizer.slots", "variable");
        return Collections.unmodifiableMap(slots.getOrDefault(variable, Map.of()));
    }
}
