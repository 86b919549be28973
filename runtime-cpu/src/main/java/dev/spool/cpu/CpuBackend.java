package dev.spool.cpu;

import dev.spool.BackendException;
import dev.spool.DeviceOutOfMemoryException;
import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.spi.Backend;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.Conv2dGeometry;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.DeviceInfo;
import dev.spool.spi.FusedElementwise;
import dev.spool.spi.Philox;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pure-Java device: buffers are Java arrays, primitives run synchronously on the calling
 * thread, large ones split across a fork/join pool. This class checks arguments and dispatches;
 * the loops live in {@link Elementwise}, {@link Reduction}, {@link Matmul} and
 * {@link Indexing}, written once for all dtypes over two compute {@link Lane}s.
 */
public final class CpuBackend implements Backend {
    /** The longest Java array the JVM reliably allocates. */
    static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private static final Logger LOG = LoggerFactory.getLogger(CpuBackend.class);

    private final DeviceInfo info;
    private final Parallel par;
    /** Released large arrays for reuse: saves the JVM's zeroing pass on every big op. */
    private final ArrayPool pool = ArrayPool.fromProperties();
    private final AtomicLong liveBytes = new AtomicLong();
    private volatile boolean closed;

    /** A backend using every available processor. */
    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** A backend with {@code threads} worker threads (1: everything on the calling thread). */
    public CpuBackend(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("cpu: threads must be >= 1, got " + threads);
        }
        this.par = new Parallel(threads);
        this.info = new DeviceInfo("cpu", 0,
                "Java " + Runtime.version() + " (" + threads + (threads == 1 ? " thread)" : " threads)"),
                System.getProperty("java.vendor", "unknown"), DeviceInfo.DeviceType.CPU,
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory(),
                (long) MAX_ELEMENTS * DType.FLOAT32.byteSize(), true);
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    /** Bytes held by buffers allocated and not yet released. */
    public long liveBytes() {
        return liveBytes.get();
    }

    // ---- memory --------------------------------------------------------------------------

    @Override
    public DeviceBuffer allocate(DType dtype, long size) {
        checkOpen();
        if (size < 0) {
            throw new IllegalArgumentException("cpu: negative buffer size " + size);
        }
        if (size > MAX_ELEMENTS) {
            throw new BackendException("cpu: cannot allocate " + size + " " + dtype
                    + " elements: a Java array holds at most " + MAX_ELEMENTS
                    + "; use a device with larger buffers or split the tensor");
        }
        CpuBuffer b;
        try {
            Object recycled = pool.take(dtype, (int) size);
            b = recycled != null ? new CpuBuffer(dtype, (int) size, recycled) : new CpuBuffer(dtype, (int) size);
        } catch (OutOfMemoryError e) {
            // Core reclaims (unreachable tensors hold their arrays until their cleanup runs) and retries.
            throw new DeviceOutOfMemoryException("cpu: out of Java heap allocating " + size + " " + dtype
                    + " elements (" + size * dtype.byteSize() + " bytes); raise -Xmx", size * dtype.byteSize(), e);
        }
        liveBytes.addAndGet(b.byteSize());
        return b;
    }

    @Override
    public void release(DeviceBuffer buffer) {
        CpuBuffer b = CpuBuffer.of(buffer);
        Object array = b.release();
        if (array != null) {
            liveBytes.addAndGet(-b.byteSize());
            pool.give(b.dtype(), array, (int) b.size());
        }
    }

    @Override
    public void write(DeviceBuffer dst, Object hostArray) {
        checkOpen();
        CpuBuffer b = CpuBuffer.of(dst);
        requireHostArray(b.dtype(), hostArray, b.size());
        System.arraycopy(hostArray, 0, b.data(), 0, (int) b.size());
    }

    @Override
    public void read(View src, Object hostArray) {
        checkOpen();
        requireHostArray(src.dtype(), hostArray, src.size());
        Object data = CpuBuffer.data(src);
        if (src.isContiguous()) {
            System.arraycopy(data, (int) src.offset(), hostArray, 0, (int) src.size());
        } else {
            Elementwise.copy(par, src.shape(), data, src.offset(), src.strides(),
                    hostArray, 0, View.rowMajorStrides(src.shape()));
        }
    }

