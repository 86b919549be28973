package dev.spool;

import dev.spool.internal.NullChecks;
import dev.spool.spi.View;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An immutable, eager n-dimensional array on one {@link Device}.
 *
 * <p>Ops dispatch at once; on an asynchronous device (OpenCL) they only enqueue work, and the
 * methods that return host values ({@link #toFloatArray()}, {@link #floatValue()},
 * {@link #toString()}, ...) wait for it. Reshapes, transposes, slices and broadcasts are views
 * that share the buffer without copying.
 *
 * <p>A tensor holds device memory until {@link #close()} (idempotent), the {@link TensorScope}
 * it was created in closes, or the garbage collector finds it unreachable (a safety net that is
 * counted in {@link DeviceStats#leakedTensors()}). Using a closed tensor throws
 * {@link ClosedException}, also when another thread closed it while an op was about to read it.
 *
 * <p>Create tensors with {@link Spool} ({@code Spool.constant}, {@code Spool.ones}, ...); the
 * ops are the methods of {@link Operand}.
 */
public final class Tensor implements Operand, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Tensor.class);
    /** The safety net for tensors that are never closed; tapes register their records here too. */
    static final Cleaner CLEANER = Cleaner.create();
    private static final AtomicLong IDS = new AtomicLong();

    /** Identity for gradient tapes; aliases of one tensor share it. */
    final long id;
    private final Shape shape;
    private final DType dtype;
    final Storage storage;
    final long[] strides;
    final long offset;
    private final Handle handle;
    private final Cleaner.Cleanable cleanable;

    /** Releases this tensor's reference to its storage, once, by close() or by the Cleaner. */
    private static final class Handle implements Runnable {
        final Storage storage;
        private static final AtomicIntegerFieldUpdater<Handle> RELEASED =
                AtomicIntegerFieldUpdater.newUpdater(Handle.class, "released");
        /** 1 once released; a field updater rather than an AtomicBoolean: one object less per tensor. */
        volatile int released;
        volatile boolean closedExplicitly;

        Handle(Storage storage) {
            this.storage = storage;
        }

        @Override
        public void run() {
            if (RELEASED.compareAndSet(this, 0, 1)) {
                // Release first (queued for the device when collected, which stats() drains):
                // whoever sees the leak counted must also see the buffer back.
                storage.release(!closedExplicitly);
                if (!closedExplicitly) {
                    storage.device.countLeak();
                    log.debug("tensor freed by the garbage collector, not close(): {} bytes on {}",
                            storage.buffer.byteSize(), storage.device);
                }
            }
        }
    }

    private Tensor(long id, Storage storage, Shape shape, DType dtype, long[] strides, long offset) {
        this(id, storage, shape, dtype, strides, offset, true);
    }

    /** {@code guarded}: registered with the Cleaner; false only for {@link #aliasOfRetained()}. */
    private Tensor(long id, Storage storage, Shape shape, DType dtype, long[] strides, long offset,
                   boolean guarded) {
        this.id = id;
        this.storage = storage;
        this.shape = shape;
        this.dtype = dtype;
        this.strides = strides;
        this.offset = offset;
        this.handle = new Handle(storage);
        this.cleanable = guarded ? CLEANER.register(this, handle) : null;
    }

    /** A new tensor owning a fresh storage (reference count 1); registered with the current scope. */
    static Tensor create(Storage storage, Shape shape) {
        Tensor t = new Tensor(IDS.incrementAndGet(), storage, shape, storage.buffer.dtype(),
                shape.rowMajorStridesUnsafe(), 0);
        TensorScope.register(t);
        return t;
    }

    /** A view of {@code base}'s storage with another layout; a new tensor for tapes. */
    static Tensor view(Tensor base, Shape shape, long[] strides, long offset) {
        base.checkOpen();
        base.storage.retain();
        Tensor t = new Tensor(IDS.incrementAndGet(), base.storage, shape, base.dtype, strides, offset);
        TensorScope.register(t);
        return t;
    }

    /**
     * Another handle to the same values and the same tape identity, with its own lifetime and
     * not owned by any scope: what tapes and variables hold so that a user closing a tensor
     * cannot pull data from under them.
     */
    Tensor alias() {
        checkOpen();
        storage.retain();
        return new Tensor(id, storage, shape, dtype, strides, offset);
    }

    /** One more reference to this open tensor's storage, for a tape ({@link TrackedIds}). */
    void retainStorage() {
        checkOpen();
        storage.retain();
    }

    /**
     * An alias that takes over a reference {@link #retainStorage()} took (closing it gives that
     * reference back), open even if this tensor is closed now. No Cleaner of its own: its owner
     * (a tape's records) always closes it and has one Cleaner for when it is itself dropped; a
     * registration per alias cost more than recording a small op.
     */
    Tensor aliasOfRetained() {
        return new Tensor(id, storage, shape, dtype, strides, offset, false);
    }

    /** Gives back a reference {@link #retainStorage()} took; {@code collected}: as the Cleaner would. */
    void releaseRetained(boolean collected) {
        storage.release(collected);
        if (collected) {
            storage.device.countLeak();
        }
    }

    /** {@link #alias()} with a new tape identity, registered with the current scope. */
    Tensor freshAlias() {
        Tensor t = view(this, shape, strides, offset);
        return t;
    }

    // ---- description ---------------------------------------------------------------------

    public Shape shape() {
        return shape;
    }

    public DType dtype() {
        return dtype;
    }

    public Device device() {
        return storage.device;
    }

    public int rank() {
        return shape.rank();
    }

    /** Number of elements. */
    public long size() {
        return shape.size();
    }

    /** This tensor: a tensor is its own value. */
    @Override
    public Tensor value() {
        checkOpen();
        return this;
    }

    public boolean isClosed() {
        return handle.released != 0;
    }

    /** Releases this tensor's device memory (shared views keep it alive). Idempotent. */
    @Override
    public void close() {
        handle.closedExplicitly = true;
        if (cleanable != null) {
            cleanable.clean();
        } else {
            handle.run();
        }
    }

    /** Releases as the Cleaner does (counted as freed by the garbage collector; the buffer is
     *  queued for its device): for an owner's own Cleaner, such as a dropped tape's. */
    void closeCollected() {
        if (cleanable != null) {
            cleanable.clean();
        } else {
            handle.run();
        }
    }

    void checkOpen() {
        if (handle.released != 0) {
            throw new ClosedException("tensor #" + id + " " + shape + " " + dtype
                    + " on " + device() + " is closed");
        }
    }

    /** {@link #checkOpen()} with the op that wanted the tensor named in the message. */
    void checkOpen(String op) {
        if (handle.released != 0) {
            throw new ClosedException(op + ": tensor #" + id + " " + shape + " " + dtype
                    + " on " + device() + " is closed");
        }
    }

    /**
     * Reads {@code src} (a view of this tensor's storage) to the host under the device's lock,
     * checking there that this tensor is still open: another thread's close releases the buffer
     * under the same lock, so the read never sees a released (perhaps reused) buffer.
     */
    private void readLocked(View src, Object hostArray) {
        Device d = device();
        synchronized (d) {
            checkOpen("read");
            d.read(src, hostArray);
        }
    }

    /** The SPI view of this tensor's elements. */
    View spiView() {
        checkOpen();
        return new View(storage.buffer, shape.dimsUnsafe(), strides, offset);
    }

    /** True when the elements are dense and row-major (a reshape needs no copy). */
    boolean isContiguous() {
        return spiView().isContiguous();
    }

    // ---- reading values (these wait for the device) --------------------------------------

    /** Copies this tensor to {@code device} (a counted transfer through the host). */
    public Tensor to(Device device) {
        NullChecks.nonNull(device, "to", "device");
        checkOpen();
        if (device == device()) {
            return freshAlias();
        }
        return Creation.fromHost(device, shape, dtype, readHost());
    }

    /** All elements in row-major order, as a new array of this dtype's host type. */
    Object readHost() {
        checkOpen();
        Object array = dtype.newHostArray(shape.sizeAsInt("reading values"));
        readLocked(spiView(), array);
        return array;
    }

    /** Values as floats (converted from any dtype), row-major. */
    public float[] toFloatArray() {
        return HostArrays.toFloats(readHost());
    }

    /** Values as doubles (converted from any dtype), row-major. */
    public double[] toDoubleArray() {
        return HostArrays.toDoubles(readHost());
    }

    /** Values as ints (float values truncated toward zero), row-major. */
    public int[] toIntArray() {
        return HostArrays.toInts(readHost());
    }

    /** Values as longs (float values truncated toward zero), row-major. */
    public long[] toLongArray() {
        return HostArrays.toLongs(readHost());
    }

    /** Values as booleans (non-zero is true), row-major. */
    public boolean[] toBooleanArray() {
        return HostArrays.toBooleans(readHost());
    }

    /**
     * The value of a one-element tensor boxed as its dtype's Java type: {@code Float},
     * {@code Double}, {@code Integer}, {@code Long} or {@code Boolean} (NumPy's {@code item()}).
     * The typed readers ({@link #floatValue()}, {@link #longValue()}, ...) convert instead.
     */
    public Object item() {
        checkOpen();
        return switch (dtype) {
            case FLOAT32 -> floatValue();
            case FLOAT64 -> doubleValue();
            case INT32 -> intValue();
            case INT64 -> longValue();
            case BOOL -> booleanValue();
        };
    }

    /** The value of a one-element tensor as a float (TF's {@code .numpy()} on a scalar). */
    public float floatValue() {
        return (float) doubleValue();
    }

    /** The value of a one-element tensor as a double. */
    public double doubleValue() {
        requireOneElement();
        return toDoubleArray()[0];
    }

    /** The value of a one-element tensor as a long (exact for int64). */
    public long longValue() {
        requireOneElement();
        return toLongArray()[0];
    }

    /** The value of a one-element tensor as an int. */
    public int intValue() {
        return (int) longValue();
    }

    /** The value of a one-element tensor as a boolean. */
    public boolean booleanValue() {
        requireOneElement();
        return toBooleanArray()[0];
    }

    /** The element at {@code index} (one index per dimension) as a double. */
    public double getDouble(int... index) {
        NullChecks.nonNull(index, "getDouble", "index");
        checkOpen();
        if (index.length != rank()) {
            throw new ShapeException("getDouble: " + index.length + " indices for a tensor of shape " + shape);
        }
        long at = offset;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape.dim(i)) {
                throw new ShapeException("getDouble: index " + java.util.Arrays.toString(index)
                        + " is out of bounds for shape " + shape);
            }
            at += index[i] * strides[i];
        }
        Object one = dtype.newHostArray(1);
        readLocked(new View(storage.buffer, new int[0], new long[0], at), one);
        return HostArrays.toDoubles(one)[0];
    }

    /** The element at {@code index} (one index per dimension) as a float. */
    public float getFloat(int... index) {
        return (float) getDouble(index);
    }

    private void requireOneElement() {
        checkOpen();
        if (size() != 1) {
            throw new ShapeException("value of a tensor with shape " + shape
                    + ": only one-element tensors have a single value");
        }
    }

    /**
     * TensorFlow's format: {@code Tensor(16.0, shape=(), dtype=float32, device=cpu)}, values
     * nested by dimension and elided in the middle beyond 1000 elements. Reads the values.
     */
    @Override
    public String toString() {
        if (isClosed()) {
            return "Tensor(<closed>, shape=" + shape + ", dtype=" + dtype + ", device=" + device() + ")";
        }
        return "Tensor(" + TensorFormat.format(shape, dtype, readHost())
                + ", shape=" + shape + ", dtype=" + dtype + ", device=" + device() + ")";
    }
}
