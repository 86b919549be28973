package dev.spool.function;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.Tensor;
import dev.spool.UsageException;
import dev.spool.Variable;
import dev.spool.internal.CoreAccess;
import dev.spool.internal.TraceHooks;
import dev.spool.spi.Backend;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Records one run of a function's body: it runs eagerly, as it would without the function, while
 * every primitive, allocation, release, host write and variable access on this thread is written
 * down as a graph over {@link Value}s. The first call's results are the eager ones.
 */
final class Trace implements TraceHooks.Sink {
    /** SPI methods that are not primitives of the graph: memory, transfers, lifecycle. */
    private static final Set<String> NOT_RECORDED = Set.of("info", "allocate", "release", "releaseCachedMemory",
            "setMemoryPressure", "synchronize", "kernelLaunches", "close", "read", "write");

    private final CoreAccess core = CoreAccess.get();
    private final String function;
    private final boolean mayCreateVariables;
    private final Map<DeviceBuffer, Value> live = new IdentityHashMap<>();
    final List<Value> values = new ArrayList<>();
    final List<Node> nodes = new ArrayList<>();
    private final Map<Device, Backend> recorders = new HashMap<>();
    private final Map<Variable, Value> variableValues = new IdentityHashMap<>();
    /** Variables assigned in the body, with the value each holds at the end. */
    final Map<Variable, Value> assigned = new LinkedHashMap<>();
    /** The layout each assigned variable's value had at the end. */
    final Map<Variable, View> assignedLayouts = new IdentityHashMap<>();
    final List<Variable> created = new ArrayList<>();

    Trace(String function, boolean mayCreateVariables) {
        this.function = function;
        this.mayCreateVariables = mayCreateVariables;
    }

    /** Argument {@code index}: its buffer becomes an ARG value. */
    void argument(int index, Tensor t) {
        View v = core.view(t);
        if (live.containsKey(v.buffer())) {
            return; // the same buffer as an earlier argument (the signature records the aliasing)
        }
        Value val = newValue(Value.Kind.ARG, t.device(), v.buffer());
        val.arg = index;
        val.tracedOffset = v.offset();
        live.put(v.buffer(), val);
    }

    private Value newValue(Value.Kind kind, Device device, DeviceBuffer b) {
        Value v = new Value(values.size(), kind, device, b.dtype(), b.size());
        values.add(v);
        return v;
    }

    /** The value of a result tensor (a result never made in the body is captured like any input). */
    Value valueOf(Tensor t) {
        return resolve(t.device(), core.view(t).buffer(), false);
    }

    // ---- the sink ---------------------------------------------------------------------------