    private static void requireHostArray(DType dtype, Object hostArray, long size) {
        if (hostArray == null || hostArray.getClass() != dtype.hostArrayType()) {
            throw new IllegalArgumentException("cpu: a " + dtype + " buffer needs a "
                    + dtype.hostArrayType().getSimpleName() + ", got "
                    + (hostArray == null ? "null" : hostArray.getClass().getSimpleName()));
        }
        int length = java.lang.reflect.Array.getLength(hostArray);
        if (length != size) {
            throw new IllegalArgumentException("cpu: host array has " + length
                    + " elements, the buffer or view " + size);
        }
    }

    @Override
    public void fill(DeviceBuffer dst, Number value) {
        checkOpen();
        Object data = CpuBuffer.of(dst).data();
        boolean fp = value instanceof Double || value instanceof Float;
        switch (dst.dtype()) {
            case FLOAT32 -> Arrays.fill((float[]) data, value.floatValue());
            case FLOAT64 -> Arrays.fill((double[]) data, value.doubleValue());
            // A floating value truncates toward zero, as copy does.
            case INT32 -> Arrays.fill((int[]) data, fp ? (int) value.doubleValue() : value.intValue());
            case INT64 -> Arrays.fill((long[]) data, fp ? (long) value.doubleValue() : value.longValue());
            case BOOL -> Arrays.fill((byte[]) data,
                    (fp ? value.doubleValue() != 0 : value.longValue() != 0) ? (byte) 1 : 0);
        }
    }

    @Override
    public void copy(View src, View dst) {
        checkOpen();
        requireSameShape("copy", src, dst);
        Elementwise.copy(par, dst.shape(), CpuBuffer.data(src), src.offset(), src.strides(),
                CpuBuffer.data(dst), dst.offset(), dst.strides());
    }

    // ---- elementwise ---------------------------------------------------------------------

    @Override
    public void unary(UnaryOp op, View x, DeviceBuffer out) {
        DType t = x.dtype();
        requireAccepts(op, t);
        Elementwise.unary(par, op, x, output(op.name(), out, t, x.size()));
    }

    private static void requireAccepts(UnaryOp op, DType t) {
        boolean ok = switch (op) {
            case NOT -> t == DType.BOOL;
            case NEG, ABS, SIGN, RELU -> t.isNumeric();
            default -> t.isFloating();
        };
        if (!ok) {
            throw new DTypeException("cpu: " + op + " does not accept " + t);
        }
    }

    @Override
    public void binary(BinaryOp op, View a, View b, DeviceBuffer out) {
        DType t = a.dtype();
        if (b.dtype() != t) {
            throw new DTypeException("cpu: " + op + " of " + t + " and " + b.dtype());
        }
        boolean equality = op == BinaryOp.EQUAL || op == BinaryOp.NOT_EQUAL;
        boolean floatOnly = op == BinaryOp.ERF_GRAD || op == BinaryOp.GELU_GRAD || op == BinaryOp.GELU_TANH_GRAD;
        if ((!t.isNumeric() && !equality) || (floatOnly && !t.isFloating())) {
            throw new DTypeException("cpu: " + op + " does not accept " + t);
        }
        requireSameShape(op.name(), a, b);
        CpuBuffer o = output(op.name(), out, op.isComparison() ? DType.BOOL : t, a.size());
        Elementwise.binary(par, op, a, b, o);
    }

    @Override
    public void select(View cond, View a, View b, DeviceBuffer out) {
        if (cond.dtype() != DType.BOOL) {
            throw new DTypeException("cpu: select needs a bool condition, got " + cond.dtype());
        }
        if (a.dtype() != b.dtype()) {
            throw new DTypeException("cpu: select of " + a.dtype() + " and " + b.dtype());
        }
        requireSameShape("select", cond, a);
        requireSameShape("select", a, b);
        Elementwise.select(par, cond, a, b, output("select", out, a.dtype(), a.size()));
    }

    // ---- reductions ----------------------------------------------------------------------

