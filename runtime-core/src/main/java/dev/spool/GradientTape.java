package dev.spool;

import dev.spool.internal.NullChecks;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records ops for reverse-mode differentiation, as TensorFlow's {@code tf.GradientTape}.
 *
 * <pre>{@code
 * Tensor x = Spool.ones(2, 2);
 * try (GradientTape t = new GradientTape()) {   // recording starts here...
 *     t.watch(x);
 *     y = Spool.reduceSum(x);
 *     z = Spool.multiply(y, y);
 * }                                              // ...and stops here
 * Tensor dzDx = t.gradient(z, x);                // still answers, like TF after its with-block
 * }</pre>
 *
 * <p>A tape records, on the thread that created it, every op one of whose inputs it is
 * tracking: a watched tensor, a variable it watches, or the result of an op it recorded.
 * Trainable {@link Variable}s read while it records are watched automatically unless
 * {@code watchAccessedVariables} is false. Tapes nest: an op is recorded by every active tape
 * that tracks one of its inputs, and because the backward pass is made of ordinary ops, an outer
 * tape records an inner tape's {@code gradient} call, which gives higher-order derivatives.
 *
 * <p>Only float32 and float64 tensors carry gradients. Watching an integer or bool tensor logs
 * a warning and is otherwise ignored, as in TensorFlow; a gradient with respect to one is
 * unconnected.
 *
 * <p>A non-persistent tape (the default) answers one {@code gradient} or {@code jacobian} call and
 * then frees what it recorded and stops recording until {@link #reset()}; a second call throws
 * {@link UsageException}. A persistent
 * tape answers any number of calls and holds its recorded tensors until {@link #reset()} or until
 * it is garbage collected. *
 * <p>A tape belongs to the thread that created it: {@code watch}, {@code gradient},
 * {@code jacobian}, {@code reset}, {@code stopRecording} and {@code close} on another thread throw
 * {@link UsageException}. Threads that train concurrently each create their own tapes.
 */
public final class GradientTape implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GradientTape.class);
    private static final ThreadLocal<Deque<GradientTape>> ACTIVE = ThreadLocal.withInitial(ArrayDeque::new);
    /** Depth of {@link #suspendAll()} on this thread: internal work no tape should see. */
    private static final ThreadLocal<int[]> SUSPENDED = ThreadLocal.withInitial(() -> new int[1]);

    private final boolean persistent;
    private final boolean watchAccessedVariables;
    /** What this tape holds; the Cleaner releases it if the tape is dropped without reset(). */
    private final Holdings holdings = new Holdings();
    /** Tracked tape ids, and the aliases that keep the recorded values alive. */
    private final TrackedIds tracked = holdings.tracked;
    private final List<Record> records = holdings.records;
    /** Watched variables, each with the tape ids of its values read while recording. */
    private final Map<Variable, List<Long>> variables = new LinkedHashMap<>();
    private boolean active = true;
    private int paused;
    private boolean consumed;
    /** The thread that created the tape: the only one that records on it, and may use it. */
    private final Thread owner = Thread.currentThread();

    /**
     * One recorded op: its inputs and result as the op saw them (their ids are the tape ids; the
     * {@link Holdings} keep their values alive, and give the backward pass open aliases), the VJP.
     */
    private record Record(String op, Tensor[] inputs, Tensor result, VjpRule vjp, StackTraceElement[] site) {
    }

    /**
     * The records and the values they keep alive ({@link TrackedIds}). Held values have no
     * Cleaner of their own: this one object is registered for the whole tape instead, which
     * makes recording an op cheap. It must not refer to the tape, or the tape could never
     * become unreachable.
     */
    private static final class Holdings implements Runnable {
        final List<Record> records = new ArrayList<>();
        final TrackedIds tracked = new TrackedIds();

        @Override
        public void run() {
            records.clear();
            tracked.releaseAliases(true);
        }

        void releaseAll() {
            records.clear();
            tracked.releaseAliases(false);
        }
    }

    /** A non-persistent tape that watches accessed variables; it starts recording now. */
    public GradientTape() {
        this(false, true);
    }

    /** A tape that starts recording now. */
    public GradientTape(boolean persistent) {
        this(persistent, true);
    }

    /**
     * A tape that starts recording now.
     *
     * @param persistent             whether {@code gradient} may be called more than once
     * @param watchAccessedVariables whether trainable variables read while recording are watched
     */
    public GradientTape(boolean persistent, boolean watchAccessedVariables) {
        this.persistent = persistent;
        this.watchAccessedVariables = watchAccessedVariables;
        Tensor.CLEANER.register(this, holdings);
        ACTIVE.get().push(this);
    }

    public boolean isPersistent() {
        return persistent;
    }

    /** Stops recording (the end of TF's {@code with} block). {@code gradient} still works. */
    @Override
    public void close() {
        if (!active) {
            return;
        }
        checkThread("close");
        active = false;
        ACTIVE.get().remove(this);
    }

    /**
     * A tape belongs to the thread that created it: only that thread's ops are recorded on it,
     * and its records are not guarded for concurrent use. Another thread gets a
     * {@link UsageException} rather than a race.
     */
    private void checkThread(String call) {
        if (Thread.currentThread() != owner) {
            throw new UsageException("GradientTape." + call + ": the tape was created on thread '"
                    + owner.getName() + "' and is used on thread '" + Thread.currentThread().getName()
                    + "'; a tape belongs to the thread that created it (give each thread its own tape)");
        }
    }

    // ---- watching ------------------------------------------------------------------------

    /** Tracks {@code tensors} so that ops on them are recorded. Non-float tensors are ignored
     *  with a warning. */
    public void watch(Operand... tensors) {
        checkThread("watch");
        NullChecks.elements(tensors, "GradientTape.watch", "tensors");
        for (Operand o : tensors) {
            if (o instanceof Variable v) {
                watchVariable(v);
                continue;
            }
            Tensor t = o.value();
            if (!t.dtype().isFloating()) {
                log.warn("GradientTape.watch: {} tensor {} ignored: only float32/float64 tensors "
                        + "are differentiable", t.dtype(), t.shape());
                continue;
            }
            tracked.add(t.id);
        }
    }

    private void watchVariable(Variable v) {
        v.checkOpen();
        if (!v.dtype().isFloating()) {
            log.warn("GradientTape.watch: variable '{}' of dtype {} ignored: only float32/float64 "
                    + "variables are differentiable", v.name(), v.dtype());
            return;
        }
        variables.computeIfAbsent(v, k -> new ArrayList<>());
    }

    /** The variables this tape watches, in the order they were first watched. */
    public List<Variable> watchedVariables() {
        checkThread("watchedVariables");
        return List.copyOf(variables.keySet());
    }

    /** Forgets everything recorded and watched; the tape keeps recording if it was. */
    public void reset() {
        checkThread("reset");
        Deque<GradientTape> stack = ACTIVE.get();
        if (active && !stack.contains(this)) {
            stack.push(this); // answered while open: records again, as before its gradient
        }
        holdings.releaseAll();
        tracked.clear();
        variables.clear();
        consumed = false;
    }

    /** Pauses this tape's recording until the returned scope is closed (TF's {@code stop_recording}). */
    public Pause stopRecording() {
        checkThread("stopRecording");
        paused++;
        return new Pause(this);
    }

    /** A pause in recording; closing it resumes. */
    public static final class Pause implements AutoCloseable {
        private GradientTape tape;

        private Pause(GradientTape tape) {
            this.tape = tape;
        }

        @Override
        public void close() {
            if (tape != null) {
                tape.paused--;
                tape = null;
            }
        }
    }

    private boolean isRecording() {
        return active && paused == 0;
    }

    // ---- recording (called by ops) -------------------------------------------------------

    /** Suspends every tape on this thread: for internal work such as variable updates. */
    static Suspension suspendAll() {
        int[] depth = SUSPENDED.get();
        depth[0]++;
        return () -> depth[0]--;
    }

    /** The scope of {@link #suspendAll()}. */
    interface Suspension extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Records an op on every recording tape of this thread that tracks one of its float inputs.
     * Non-float results are never recorded (nothing differentiates through them).
     */
    static void record(String op, VjpRule vjp, Tensor result, Tensor... inputs) {
        boolean checking = CheckNumerics.enabled; // off: this read is check-numerics' whole cost
        if (checking) {
            CheckNumerics.check(op, result, inputs);
        }
        Deque<GradientTape> stack = ACTIVE.get();
        if (stack.isEmpty() || SUSPENDED.get()[0] > 0 || !result.dtype().isFloating()) {
            return;
        }
        StackTraceElement[] site = null;
        for (GradientTape tape : stack) {
            if (tape.isRecording() && tape.tracksAny(inputs)) {
                if (checking && site == null) {
                    site = CheckNumerics.site(); // kept only in check-numerics mode
                }
                tape.add(op, vjp, result, inputs, site);
            }
        }
    }

    /**
     * Whether {@link #record} would record an op on {@code inputs} now: some tape of this thread
     * is recording and tracks one of them. An op whose backward is a primitive without a VJP of
     * its own (fused attention) asks this to take its differentiable path when it would.
     */
    static boolean wouldRecord(Tensor... inputs) {
        Deque<GradientTape> stack = ACTIVE.get();
        if (stack.isEmpty() || SUSPENDED.get()[0] > 0) {
            return false;
        }
        for (GradientTape tape : stack) {
            if (tape.isRecording() && tape.tracksAny(inputs)) {
                return true;
            }
        }
        return false;
    }

    /** Called when a variable is read: watching tapes track the tensor read. */
    static void variableRead(Variable v, Tensor read) {
        Deque<GradientTape> stack = ACTIVE.get();
        if (stack.isEmpty() || SUSPENDED.get()[0] > 0 || !read.dtype().isFloating()) {
            return;
        }
        for (GradientTape tape : stack) {
            if (!tape.isRecording()) {
                continue;
            }
            if (tape.watchAccessedVariables && v.trainable()) {
                tape.watchVariable(v);
            }
            List<Long> reads = tape.variables.get(v);
            if (reads != null) {
                reads.add(read.id);
                tape.tracked.add(read.id);
            }
        }
    }

    /** Aliases this tape holds: one per tape id its records name (for tests). */
    int heldAliases() {
        return tracked.held();
    }

    private boolean tracksAny(Tensor[] inputs) {
        for (Tensor t : inputs) {
            if (tracked.contains(t.id)) {
                return true;
            }
        }
        return false;
    }

    /** {@code inputs}: the op's own array, which no caller changes after recording. */
    private void add(String op, VjpRule vjp, Tensor result, Tensor[] inputs, StackTraceElement[] site) {
        for (Tensor in : inputs) {
            tracked.hold(in, false);
        }
        tracked.hold(result, true);
        records.add(new Record(op, inputs, result, vjp, site));
    }

    // ---- gradients -----------------------------------------------------------------------

    /** d target / d source. {@code null} when target does not depend on source. */
    public Tensor gradient(Operand target, Operand source) {
        return gradient(target, List.of(NullChecks.nonNull(source, "GradientTape.gradient", "source")),
                null, UnconnectedGradients.NONE).get(0);
    }

    /** d target / d source for each source; {@code null} for unconnected sources. */
    public List<Tensor> gradient(Operand target, List<? extends Operand> sources) {
        return gradient(target, sources, null, UnconnectedGradients.NONE);
    }

    /**
     * Gradients of {@code target} with respect to each source, TF's {@code tape.gradient}.
     * A non-scalar target is treated as the sum of its elements unless {@code outputGradient}
     * (the target's shape and dtype) weights them.
     *
     * @param outputGradient the gradient flowing into {@code target}, or {@code null} for ones
     * @param unconnected    what to return for sources the target does not depend on
     */
    public List<Tensor> gradient(Operand target, List<? extends Operand> sources,
                                 Tensor outputGradient, UnconnectedGradients unconnected) {
        // checked before consume: a null argument does not use up a non-persistent tape
        checkThread("gradient");
        NullChecks.nonNull(target, "GradientTape.gradient", "target");
        NullChecks.elements(sources, "GradientTape.gradient", "sources");
        NullChecks.nonNull(unconnected, "GradientTape.gradient", "unconnected");
        consume("gradient");
        try {
            Tensor t = target.value();
            Tensor seed;
            if (outputGradient != null) {
                outputGradient.checkOpen("gradient");
                if (!outputGradient.shape().equals(t.shape())) {
                    throw new ShapeException("gradient: output gradient shape " + outputGradient.shape()
                            + " does not match target shape " + t.shape());
                }
                if (outputGradient.dtype() != t.dtype()) {
                    throw new DTypeException("gradient: output gradient dtype " + outputGradient.dtype()
                            + " does not match target dtype " + t.dtype());
                }
                seed = outputGradient;
            } else {
                seed = null; // created lazily, inside the backward scope
            }
            return backward(t, sources, seed, unconnected);
        } finally {
            releaseIfDone();
        }
    }

    /**
     * The Jacobian of {@code target} with respect to {@code source}: shape
     * {@code target.shape + source.shape}, element {@code [i..., j...]} = d target[i...] / d source[j...].
     * Computed with one backward pass per target element. {@code null} when unconnected.
     */
    public Tensor jacobian(Operand target, Operand source) {
        return jacobian(target, source, UnconnectedGradients.NONE);
    }

    /** {@link #jacobian(Operand, Operand)} with an unconnected policy. */
    public Tensor jacobian(Operand target, Operand source, UnconnectedGradients unconnected) {
        checkThread("jacobian");
        NullChecks.nonNull(target, "GradientTape.jacobian", "target");
        NullChecks.nonNull(source, "GradientTape.jacobian", "source");
        NullChecks.nonNull(unconnected, "GradientTape.jacobian", "unconnected");
        consume("jacobian");
        try {
            Tensor t = target.value();
            Tensor s = source.value();
            int n = t.shape().sizeAsInt("jacobian");
            List<Tensor> rows = new ArrayList<>(n);
            boolean connected = false;
            try (TensorScope scope = new TensorScope()) {
                Tensor eye = Creation.eye(t.device(), n, n, t.dtype());
                for (int i = 0; i < n; i++) {
                    Tensor seed = ShapeOps.reshape(ShapeOps.slice(eye, new int[] {i, 0}, new int[] {1, n}),
                            t.shape().toArray());
                    Tensor g = backward(t, List.of(source), seed, UnconnectedGradients.NONE).get(0);
                    connected |= g != null;
                    rows.add(g != null ? g : Creation.zerosLike(s));
                }
                if (n == 0) { // no rows to ask: one pass with an empty seed tells whether source is connected
                    connected = backward(t, List.of(source), Creation.zerosLike(t), UnconnectedGradients.NONE)
                            .get(0) != null;
                }
                if (!connected && unconnected == UnconnectedGradients.NONE) {
                    return null;
                }
                int[] shape = concatDims(t.shape().toArray(), s.shape().toArray());
                Tensor j = n == 0 ? Creation.zeros(t.device(), Shape.of(shape), t.dtype())
                        : ShapeOps.reshape(ShapeOps.stack(rows, 0), shape);
                return scope.keep(j);
            }
        } finally {
            releaseIfDone();
        }
    }

    private static int[] concatDims(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private void consume(String call) {
        checkThread(call);
        if (consumed) {
            throw new UsageException("GradientTape." + call + " can only be called once on a "
                    + "non-persistent tape; create it with new GradientTape(true) to call it again");
        }
        if (!persistent) {
            consumed = true;
        }
    }

    private void releaseIfDone() {
        if (!persistent) {
            holdings.releaseAll();
            // Answered: it cannot be asked again until reset(), so it stops recording until then.
            // A tape the user never closes (no try-with-resources) would otherwise record every
            // later op on this thread that reads a watched variable, holding its tensors for ever.
            ACTIVE.get().remove(this);
        }
    }

    /**
     * The reverse walk. Gradients are accumulated per tape id; a record runs its VJP only when
     * gradient reaches its result and one of its inputs leads back to a source. Intermediate
     * gradients live in a scope that is closed at the end; only the answers are kept.
     */
    private List<Tensor> backward(Tensor target, List<? extends Operand> sources, Tensor seed,
                                  UnconnectedGradients unconnected) {
        // Tape ids of each source: a tensor is itself; a variable is every value read from it.
        List<long[]> sourceIds = new ArrayList<>(sources.size());
        Set<Long> relevant = new HashSet<>();
        for (Operand s : sources) {
            long[] ids;
            if (s instanceof Variable v) {
                v.checkOpen(); // a closed variable is an error, not an unconnected source
                List<Long> reads = variables.getOrDefault(v, List.of());
                ids = reads.stream().mapToLong(Long::longValue).toArray();
            } else {
                ids = new long[] {s.value().id};
            }
            sourceIds.add(ids);
            for (long id : ids) {
                relevant.add(id);
            }
        }
        // Forward: which results depend on a source.
        for (Record r : records) {
            for (Tensor in : r.inputs) {
                if (relevant.contains(in.id)) {
                    relevant.add(r.result.id);
                    break;
                }
            }
        }
        List<Tensor> answers = new ArrayList<>(sources.size());
        paused++; // this tape does not record its own backward pass; outer tapes do
        try (TensorScope scope = new TensorScope()) {
            Map<Long, Tensor> grads = new HashMap<>();
            Set<Long> reached = new HashSet<>();
            if (relevant.contains(target.id)) {
                reached.add(target.id);
                grads.put(target.id, seed != null ? seed : Creation.onesLike(target));
                for (int k = records.size() - 1; k >= 0; k--) {
                    Record r = records.get(k);
                    if (!reached.contains(r.result.id)) {
                        continue;
                    }
                    boolean[] needs = new boolean[r.inputs.length];
                    boolean any = false;
                    for (int i = 0; i < needs.length; i++) {
                        needs[i] = relevant.contains(r.inputs[i].id) && r.inputs[i].dtype().isFloating();
                        if (needs[i]) {
                            reached.add(r.inputs[i].id);
                        }
                        any |= needs[i];
                    }
                    Tensor g = grads.get(r.result.id);
                    if (!any || g == null) {
                        continue;
                    }
                    Tensor[] inputs = new Tensor[r.inputs.length];
                    for (int i = 0; i < inputs.length; i++) {
                        inputs[i] = tracked.alias(r.inputs[i]);
                    }
                    // check-numerics names the forward op whose VJP (and accumulation) runs now
                    CheckNumerics.Backward in = CheckNumerics.enabled ? CheckNumerics.enterBackward(r.op, r.site) : null;
                    try {
                        Tensor[] inGrads = r.vjp.apply(g, inputs, tracked.alias(r.result), needs);
                        for (int i = 0; i < needs.length; i++) {
                            if (!needs[i] || inGrads[i] == null) {
                                continue;
                            }
                            Tensor gi = ReductionOps.sumToShape(inGrads[i], r.inputs[i].shape());
                            grads.merge(r.inputs[i].id, gi, ElementwiseOps::add);
                        }
                    } finally {
                        if (in != null) {
                            CheckNumerics.exitBackward(in);
                        }
                    }
                }
            }
            for (int s = 0; s < sources.size(); s++) {
                Tensor answer = null;
                boolean connected = false;
                for (long id : sourceIds.get(s)) {
                    if (reached.contains(id)) {
                        connected = true;
                        Tensor g = grads.get(id);
                        if (g != null) {
                            answer = answer == null ? g : ElementwiseOps.add(answer, g);
                        }
                    }
                }
                if (answer == null && (connected || unconnected == UnconnectedGradients.ZERO)) {
                    answer = Creation.zerosLike(sources.get(s).value());
                }
                answers.add(answer);
            }
            for (Tensor a : answers) {
                if (a != null) {
                    scope.keep(a);
                }
            }
        } finally {
            paused--;
        }
        return answers;
    }
}
