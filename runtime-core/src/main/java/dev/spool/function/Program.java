package dev.spool.function;

import dev.spool.Device;
import dev.spool.Shape;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.internal.CoreAccess;
import dev.spool.internal.TraceHooks;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A traced graph after its passes, with its planned buffers: what a call with a known signature
 * runs instead of the function's body. Variables change only after every node has run, so a call
 * that fails leaves them as they were.
 */
final class Program implements AutoCloseable {
    /** A result of the function: the value it views and the layout it was traced with. */
    record Result(Value value, Shape shape, long[] strides, long offset) {
    }

    private final CoreAccess core = CoreAccess.get();
    final List<Value> values;
    final List<Node> nodes;
    final int tracedNodes;
    private final List<Result> results;
    private final Map<Variable, Value> assigned;
    private final Map<Variable, View> assignedLayouts;
    final MemoryPlan plan;
    private final DeviceBuffer[] slotBuffers;
    private final Binding binding;
    private boolean closed;

    Program(Trace trace, List<Result> results, FunctionOptions options) {
        this.values = trace.values;
        this.results = results;
        this.assigned = trace.assigned;
        this.assignedLayouts = trace.assignedLayouts;
        this.tracedNodes = trace.nodes.size();
        for (Result r : results) {
            r.value().escapes = true;
        }
        for (Value v : assigned.values()) {
            v.escapes = true;
        }
        List<Node> n = DeadCode.eliminate(trace.nodes, values);
        if (options.fuse()) {
            n = Fusion.fuse(n, values);
        }
        this.nodes = n;
        this.plan = new MemoryPlan(nodes, values);
        this.slotBuffers = new DeviceBuffer[plan.slots.size()];
        this.binding = new Binding(values.size());
        TraceHooks.Sink outer = TraceHooks.suspend();
        try {
            for (int i = 0; i < slotBuffers.length; i++) {
                MemoryPlan.Slot s = plan.slots.get(i);
                slotBuffers[i] = core.allocate(s.device(), s.dtype(), s.size());
            }
            for (Value v : values) { // constants hoisted out of the calls: filled once, here
                if (v.kind == Value.Kind.CONST && v.fill != null && v.owned == null) {
                    v.owned = core.allocate(v.device, v.dtype, v.size);
                    synchronized (v.device) {
                        core.backend(v.device).fill(v.owned, v.fill);
                    }
                }
            }
            foldConstants();
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        } finally {
            TraceHooks.resume(outer);
        }
    }

    /**
     * Runs the primitives {@link Fusion} folded into constants, in trace order (a folded value
     * may read an earlier one), each into a buffer the function owns.
     */
    private void foldConstants() {
        Binding once = new Binding(values.size());
        for (Value v : values) {
            if (v.kind == Value.Kind.CONST && v.foldedBy == null) {
                once.buffers[v.id] = v.owned;
            }
        }
        List<Value> folded = new ArrayList<>();
        for (Value v : values) {
            if (v.foldedBy != null) {
                folded.add(v);
            }
        }
        folded.sort(java.util.Comparator.comparingInt(v -> v.foldOrder));
        for (Value v : folded) {
            v.owned = core.allocate(v.device, v.dtype, v.size);
            once.buffers[v.id] = v.owned;
            synchronized (v.device) {
                v.foldedBy.run(core.backend(v.device), once);
            }
        }
    }

    /** Kernel launches per call (an upper bound: a backend may split a primitive). */
    int launches() {
        int l = 0;
        for (Node n : nodes) {
            l += n.launches();
        }
        return l;
    }

    /** Runs the graph on {@code args} (which match the traced signature); returns the results. */
    List<Tensor> run(Tensor[] args) {
        if (closed) {
            throw new IllegalStateException("this traced program is closed");
        }
        binding.call++;
        List<Value> fresh = new ArrayList<>();
        boolean done = false;
        try {
            bind(args, fresh);
            for (Node n : nodes) {
                if (n.device == null) {
                    n.run(null, binding);
                } else {
                    synchronized (n.device) {
                        n.run(core.backend(n.device), binding);
                    }
                }
            }
            List<Tensor> out = finish(fresh);
            done = true;
            return out;
        } finally {
            if (!done) { // the variables are as they were; give back what this call took
                for (Value v : fresh) {
                    if (binding.buffers[v.id] != null) {
                        core.release(v.device, binding.buffers[v.id]);
                        binding.buffers[v.id] = null;
                    }
                }
            }
        }
    }