    @Override
    public void reduce(ReduceOp op, View x, int reducedDims, DeviceBuffer out) {
        if (!x.dtype().isNumeric()) {
            throw new DTypeException("cpu: " + op + " does not accept " + x.dtype());
        }
        if (reducedDims < 0 || reducedDims > x.rank()) {
            throw new IllegalArgumentException("cpu: cannot reduce " + reducedDims
                    + " dimensions of " + x);
        }
        long outer = 1;
        for (int d = 0; d < x.rank() - reducedDims; d++) {
            outer *= x.shape()[d];
        }
        CpuBuffer o = output(op.name(), out, op.isArg() ? DType.INT64 : x.dtype(), outer);
        Reduction.run(par, op, x, reducedDims, o);
    }

    // ---- linear algebra ------------------------------------------------------------------

    @Override
    public void matmul(View a, View b, DeviceBuffer out) {
        if (!a.dtype().isFloating() || b.dtype() != a.dtype()) {
            throw new DTypeException("cpu: matmul needs float32 or float64 operands of one dtype, got "
                    + a.dtype() + " and " + b.dtype());
        }
        int r = a.rank();
        if (r < 2 || b.rank() != r
                || !Arrays.equals(a.shape(), 0, r - 2, b.shape(), 0, r - 2)
                || a.shape()[r - 1] != b.shape()[r - 2]) {
            throw new IllegalArgumentException("cpu: matmul of " + a + " and " + b);
        }
        long size = b.shape()[r - 1];
        for (int d = 0; d < r - 1; d++) {
            size *= a.shape()[d];
        }
        Matmul.run(par, a, b, output("matmul", out, a.dtype(), size));
    }

    // ---- indexing ------------------------------------------------------------------------

    @Override
    public void gather(View params, View indices, DeviceBuffer out) {
        requireIndices("gather", indices);
        if (params.rank() != 3) {
            throw new IllegalArgumentException("cpu: gather needs rank-3 params, got " + params);
        }
        long size = (long) params.shape()[0] * indices.shape()[0] * params.shape()[2];
        Indexing.gather(par, params, indices, output("gather", out, params.dtype(), size));
    }

    @Override
    public void scatterAdd(View updates, View indices, DeviceBuffer out) {
        requireIndices("scatterAdd", indices);
        if (!updates.dtype().isNumeric()) {
            throw new DTypeException("cpu: scatterAdd does not accept " + updates.dtype());
        }
        if (updates.rank() != 3 || updates.shape()[1] != indices.shape()[0]) {
            throw new IllegalArgumentException("cpu: scatterAdd of " + updates + " at " + indices);
        }
        CpuBuffer o = output("scatterAdd", out, updates.dtype(), out.size());
        long rows = (long) updates.shape()[0] * updates.shape()[2];
        if (rows != 0 && o.size() % rows != 0) {
            throw new IllegalArgumentException("cpu: scatterAdd output of " + o.size()
                    + " elements is not [outer=" + updates.shape()[0] + ", axis, inner="
                    + updates.shape()[2] + "]");
        }
        Indexing.scatterAdd(par, updates, indices, o);
    }

    private static void requireIndices(String op, View indices) {
        if (indices.dtype() != DType.INT32 && indices.dtype() != DType.INT64) {
            throw new DTypeException("cpu: " + op + " indices must be int32 or int64, got "
                    + indices.dtype());
        }
        if (indices.rank() != 1) {
            throw new IllegalArgumentException("cpu: " + op + " indices must be rank 1, got " + indices);
        }
    }

    // ---- fused softmax (Softmax) ---------------------------------------------------------------

    @Override
    public void softmax(View x, DeviceBuffer out, boolean log) {
        requireSoftmaxInput("softmax", x);
        Softmax.softmax(par, x, output("softmax", out, x.dtype(), x.size()), log);
    }

    @Override
    public void softmaxGrad(View y, View g, DeviceBuffer out, boolean log) {
        requireSoftmaxInput("softmaxGrad", y);
        requireSameShape("softmaxGrad", y, g);
        requireSameDType("softmaxGrad", y, g);
        Softmax.softmaxGrad(par, y, g, output("softmaxGrad", out, y.dtype(), y.size()), log);
    }

