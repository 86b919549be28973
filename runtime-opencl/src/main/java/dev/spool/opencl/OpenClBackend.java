package dev.spool.opencl;

import static org.jocl.CL.CL_MEM_COPY_HOST_PTR;
import static org.jocl.CL.CL_MEM_READ_ONLY;
import static org.jocl.CL.CL_TRUE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clEnqueueCopyBuffer;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clEnqueueWriteBuffer;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clReleaseMemObject;

import dev.spool.BackendException;
import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.DeviceOutOfMemoryException;
import dev.spool.spi.Backend;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.Conv2dGeometry;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.DeviceInfo;
import dev.spool.spi.FusedElementwise;
import dev.spool.spi.MemoryPressure;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.cl_mem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenCL backend for one device: one context, one in-order queue. Every primitive is a
 * kernel launch that is enqueued and not waited for; only {@link #read} blocks. OpenCL errors
 * become {@link BackendException}s carrying the symbolic error name.
 */
public final class OpenClBackend implements Backend {
    private static final Logger log = LoggerFactory.getLogger(OpenClBackend.class);
    /** Staging bytes after which a write waits for the queue, so that staging stays bounded. */
    private static final long MAX_STAGED_BYTES = 64L << 20;
    private final OpenClDevice device;
    private final ProgramCache programs;
    private final BufferPool pool;
    private final Kernels kernels;
    private final ElementwiseKernels elementwise;
    private final FusedKernels fused;
    private final CopyKernels copies;
    private final ReductionKernels reductions;
    private final MatmulKernels matmuls;
    private final IndexingKernels indexing;
    private final RandomKernels random;
    private final SoftmaxKernels softmaxes;
    private final AttentionKernels attentions;
    private final ConvKernels convs;
    private final NormKernels norms;
    private final TrainingKernels training;
    /** False for a {@link #withStrategy} view, which shares its parent's device, programs and pool. */
    private final boolean ownsDevice;
    private final boolean memoryCheck = BufferPool.memoryCheck();
    /** Staging buffers of writes the queue may not have run yet. */
    private final List<cl_mem> staged = new ArrayList<>();
    private long stagedBytes;
    private final Set<OpenClBuffer> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean closed;
    /** Core's reclaim, for out-of-memory errors that OpenCL reports at a launch (lazy allocation). */
    private volatile MemoryPressure pressure;

    OpenClBackend(OpenClDevice device) {
        this(device, new ProgramCache(device), new BufferPool(device, BufferPool.capacityFor(device)), device.tuning, true);
    }

    private OpenClBackend(OpenClDevice device, ProgramCache programs, BufferPool pool, Tuning tuning, boolean ownsDevice) {
        KernelCatalog.verify(device.info.fp64());
        this.device = device;
        this.programs = programs;
        this.pool = pool;
        this.ownsDevice = ownsDevice;
        this.kernels = new Kernels(device, programs, pool, tuning);
        this.elementwise = new ElementwiseKernels(kernels);
        this.fused = new FusedKernels(kernels);
        this.copies = new CopyKernels(kernels);
        this.reductions = new ReductionKernels(kernels);
        this.matmuls = new MatmulKernels(kernels, copies, GemmTuner.forDevice(device, tuning));
        this.indexing = new IndexingKernels(kernels);
        this.random = new RandomKernels(kernels);
        this.softmaxes = new SoftmaxKernels(kernels);
        this.attentions = new AttentionKernels(kernels);
        this.convs = new ConvKernels(kernels, copies);
        this.norms = new NormKernels(kernels);
        this.training = new TrainingKernels(kernels);
        log.debug("opened {}: {}, {} strategy, float64 {}", device.describe(), device.version,
                tuning.style(), device.info.fp64() ? "yes" : "no");
    }

    /**
     * This device with the kernels of another strategy (GPU kernels on a CPU device or the other
     * way round), sharing this backend's context, queue, programs and buffer pool: for tests and
     * benchmarks of both code paths. Use it from the same thread as this backend; closing it
     * frees only its own buffers.
     */
    OpenClBackend withStrategy(Tuning.Style style) {
        OpenClBackend view = new OpenClBackend(device, programs, pool, device.tuning(style), false);
        view.pressure = pressure;
        return view;
    }

    @Override
    public DeviceInfo info() {
        return device.info;
    }

    /** The kernel strategy in use (GPU or CPU style). */
    public String strategy() {
        return kernels.tuning().style().name();
    }

    Tuning tuning() {
        return kernels.tuning();
    }

    // ---- memory --------------------------------------------------------------------------------

    @Override
    public synchronized DeviceBuffer allocate(DType dtype, long size) {
        checkOpen();
        if (size < 0) {
            throw new IllegalArgumentException("negative buffer size " + size);
        }
        if (dtype == DType.FLOAT64 && !device.info.fp64()) {
            throw new DTypeException("device " + device.describe() + " does not support float64 (no cl_khr_fp64)");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(size, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new BackendException("cannot allocate " + dtype + "[" + size + "]: the size overflows 64 bits");
        }
        try {
            OpenClBuffer b = new OpenClBuffer(dtype, size, pool.acquire(bytes, null, dtype, size), this);
            live.add(b);
            return b;
        } catch (CLException e) {
            throw ClErrors.wrap("allocate " + dtype + "[" + size + "] on " + device.describe(), e);
        }
    }

    @Override
    public synchronized long releaseCachedMemory() {
        if (closed) {
            return 0;
        }
        long pooled = pool.pooledBytes();
        try {
            pool.flush();
        } catch (CLException e) {
            throw ClErrors.wrap("freeing the buffer pool of " + device.describe(), e);
        }
        return pooled;
    }

    @Override
    public void setMemoryPressure(MemoryPressure pressure) {
        this.pressure = pressure;
    }

    @Override
    public synchronized void release(DeviceBuffer buffer) {
        if (closed) {
            return; // close() freed everything
        }
        OpenClBuffer b = own(buffer);
        if (!b.markReleased() || !live.remove(b)) {
            throw new IllegalStateException("OpenCL buffer " + b + " released twice");
        }
        try {
            pool.release(b.block());
        } catch (CLException e) {
            throw ClErrors.wrap("release " + b, e);
        }
    }

    /**
     * Asynchronous, yet the host array is consumed on return: the data goes into a staging
     * buffer created with CL_MEM_COPY_HOST_PTR (copied during the call, outside the queue), then
     * a device-side copy is queued. The staging buffer is released once the queue is known to
     * be past the copy (the next read, synchronize or close, or when staging grows large):
     * OpenCL would defer the release itself, but not every runtime does (Oclgrind frees at
     * once). JOCL's own non-blocking writes park a thread per write on its event instead.
     */
    @Override
    public synchronized void write(DeviceBuffer dst, Object hostArray) {
        OpenClBuffer b = own(dst);
        int length = HostArrays.length(hostArray, b.dtype());
        if (length != b.size()) {
            throw new IllegalArgumentException("write: host array of " + length + " elements for a buffer of "
                    + b.size());
        }
        if (length == 0) {
            return;
        }
        long bytes = b.byteSize();
        Pointer data = HostArrays.pointer(b.dtype() == DType.BOOL ? HostArrays.normalised((byte[]) hostArray) : hostArray);
        try {
            if (memoryCheck) { // see BufferPool.MEMORY_CHECK_PROPERTY: no staging buffers to recycle
                clEnqueueWriteBuffer(device.queue, b.mem(), CL_TRUE, 0, bytes, data, 0, null, null);
                return;
            }
            cl_mem staging;
            try {
                staging = clCreateBuffer(device.context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, data, null);
            } catch (CLException e) {
                if (!ClErrors.isOutOfMemory(e)) {
                    throw e;
                }
                clEnqueueWriteBuffer(device.queue, b.mem(), CL_TRUE, 0, bytes, data, 0, null, null);
                return; // no room for a staging copy: a blocking write needs none
            }
            staged.add(staging);
            stagedBytes += bytes;
            clEnqueueCopyBuffer(device.queue, staging, b.mem(), 0, 0, bytes, 0, null, null);
            if (stagedBytes > MAX_STAGED_BYTES) {
                clFinish(device.queue);
                releaseStaged();
            }
        } catch (CLException e) {
            throw ClErrors.wrap("write " + b + " on " + device.describe(), e);
        }
    }

    @Override
    public synchronized void read(View src, Object hostArray) {
        OpenClBuffer b = own(src.buffer());
        long n = src.size();
        int length = HostArrays.length(hostArray, src.dtype());
        if (length < n) {
            throw new IllegalArgumentException("read: host array of " + length + " elements for " + n);
        }
        Kernels.requireInBounds("read", src);
        if (n == 0) {
            return;
        }
        long esize = src.dtype().byteSize();
        try {
            Layout l = Layout.collapse(src.shape(), src)[0];
            if (l.isDense()) {
                clEnqueueReadBuffer(device.queue, b.mem(), CL_TRUE, l.offset * esize, n * esize,
                        HostArrays.pointer(hostArray), 0, null, null);
            } else {
                BufferPool.Block tmp = pool.acquire(n * esize, "read staging", src.dtype(), n);
                try {
                    copies.toDense(src, l, tmp.mem());
                    clEnqueueReadBuffer(device.queue, tmp.mem(), CL_TRUE, 0, n * esize,
                            HostArrays.pointer(hostArray), 0, null, null);
                } finally {
                    pool.release(tmp);
                }
            }
            releaseStaged(); // a blocking read on an in-order queue: every earlier write is done
        } catch (CLException e) {
            throw ClErrors.wrap("read " + src + " on " + device.describe(), e);
        }
    }

    @Override
    public synchronized void fill(DeviceBuffer dst, Number value) {
        OpenClBuffer d = own(dst);
        enqueue(() -> "fill " + dst, () -> copies.fill(d, value));
    }

    @Override
    public synchronized void copy(View src, View dst) {
        own(src.buffer());
        own(dst.buffer());
        enqueue(() -> "copy " + src + " to " + dst, () -> copies.copy(src, dst));
    }

    // ---- compute -----------------------------------------------------------------------------

    @Override
    public synchronized void unary(UnaryOp op, View x, DeviceBuffer out) {
        own(x.buffer());
        OpenClBuffer o = own(out);
        enqueue(() -> "unary " + op + " " + x, () -> elementwise.unary(op, x, o));
    }

    @Override
    public synchronized void binary(BinaryOp op, View a, View b, DeviceBuffer out) {
        own(a.buffer());
        own(b.buffer());
        OpenClBuffer o = own(out);
        enqueue(() -> "binary " + op + " " + a + ", " + b, () -> elementwise.binary(op, a, b, o));
    }

    @Override
    public synchronized void select(View cond, View a, View b, DeviceBuffer out) {
        own(cond.buffer());
        own(a.buffer());
        own(b.buffer());
        OpenClBuffer o = own(out);
        enqueue(() -> "select", () -> elementwise.select(cond, a, b, o));
    }

    @Override
    public synchronized void reduce(ReduceOp op, View x, int reducedDims, DeviceBuffer out) {
        own(x.buffer());
        OpenClBuffer o = own(out);
        enqueue(() -> "reduce " + op + " " + x, () -> reductions.reduce(op, x, reducedDims, o));
    }

    @Override
    public boolean groupsReductions() {
        return true;
    }

    /**
     * The members that would each be one single-pass launch alone go in launches of one
     * generated kernel per dtype ({@link ReductionKernels#runGroup}); the others run as
     * {@link #reduce} runs them.
     */
    @Override
    public synchronized void reduceGroup(List<ReduceOp> ops, List<View> xs, int[] reducedDims, List<DeviceBuffer> outs) {
        Backend.requireGroup(ops, xs, reducedDims, outs);
        int n = ops.size();
        OpenClBuffer[] o = new OpenClBuffer[n];
        ReductionKernels.GroupMember[] grouped = new ReductionKernels.GroupMember[n];
        for (int i = 0; i < n; i++) { // every member checked before any runs
            own(xs.get(i).buffer());
            o[i] = own(outs.get(i));
            grouped[i] = reductions.groupMember(ops.get(i), xs.get(i), reducedDims[i], o[i]);
        }
        java.util.Map<DType, List<Integer>> byType = new java.util.LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            if (grouped[i] == null) {
                alone(ops.get(i), xs.get(i), reducedDims[i], o[i]);
            } else {
                byType.computeIfAbsent(grouped[i].dtype(), t -> new ArrayList<>()).add(i);
            }
        }
        for (List<Integer> members : byType.values()) {
            for (int from = 0; from < members.size(); from += ReductionKernels.GROUP_MEMBERS) {
                List<ReductionKernels.GroupMember> part = new ArrayList<>();
                for (int i : members.subList(from, Math.min(members.size(), from + ReductionKernels.GROUP_MEMBERS))) {
                    part.add(grouped[i]);
                }
                if (part.size() == 1) { // its own kernel: no program to build
                    int i = members.get(from);
                    alone(ops.get(i), xs.get(i), reducedDims[i], o[i]);
                } else {
                    enqueue(() -> "reduce group of " + part.size(), () -> reductions.runGroup(part));
                }
            }
        }
    }

    /** A member of a reduce group run as {@link #reduce} runs it, its buffers already owned. */
    private void alone(ReduceOp op, View x, int reducedDims, OpenClBuffer out) {
        enqueue(() -> "reduce " + op + " " + x, () -> reductions.reduce(op, x, reducedDims, out));
    }

    @Override
    public synchronized void matmul(View a, View b, DeviceBuffer out) {
        own(a.buffer());
        own(b.buffer());
        OpenClBuffer o = own(out);
        enqueue(() -> "matmul " + a + " @ " + b, () -> matmuls.matmul(a, b, o));
    }

    @Override
    public boolean fusesMatmulEpilogues() {
        return true;
    }

    @Override
    public synchronized void matmulEpilogue(View a, View b, BinaryOp op, View operand, UnaryOp activation,
                                            DeviceBuffer out) {
        MatmulKernels.Epilogue epi = new MatmulKernels.Epilogue(op, operand, activation);
        if (!epi.handles(a.dtype()) || (activation != null && !EPILOGUES.contains(activation))) {
            Backend.super.matmulEpilogue(a, b, op, operand, activation, out); // matmul, then the elementwise kernel
            return;
        }
        own(a.buffer());
        own(b.buffer());
        own(operand.buffer());
        OpenClBuffer o = own(out);
        enqueue(() -> "matmul " + a + " @ " + b + " then " + epi.options(), () -> matmuls.matmul(a, b, o, null, epi));
    }

    @Override
    public synchronized void gather(View params, View indices, DeviceBuffer out) {
        own(params.buffer());
        own(indices.buffer());
        OpenClBuffer o = own(out);
        enqueue(() -> "gather", () -> indexing.gather(params, indices, o));
    }

    @Override
    public synchronized void scatterAdd(View updates, View indices, DeviceBuffer out) {
        own(updates.buffer());
        own(indices.buffer());
        OpenClBuffer o = own(out);
        enqueue(() -> "scatterAdd", () -> indexing.scatterAdd(updates, indices, o));
    }

    @Override
    public synchronized void randomUniform(DeviceBuffer out, long seed) {
        OpenClBuffer o = own(out);
        enqueue(() -> "randomUniform", () -> random.uniform(o, seed));
    }

    // ---- fused softmax (SoftmaxKernels) -------------------------------------------------------

    @Override
    public synchronized void softmax(View x, DeviceBuffer out, boolean log) {
        own(x.buffer());
        OpenClBuffer o = own(out);
        enqueue(() -> (log ? "logSoftmax " : "softmax ") + x, () -> softmaxes.softmax(x, o, log));
    }

    @Override
    public synchronized void softmaxGrad(View y, View g, DeviceBuffer out, boolean log) {
        own(y.buffer());
        own(g.buffer());
        OpenClBuffer o = own(out);
        enqueue(() -> (log ? "logSoftmaxGrad " : "softmaxGrad ") + y, () -> softmaxes.softmaxGrad(y, g, o, log));
    }

    @Override
    public synchronized void softmaxCrossEntropy(View labels, View logits, DeviceBuffer loss, DeviceBuffer logSoftmax) {
        own(labels.buffer());
        own(logits.buffer());
        OpenClBuffer l = own(loss);
        OpenClBuffer o = own(logSoftmax);
        enqueue(() -> "softmaxCrossEntropy " + logits, () -> softmaxes.crossEntropy(labels, logits, l, o));
    }

    @Override
    public synchronized void softmaxCrossEntropyGrad(View g, View logSoftmax, View labels, DeviceBuffer out) {
        own(g.buffer());
        own(logSoftmax.buffer());
        own(labels.buffer());
        OpenClBuffer o = own(out);
        enqueue(() -> "softmaxCrossEntropyGrad " + logSoftmax,
                () -> softmaxes.crossEntropyGrad(g, logSoftmax, labels, o));
    }

    @Override
    public synchronized void softmaxCrossEntropyWithGrad(View labels, View logits, View g, DeviceBuffer loss,
                                                         DeviceBuffer logSoftmax, DeviceBuffer grad) {
        own(labels.buffer());
        own(logits.buffer());
        own(g.buffer());
        OpenClBuffer l = own(loss);
        OpenClBuffer o = own(logSoftmax);
        OpenClBuffer d = own(grad);
        enqueue(() -> "softmaxCrossEntropyWithGrad " + logits,
                () -> softmaxes.crossEntropyWithGrad(labels, logits, g, l, o, d));
    }

    // ---- fused attention (AttentionKernels) ---------------------------------------------------

    @Override
    public synchronized void attention(View q, View k, View v, View mask, boolean causal, double scale,
                                       DeviceBuffer out, DeviceBuffer lse) {
        own(q.buffer());
        own(k.buffer());
        own(v.buffer());
        if (mask != null) {
            own(mask.buffer());
        }
        OpenClBuffer o = own(out);
        OpenClBuffer l = own(lse);
        enqueue(() -> "attention " + q, () -> attentions.forward(q, k, v, mask, causal, scale, o, l));
    }

    @Override
    public synchronized void attentionGrad(View q, View k, View v, View mask, boolean causal, double scale, View out,
                                           View dOut, View lse, DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv) {
        for (View x : new View[] {q, k, v, out, dOut, lse}) {
            own(x.buffer());
        }
        if (mask != null) {
            own(mask.buffer());
        }
        OpenClBuffer a = own(dq);
        OpenClBuffer b = own(dk);
        OpenClBuffer c = own(dv);
        enqueue(() -> "attentionGrad " + q,
                () -> attentions.backward(q, k, v, mask, causal, scale, out, dOut, lse, a, b, c));
    }

    // ---- convolution and pooling (ConvKernels) ------------------------------------------------

    @Override
    public synchronized void conv2d(View x, View filter, Conv2dGeometry g, DeviceBuffer out) {
        conv(ConvKernels.Kind.CONV2D, g, out, g.outputSize(), x, filter);
    }

    @Override
    public synchronized void conv2dBackpropInput(View dy, View filter, Conv2dGeometry g, DeviceBuffer dx) {
        conv(ConvKernels.Kind.BACKPROP_INPUT, g, dx, g.inputSize(), dy, filter);
    }

    @Override
    public synchronized void conv2dBackpropFilter(View x, View dy, Conv2dGeometry g, DeviceBuffer dfilter) {
        conv(ConvKernels.Kind.BACKPROP_FILTER, g, dfilter, g.filterSize(), x, dy);
    }

    @Override
    public synchronized void avgPool2d(View x, Conv2dGeometry g, DeviceBuffer out) {
        conv(ConvKernels.Kind.AVG_POOL, g, out, g.outputSize(), x);
    }

    @Override
    public synchronized void avgPool2dGrad(View dy, Conv2dGeometry g, DeviceBuffer dx) {
        conv(ConvKernels.Kind.AVG_POOL_GRAD, g, dx, g.inputSize(), dy);
    }

    @Override
    public synchronized void maxPool2d(View x, View values, Conv2dGeometry g, DeviceBuffer out) {
        conv(ConvKernels.Kind.MAX_POOL, g, out, g.outputSize(), x, values);
    }

    @Override
    public synchronized void maxPool2dGrad(View x, View dy, Conv2dGeometry g, DeviceBuffer dx) {
        conv(ConvKernels.Kind.MAX_POOL_GRAD, g, dx, g.inputSize(), x, dy);
    }

    @Override
    public synchronized void batchNormTraining(View x, View scale, View offset, double epsilon, DeviceBuffer y,
                                               DeviceBuffer mean, DeviceBuffer variance) {
        own(x.buffer());
        own(scale.buffer());
        own(offset.buffer());
        OpenClBuffer yo = own(y);
        OpenClBuffer mo = own(mean);
        OpenClBuffer vo = own(variance);
        enqueue(() -> "batchNormTraining " + x, () -> norms.forward(x, scale, offset, epsilon, yo, mo, vo));
    }

    @Override
    public synchronized void batchNormTrainingGrad(View dy, View x, View scale, View mean, View variance,
                                                   double epsilon, DeviceBuffer dx, DeviceBuffer dscale,
                                                   DeviceBuffer doffset) {
        for (View v : new View[] {dy, x, scale, mean, variance}) {
            own(v.buffer());
        }
        OpenClBuffer dxo = own(dx);
        OpenClBuffer so = own(dscale);
        OpenClBuffer oo = own(doffset);
        enqueue(() -> "batchNormTrainingGrad " + x,
                () -> norms.backward(dy, x, scale, mean, variance, epsilon, dxo, so, oo));
    }

    private void conv(ConvKernels.Kind kind, Conv2dGeometry g, DeviceBuffer out, long count, View... inputs) {
        for (View v : inputs) {
            own(v.buffer());
        }
        OpenClBuffer o = own(out);
        enqueue(() -> kind.primitive + " " + g, () -> convs.run(kind, g, o, count, inputs));
    }

    // ---- fused elementwise and training updates ---------------------------------------------

    @Override
    public synchronized void fusedElementwise(FusedElementwise program, View[] inputs, DeviceBuffer out) {
        if (!FusedKernels.handles(program)) {
            Backend.super.fusedElementwise(program, inputs, out); // each step as its primitive
            return;
        }
        for (View v : inputs) {
            own(v.buffer());
        }
        OpenClBuffer o = own(out);
        boolean[] ran = {false};
        enqueue(() -> "fusedElementwise " + program.expression(), () -> ran[0] = fused.run(program, inputs, o));
        if (!ran[0]) {
            Backend.super.fusedElementwise(program, inputs, out); // too many arguments for one kernel
        }
    }

    @Override
    public boolean groupsElementwise() {
        return true;
    }

    @Override
    public synchronized void fusedElementwiseGroup(List<FusedElementwise> programs, List<View[]> inputs,
                                                   List<DeviceBuffer> outs) {
        if (programs.size() != inputs.size() || programs.size() != outs.size()) {
            throw new IllegalArgumentException("fusedElementwiseGroup: " + programs.size() + " programs, "
                    + inputs.size() + " input lists and " + outs.size() + " outputs");
        }
        boolean handled = true;
        for (FusedElementwise p : programs) {
            handled &= FusedKernels.handles(p);
        }
        List<OpenClBuffer> o = new ArrayList<>(outs.size());
        for (int g = 0; g < programs.size(); g++) {
            for (View v : inputs.get(g)) {
                own(v.buffer());
            }
            o.add(own(outs.get(g)));
        }
        if (handled) {
            boolean[] ran = new boolean[1];
            enqueue(() -> "fusedElementwiseGroup of " + programs.size(),
                    () -> ran[0] = fused.runGroup(programs, inputs, o));
            if (ran[0]) {
                return;
            }
        }
        Backend.super.fusedElementwiseGroup(programs, inputs, outs); // one program at a time
    }

    @Override
    public synchronized void binaryUnary(BinaryOp op, UnaryOp epilogue, View a, View b, DeviceBuffer out) {
        own(a.buffer());
        own(b.buffer());
        OpenClBuffer o = own(out);
        enqueue(() -> "binaryUnary " + op + " " + epilogue + " " + a + ", " + b,
                () -> elementwise.binaryUnary(op, epilogue, a, b, o));
    }

    @Override
    public synchronized void applyGradientDescent(View var, View grad, double lr, DeviceBuffer varOut) {
        own(var.buffer());
        own(grad.buffer());
        OpenClBuffer o = own(varOut);
        enqueue(() -> "applyGradientDescent " + var, () -> training.gradientDescent(var, grad, lr, o));
    }

    @Override
    public synchronized void applyMomentum(View var, View accum, View grad, double lr, double momentum,
                                           boolean nesterov, boolean keras, DeviceBuffer varOut,
                                           DeviceBuffer accumOut) {
        own(var.buffer());
        own(accum.buffer());
        own(grad.buffer());
        OpenClBuffer o = own(varOut);
        OpenClBuffer ao = own(accumOut);
        enqueue(() -> "applyMomentum " + var,
                () -> training.momentum(var, accum, grad, lr, momentum, nesterov, keras, o, ao));
    }

    @Override
    public synchronized void applyAdam(View var, View m, View v, View grad, double alpha, double beta1, double beta2,
                                       double epsilon, DeviceBuffer varOut, DeviceBuffer mOut, DeviceBuffer vOut) {
        own(var.buffer());
        own(m.buffer());
        own(v.buffer());
        own(grad.buffer());
        OpenClBuffer o = own(varOut);
        OpenClBuffer mo = own(mOut);
        OpenClBuffer vo = own(vOut);
        enqueue(() -> "applyAdam " + var,
                () -> training.adam(var, m, v, grad, alpha, beta1, beta2, epsilon, o, mo, vo));
    }

    /** matmul with configuration {@code c} of the kernel family instead of the tuner's choice:
     *  for tests of every candidate. */
    synchronized void matmul(GemmConfig c, View a, View b, DeviceBuffer out) {
        own(a.buffer());
        own(b.buffer());
        OpenClBuffer o = own(out);
        enqueue(() -> "matmul " + c + " " + a + " @ " + b, () -> matmuls.matmul(a, b, o, c));
    }

    /** {@link #matmulEpilogue} on configuration {@code c}, for tests of every candidate. */
    synchronized void matmulEpilogue(GemmConfig c, View a, View b, BinaryOp op, View operand, UnaryOp activation,
                                     DeviceBuffer out) {
        own(a.buffer());
        own(b.buffer());
        own(operand.buffer());
        OpenClBuffer o = own(out);
        MatmulKernels.Epilogue epi = new MatmulKernels.Epilogue(op, operand, activation);
        enqueue(() -> "matmul " + c + " then " + epi.options(), () -> matmuls.matmul(a, b, o, c, epi));
    }

    /**
     * A convolution primitive on {@code path}, or with the implicit GEMM of configuration
     * {@code config} when it is not null: for tests that compare the paths and every candidate.
     */
    synchronized void conv(ConvKernels.Kind kind, Conv2dGeometry g, DeviceBuffer out, long count,
                           ConvKernels.Path path, GemmConfig config, View... inputs) {
        for (View v : inputs) {
            own(v.buffer());
        }
        OpenClBuffer o = own(out);
        enqueue(() -> kind.primitive + " " + path + " " + config + " " + g,
                () -> convs.run(kind, g, o, count, path, config, inputs));
    }

    /** The batch normalization kernels of this backend (for tests). */
    NormKernels norms() {
        return norms;
    }

    /** The convolution kernels of this backend (for tests). */
    ConvKernels convs() {
        return convs;
    }

    /** The fused attention's kernels of this backend (for tests: which kernels a call ran). */
    AttentionKernels attentionKernels() {
        return attentions;
    }

    /** The matmul tuner of this backend (for tests). */
    GemmTuner gemmTuner() {
        return matmuls.tuner();
    }

    // ---- lifecycle -----------------------------------------------------------------------------

    @Override
    public synchronized long kernelLaunches() {
        return device.launches;
    }

    @Override
    public synchronized void synchronize() {
        checkOpen();
        try {
            clFinish(device.queue);
            releaseStaged();
        } catch (CLException e) {
            throw ClErrors.wrap("synchronize " + device.describe(), e);
        }
    }

    /** Waits for the device, then frees every buffer (live and pooled), kernel, program, the queue
     *  and the context. Idempotent; primitives called afterwards throw. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            clFinish(device.queue);
        } catch (CLException e) {
            log.warn("finishing the queue of {} at close failed: {}", device.describe(), ClErrors.name(e.getStatus()));
        }
        releaseStaged();
        int leaked = live.size();
        for (OpenClBuffer b : live) {
            b.markReleased();
            clReleaseMemObject(b.block().mem());
        }
        live.clear();
        if (ownsDevice) {
            pool.close();
            programs.close();
            device.close();
        }
        log.debug("closed {} ({} live buffers freed)", this, leaked);
    }

    // ---- for tests and diagnostics ---------------------------------------------------------------

    ProgramCache programs() {
        return programs;
    }

    BufferPool pool() {
        return pool;
    }

    OpenClDevice device() {
        return device;
    }

    synchronized int liveBuffers() {
        return live.size();
    }

    @Override
    public String toString() {
        return device.describe() + " [" + kernels.tuning().style() + " kernels]";
    }

    // ---- helpers -------------------------------------------------------------------------------

    private void checkOpen() {
        if (closed) {
            throw new BackendException("OpenCL device " + device.describe() + " has been closed");
        }
    }

    private void releaseStaged() {
        for (cl_mem m : staged) {
            clReleaseMemObject(m);
        }
        staged.clear();
        stagedBytes = 0;
    }

    /**
     * Runs one primitive's enqueueing; an OpenCL error becomes a {@link BackendException} naming
     * {@code what} (built only then) and the device. OpenCL may allocate a buffer only when a
     * launch first touches it: an out-of-memory error there gets core's reclaim and one retry
     * (safe: a primitive only writes its fresh output), then a {@link DeviceOutOfMemoryException}.
     */
    private void enqueue(Supplier<String> what, Runnable work) {
        try {
            work.run();
        } catch (CLException e) {
            if (!ClErrors.isOutOfMemory(e)) {
                throw ClErrors.wrap(what.get() + " on " + device.describe(), e);
            }
            retryAfterReclaim(what, work, e);
        }
    }

    private void retryAfterReclaim(Supplier<String> what, Runnable work, CLException first) {
        MemoryPressure p = pressure;
        log.debug("{} on {} failed with {}: reclaiming memory and retrying once", what.get(), device.describe(),
                ClErrors.name(first.getStatus()));
        if (p == null || !p.reclaim()) {
            releaseCachedMemory();
        }
        try {
            work.run();
        } catch (CLException e) {
            String message = what.get() + " on " + device.describe() + " failed: " + ClErrors.name(e.getStatus())
                    + " (OpenCL status " + e.getStatus() + ")";
            if (ClErrors.isOutOfMemory(e)) {
                throw new DeviceOutOfMemoryException(message + ", even after reclaiming memory", 0, e);
            }
            throw new BackendException(message, e);
        }
    }

    /** {@code buffer} as this backend's own; checks first that the backend is open. */
    private OpenClBuffer own(DeviceBuffer buffer) {
        checkOpen();
        if (buffer instanceof OpenClBuffer b && b.owner() == this) {
            return b;
        }
        throw new BackendException("buffer " + buffer + " does not belong to " + device.describe());
    }
}
