package dev.spool.internal;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.Shape;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.spi.Backend;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;

/**
 * What traced functions ({@code dev.spool.function}) need of core's internals: a device's own
 * backend and accounted memory, a tensor's buffer view, tensors over buffers they fill, and
 * variables' values. Internal: public only across Spool's packages; not part of Spool's API.
 */
public abstract class CoreAccess {
    private static volatile CoreAccess instance;

    protected CoreAccess() {
    }

    /** Installed once by core ({@code dev.spool.Spool}'s initialiser). */
    public static void install(CoreAccess access) {
        instance = access;
    }

    public static CoreAccess get() {
        CoreAccess a = instance;
        if (a == null) {
            try {
                Class.forName("dev.spool.Spool", true, CoreAccess.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
            a = instance;
        }
        return a;
    }

    /** The device's backend itself, never a trace's recorder. Call under the device's lock. */
    public abstract Backend backend(Device device);

    /** A buffer counted in the device's memory statistics and budget. */
    public abstract DeviceBuffer allocate(Device device, DType dtype, long size);

    public abstract void release(Device device, DeviceBuffer buffer);

    /** A host-to-device write, counted as a transfer. */
    public abstract void write(Device device, DeviceBuffer dst, Object hostArray);

    public abstract View view(Tensor t);

    /** A new tensor (in the current scope) that owns {@code buffer}, seen with this layout. */
    public abstract Tensor wrap(Device device, DeviceBuffer buffer, Shape shape, long[] strides, long offset);

    /** A tensor (in the current scope) over {@code base}'s buffer with another layout. */
    public abstract Tensor viewOf(Tensor base, Shape shape, long[] strides, long offset);

    /** Another tensor over the same values, in the current scope. */
    public abstract Tensor alias(Tensor t);

    /** The variable's value as it is now (no tape sees the read). */
    public abstract View variableView(Variable v);

    /** Swaps {@code fresh} in as the variable's value; the variable holds its own alias. */
    public abstract void replace(Variable v, Tensor fresh);

    public abstract boolean checkNumericsEnabled();
}
