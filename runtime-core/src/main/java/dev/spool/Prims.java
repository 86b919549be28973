package dev.spool;

import dev.spool.spi.BinaryOp;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;

/**
 * The bridge from ops to the backend SPI: allocates outputs, checks devices, builds strided
 * views (broadcasts, permuted reductions, transposed matmul operands) and issues each primitive
 * under its device's lock. Ops call these; nothing here records on a tape.
 *
 * <p>A primitive that throws (a kernel that does not build, a device error) closes the output it
 * was given: nobody sees a half-written tensor and its buffer goes back at once.
 */
final class Prims {
    private Prims() {
    }

    /** A new tensor with an uninitialised buffer. */
    static Tensor empty(Device device, DType dtype, Shape shape) {
        return Tensor.create(new Storage(device, device.allocate(dtype, shape.size())), shape);
    }

    /** The one device of {@code inputs}, or a {@link DeviceException} naming both devices. */
    static Device deviceOf(String op, Tensor... inputs) {
        Device d = inputs[0].device();
        for (Tensor t : inputs) {
            t.checkOpen(op);
            if (t.device() != d) {
                throw new DeviceException(op + ": tensors on different devices, " + d + " and "
                        + t.device() + "; move one with tensor.to(device)");
            }
        }
        return d;
    }

    /**
     * Checks again, under the device's lock, that the inputs are open: a tensor closed by another
     * thread after {@link #deviceOf} must not have its buffer (by then released, perhaps reused)
     * read. Closing releases the buffer under the same lock, so after this check it stays until
     * the primitive is issued.
     */
    static void stillOpen(String op, Tensor... inputs) {
        for (Tensor t : inputs) {
            t.checkOpen(op);
        }
    }

    static void requireSameDType(String op, Tensor a, Tensor b) {
        if (a.dtype() != b.dtype()) {
            throw new DTypeException(op + ": dtypes " + a.dtype() + " and " + b.dtype()
                    + " differ; cast one with cast()");
        }
    }

    static void requireFloating(String op, Tensor x) {
        if (!x.dtype().isFloating()) {
            throw new DTypeException(op + ": expected float32 or float64, got " + x.dtype());
        }
    }

    static void requireFloatingDType(String op, DType dtype) {
        if (!dtype.isFloating()) {
            throw new DTypeException(op + ": expected float32 or float64, got " + dtype);
        }
    }

    static void requireNumeric(String op, Tensor x) {
        if (!x.dtype().isNumeric()) {
            throw new DTypeException(op + ": expected a numeric dtype, got " + x.dtype());
        }
    }

    static Tensor fill(Device device, DType dtype, Shape shape, Number value) {
        Tensor t = empty(device, dtype, shape);
        try {
            synchronized (device) {
                device.checkOpen();
                device.backend().fill(t.storage.buffer, value);
            }
        } catch (RuntimeException | Error e) {
            t.close();
            throw e;
        }
        return t;
    }

