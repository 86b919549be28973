package dev.spool.function;

import dev.spool.DTypeException;
import dev.spool.ShapeException;
import dev.spool.Tensor;
import dev.spool.UsageException;
import dev.spool.internal.CoreAccess;
import dev.spool.internal.TraceHooks;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Java function over tensors that runs as a graph, as {@code tf.function}: made by
 * {@code Spool.function(...)}. The first call with a given signature (shape, dtype, device and
 * strides of each tensor argument, and every other argument by {@code equals}) runs the body
 * once, eagerly, while recording the primitives it issues (a <em>trace</em>); its results are
 * the eager ones. Later calls with that signature replay the recorded graph without running the
 * body: after dead-code elimination, fusion of elementwise chains into single kernels, and
 * memory planning, so that a call allocates nothing but its results and the new values of the
 * variables it assigns.
 *
 * <p>What TensorFlow users know from {@code tf.function}, in Java:
 * <ul>
 * <li>Java side effects of the body (printing, appending to a list, counting) happen only while
 *     tracing. Library code that must keep Java state in step with the calls (an optimizer's
 *     step count) registers it with {@link #onEachCall(Runnable)}.</li>
 * <li>Reading values to the host inside the body ({@code item()}, {@code toFloatArray()},
 *     {@code toString()}) is an error while tracing: the value would be read only once. Return
 *     the tensor and read it outside.</li>
 * <li>{@link dev.spool.Variable}s are captured by reference: a call reads their values as they
 *     are then, and {@code assign}, {@code assignAdd}, {@code assignSub} and the optimizers'
 *     updates inside the body change them at every call (after all of the call's work has run:
 *     a call that fails leaves them unchanged). Variables may be created only on the first
 *     trace.</li>
 * <li>Tensors captured from outside the body (not arguments) are copied once when traced and
 *     the copy is used at every call, as TensorFlow captures eager tensors.</li>
 * <li>A {@link dev.spool.GradientTape} used inside the body records while tracing and its
 *     {@code gradient} is traced too, so a whole training step (forward, backward, update) is
 *     one function.</li>
 * <li>Random ops ({@code randomUniform}, {@code randomNormal}, dropout) draw new numbers at every
 *     call: the traced seed is mixed with the call count, as TF's stateful random ops.</li>
 * <li>A new signature traces again. Up to {@value #CACHE_SIZE} graphs are kept per function;
 *     from the {@value #WARN_AFTER}th trace on, each retrace logs a WARN naming the arguments that
 *     changed. Calling a function inside another function's trace runs its body inline.</li>
 * <li>{@link #setRunEagerly(boolean)} (or {@code -Dspool.functions.eager=true},
 *     {@code SPOOL_FUNCTIONS_EAGER=1}) runs every function's body eagerly, to debug it; so does
 *     check-numerics mode, whose checks need each op's values.</li>
 * </ul>
 * Results equal the eager ones within rounding: fused kernels apply the same per-element
 * functions in the same order and never contract {@code a*b+c} into a fused multiply-add.
 *
 * <p>Calls are serialised per function (one trace or replay at a time).
 */
public final class TracedFunction<R> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TracedFunction.class);
    static final int CACHE_SIZE = 8;
    static final int WARN_AFTER = 5;
    private static volatile boolean runEagerly = Boolean.getBoolean("spool.functions.eager")
            || "1".equals(System.getenv("SPOOL_FUNCTIONS_EAGER"))
            || "true".equalsIgnoreCase(System.getenv("SPOOL_FUNCTIONS_EAGER"));

    /** The body of a function of any arguments: tensors, variables, Java values. */
    @FunctionalInterface
    public interface Body<R> {
        R apply(Object... args);
    }

    /** A body of three tensors. */
    @FunctionalInterface
    public interface Function3<R> {
        R apply(Tensor a, Tensor b, Tensor c);
    }

    /** Counters of one function. */
    public record Stats(long calls, long traces, long replays, int nodesPerCall, int tracedNodes,
                        int launchesPerCall, int plannedBuffers, long plannedBytes) {
    }

    private final String name;
    private final Body<R> body;
    private final FunctionOptions options;
    private final LinkedHashMap<Signature, Entry<R>> cache = new LinkedHashMap<>(16, 0.75f, true);
    private Entry<R> last;
    private Signature lastTraced;
    private long calls;
    private long traces;
    private long replays;
    private boolean closed;
    private TensorSpec[] inputSignature;

    private record Entry<R>(Program program, Results results) {
    }

    public TracedFunction(String name, Body<R> body) {
        this(name, body, new FunctionOptions(true));
    }

    TracedFunction(String name, Body<R> body, FunctionOptions options) {
        this.name = name;
        this.body = body;
        this.options = options;
    }

    /** Calls the function: replays its graph for this signature, tracing it first if needed. */
    @SuppressWarnings("unchecked")
    public synchronized R call(Object... args) {
        if (closed) {
            throw new UsageException(name + " is closed");
        }
        Object[] a = args == null ? new Object[] {null} : args.clone();
        if (inputSignature != null) {
            checkSignature(a);
        }
        calls++;
        if (runEagerly || CoreAccess.get().checkNumericsEnabled() || TraceHooks.current() != null) {
            return body.apply(a); // eager, or inline in an outer function's trace
        }
        Signature sig = Signature.of(a);
        Entry<R> e = cache.get(sig);
        if (e == null) {
            return trace(sig, a);
        }
        replays++;
        last = e;
        return (R) e.results.rebuild(e.program.run(tensors(a)));
    }

    /**
     * Fixes the tensor arguments this function accepts, as {@code tf.function}'s
     * {@code input_signature}: one spec per argument, in order (every argument must be a tensor).
     * A call that does not match throws a {@link ShapeException} or {@link DTypeException} naming
     * the argument, what it got and the spec. A signature that matches still traces once per
     * concrete shape. Returns this function.
     */
    public synchronized TracedFunction<R> withInputSignature(TensorSpec... specs) {
        for (TensorSpec spec : specs) {
            if (spec == null) {
                throw new NullPointerException(name + ".withInputSignature: a spec is null");
            }
        }
        this.inputSignature = specs.clone();
        return this;
    }

    private void checkSignature(Object[] a) {
        if (a.length != inputSignature.length) {
            throw new UsageException(name + " takes " + inputSignature.length + " tensor arguments "
                    + java.util.Arrays.toString(inputSignature) + " (its input signature), got " + a.length);
        }
        for (int i = 0; i < a.length; i++) {
            TensorSpec spec = inputSignature[i];
            if (!(a[i] instanceof Tensor t)) {
                throw new UsageException(name + ": argument " + i + " must be a tensor " + spec
                        + " (its input signature), got " + (a[i] == null ? "null" : a[i].getClass().getSimpleName()));
            }
            if (t.dtype() != spec.dtype()) {
                throw new DTypeException(name + ": argument " + i + " is " + t.dtype() + ", the input signature"
                        + " expects " + spec);
            }
            if (!spec.matches(t.shape(), t.dtype())) {
                throw new ShapeException(name + ": argument " + i + " has shape " + t.shape() + ", the input"
                        + " signature expects " + spec);
            }
        }
    }

    private static Tensor[] tensors(Object[] args) {
        Tensor[] t = new Tensor[args.length];
        for (int i = 0; i < args.length; i++) {
            if (args[i] instanceof Tensor x) {
                t[i] = x;
            }
        }
        return t;
    }

    private R trace(Signature sig, Object[] args) {
        if (traces + 1 >= WARN_AFTER && lastTraced != null) {
            log.warn("{} traced {} times; this time {}. Each new signature (shape, dtype, device of a tensor"
                    + " argument, or the value of another argument) traces again: pass what changes as a tensor,"
                    + " or keep its shape fixed", name, traces + 1, sig.differences(lastTraced));
        }
        Trace t = new Trace(name, traces == 0);
        for (int i = 0; i < args.length; i++) {
            if (args[i] instanceof Tensor x) {
                t.argument(i, x);
            }
        }
        R r;
        TraceHooks.Sink previous = TraceHooks.begin(t);
        try {
            r = body.apply(args);
        } catch (RuntimeException | Error e) {
            Trace.releaseOwned(t.values);
            throw e;
        } finally {
            TraceHooks.end(previous);
        }
        Program p;
        Results shape;
        try {
            List<Tensor> flat = new ArrayList<>();
            shape = Results.flatten(r, flat);
            List<Program.Result> results = new ArrayList<>();
            CoreAccess core = CoreAccess.get();
            for (Tensor x : flat) {
                var view = core.view(x);
                results.add(new Program.Result(t.valueOf(x), x.shape(), view.strides(), view.offset()));
            }
            p = new Program(t, results, options);
        } catch (RuntimeException | Error e) {
            Trace.releaseOwned(t.values);
            throw e;
        }
        traces++;
        lastTraced = sig;
        Entry<R> e = new Entry<>(p, shape);
        cache.put(sig, e);
        last = e;
        if (cache.size() > CACHE_SIZE) {
            Iterator<Map.Entry<Signature, Entry<R>>> it = cache.entrySet().iterator();
            Entry<R> oldest = it.next().getValue();
            it.remove();
            oldest.program.close();
        }
        if (log.isDebugEnabled()) {
            log.debug("{} traced for {}:\n{}", name, sig, p.describe());
        }
        return r;
    }

    /** The graph last traced or replayed, after its passes: one node per line, fused groups shown. */
    public synchronized String describe() {
        return last == null ? name + ": not traced yet" : name + ": " + last.program.describe();
    }

    public synchronized Stats stats() {
        Program p = last == null ? null : last.program;
        return new Stats(calls, traces, replays, p == null ? 0 : p.nodes.size(), p == null ? 0 : p.tracedNodes,
                p == null ? 0 : p.launches(), p == null ? 0 : p.plan.slots.size(), p == null ? 0 : p.plan.bytes());
    }

    /** Releases the graphs' planned buffers and captured copies. */
    @Override
    public synchronized void close() {
        closed = true;
        for (Entry<R> e : cache.values()) {
            e.program.close();
        }
        cache.clear();
        last = null;
    }

    @Override
    public String toString() {
        return name;
    }

    // ---- for library code ------------------------------------------------------------------

    /** Whether this thread is tracing a function now. */
    public static boolean isTracing() {
        return TraceHooks.current() != null;
    }

    /**
     * Registers Java code to run at every later call of the function being traced, in order with
     * its primitives (for library state kept in Java, such as an optimizer's step count; the
     * caller does the work itself this time). Outside a trace it does nothing.
     */
    public static void onEachCall(Runnable r) {
        TraceHooks.Sink s = TraceHooks.current();
        if (s != null) {
            s.onEachCall(r);
        }
    }

    /** Runs every function's body eagerly from now on (true), or traces again (false). */
    public static void setRunEagerly(boolean eager) {
        runEagerly = eager;
    }

    public static boolean runsEagerly() {
        return runEagerly;
    }
}
