package dev.spool;

import dev.spool.internal.NullChecks;
import dev.spool.internal.TraceHooks;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A mutable, named holder of a tensor, as {@code tf.Variable}: model parameters. Each read
 * ({@link #value()}, or any op called on the variable) returns the current value; a
 * {@link GradientTape} that is recording watches every trainable variable read while it records
 * (unless created with {@code watchAccessedVariables = false}), and
 * {@code tape.gradient(loss, variable)} sums the gradient over all those reads.
 *
 * <p>Assignments replace the value; tensors read earlier keep the old one. Shape, dtype and
 * device are fixed at construction. A variable owns its value's memory until {@link #close()}.
 */
public final class Variable implements Operand, AutoCloseable {
    private static final AtomicLong COUNT = new AtomicLong();

    private final String name;
    private final boolean trainable;
    private Tensor current; // an alias owned by this variable, outside any TensorScope

    /** A trainable variable named {@code Variable:N}. */
    public Variable(Operand initialValue) {
        this(initialValue, "Variable:" + COUNT.getAndIncrement(), true);
    }

    /** A trainable variable holding {@code initialValue}. */
    public Variable(Operand initialValue, String name) {
        this(initialValue, name, true);
    }

    public Variable(Operand initialValue, String name, boolean trainable) {
        this.name = name;
        this.trainable = trainable;
        this.current = Args.value(initialValue, "Variable", "initialValue").alias();
        TraceHooks.Sink trace = TraceHooks.current();
        if (trace != null) {
            trace.variableCreated(this);
        }
    }

    public String name() {
        return name;
    }

    public boolean trainable() {
        return trainable;
    }

    @Override
    public Shape shape() {
        return current.shape();
    }

    @Override
    public DType dtype() {
        return current.dtype();
    }

    @Override
    public Device device() {
        return current.device();
    }

    /** Reads the current value (a tensor of its own, in the current scope); tapes see the read. */
    @Override
    public synchronized Tensor value() {
        checkOpen();
        Tensor read = current.freshAlias();
        traceRead();
        GradientTape.variableRead(this, read);
        return read;
    }

    /** Replaces the value. Not recorded on tapes (assignment is not differentiable). */
    public synchronized Variable assign(Operand newValue) {
        checkOpen();
        Tensor v = Args.value(newValue, "assign", "newValue");
        if (!v.shape().equals(shape())) {
            throw new ShapeException("assign to variable '" + name + "': shape " + v.shape()
                    + " does not match the variable's shape " + shape());
        }
        if (v.dtype() != dtype()) {
            throw new DTypeException("assign to variable '" + name + "': dtype " + v.dtype()
                    + " does not match the variable's dtype " + dtype());
        }
        if (v.device() != device()) {
            throw new DeviceException("assign to variable '" + name + "': value on " + v.device()
                    + ", variable on " + device());
        }
        Tensor old = current;
        current = v.alias();
        traceAssigned();
        old.close();
        return this;
    }

    /** {@code this = this + delta}. */
    public Variable assignAdd(Operand delta) {
        return update(NullChecks.nonNull(delta, "assignAdd", "delta"), false);
    }

    /** {@code this = this - delta}. */
    public Variable assignSub(Operand delta) {
        return update(NullChecks.nonNull(delta, "assignSub", "delta"), true);
    }

    private synchronized Variable update(Operand delta, boolean subtract) {
        checkOpen();
        traceRead();
        try (GradientTape.Suspension quiet = GradientTape.suspendAll()) {
            Tensor d = delta.value();
            try (Tensor updated = subtract ? ElementwiseOps.sub(current, d) : ElementwiseOps.add(current, d)) {
                return assign(updated);
            }
        }
    }

    /**
     * The value itself, not a read: no tape sees it and no alias is made. For core's fused
     * updates ({@link TrainingOps}), which name their op when the variable is closed.
     */
    synchronized Tensor currentFor(String op) {
        if (current.isClosed()) {
            throw new ClosedException(op + ": variable '" + name + "' is closed");
        }
        traceRead();
        return current;
    }

    /** Swaps in {@code fresh}, whose shape, dtype and device the caller has checked. Earlier
     *  reads keep the old value: they hold aliases of their own. */
    synchronized void replace(Tensor fresh) {
        Tensor old = current;
        current = fresh.alias();
        traceAssigned();
        old.close();
    }

    /** The value for a traced function's replay: no tape and no trace sees it. */
    synchronized Tensor currentUntraced() {
        checkOpen();
        return current;
    }

    private void traceRead() {
        TraceHooks.Sink trace = TraceHooks.current();
        if (trace != null) {
            trace.variableRead(this, current.storage.buffer);
        }
    }

    private void traceAssigned() {
        TraceHooks.Sink trace = TraceHooks.current();
        if (trace != null) {
            trace.variableAssigned(this, current.storage.buffer);
        }
    }

    void checkOpen() {
        if (current.isClosed()) {
            throw new ClosedException("variable '" + name + "' is closed");
        }
    }

    /** Releases the value's memory. */
    @Override
    public synchronized void close() {
        current.close();
    }

    /** {@code <Variable 'name' shape=() dtype=float32, numpy=1.0>} in TF's style; reads the value. */
    @Override
    public String toString() {
        if (current.isClosed()) {
            return "<Variable '" + name + "' (closed)>";
        }
        return "<Variable '" + name + "' shape=" + shape() + " dtype=" + dtype() + " device=" + device()
                + ", numpy=" + TensorFormat.format(shape(), dtype(), current.readHost()) + ">";
    }
}