    @Override
    public Backend backend(Device device, Backend real) {
        return recorders.computeIfAbsent(device, d -> (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                    if (method.getDeclaringClass() == Object.class || NOT_RECORDED.contains(method.getName())) {
                        return CallNode.invoke(method, real, args);
                    }
                    record(d, method, args == null ? new Object[0] : args);
                    return CallNode.invoke(method, real, args);
                }));
    }

    private void record(Device d, Method method, Object[] args) {
        Value[] argValues = new Value[args.length];
        List<Value> in = new ArrayList<>();
        List<Value> out = new ArrayList<>();
        boolean copy = method.getName().equals("copy");
        for (int i = 0; i < args.length; i++) {
            if (args[i] instanceof View view) {
                boolean written = copy && i == 1;
                argValues[i] = resolve(d, view.buffer(), written);
                (written ? out : in).add(argValues[i]);
            } else if (args[i] instanceof DeviceBuffer b) {
                argValues[i] = resolve(d, b, true);
                out.add(argValues[i]);
            } else if (args[i] instanceof View[] || args[i] instanceof DeviceBuffer[]) {
                throw new UnsupportedOperationException("Spool.function: primitive " + method.getName()
                        + " takes an array of buffers, which traces do not record yet");
            }
        }
        nodes.add(new CallNode(d, method, args.clone(), argValues, in, out));
    }

    /**
     * The value a buffer holds now. A buffer the trace has not seen, read as an input, belongs to
     * a tensor captured from outside the body: it is copied once, and the function keeps the copy
     * (tensors are immutable, so this is what capturing it by reference would give).
     */
    private Value resolve(Device d, DeviceBuffer b, boolean written) {
        Value v = live.get(b);
        if (v != null) {
            return v;
        }
        if (written) {
            throw new IllegalStateException("Spool.function: a primitive wrote to a buffer the trace did not"
                    + " allocate");
        }
        v = newValue(Value.Kind.CONST, d, b);
        TraceHooks.Sink self = TraceHooks.suspend();
        try {
            v.owned = core.allocate(d, b.dtype(), b.size());
            Program.copyWhole(core, d, b, v.owned);
        } finally {
            TraceHooks.resume(self);
        }
        live.put(b, v);
        return v;
    }

    @Override
    public void allocated(Device device, DeviceBuffer buffer, DType dtype, long size) {
        live.put(buffer, newValue(Value.Kind.INTERNAL, device, buffer));
    }

    @Override
    public void released(DeviceBuffer buffer) {
        live.remove(buffer);
    }

    @Override
    public void hostRead(Device device) {
        throw new UsageException(function + ": a tensor's values were read to the host (item(), toFloatArray(),"
                + " toString(), ...) while tracing. The read would happen only once, when the function is traced,"
                + " not at later calls: return the tensor from the function and read it outside, or run the"
                + " function eagerly (TracedFunction.runEagerly) to debug it");
    }

    @Override
    public void hostWrite(Device device, DeviceBuffer dst, Object hostArray) {
        Value v = live.get(dst);
        if (v == null || v.kind != Value.Kind.INTERNAL) {
            throw new IllegalStateException("Spool.function: a host write to a buffer the trace did not allocate");
        }
        int n = Array.getLength(hostArray);
        Object copy = Array.newInstance(hostArray.getClass().getComponentType(), n);
        System.arraycopy(hostArray, 0, copy, 0, n);
        nodes.add(new WriteNode(device, v, copy));
    }

    @Override
    public void variableCreated(Variable v) {
        if (!mayCreateVariables) {
            throw new UsageException(function + ": variable '" + v.name() + "' was created while tracing a new"
                    + " signature. Variables may be created only on the first trace (as in tf.function): create"
                    + " them outside the function, or on its first call only");
        }
        created.add(v);
    }

    @Override
    public void variableRead(Variable var, DeviceBuffer buffer) {
        if (assigned.containsKey(var)) {
            return; // its value is made in the body: the buffer is already an internal value
        }
        Value v = variableValues.get(var);
        if (v == null) {
            v = newValue(Value.Kind.VAR, var.device(), buffer);
            v.variable = var;
            v.tracedOffset = core.variableView(var).offset();
            variableValues.put(var, v);
        }
        live.put(buffer, v);
    }

    @Override
    public void variableAssigned(Variable var, DeviceBuffer buffer) {
        assigned.put(var, resolve(var.device(), buffer, false));
        assignedLayouts.put(var, core.variableView(var));
    }

    @Override
    public void launch(Device device, String name, View[] in, DeviceBuffer[] out, TraceHooks.Launch launch) {
        Value[] inValues = new Value[in.length];
        for (int i = 0; i < in.length; i++) {
            inValues[i] = resolve(device, in[i].buffer(), false);
        }
        Value[] outValues = new Value[out.length];
        for (int i = 0; i < out.length; i++) {
            outValues[i] = resolve(device, out[i], true);
        }
        nodes.add(new LaunchNode(device, name, in.clone(), inValues, outValues, launch));
        launch.run(core.backend(device), in, out);
    }

    @Override
    public void onEachCall(Runnable r) {
        nodes.add(new HostNode(r));
    }

    /** Gives back the copies of captured tensors (a trace that failed, or a graph closed). */
    static void releaseOwned(List<Value> values) {
        CoreAccess core = CoreAccess.get();
        for (Value v : values) {
            if (v.owned != null) {
                core.release(v.device, v.owned);
                v.owned = null;
            }
        }
    }
}