    @Override
    public void softmaxCrossEntropy(View labels, View logits, DeviceBuffer loss, DeviceBuffer logSoftmax) {
        requireSoftmaxInput("softmaxCrossEntropy", logits);
        requireSameShape("softmaxCrossEntropy", labels, logits);
        requireSameDType("softmaxCrossEntropy", labels, logits);
        long rows = 1;
        for (int d = 0; d < logits.rank() - 1; d++) {
            rows *= logits.shape()[d];
        }
        Softmax.crossEntropy(par, labels, logits, output("softmaxCrossEntropy", loss, logits.dtype(), rows),
                output("softmaxCrossEntropy", logSoftmax, logits.dtype(), logits.size()));
    }

    @Override
    public void softmaxCrossEntropyGrad(View g, View logSoftmax, View labels, DeviceBuffer out) {
        requireSoftmaxInput("softmaxCrossEntropyGrad", logSoftmax);
        requireSameShape("softmaxCrossEntropyGrad", labels, logSoftmax);
        requireSameDType("softmaxCrossEntropyGrad", labels, logSoftmax);
        requireSameDType("softmaxCrossEntropyGrad", g, logSoftmax);
        if (g.rank() != logSoftmax.rank() - 1
                || !Arrays.equals(g.shape(), Arrays.copyOf(logSoftmax.shape(), g.rank()))) {
            throw new IllegalArgumentException("cpu: softmaxCrossEntropyGrad: gradient " + g
                    + " must have the leading dims of " + logSoftmax);
        }
        Softmax.crossEntropyGrad(par, g, logSoftmax, labels,
                output("softmaxCrossEntropyGrad", out, logSoftmax.dtype(), logSoftmax.size()));
    }

    private void requireSoftmaxInput(String op, View x) {
        checkOpen();
        if (!x.dtype().isFloating()) {
            throw new DTypeException("cpu: " + op + " does not accept " + x.dtype());
        }
        if (x.rank() == 0) {
            throw new IllegalArgumentException("cpu: " + op + " needs a view of rank >= 1, got " + x);
        }
    }

    private static void requireSameDType(String op, View a, View b) {
        if (a.dtype() != b.dtype()) {
            throw new DTypeException("cpu: " + op + " operands differ in dtype: " + a.dtype() + " and " + b.dtype());
        }
    }

    // ---- fused attention (Attention, SimdAttention) -------------------------------------------------

    @Override
    public void attention(View q, View k, View v, View mask, boolean causal, double scale, DeviceBuffer out,
                          DeviceBuffer lse) {
        requireAttention("attention", q, k, v, mask);
        int[] s = q.shape();
        Attention.forward(par, q, k, v, mask, causal, scale,
                output("attention", out, q.dtype(), (long) s[0] * s[1] * s[2] * v.shape()[3]),
                output("attention", lse, q.dtype(), (long) s[0] * s[1] * s[2]));
    }

    @Override
    public void attentionGrad(View q, View k, View v, View mask, boolean causal, double scale, View out, View dOut,
                              View lse, DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv) {
        requireAttention("attentionGrad", q, k, v, mask);
        int[] os = {q.shape()[0], q.shape()[1], q.shape()[2], v.shape()[3]};
        if (!Arrays.equals(out.shape(), os) || !Arrays.equals(dOut.shape(), os)
                || !Arrays.equals(lse.shape(), Arrays.copyOf(os, 3))) {
            throw new IllegalArgumentException("cpu: attentionGrad: out " + out + ", dOut " + dOut + " and lse "
                    + lse + " must be " + Arrays.toString(os) + " and its first three dims");
        }
        requireSameDType("attentionGrad", q, out);
        requireSameDType("attentionGrad", q, dOut);
        requireSameDType("attentionGrad", q, lse);
        Attention.backward(par, q, k, v, mask, causal, scale, out, dOut, lse,
                output("attentionGrad", dq, q.dtype(), q.size()), output("attentionGrad", dk, q.dtype(), k.size()),
                output("attentionGrad", dv, q.dtype(), v.size()));
    }

