package dev.spool.function;

import dev.spool.Device;
import dev.spool.spi.Backend;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Locale;

/**
 * A backend primitive as the trace saw it: the SPI method and its arguments, where every
 * {@link View} and {@link DeviceBuffer} argument is rebound to the call's buffers. Any primitive
 * of the SPI is recorded this way, so an op added to the SPI works in functions unchanged.
 */
final class CallNode extends Node {
    private static final long SEED_MIX = 0x9E3779B97F4A7C15L;

    final Method method;
    final Object[] args;
    /** Per argument: the value it names, or null for a plain argument (an enum, a scalar, a geometry). */
    final Value[] argValues;
    /** A stateful random op: its seed (argument 1) is mixed with the call count at each replay. */
    private final boolean random;

    CallNode(Device device, Method method, Object[] args, Value[] argValues, List<Value> inputs, List<Value> outputs) {
        super(device, inputs, outputs);
        this.method = method;
        this.args = args;
        this.argValues = argValues;
        this.random = method.getName().equals("randomUniform");
    }

    @Override
    void run(Backend backend, Binding binding) {
        Object[] a = args.clone();
        for (int i = 0; i < a.length; i++) {
            Value v = argValues[i];
            if (v == null) {
                continue;
            }
            a[i] = a[i] instanceof View view ? binding.view(v, view) : binding.buffer(v);
        }
        if (random) {
            // a stateful random op, as TF's in tf.function: new numbers at every call
            a[1] = (Long) a[1] ^ (SEED_MIX * binding.call);
        }
        invoke(method, backend, a);
    }

    static Object invoke(Method method, Object target, Object[] args) {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The op: the method and its enum arguments ({@code unary TANH}, {@code binary ADD}). */
    String op() {
        StringBuilder s = new StringBuilder(method.getName());
        for (Object o : args) {
            if (o instanceof Enum<?> e) {
                s.append(' ').append(e.name().toLowerCase(Locale.ROOT));
            }
        }
        return s.toString();
    }

    @Override
    String label() {
        return op() + " " + inputs + " -> " + outputs;
    }
}
