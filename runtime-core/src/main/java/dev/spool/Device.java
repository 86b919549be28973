package dev.spool;

import dev.spool.spi.Backend;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.DeviceInfo;
import dev.spool.spi.View;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * A device that tensors live on: one device of one backend ({@code cpu}, {@code opencl:0}, ...).
 *
 * <p>Which device new tensors go to, first match wins:
 * <ol>
 *   <li>the innermost {@link #use(Device)} scope on this thread;</li>
 *   <li>the system property {@code spool.device} (e.g. {@code -Dspool.device=opencl:1});</li>
 *   <li>the environment variable {@code SPOOL_DEVICE};</li>
 *   <li>the first GPU any backend offers, else the pure-Java CPU backend.</li>
 * </ol>
 * An OpenCL CPU device (such as PoCL) is never picked by default, only by name.
 * Ops take the device of their inputs; mixing devices is a {@link DeviceException}; move data
 * with {@link Tensor#to(Device)}.
 *
 * <p>All calls into a backend go through its {@code Device}, which serialises them and counts
 * allocations and host↔device transfers ({@link #stats()}).
 */
public final class Device {
    private static final ThreadLocal<Deque<Device>> SCOPES = ThreadLocal.withInitial(ArrayDeque::new);

    private final Backend backend;
    private final DeviceInfo info;
    // Counters; guarded by this.
    private long liveBuffers;
    private long liveBytes;
    private long allocations;
    private long h2dCalls;
    private long h2dBytes;
    private long d2hCalls;
    private long d2hBytes;
    private long leaked;
    private boolean closed;

    Device(Backend backend) {
        this.backend = backend;
        this.info = backend.info();
    }

    // ---- selection -----------------------------------------------------------------------

    /** The device named by {@code spec}: {@code cpu}, {@code opencl} (its preferred device),
     *  {@code opencl:N}. Throws {@link DeviceException} with the reason when it is unavailable. */
    public static Device get(String spec) {
        return DeviceRegistry.get(spec);
    }

    /** The pure-Java CPU device. */
    public static Device cpu() {
        return get("cpu");
    }

    /** Every device of every backend on the class path (discovering them all). */
    public static List<Device> list() {
        return DeviceRegistry.all();
    }

    /** The device new tensors go to on this thread (see the class comment for the order). */
    public static Device current() {
        Device scoped = SCOPES.get().peek();
        return scoped != null ? scoped : DeviceRegistry.defaultDevice();
    }

    /** The device chosen when nothing is asked for: the first GPU, else the CPU backend. */
    public static Device best() {
        return DeviceRegistry.best();
    }

    /** Makes {@code device} current on this thread until the returned scope is closed. */
    public static Scope use(Device device) {
        Deque<Device> stack = SCOPES.get();
        stack.push(device);
        return () -> {
            if (stack.peek() != device) {
                throw new IllegalStateException("device scopes closed out of order");
            }
            stack.pop();
        };
    }

    /** {@link #use(Device)} by name. */
    public static Scope use(String spec) {
        return use(get(spec));
    }

    /** A device scope; closing it restores the previous device. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    // ---- description ---------------------------------------------------------------------

    /** The name that selects this device: {@code cpu}, {@code opencl:0}, ... */
    public String id() {
        return info.id();
    }

    public DeviceInfo info() {
        return info;
    }

    /** Whether float64 tensors can live here. */
    public boolean supportsFloat64() {
        return info.fp64();
    }

    /** A snapshot of the memory and transfer counters. */
    public synchronized DeviceStats stats() {
        return new DeviceStats(liveBuffers, liveBytes, allocations, h2dCalls, h2dBytes,
                d2hCalls, d2hBytes, leaked);
    }

    /** Waits for all work issued to this device. */
    public synchronized void synchronize() {
        checkOpen();
        backend.synchronize();
    }

    @Override
    public String toString() {
        return id();
    }

    // ---- calls into the backend (package-private; serialised on this) --------------------

    /** The backend, for primitive calls made while holding this device's lock. */
    Backend backend() {
        return backend;
    }

    /** Throws once the backend has been shut down (at JVM exit). */
    void checkOpen() {
        if (closed) {
            throw new DeviceException("device " + id() + " has been shut down");
        }
    }

    synchronized void shutdown() {
        if (!closed) {
            closed = true;
            backend.close();
        }
    }

    synchronized DeviceBuffer allocate(DType dtype, long size) {
        checkOpen();
        if (dtype == DType.FLOAT64 && !info.fp64()) {
            throw new DTypeException("device " + id() + " (" + info.name()
                    + ") does not support float64");
        }
        DeviceBuffer b = backend.allocate(dtype, size);
        liveBuffers++;
        liveBytes += b.byteSize();
        allocations++;
        return b;
    }

    synchronized void release(DeviceBuffer buffer) {
        if (closed) {
            return; // the backend freed everything when it closed
        }
        backend.release(buffer);
        liveBuffers--;
        liveBytes -= buffer.byteSize();
    }

    synchronized void write(DeviceBuffer dst, Object hostArray) {
        checkOpen();
        backend.write(dst, hostArray);
        h2dCalls++;
        h2dBytes += dst.byteSize();
    }

    synchronized void read(View src, Object hostArray) {
        checkOpen();
        backend.read(src, hostArray);
        d2hCalls++;
        d2hBytes += src.size() * src.dtype().byteSize();
    }

    synchronized void countLeak() {
        leaked++;
    }
}
