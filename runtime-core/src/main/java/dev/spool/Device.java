package dev.spool;

import dev.spool.internal.NullChecks;
import dev.spool.internal.TraceHooks;
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
 * An OpenCL CPU device (such as PoCL) is never picked by default, only by name ({@code opencl}
 * alone picks the backend's best device: GPU, then accelerator, then CPU). {@link #report()}
 * says what every backend found and skipped.
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
    /** Live counters, the memory budget and reclaim: see {@link DeviceMemory}. */
    private final DeviceMemory memory;
    // Transfer counters; guarded by this.
    private long h2dCalls;
    private long h2dBytes;
    private long d2hCalls;
    private long d2hBytes;
    private boolean closed;

    Device(Backend backend) {
        this.backend = backend;
        this.info = backend.info();
        this.memory = new DeviceMemory(this);
        backend.setMemoryPressure(memory::reclaimForBackend);
    }

    // ---- selection -----------------------------------------------------------------------

    /** The device named by {@code spec}: {@code cpu}, {@code opencl} (its best device, said at INFO),
     *  {@code opencl:N}. Throws {@link DeviceException} with the reason when it is unavailable. */
    public static Device get(String spec) {
        return DeviceRegistry.get(NullChecks.nonNull(spec, "Device.get", "spec"));
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

    /**
     * A report of every backend on the class path, for people: each device with its id, and
     * what was skipped or is missing with the reason (for OpenCL: every platform, every device,
     * every skipped one). Discovers every backend. The tutorial's {@code --devices} prints it.
     */
    public static String report() {
        return DeviceRegistry.report();
    }

    /** The device chosen when nothing is asked for: the first GPU, else the CPU backend. */
    public static Device best() {
        return DeviceRegistry.best();
    }

    /** Makes {@code device} current on this thread until the returned scope is closed. */
    public static Scope use(Device device) {
        NullChecks.nonNull(device, "Device.use", "device");
        Deque<Device> stack = SCOPES.get();
        stack.push(device);
        return () -> {
            if (stack.peek() != device) {
                throw new UsageException("device scopes closed out of order");
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

    /** A snapshot of the memory, transfer and kernel launch counters. */
    public synchronized DeviceStats stats() {
        // A collected tensor's buffer is queued before its leak is counted: read the count first,
        // then release the queue, and every leak counted has its buffer back in these counters.
        long leaked = memory.leaked();
        memory.releaseCollected();
        return new DeviceStats(memory.liveBuffers(), memory.liveBytes(), memory.allocations(), h2dCalls, h2dBytes,
                d2hCalls, d2hBytes, leaked, memory.reclaims(), memory.peakBytes(), backend.kernelLaunches());
    }

    /**
     * Starts {@link DeviceStats#peakLiveBytes()} again from the bytes live now, as PyTorch's
     * {@code torch.cuda.reset_peak_memory_stats()}: to read one piece of code's peak, reset, run it,
     * and subtract the live bytes before it from the new peak.
     */
    public synchronized void resetPeakMemoryStats() {
        memory.releaseCollected();
        memory.resetPeak();
    }

    /**
     * The bytes that live tensors may hold on this device. An allocation beyond it first has
     * the garbage collector reclaim tensors that were dropped without {@code close()}, then
     * fails with {@link DeviceOutOfMemoryException}. Default: 80% of the device's global memory
     * (for {@code cpu}, of the maximum Java heap), or what the system property
     * {@code spool.memory.budget} / environment variable {@code SPOOL_MEMORY_BUDGET} say
     * ({@code 64m}, {@code 2g}, {@code 90%}; per device: {@code spool.memory.budget.opencl:0},
     * {@code SPOOL_MEMORY_BUDGET_OPENCL_0}).
     */
    public long memoryBudget() {
        return memory.budget();
    }

    /** Sets {@link #memoryBudget()} in bytes; tensors already live stay. */
    public void setMemoryBudget(long bytes) {
        memory.setBudget(bytes);
    }

    /** Waits for all work issued to this device. */
    public synchronized void synchronize() {
        checkOpen();
        memory.releaseCollected();
        backend.synchronize();
    }

    @Override
    public String toString() {
        return id();
    }

    // ---- calls into the backend (package-private; serialised on this) --------------------

    /** The backend, for primitive calls made while holding this device's lock. */
    Backend backend() {
        TraceHooks.Sink trace = TraceHooks.current();
        return trace == null ? backend : trace.backend(this, backend);
    }

    /** The backend itself, never a trace's recorder: for a traced function's replay. */
    Backend ownBackend() {
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

    /**
     * A new buffer, accounted against the memory budget (see {@link DeviceMemory}); a driver
     * that reports no memory left gets one reclaim and one retry. Not under this device's lock:
     * a reclaim waits for the garbage collector's cleanups.
     */
    DeviceBuffer allocate(DType dtype, long size) {
        checkOpen();
        if (dtype == DType.FLOAT64 && !info.fp64()) {
            throw new DTypeException("device " + id() + " (" + info.name()
                    + ") does not support float64");
        }
        if (size < 0 || size > Long.MAX_VALUE / dtype.byteSize()) {
            throw new BackendException("cannot allocate " + dtype + "[" + size + "] on " + id()
                    + ": the size is negative or overflows 64 bits");
        }
        long bytes = size * dtype.byteSize();
        memory.reserve(bytes, dtype, size);
        boolean reclaimed = false;
        while (true) {
            try {
                DeviceBuffer b;
                synchronized (this) {
                    checkOpen();
                    b = backend.allocate(dtype, size);
                }
                memory.allocated();
                TraceHooks.Sink trace = TraceHooks.current();
                if (trace != null) {
                    trace.allocated(this, b, dtype, size);
                }
                return b;
            } catch (DeviceOutOfMemoryException e) {
                if (reclaimed) {
                    memory.unreserve(bytes);
                    throw memory.driverOutOfMemory(dtype, size, bytes, e);
                }
                reclaimed = true;
                memory.reclaimAfterDriverFailure(bytes);
            } catch (RuntimeException | Error e) {
                memory.unreserve(bytes);
                throw e;
            }
        }
    }

    /** Gives a buffer back to the backend. */
    synchronized void release(DeviceBuffer buffer) {
        releaseNow(buffer);
    }

    /** {@link #release} for a caller that holds this device's lock. */
    void releaseNow(DeviceBuffer buffer) {
        if (closed) {
            return; // the backend freed everything when it closed
        }
        TraceHooks.Sink trace = TraceHooks.current();
        if (trace != null) {
            trace.released(buffer);
        }
        backend.release(buffer);
        memory.released(buffer.byteSize());
    }

    /**
     * Called by the garbage collector's cleanup of a tensor: queues the buffer, which the next
     * allocation on this device (or a reclaim) releases. The cleaner thread takes no lock, so a
     * thread that holds this device's lock can wait for it.
     */
    void releaseCollected(DeviceBuffer buffer) {
        memory.collectedByCleaner(buffer);
    }

    synchronized void write(DeviceBuffer dst, Object hostArray) {
        checkOpen();
        backend.write(dst, hostArray);
        TraceHooks.Sink trace = TraceHooks.current();
        if (trace != null) {
            trace.hostWrite(this, dst, hostArray);
        }
        h2dCalls++;
        h2dBytes += dst.byteSize();
    }

    synchronized void read(View src, Object hostArray) {
        checkOpen();
        TraceHooks.Sink trace = TraceHooks.current();
        if (trace != null) {
            trace.hostRead(this);
        }
        backend.read(src, hostArray);
        d2hCalls++;
        d2hBytes += src.size() * src.dtype().byteSize();
    }

    void countLeak() {
        memory.countLeak();
    }
}