    private void bind(Tensor[] args, List<Value> fresh) {
        for (Value v : values) {
            DeviceBuffer b = null;
            long shift = 0;
            switch (v.kind) {
                case ARG -> {
                    View view = core.view(args[v.arg]);
                    b = view.buffer();
                    shift = view.offset() - v.tracedOffset;
                }
                case VAR -> {
                    View view = core.variableView(v.variable);
                    b = view.buffer();
                    shift = view.offset() - v.tracedOffset;
                }
                case CONST -> b = v.owned;
                case INTERNAL -> {
                    if (v.slot >= 0) {
                        b = slotBuffers[v.slot];
                    } else if (v.escapes) {
                        binding.buffers[v.id] = null;
                        b = core.allocate(v.device, v.dtype, v.size);
                        fresh.add(v);
                    }
                }
                default -> throw new IllegalStateException();
            }
            binding.buffers[v.id] = b;
            binding.shifts[v.id] = shift;
        }
    }

    /**
     * Tensors over the call's escaping buffers: the results, then the variables' new values. Each
     * buffer gets one owning tensor; results and variables view it, and the owners are closed.
     */
    private List<Tensor> finish(List<Value> fresh) {
        Map<Value, Tensor> owners = new IdentityHashMap<>();
        try {
            for (Value v : fresh) { // first, so that nothing is lost if a copy below fails
                owners.put(v, core.wrap(v.device, binding.buffers[v.id], Shape.of(Math.toIntExact(v.size)),
                        new long[] {1}, 0));
                binding.buffers[v.id] = null;
            }
            List<Tensor> out = new ArrayList<>(results.size());
            for (Result r : results) {
                out.add(tensorOf(r.value(), r.shape(), r.strides(), r.offset(), owners));
            }
            for (Map.Entry<Variable, Value> e : assigned.entrySet()) {
                View layout = assignedLayouts.get(e.getKey());
                try (Tensor t = tensorOf(e.getValue(), e.getKey().shape(), layout.strides(), layout.offset(), owners)) {
                    core.replace(e.getKey(), t);
                }
            }
            return out;
        } finally {
            for (Tensor t : owners.values()) {
                t.close();
            }
        }
    }

    private Tensor tensorOf(Value v, Shape shape, long[] strides, long offset, Map<Value, Tensor> owners) {
        Tensor base = owners.get(v);
        if (base == null) { // an argument, a variable's or a captured value returned as it is: a copy
            DeviceBuffer copy = core.allocate(v.device, v.dtype, v.size);
            base = core.wrap(v.device, copy, Shape.of(Math.toIntExact(v.size)), new long[] {1}, 0);
            owners.put(v, base);
            copyWhole(core, v.device, binding.buffers[v.id], copy);
        }
        return core.viewOf(base, shape, strides, offset + (v.kind == Value.Kind.INTERNAL ? 0 : binding.shifts[v.id]));
    }

    /** Every element of {@code from} into {@code to}, a buffer of the same size, on the device's own backend. */
    static void copyWhole(CoreAccess core, Device device, DeviceBuffer from, DeviceBuffer to) {
        int n = Math.toIntExact(from.size());
        synchronized (device) {
            core.backend(device).copy(View.contiguous(from, n), View.contiguous(to, n));
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = 0; i < slotBuffers.length; i++) {
            if (slotBuffers[i] != null) {
                core.release(plan.slots.get(i).device(), slotBuffers[i]);
                slotBuffers[i] = null;
            }
        }
        Trace.releaseOwned(values);
    }

    /** The graph after its passes, one node per line, with its planned buffers. */
    String describe() {
        StringBuilder s = new StringBuilder();
        s.append(nodes.size()).append(" nodes (").append(tracedNodes).append(" traced), ").append(launches())
                .append(" launches per call, ").append(plan.slots.size()).append(" planned buffers (")
                .append(plan.bytes()).append(" bytes)\n");
        for (int i = 0; i < nodes.size(); i++) {
            s.append(String.format("%4d  %s%n", i, nodes.get(i).label()));
        }
        return s.toString();
    }
}