    static Tensor unary(UnaryOp op, Tensor x) {
        Device d = deviceOf(op.name().toLowerCase(java.util.Locale.ROOT), x);
        Tensor out = empty(d, x.dtype(), x.shape());
        try {
            synchronized (d) {
                d.checkOpen();
                stillOpen(op.name().toLowerCase(java.util.Locale.ROOT), x);
                d.backend().unary(op, x.spiView(), out.storage.buffer);

            }
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
        return out;
    }

    static Tensor binary(String name, BinaryOp op, Tensor a, Tensor b) {
        Device d = deviceOf(name, a, b);
        requireSameDType(name, a, b);
        Shape shape = Shape.broadcast(name, a.shape(), b.shape());
        Tensor out = empty(d, op.isComparison() ? DType.BOOL : a.dtype(), shape);
        try {
            synchronized (d) {
                d.checkOpen();
                stillOpen(name, a, b);
                d.backend().binary(op, broadcastView(a, shape), broadcastView(b, shape), out.storage.buffer);
            }
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
        return out;
    }

    static Tensor select(Tensor cond, Tensor a, Tensor b) {
        Device d = deviceOf("where", cond, a, b);
        if (cond.dtype() != DType.BOOL) {
            throw new DTypeException("where: condition must be bool, got " + cond.dtype());
        }
        requireSameDType("where", a, b);
        Shape shape = Shape.broadcast("where", Shape.broadcast("where", cond.shape(), a.shape()), b.shape());
        Tensor out = empty(d, a.dtype(), shape);
        try {
            synchronized (d) {
                d.checkOpen();
                stillOpen("where", cond, a, b);
                d.backend().select(broadcastView(cond, shape), broadcastView(a, shape),
                        broadcastView(b, shape), out.storage.buffer);
            }
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
        return out;
    }

    /**
     * Reduces {@code axes} (normalised, ascending, distinct) away: the result has the kept
     * dimensions only. The reduced axes are moved last by permuting strides, without a copy.
     */
    static Tensor reduce(ReduceOp op, Tensor x, int[] axes) {
        Device d = deviceOf(op.name().toLowerCase(java.util.Locale.ROOT), x);
        int rank = x.rank();
        boolean[] reduced = new boolean[rank];
        for (int a : axes) {
            reduced[a] = true;
        }
        int[] perm = new int[rank];
        int k = 0;
        for (int i = 0; i < rank; i++) {
            if (!reduced[i]) {
                perm[k++] = i;
            }
        }
        int kept = k;
        for (int i = 0; i < rank; i++) {
            if (reduced[i]) {
                perm[k++] = i;
            }
        }
        View v = x.spiView();
        int[] shape = new int[rank];
        long[] strides = new long[rank];
        for (int i = 0; i < rank; i++) {
            shape[i] = v.shape()[perm[i]];
            strides[i] = v.strides()[perm[i]];
        }
        Shape outShape = Shape.of(java.util.Arrays.copyOf(shape, kept));
        Tensor out = empty(d, op.isArg() ? DType.INT64 : x.dtype(), outShape);
        try {
            synchronized (d) {
                d.checkOpen();
                stillOpen(op.name().toLowerCase(java.util.Locale.ROOT), x);
                d.backend().reduce(op, new View(v.buffer(), shape, strides, v.offset()), rank - kept,
                        out.storage.buffer);
            }
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** Batched matmul of operands already broadcast to {@code [batch..., M, K]} / {@code [batch..., K, N]}. */
    static Tensor matmul(View a, View b, Device d, DType dtype, Shape outShape, Tensor... inputs) {
        Tensor out = empty(d, dtype, outShape);
        try {
            synchronized (d) {
                d.checkOpen();
                stillOpen("matmul", inputs);
                d.backend().matmul(a, b, out.storage.buffer);
            }
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** A contiguous copy of {@code x} converted to {@code dtype}. */
    static Tensor copy(Tensor x, DType dtype) {
        Device d = deviceOf("copy", x);
        Tensor out = empty(d, dtype, x.shape());
        try {
            copyInto(x.spiView(), out.spiView(), d, x);
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** Writes {@code src} into the (possibly strided) view {@code dst} of a fresh tensor. */
    static void copyInto(View src, View dst, Device d, Tensor source) {
        synchronized (d) {
            d.checkOpen();
            stillOpen("copy", source);
            d.backend().copy(src, dst);
        }
    }

    static Tensor gather(Tensor params3, Tensor indices1, Shape outShape) {
        Device d = deviceOf("gather", params3, indices1);
        Tensor out = empty(d, params3.dtype(), outShape);
        try {
            synchronized (d) {
                d.checkOpen();
                stillOpen("gather", params3, indices1);
                d.backend().gather(params3.spiView(), indices1.spiView(), out.storage.buffer);
            }
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
        return out;
    }

    static Tensor scatterAdd(Tensor updates3, Tensor indices1, Shape outShape) {
        Device d = deviceOf("scatterAdd", updates3, indices1);
        Tensor out = empty(d, updates3.dtype(), outShape);
        try {
            synchronized (d) {
                d.checkOpen();
                stillOpen("scatterAdd", updates3, indices1);
                d.backend().scatterAdd(updates3.spiView(), indices1.spiView(), out.storage.buffer);
            }
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
        return out;
    }

    static Tensor randomUniform(Device d, DType dtype, Shape shape, long seed) {
        Tensor out = empty(d, dtype, shape);
        try {
            synchronized (d) {
                d.checkOpen();
                d.backend().randomUniform(out.storage.buffer, seed);
            }
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** {@code t} seen with shape {@code to} (right-aligned; size-1 and missing dims get stride 0). */
    static View broadcastView(Tensor t, Shape to) {
        View v = t.spiView();
        if (t.shape().equals(to)) {
            return v;
        }
        int rank = to.rank();
        int off = rank - t.rank();
        int[] shape = to.toArray();
        long[] strides = new long[rank];
        for (int i = off; i < rank; i++) {
            int dim = v.shape()[i - off];
            strides[i] = dim == 1 && shape[i] != 1 ? 0 : v.strides()[i - off];
        }
        return new View(v.buffer(), shape, strides, v.offset());
    }
}