    private void requireAttention(String op, View q, View k, View v, View mask) {
        checkOpen();
        if (!q.dtype().isFloating()) {
            throw new DTypeException("cpu: " + op + " does not accept " + q.dtype());
        }
        requireSameDType(op, q, k);
        requireSameDType(op, q, v);
        int[] qs = q.shape();
        int[] ks = k.shape();
        int[] vs = v.shape();
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4 || qs[0] != ks[0] || qs[1] != ks[1] || qs[0] != vs[0]
                || qs[1] != vs[1] || qs[3] != ks[3] || ks[2] != vs[2] || q.size() == 0 || k.size() == 0
                || v.size() == 0) {
            throw new IllegalArgumentException("cpu: " + op + " needs non-empty q [B, H, Tq, d], k [B, H, Tk, d] and"
                    + " v [B, H, Tk, dv], got " + q + ", " + k + ", " + v);
        }
        if (mask != null && (mask.dtype() != DType.BOOL
                || !Arrays.equals(mask.shape(), new int[] {qs[0], qs[1], qs[2], ks[2]}))) {
            throw new IllegalArgumentException("cpu: " + op + " needs a bool mask [B, H, Tq, Tk], got " + mask);
        }
    }

    // ---- convolution and pooling -------------------------------------------------------------

    @Override
    public void conv2d(View x, View filter, Conv2dGeometry g, DeviceBuffer out) {
        requireConvOperands("conv2d", g, x, g.inputSize(), filter, g.filterSize());
        Convolution.conv2d(par, x, filter, g, output("conv2d", out, x.dtype(), g.outputSize()));
    }

    @Override
    public void conv2dBackpropInput(View dy, View filter, Conv2dGeometry g, DeviceBuffer dx) {
        requireConvOperands("conv2dBackpropInput", g, dy, g.outputSize(), filter, g.filterSize());
        Convolution.backpropInput(par, dy, filter, g, output("conv2dBackpropInput", dx, dy.dtype(), g.inputSize()));
    }

    @Override
    public void conv2dBackpropFilter(View x, View dy, Conv2dGeometry g, DeviceBuffer dfilter) {
        requireConvOperands("conv2dBackpropFilter", g, x, g.inputSize(), dy, g.outputSize());
        Convolution.backpropFilter(par, x, dy, g,
                output("conv2dBackpropFilter", dfilter, x.dtype(), g.filterSize()));
    }

    @Override
    public void avgPool2d(View x, Conv2dGeometry g, DeviceBuffer out) {
        requireConvOperands("avgPool2d", g, x, g.inputSize(), x, g.inputSize());
        Convolution.avgPool(par, x, g, output("avgPool2d", out, x.dtype(), g.outputSize()));
    }

    @Override
    public void avgPool2dGrad(View dy, Conv2dGeometry g, DeviceBuffer dx) {
        requireConvOperands("avgPool2dGrad", g, dy, g.outputSize(), dy, g.outputSize());
        Convolution.avgPoolGrad(par, dy, g, output("avgPool2dGrad", dx, dy.dtype(), g.inputSize()));
    }

    @Override
    public void maxPool2d(View x, View values, Conv2dGeometry g, DeviceBuffer out) {
        requireConvOperands("maxPool2d", g, x, g.inputSize(), values, g.inputSize());
        Convolution.maxPool(par, x, values, g, output("maxPool2d", out, x.dtype(), g.outputSize()));
    }

    @Override
    public void maxPool2dGrad(View x, View dy, Conv2dGeometry g, DeviceBuffer dx) {
        requireConvOperands("maxPool2dGrad", g, x, g.inputSize(), dy, g.outputSize());
        Convolution.maxPoolGrad(par, x, dy, g, output("maxPool2dGrad", dx, x.dtype(), g.inputSize()));
    }

    // ---- batch normalization (training) ---------------------------------------------------------

    @Override
    public void batchNormTraining(View x, View scale, View offset, double epsilon, DeviceBuffer y, DeviceBuffer mean,
                                  DeviceBuffer variance) {
        long c = requireBatchNorm("batchNormTraining", x, scale, offset);
        BatchNorm.forward(par, x, scale, offset, epsilon, output("batchNormTraining", y, x.dtype(), x.size()),
                output("batchNormTraining", mean, x.dtype(), c), output("batchNormTraining", variance, x.dtype(), c));
    }

    @Override
    public void batchNormTrainingGrad(View dy, View x, View scale, View mean, View variance, double epsilon,
                                      DeviceBuffer dx, DeviceBuffer dscale, DeviceBuffer doffset) {
        long c = requireBatchNorm("batchNormTrainingGrad", x, scale, mean, variance);
        requireBatchNorm("batchNormTrainingGrad", dy, scale);
        BatchNorm.backward(par, dy, x, scale, mean, variance, epsilon,
                output("batchNormTrainingGrad", dx, x.dtype(), x.size()),
                output("batchNormTrainingGrad", dscale, x.dtype(), c),
                output("batchNormTrainingGrad", doffset, x.dtype(), c));
    }

    /** x contiguous [rows >= 1, C] and contiguous per-channel vectors of C, all of one float dtype; returns C. */
    private long requireBatchNorm(String op, View x, View... perChannel) {
        long c = perChannel[0].size();
        for (View v : perChannel) {
            if (v.dtype() != x.dtype() || !v.isContiguous() || v.size() != c) {
                throw new IllegalArgumentException("cpu: " + op + " needs contiguous per-channel operands of " + c
                        + " " + x.dtype() + ", got " + v);
            }
        }
        if (!x.dtype().isFloating() || !x.isContiguous() || c == 0 || x.size() == 0 || x.size() % c != 0) {
            throw new IllegalArgumentException("cpu: " + op + " needs a contiguous float x of rows x " + c + ", got " + x);
        }
        return c;
    }

    /** Float operands of one dtype, contiguous, of the sizes the geometry gives. */
    private void requireConvOperands(String op, Conv2dGeometry g, View a, long aSize, View b, long bSize) {
        if (!a.dtype().isFloating() || b.dtype() != a.dtype()) {
            throw new DTypeException("cpu: " + op + " needs float32 or float64 operands of one dtype, got "
                    + a.dtype() + " and " + b.dtype());
        }
        if (!a.isContiguous() || !b.isContiguous() || a.size() != aSize || b.size() != bSize) {
            throw new IllegalArgumentException("cpu: " + op + " needs contiguous operands of " + aSize + " and "
                    + bSize + " elements for " + g + ", got " + a + " and " + b);
        }
    }

    // ---- random --------------------------------------------------------------------------

    @Override
    public void randomUniform(DeviceBuffer out, long seed) {
        checkOpen();
        CpuBuffer o = CpuBuffer.of(out);
        Object data = o.data();
        if (data instanceof float[] f) {
            par.forRange(f.length, Parallel.GRAIN / 8, (lo, hi) -> {
                for (long i = lo; i < hi; i++) {
                    f[(int) i] = Philox.uniformFloat(seed, i);
                }
            });
        } else if (data instanceof double[] d) {
            par.forRange(d.length, Parallel.GRAIN / 8, (lo, hi) -> {
                for (long i = lo; i < hi; i++) {
                    d[(int) i] = Philox.uniformDouble(seed, i);
                }
            });
        } else {
            throw new DTypeException("cpu: randomUniform needs float32 or float64, got " + o.dtype());
        }
    }

    // ---- fused elementwise (bias-add + activation) ----------------------------------------

    /** The binary op, then the epilogue in place over the output: the same loops (and bits) as
     *  the two primitives, with no intermediate buffer; a bias over the last axis in one pass
     *  (SimdElementwise#repeatedRows). */
    @Override
    public void binaryUnary(BinaryOp op, UnaryOp epilogue, View a, View b, DeviceBuffer out) {
        if (op.isComparison()) {
            throw new IllegalArgumentException("cpu: binaryUnary needs an arithmetic op, got " + op);
        }
        if (!EPILOGUES.contains(epilogue)) {
            throw new IllegalArgumentException("cpu: binaryUnary: " + epilogue + " is not one of " + EPILOGUES);
        }
        requireAccepts(epilogue, a.dtype());
        if (VectorSupport.ENABLED && a.dtype().isFloating() && b.dtype() == a.dtype()) {
            requireSameShape(op.name(), a, b);
            // a bias over the last axis: one pass, the epilogue while each block is in cache
            if (SimdElementwise.repeatedRows(par, op, epilogue, a, b, output(op.name(), out, a.dtype(), a.size()))) {
                return;
            }
        }
        binary(op, a, b, out);
        View y = View.contiguous(out, a.shape());
        unary(epilogue, y, out);
    }

    @Override
    public void fusedElementwise(FusedElementwise program, View[] inputs, DeviceBuffer out) {
        long n = inputs[0].size();
        CpuBuffer o = output("fusedElementwise", out, program.dtype(), n);
        for (View v : inputs) {
            if (v.dtype() != program.dtype() || !java.util.Arrays.equals(v.shape(), inputs[0].shape())) {
                throw new IllegalArgumentException("cpu: fusedElementwise inputs must be " + program.dtype()
                        + " views of one shape, got " + v);
            }
        }
        if (SimdFused.handles(program)) {
            SimdFused.run(par, program, inputs, o);
        } else {
            Backend.super.fusedElementwise(program, inputs, out); // each step as its primitive
        }
    }

    // ---- training updates ----------------------------------------------------------------

    @Override
    public void applyGradientDescent(View var, View grad, double lr, DeviceBuffer varOut) {
        String op = "applyGradientDescent";
        requireUpdate(op, var, grad);
        TrainingUpdates.gradientDescent(par, var, grad, lr, output(op, varOut, var.dtype(), var.size()));
    }

    @Override
    public void applyMomentum(View var, View accum, View grad, double lr, double momentum, boolean nesterov,
                              boolean keras, DeviceBuffer varOut, DeviceBuffer accumOut) {
        String op = "applyMomentum";
        requireUpdate(op, var, accum, grad);
        TrainingUpdates.momentum(par, var, accum, grad, lr, momentum, nesterov, keras,
                output(op, varOut, var.dtype(), var.size()), output(op, accumOut, var.dtype(), var.size()));
    }

    @Override
    public void applyAdam(View var, View m, View v, View grad, double alpha, double beta1, double beta2,
                          double epsilon, DeviceBuffer varOut, DeviceBuffer mOut, DeviceBuffer vOut) {
        String op = "applyAdam";
        requireUpdate(op, var, m, v, grad);
        long n = var.size();
        TrainingUpdates.adam(par, var, m, v, grad, alpha, beta1, beta2, epsilon, output(op, varOut, var.dtype(), n),
                output(op, mOut, var.dtype(), n), output(op, vOut, var.dtype(), n));
    }

    /** Float operands of one dtype and shape, dense (the SPI's contract for updates). */
    private static void requireUpdate(String op, View... views) {
        DType t = views[0].dtype();
        if (!t.isFloating()) {
            throw new DTypeException("cpu: " + op + " needs float32 or float64, got " + t);
        }
        for (View v : views) {
            if (v.dtype() != t) {
                throw new DTypeException("cpu: " + op + " of " + t + " and " + v.dtype());
            }
            requireSameShape(op, views[0], v);
            if (!v.isContiguous()) {
                throw new IllegalArgumentException("cpu: " + op + " needs contiguous operands, got " + v);
            }
        }
    }

    // ---- lifecycle -----------------------------------------------------------------------

    @Override
    public void synchronize() {
        // Every primitive has finished when it returns.
    }

    @Override
    public long releaseCachedMemory() {
        return pool.clear();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            par.shutdown();
            LOG.debug("cpu backend closed; {} bytes were still allocated", liveBytes.get());
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("cpu: backend is closed");
        }
    }

    // ---- argument checks -----------------------------------------------------------------

    private CpuBuffer output(String op, DeviceBuffer out, DType dtype, long size) {
        checkOpen();
        CpuBuffer o = CpuBuffer.of(out);
        if (o.dtype() != dtype || o.size() != size) {
            throw new IllegalArgumentException("cpu: " + op + " needs an output of " + size + " "
                    + dtype + ", got " + o);
        }
        return o;
    }

    private static void requireSameShape(String op, View a, View b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException("cpu: " + op + " operands differ in shape: "
                    + a + " and " + b);
        }
    }
}
