package dev.spool.internal;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.Variable;
import dev.spool.spi.Backend;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;

/**
 * The seam between eager execution and traced functions ({@code dev.spool.function}): while a
 * function traces on this thread, the device hands every primitive to the trace's recording
 * backend instead of its own, and reports allocations, releases, host transfers and variable
 * reads and writes. Internal: public only for Spool's own modules; not part of Spool's API.
 *
 * <p>Off the trace, the whole cost is one read of a volatile int per primitive.
 */
public final class TraceHooks {
    private static volatile int active;
    private static final ThreadLocal<Sink> CURRENT = new ThreadLocal<>();

    private TraceHooks() {
    }

    /** The launch of a primitive recorded as a closure: inputs, then outputs. */
    @FunctionalInterface
    public interface Launch {
        void run(Backend backend, View[] in, DeviceBuffer[] out);
    }

    /** What a trace is told. Every method is called on the tracing thread. */
    public interface Sink {
        /** The backend that primitives on {@code device} go to while tracing. */
        Backend backend(Device device, Backend real);

        void allocated(Device device, DeviceBuffer buffer, DType dtype, long size);

        void released(DeviceBuffer buffer);

        /** A read of device values to the host: what the function cannot replay. */
        void hostRead(Device device);

        /** A host-to-device write of {@code hostArray} (already copied to the device). */
        void hostWrite(Device device, DeviceBuffer dst, Object hostArray);

        void variableCreated(Variable v);

        void variableRead(Variable v, DeviceBuffer buffer);

        void variableAssigned(Variable v, DeviceBuffer buffer);

        /** A primitive issued as a closure (its scalars may be read when it runs); run it now. */
        void launch(Device device, String name, View[] in, DeviceBuffer[] out, Launch launch);

        /** Java code that must run at every call of the function, in order with its primitives. */
        void onEachCall(Runnable r);
    }

    /** The trace recording on this thread, or null. */
    public static Sink current() {
        return active == 0 ? null : CURRENT.get();
    }

    /** Starts recording into {@code sink} on this thread; returns what to pass to {@link #end}. */
    public static synchronized Sink begin(Sink sink) {
        Sink previous = CURRENT.get();
        CURRENT.set(sink);
        active++;
        return previous;
    }

    public static synchronized void end(Sink previous) {
        active--;
        if (previous == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(previous);
        }
    }

    /** Runs {@code body} with no trace recording on this thread (a replay's own work). */
    public static Sink suspend() {
        Sink s = CURRENT.get();
        if (s != null) {
            CURRENT.remove();
        }
        return s;
    }

    public static void resume(Sink s) {
        if (s != null) {
            CURRENT.set(s);
        }
    }
}
