package dev.spool.opencl;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.spi.View;

/** What the kernel families share: the device, its programs and its memory. */
final class Kernels {
    final OpenClDevice device;
    final ProgramCache programs;
    final BufferPool pool;
    private final Tuning tuning;
    /** The tuning's build options: a program built for another tuning is another program. */
    private final String tuningOptions;

    Kernels(OpenClDevice device, ProgramCache programs, BufferPool pool, Tuning tuning) {
        this.device = device;
        this.programs = programs;
        this.pool = pool;
        this.tuning = tuning;
        this.tuningOptions = tuning.buildOptions();
    }

    Tuning tuning() {
        return tuning;
    }

    /**
     * A launch of kernel {@code name} from {@code source} built with {@code options}. Looks the
     * kernel up by its strings: hot paths keep the {@link KernelCall} and call {@link
     * KernelCall#begin()} on it instead.
     */
    KernelCall call(String source, String options, String name) {
        return programs.kernel(source, withTuning(options, tuningOptions), name).begin();
    }

    /** A program's options with the tuning's appended, as every kernel family builds it. */
    static String withTuning(String options, String tuningOptions) {
        return tuningOptions.isEmpty() ? options : options.isEmpty() ? tuningOptions : options + " " + tuningOptions;
    }

    /** Scratch memory for {@code count} elements of {@code dtype}; give it back with {@link #free}. */
    BufferPool.Block scratch(DType dtype, long count) {
        return pool.acquire(count * dtype.byteSize(), "scratch", dtype, count);
    }

    /** Returns scratch memory; later work may reuse it, which the in-order queue keeps safe. */
    void free(BufferPool.Block block) {
        pool.release(block);
    }

    /** {@link DTypeException} unless {@code ok}, naming the primitive, the dtype and the device. */
    void requireDType(boolean ok, String primitive, DType dtype, String accepted) {
        if (!ok) {
            throw new DTypeException(primitive + " on " + device.describe() + " does not accept " + dtype
                    + " (accepts " + accepted + ")");
        }
    }

    /** {@link DTypeException} unless two dtypes that must agree do. */
    void requireSame(String primitive, String what, DType expected, DType actual) {
        if (expected != actual) {
            throw new DTypeException(primitive + ": " + what + " is " + actual + ", expected " + expected);
        }
    }

    /** {@link #requireOutput(String, OpenClBuffer, DType, long)} for primitive {@code primitive op}
     *  ({@code op} may be null), whose name is built only for the message. */
    static void requireOutput(String primitive, Object op, OpenClBuffer out, DType dtype, long n) {
        if (out.dtype() != dtype || out.size() < n) {
            requireOutput(op == null ? primitive : primitive + " " + op, out, dtype, n);
        }
    }

    /** Throws unless {@code out} holds at least {@code n} elements of {@code dtype}. */
    static void requireOutput(String primitive, OpenClBuffer out, DType dtype, long n) {
        if (out.dtype() != dtype) {
            throw new DTypeException(primitive + ": output is " + out.dtype() + ", expected " + dtype);
        }
        if (out.size() < n) {
            throw new BackendException(primitive + ": output buffer " + out + " is smaller than the " + n
                    + " elements of the result");
        }
    }

    /**
     * Throws unless every element the view addresses lies inside its buffer: a bad view would
     * read out of bounds, which on a CPU device brings down the whole JVM.
     */
    static void requireInBounds(String primitive, View v) {
        if (v.size() == 0) {
            return;
        }
        long lo = v.offset();
        long hi = v.offset();
        for (int d = 0; d < v.rank(); d++) {
            long span = (v.shape()[d] - 1L) * v.strides()[d];
            if (span < 0) {
                lo += span;
            } else {
                hi += span;
            }
        }
        if (lo < 0 || hi >= v.buffer().size()) {
            throw new BackendException(primitive + ": " + v + " reaches elements [" + lo + ", " + hi
                    + "] outside its buffer of " + v.buffer().size() + " elements");
        }
    }

    /** Throws unless every view has the shape of the first (core broadcasts before calling). */
    static void requireSameShape(String primitive, View a, View b) {
        if (!java.util.Arrays.equals(a.shape(), b.shape())) {
            requireSameShape(primitive, new View[] {a, b});
        }
    }

    static void requireSameShape(String primitive, View... views) {
        for (View v : views) {
            if (!java.util.Arrays.equals(v.shape(), views[0].shape())) {
                throw new BackendException(primitive + ": operand shapes differ, "
                        + java.util.Arrays.toString(views[0].shape()) + " and " + java.util.Arrays.toString(v.shape()));
            }
        }
    }

    static long[] toLongs(int[] a) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }

    static long product(int[] a, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) {
            p *= a[i];
        }
        return p;
    }
}
