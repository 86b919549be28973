package dev.spool.spi;

import dev.spool.DType;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * One compute device of a backend: the small set of primitives that every user-facing op is
 * built from. Core calls these; it never touches device memory itself.
 *
 * <p><b>Asynchronous by contract.</b> A backend may run a primitive after the call returns
 * (OpenCL enqueues and returns). Primitives are issued from one thread at a time per backend
 * (core serialises them) and must take effect in call order. Only {@link #read} waits:
 * it returns once the requested values are on the host. {@link #write} must have copied the
 * host array by the time it returns, so the caller may reuse it.
 *
 * <p><b>Buffers.</b> Outputs are always fresh contiguous buffers from {@link #allocate} that core
 * passes in; inputs are {@link View}s of live buffers of this backend, possibly strided,
 * broadcast (stride 0) or offset. Outputs never alias inputs. Shapes of inputs have already
 * been checked and broadcast by core: a backend may assume them valid.
 *
 * <p><b>Completeness.</b> A backend implements every primitive for every dtype listed on it.
 * A backend that cannot must say so when it loads, not at a user's first call.
 */
public interface Backend extends AutoCloseable {

    /** Describes this device (name, vendor, type, memory, float64 support). */
    DeviceInfo info();

    // ---- memory --------------------------------------------------------------------------

    /** Allocates an uninitialised buffer of {@code size} elements. {@code size} may be 0. When the
     *  driver has no memory left it throws {@link dev.spool.DeviceOutOfMemoryException}. */
    DeviceBuffer allocate(DType dtype, long size);

    /** Releases a buffer. Called exactly once per buffer; the buffer may still be in use by
     *  work already issued, which the backend must let finish first. */
    void release(DeviceBuffer buffer);

    /**
     * Returns memory the backend keeps for reuse (buffer pools) to the driver. Core calls it when
     * the device is out of memory, before it retries an allocation. Buffers in use stay valid.
     * Returns the number of bytes given back.
     */
    default long releaseCachedMemory() {
        return 0;
    }

    /**
     * Core's reclaim, set once when the device is opened: a backend whose driver reports an
     * out-of-memory error outside {@link #allocate} (OpenCL: at the first launch that touches a
     * buffer) calls {@link MemoryPressure#reclaim()} and retries the call once before it
     * throws. {@link #allocate} itself reports a driver allocation failure by throwing
     * {@link dev.spool.DeviceOutOfMemoryException}; core reclaims and retries then.
     */
    default void setMemoryPressure(MemoryPressure pressure) {
    }

    /** Host to device: copies all of {@code hostArray} (of {@code dst.dtype().hostArrayType()},
     *  length {@code dst.size()}) into {@code dst}. */
    void write(DeviceBuffer dst, Object hostArray);

    /** Device to host: blocks until every issued write to {@code src.buffer()} is done, then
     *  copies the elements of the view, in row-major order, into {@code hostArray}. */
    void read(View src, Object hostArray);

    /** Sets every element of {@code dst} to {@code value} converted to its dtype (for BOOL:
     *  non-zero is true). No host transfer. */
    void fill(DeviceBuffer dst, Number value);

    /**
     * Copies {@code src} into {@code dst} element by element (same shape), converting the dtype
     * when they differ: float to int truncates toward zero and saturates at the integer type's
     * range (NaN becomes 0, as OpenCL's {@code convert_T_rtz_sat}), anything to bool is
     * {@code != 0} (so NaN is true),
     * bool to number is 0 or 1. {@code dst} may be a strided view (it is how slices are
     * written); it never overlaps {@code src}. Dtypes: all, any pair.
     */
    void copy(View src, View dst);

    // ---- elementwise ---------------------------------------------------------------------

    /** {@code out[i] = op(x[i])}; out has x's shape. Dtypes: see {@link UnaryOp}. */
    void unary(UnaryOp op, View x, DeviceBuffer out);

    /** {@code out[i] = op(a[i], b[i])}; a and b have out's shape (broadcast by strides) and the
     *  same dtype. Dtypes: all numeric types; comparisons also take bool (EQUAL, NOT_EQUAL). */
    void binary(BinaryOp op, View a, View b, DeviceBuffer out);

    /** {@code out[i] = cond[i] ? a[i] : b[i]}; cond is bool; a, b of out's dtype and shape. */
    void select(View cond, View a, View b, DeviceBuffer out);

    // ---- reductions ----------------------------------------------------------------------

    /**
     * Reduces the last {@code reducedDims} dimensions of {@code x}; {@code out} is contiguous
     * with the shape of the leading {@code x.rank() - reducedDims} dimensions (a single element
     * when all are reduced). Core moves the reduced axes last by permuting strides.
     * Output dtype: x's dtype, or INT64 for ARGMAX/ARGMIN, which core only issues with
     * {@code reducedDims == 1}. Dtypes: numeric.
     */
    void reduce(ReduceOp op, View x, int reducedDims, DeviceBuffer out);

    /**
     * Several independent {@link #reduce}s (a traced function's loss sum and bias gradients, say):
     * {@code outs.get(k)} gets {@code reduce(ops.get(k), xs.get(k), reducedDims[k], ...)} to the
     * bit. No output is an input of another member, and the outputs are distinct buffers. The
     * default runs them one after another; backends where a launch costs more than the work
     * override it and say {@link #groupsReductions}.
     */
    default void reduceGroup(List<ReduceOp> ops, List<View> xs, int[] reducedDims, List<DeviceBuffer> outs) {
        requireGroup(ops, xs, reducedDims, outs);
        for (int k = 0; k < ops.size(); k++) {
            reduce(ops.get(k), xs.get(k), reducedDims[k], outs.get(k));
        }
    }

    /** Checks that {@link #reduceGroup}'s lists are of one length. */
    static void requireGroup(List<ReduceOp> ops, List<View> xs, int[] reducedDims, List<DeviceBuffer> outs) {
        if (xs.size() != ops.size() || reducedDims.length != ops.size() || outs.size() != ops.size()) {
            throw new IllegalArgumentException("reduceGroup: " + ops.size() + " ops, " + xs.size() + " inputs, "
                    + reducedDims.length + " dim counts and " + outs.size() + " outputs");
        }
    }

    /**
     * Whether {@link #reduceGroup} runs a group in fewer launches than one per reduction; traced
     * functions group independent reductions only for such backends.
     */
    default boolean groupsReductions() {
        return false;
    }

    // ---- linear algebra ------------------------------------------------------------------

    /**
     * Batched matrix product. {@code a} is {@code [batch..., M, K]}, {@code b} is
     * {@code [batch..., K, N]} with identical batch dimensions (core broadcasts them with
     * stride 0); {@code out} is contiguous {@code [batch..., M, N]}. A transposed operand is
     * just swapped strides of its last two dimensions. K may be 0 (out is zeros).
     * Dtypes: FLOAT32, FLOAT64.
     */
    void matmul(View a, View b, DeviceBuffer out);

    // ---- indexing ------------------------------------------------------------------------

    /**
     * {@code out[o, j, i] = params[o, indices[j], i]}, where params is a rank-3 view
     * {@code [outer, axisSize, inner]}, indices a rank-1 INT32 or INT64 view of length n and out
     * contiguous {@code [outer, n, inner]}. An index outside {@code [0, axisSize)} yields 0,
     * as TensorFlow does on GPUs. Dtypes of params: all.
     */
    void gather(View params, View indices, DeviceBuffer out);

    /**
     * The adjoint of {@link #gather}: {@code out} (contiguous {@code [outer, axisSize, inner]})
     * is overwritten with zeros, then {@code out[o, indices[j], i] += updates[o, j, i]} for
     * every j; out-of-range indices are skipped. {@code axisSize} is
     * {@code out.size() / (outer * inner)}. Dtypes of updates: numeric.
     */
    void scatterAdd(View updates, View indices, DeviceBuffer out);

    // ---- fused softmax ---------------------------------------------------------------------
    // Softmax, logSoftmax and softmax cross-entropy are primitives, not composites of max, exp,
    // sum and log: one launch forward and one backward instead of about nine each (the op that
    // ends every classifier's training step). All four work along the last dimension of views of
    // rank >= 1 whose leading dimensions are the rows (any strides: broadcast, permuted); core
    // moves another axis last with a transposed view. Arithmetic per row is that of the
    // composite: m = max(x) (NaN propagates), s = sum(exp(x - m)), so NaN and infinite inputs
    // give what the composite gives. Dtypes: FLOAT32, FLOAT64.

    /**
     * {@code out = exp(x - m) / s} per row, or {@code x - m - log(s)} when {@code log}; out is
     * contiguous with x's shape. Rows of length 0 write nothing.
     */
    void softmax(View x, DeviceBuffer out, boolean log);

    /**
     * The VJP of {@link #softmax} from its result {@code y} and the incoming gradient {@code g}
     * (same shape): {@code out = y * (g - sum(g * y))} per row, or {@code g - exp(y) * sum(g)}
     * when {@code log}.
     */
    void softmaxGrad(View y, View g, DeviceBuffer out, boolean log);

    /**
     * Per row, {@code loss[row] = -sum(labels * lsm)} with {@code lsm = logSoftmax(logits)}, which
     * is also written (contiguous, logits' shape) for the backward pass. labels and logits have
     * the same shape; loss is contiguous with the shape of the leading dimensions.
     */
    void softmaxCrossEntropy(View labels, View logits, DeviceBuffer loss, DeviceBuffer logSoftmax);

    /**
     * The VJP of the loss with respect to the logits: {@code out = g[row] * (exp(lsm) * sum(labels)
     * - labels)} per row (exact also for labels that do not sum to 1); {@code g} has the shape of
     * the leading dimensions, lsm and labels the logits' shape, out is contiguous.
     */
    void softmaxCrossEntropyGrad(View g, View logSoftmax, View labels, DeviceBuffer out);

    /**
     * {@link #softmaxCrossEntropy} and then {@link #softmaxCrossEntropyGrad} of the logSoftmax it
     * wrote, for a gradient {@code g} known before the loss (in a traced function, the constant
     * that seeds a mean's gradient): the same results to the bit, in one launch where the backend
     * can. {@code grad} is contiguous with the logits' shape.
     */
    default void softmaxCrossEntropyWithGrad(View labels, View logits, View g, DeviceBuffer loss,
                                             DeviceBuffer logSoftmax, DeviceBuffer grad) {
        softmaxCrossEntropy(labels, logits, loss, logSoftmax);
        softmaxCrossEntropyGrad(g, View.contiguous(logSoftmax, logits.shape()), labels, grad);
    }

    // ---- fused scaled dot-product attention ------------------------------------------------------
    // FlashAttention-2's pair: the forward keeps per query row only its logsumexp, and the backward
    // recomputes the scores tile by tile from it, so neither ever holds a [Tq, Tk] score matrix per
    // (batch, head): memory grows with T, not T² (speed and memory, not numerics, made these
    // primitives; the op's definition from matmul and softmax is the reference they are tested
    // against). Views are rank 4, [batch, heads, T, depth], any strides (core merges or pads the
    // leading axes); core issues them only when every dimension is at least 1. The score of query
    // i and key j is {@code s = scale * dot(q[i], k[j])}, or exactly -1e9 where the key is masked
    // (mask false, or causal and j > i, top-left aligned), as Keras's masked softmax, so a row with
    // every key masked attends uniformly. Results must not depend on scheduling: no atomics.
    // Dtypes: FLOAT32, FLOAT64.

    /**
     * {@code out[b, h, i] = sum_j p[i, j] v[j]} with {@code p[i, j] = exp(s[i, j] - lse[i])} and
     * {@code lse[b, h, i] = log(sum_j exp(s[i, j]))} (computed with the row's running max, an
     * online softmax). q is {@code [B, H, Tq, d]}, k {@code [B, H, Tk, d]}, v {@code [B, H, Tk,
     * dv]}; mask null or a BOOL view {@code [B, H, Tq, Tk]}, broadcast axes having stride 0;
     * out contiguous {@code [B, H, Tq, dv]}, lse contiguous {@code [B, H, Tq]}.
     */
    void attention(View q, View k, View v, View mask, boolean causal, double scale, DeviceBuffer out,
                   DeviceBuffer lse);

    /**
     * The VJP of {@link #attention} for the incoming gradient dOut (out's shape), from the
     * forward's out and lse: with {@code p} recomputed from lse, {@code dp[i, j] = dot(dOut[i],
     * v[j])}, {@code D[i] = dot(dOut[i], out[i])} and {@code ds[i, j] = p[i, j] (dp[i, j] - D[i])},
     * or 0 where the key is masked, {@code dq[i] = scale * sum_j ds[i, j] k[j]}, {@code dk[j] =
     * scale * sum_i ds[i, j] q[i]} and {@code dv[j] = sum_i p[i, j] dOut[i]}. dq, dk and dv are
     * contiguous with q's, k's and v's shapes.
     */
    void attentionGrad(View q, View k, View v, View mask, boolean causal, double scale, View out, View dOut,
                       View lse, DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv);

    // ---- convolution and pooling -------------------------------------------------------------
    // Channels-last (NHWC) data and HWIO filters, as TensorFlow and Keras; the window geometry,
    // TensorFlow's padding rules already applied, is a Conv2dGeometry. Every input view is
    // contiguous (row-major from its offset: core copies anything else first); every output is a
    // fresh contiguous buffer. Each primitive's adjoint is another primitive of this group, so
    // gradients of gradients need nothing more. Results must not depend on scheduling: sums run
    // in a fixed order, no atomics. Dtypes: FLOAT32, FLOAT64.

    /**
     * {@code out[n, oy, ox, o] = sum over ky, kx, i of x[n, iy, ix, group(o) * cpg + i] *
     * filter[ky, kx, i, o]}, with iy, ix from {@code g} and padding cells zero ({@code cpg} =
     * {@link Conv2dGeometry#inChannelsPerGroup()}). x is {@code [batch, inHeight, inWidth,
     * inChannels]}, filter {@code [filterHeight, filterWidth, cpg, outChannels]}, out {@code [batch,
     * outHeight, outWidth, outChannels]}.
     */
    void conv2d(View x, View filter, Conv2dGeometry g, DeviceBuffer out);

    /**
     * The adjoint of {@link #conv2d} in x (TensorFlow's Conv2DBackpropInput; conv2dTranspose):
     * {@code dx[n, iy, ix, c] = sum of dy[n, oy, ox, o] * filter[ky, kx, i, o]} over every
     * (oy, ox, ky, kx, o) whose window cell is (iy, ix) and whose group reads channel c as i.
     * dy is the output's shape, dx the input's.
     */
    void conv2dBackpropInput(View dy, View filter, Conv2dGeometry g, DeviceBuffer dx);

    /**
     * The adjoint of {@link #conv2d} in the filter (Conv2DBackpropFilter):
     * {@code dfilter[ky, kx, i, o] = sum over n, oy, ox of x[n, iy, ix, group(o) * cpg + i] *
     * dy[n, oy, ox, o]}, padding cells zero.
     */
    void conv2dBackpropFilter(View x, View dy, Conv2dGeometry g, DeviceBuffer dfilter);

    /**
     * Average pooling: {@code out[n, oy, ox, c]} is the mean of x over the window cells that lie
     * inside the input (padding is not counted, as TensorFlow). For pooling, core guarantees that
     * {@code g.groups() == g.inChannels() == g.outChannels()} and that every window has a cell
     * inside the input.
     */
    void avgPool2d(View x, Conv2dGeometry g, DeviceBuffer out);

    /** The adjoint of {@link #avgPool2d}: each dy spreads equally over its window's counted cells. */
    void avgPool2dGrad(View dy, Conv2dGeometry g, DeviceBuffer dx);

    /**
     * Max pooling, by selection: {@code out[n, oy, ox, c] = values[n, iy*, ix*, c]}, where
     * (iy*, ix*) is the window's selected cell in {@code x}: the first, in row-major window order
     * over the cells inside the input, whose x is the window's maximum, a NaN counting as greater
     * than every number (so a window holding NaN selects its first NaN). {@code maxPool2d(x, x)} is
     * max pooling; {@code maxPool2d(x, h)} is the adjoint of {@link #maxPool2dGrad} in dy. x and
     * values have the input's shape.
     */
    void maxPool2d(View x, View values, Conv2dGeometry g, DeviceBuffer out);

    /**
     * The adjoint of max pooling in x: {@code dx} is zero but at each window's selected cell (as
     * {@link #maxPool2d} selects it), which receives that window's dy; overlapping windows add,
     * in window order.
     */
    void maxPool2dGrad(View x, View dy, Conv2dGeometry g, DeviceBuffer dx);

    // ---- batch normalization (training) ---------------------------------------------------------
    // x is a contiguous view whose last axis is the channel axis: [rows, C] for these primitives,
    // rows >= 1. Sums over rows run in a fixed order (no atomics); float32 sums may accumulate in
    // double. Dtypes: FLOAT32, FLOAT64.

    /**
     * TensorFlow's fused batch normalization in training mode: per channel c,
     * {@code mean[c] = sum(x[:, c]) / rows}, {@code variance[c] = sum((x[:, c] - mean[c])^2) / rows}
     * (biased), then {@code y = x * inv + (offset - mean * inv)} with {@code inv = rsqrt(variance
     * + epsilon) * scale} (the formula of tf.nn.batch_normalization). scale and offset are
     * contiguous [C]; y has x's shape, mean and variance are [C].
     */
    void batchNormTraining(View x, View scale, View offset, double epsilon, DeviceBuffer y, DeviceBuffer mean,
                           DeviceBuffer variance);

    /**
     * The VJP of {@link #batchNormTraining} for the incoming gradient dy (x's shape), from the
     * forward's mean and variance: with {@code r = rsqrt(variance + epsilon)} and {@code xhat =
     * (x - mean) * r}, {@code doffset[c] = sum(dy[:, c])}, {@code dscale[c] = sum(dy[:, c] *
     * xhat[:, c])}, and {@code dx = scale * r / rows * (rows * dy - doffset - xhat * dscale)}.
     */
    void batchNormTrainingGrad(View dy, View x, View scale, View mean, View variance, double epsilon, DeviceBuffer dx,
                               DeviceBuffer dscale, DeviceBuffer doffset);

    // ---- random --------------------------------------------------------------------------

    /**
     * Fills {@code out} (FLOAT32 or FLOAT64) with uniform values in [0, 1) from the
     * counter-based generator Philox4x32-10 keyed by {@code seed}: element {@code i} is
     * {@link Philox#uniformFloat(long, long)} or {@link Philox#uniformDouble(long, long)} of
     * {@code (seed, i)}, bit for bit, on every backend.
     */
    void randomUniform(DeviceBuffer out, long seed);

    // ---- fused elementwise (bias-add + activation) ----------------------------------------

    /**
     * The unary ops {@link #binaryUnary} takes as its epilogue: the activations. Each costs the
     * OpenCL backend a program build (and the kernel tests a run), so the set grows when an op
     * needs it, not before.
     */
    Set<UnaryOp> EPILOGUES = Collections.unmodifiableSet(EnumSet.of(UnaryOp.RELU, UnaryOp.TANH, UnaryOp.SIGMOID));

    /**
     * {@code out[i] = epilogue(op(a[i], b[i]))} in one launch: what {@link #binary} then
     * {@link #unary} compute, without the intermediate buffer or the second launch ({@code
     * relu(x·W + b)}). {@code op} is arithmetic (not a comparison); a and b as for {@link
     * #binary}; {@code epilogue} one of {@link #EPILOGUES} that accepts the dtype. The result
     * equals the two primitives' to the last bit.
     */
    void binaryUnary(BinaryOp op, UnaryOp epilogue, View a, View b, DeviceBuffer out);

    /**
     * {@code out[i]} = the last step of {@code program} over element i of {@code inputs} (each
     * broadcast to the output's shape, as {@link #binary}'s operands): a traced function's fused
     * elementwise chain. The default runs each step as its primitive into temporaries, so any
     * backend runs fused graphs; backends override it with one pass (one kernel, no temporaries).
     */
    default void fusedElementwise(FusedElementwise program, View[] inputs, DeviceBuffer out) {
        int[] shape = inputs[0].shape();
        int n = inputs.length;
        View[] operands = new View[n + program.steps().size()];
        System.arraycopy(inputs, 0, operands, 0, n);
        DeviceBuffer[] temps = new DeviceBuffer[program.steps().size()];
        try {
            for (int j = 0; j < temps.length; j++) {
                FusedElementwise.Step s = program.steps().get(j);
                boolean last = j == temps.length - 1;
                DeviceBuffer r = last ? out : (temps[j] = allocate(program.dtype(), out.size()));
                if (s.unary() != null) {
                    unary(s.unary(), operands[s.a()], r);
                } else {
                    binary(s.binary(), operands[s.a()], operands[s.b()], r);
                }
                operands[n + j] = View.contiguous(r, shape);
            }
        } finally {
            for (DeviceBuffer t : temps) {
                if (t != null) {
                    release(t);
                }
            }
        }
    }

    /**
     * {@code out = op(a @ b, operand)}, then {@code activation} if not null: a matmul with an
     * elementwise epilogue ({@code relu(x·W + b)}, relu's gradient after {@code dY·Wᵀ}), for
     * traced functions. {@code a}, {@code b} as for {@link #matmul}; {@code operand} has the
     * product's element count, read in the product's row-major order (a bias is a row broadcast
     * with stride 0); {@code op} arithmetic; {@code activation} one of {@link #EPILOGUES} or null.
     * The result equals {@link #matmul} then {@link #binary} (or {@link #binaryUnary}) to the bit.
     * The default does exactly that, through a temporary; backends that say
     * {@link #fusesMatmulEpilogues} apply the epilogue as the product is stored.
     */
    default void matmulEpilogue(View a, View b, BinaryOp op, View operand, UnaryOp activation, DeviceBuffer out) {
        DeviceBuffer product = allocate(out.dtype(), out.size());
        try {
            matmul(a, b, product);
            View p = View.contiguous(product, operand.shape());
            if (activation == null) {
                binary(op, p, operand, out);
            } else {
                binaryUnary(op, activation, p, operand, out);
            }
        } finally {
            release(product);
        }
    }

    /**
     * Whether {@link #matmulEpilogue} costs one launch; traced functions fuse matmul epilogues only
     * for such backends.
     */
    default boolean fusesMatmulEpilogues() {
        return false;
    }

    /**
     * Several independent {@link #fusedElementwise} programs in one launch (horizontal fusion: the
     * small updates of an optimizer step, say): {@code outs.get(k)} gets program k over
     * {@code inputs.get(k)}, exactly as {@link #fusedElementwise} would give it. No output is an
     * input of another program, and the outputs are distinct buffers. The default runs the
     * programs one after another; backends where a launch costs more than the work override it.
     */
    default void fusedElementwiseGroup(List<FusedElementwise> programs, List<View[]> inputs,
                                       List<DeviceBuffer> outs) {
        if (programs.size() != inputs.size() || programs.size() != outs.size()) {
            throw new IllegalArgumentException("fusedElementwiseGroup: " + programs.size() + " programs, "
                    + inputs.size() + " input lists and " + outs.size() + " outputs");
        }
        for (int k = 0; k < programs.size(); k++) {
            fusedElementwise(programs.get(k), inputs.get(k), outs.get(k));
        }
    }

    /**
     * Whether {@link #fusedElementwiseGroup} runs a group in fewer launches than one per program.
     * Traced functions group independent elementwise work only for such backends: elsewhere
     * (the {@code cpu} device, where a launch is a method call) grouping gains nothing.
     */
    default boolean groupsElementwise() {
        return false;
    }

    // ---- training updates (one launch per parameter) -------------------------------------
    //
    // TensorFlow's raw training ops (ApplyGradientDescent, ApplyMomentum, ApplyKerasMomentum,
    // ApplyAdam). Inputs are contiguous views of one float dtype and one shape (core copies
    // others); each new value goes to a fresh output, never to an input, so that tensors read
    // from a variable before the update keep the old value. Hyperparameters arrive as doubles
    // and are converted to the dtype once; the arithmetic is the dtype's, in the order written,
    // without fused multiply-adds, so that it matches the same formula written with primitives.

    /** {@code varOut = var - lr * grad}. Dtypes: FLOAT32, FLOAT64. */
    void applyGradientDescent(View var, View grad, double lr, DeviceBuffer varOut);

    /**
     * Momentum, in one of two forms. TensorFlow's ({@code keras} false):
     * {@code accumOut = accum * momentum + grad}, then {@code varOut = var - lr * accumOut}, or
     * with {@code nesterov} {@code varOut = var - (grad * lr + accumOut * momentum * lr)}.
     * Keras's ({@code keras} true, the accumulator includes the learning rate):
     * {@code accumOut = accum * momentum - grad * lr}, then {@code varOut = var + accumOut}, or
     * with {@code nesterov} {@code varOut = var + (accumOut * momentum - grad * lr)}.
     * Dtypes: FLOAT32, FLOAT64.
     */
    void applyMomentum(View var, View accum, View grad, double lr, double momentum, boolean nesterov,
                       boolean keras, DeviceBuffer varOut, DeviceBuffer accumOut);

    /**
     * Adam, TensorFlow's ApplyAdam with {@code alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)}
     * computed by core in double: {@code mOut = m + (grad - m) * (1 - beta1)},
     * {@code vOut = v + (grad * grad - v) * (1 - beta2)},
     * {@code varOut = var - mOut * alpha / (sqrt(vOut) + epsilon)}; {@code 1 - beta} in double,
     * then converted. Dtypes: FLOAT32, FLOAT64.
     */
    void applyAdam(View var, View m, View v, View grad, double alpha, double beta1, double beta2, double epsilon,
                   DeviceBuffer varOut, DeviceBuffer mOut, DeviceBuffer vOut);

    // ---- lifecycle -----------------------------------------------------------------------

    /** Waits until all issued work has finished. */
    void synchronize();

    /**
     * Kernels this backend has queued on its device since it opened ({@link
     * dev.spool.DeviceStats#kernelLaunches()}): a count tests can assert where a time could not
     * be. 0 for a backend that runs primitives on the calling thread and launches nothing.
     */
    default long kernelLaunches() {
        return 0;
    }

    /** Releases every native resource. Buffers still live are released too. */
    @Override
    void close();
}
