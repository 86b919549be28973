package dev.spool;

import dev.spool.function.TracedFunction;
import dev.spool.internal.CoreAccess;
import dev.spool.internal.NullChecks;
import java.util.List;
import java.util.function.DoubleSupplier;

/**
 * Spool's TensorFlow-shaped entry point: {@code tf.ones} is {@code Spool.ones},
 * {@code tf.reduce_sum} is {@code Spool.reduceSum}, {@code tf.multiply} is
 * {@code Spool.multiply}. Factories create tensors on {@link Device#current()}; ops run on
 * their inputs' device. The same ops are methods of every {@link Operand}. A {@code null}
 * argument (or list element) is a {@link NullPointerException} naming it ({@code add: b is null}).
 */
public final class Spool {
    static {
        CoreAccess.install(new CoreAccessImpl());
    }

    private Spool() {
    }

    // ---- factories -----------------------------------------------------------------------

    /** A float32 scalar (TF turns Python floats into float32 too). */
    public static Tensor constant(float value) {
        return Creation.scalar(Device.current(), DType.FLOAT32, value);
    }

    /** A float32 scalar: like a Python float in {@code tf.constant(3.0)}, a Java double
     *  literal makes float32. Use {@link #constant(double, DType)} for float64. */
    public static Tensor constant(double value) {
        return Creation.scalar(Device.current(), DType.FLOAT32, value);
    }

    public static Tensor constant(int value) {
        return Creation.scalar(Device.current(), DType.INT32, value);
    }

    public static Tensor constant(long value) {
        return Creation.scalar(Device.current(), DType.INT64, value);
    }

    public static Tensor constant(boolean value) {
        return Creation.scalar(Device.current(), DType.BOOL, value ? 1 : 0);
    }

    /** A scalar of any dtype. */
    public static Tensor constant(double value, DType dtype) {
        return Creation.scalar(Device.current(), NullChecks.nonNull(dtype, "constant", "dtype"), value);
    }

    /**
     * A tensor from a Java array of any rank: {@code float[]}, {@code double[][]}, {@code int[][][]},
     * {@code long[]}, {@code boolean[]}. The dtype follows the element type, as for a NumPy
     * array (float → float32, double → float64, int → int32, long → int64, boolean → bool).
     */
    public static Tensor constant(Object array) {
        return Creation.constant(Device.current(), array);
    }

    /** A tensor of {@code shape} from flat row-major values, converted to {@code dtype}. */
    public static Tensor constant(double[] values, Shape shape, DType dtype) {
        NullChecks.nonNull(values, "constant", "values");
        NullChecks.nonNull(shape, "constant", "shape");
        NullChecks.nonNull(dtype, "constant", "dtype");
        if (values.length != shape.size()) {
            throw new ShapeException("constant: " + values.length + " values for shape " + shape);
        }
        // Converted on the host: a float64 staging tensor would fail on devices without float64.
        return Creation.fromHost(Device.current(), shape, dtype, Creation.convert(values, dtype));
    }

    /** TF's {@code convert_to_tensor}: a tensor as is, a variable's value, a Java number or array. */
    public static Tensor convertToTensor(Object value) {
        if (value instanceof Operand o) {
            return o.value();
        }
        if (value instanceof Float f) {
            return constant(f.floatValue());
        }
        if (value instanceof Double d) {
            return constant(d.floatValue()); // as TF: Python floats become float32
        }
        if (value instanceof Integer i) {
            return constant(i.intValue());
        }
        if (value instanceof Long l) {
            return constant(l.longValue());
        }
        if (value instanceof Boolean b) {
            return constant(b.booleanValue());
        }
        return constant(value);
    }

    public static Tensor zeros(int... dims) {
        return zeros(Shape.of(NullChecks.nonNull(dims, "zeros", "dims")), DType.FLOAT32);
    }

    public static Tensor zeros(Shape shape, DType dtype) {
        return Creation.zeros(Device.current(), NullChecks.nonNull(shape, "zeros", "shape"),
                NullChecks.nonNull(dtype, "zeros", "dtype"));
    }

    public static Tensor ones(int... dims) {
        return ones(Shape.of(NullChecks.nonNull(dims, "ones", "dims")), DType.FLOAT32);
    }

    public static Tensor ones(Shape shape, DType dtype) {
        return Creation.ones(Device.current(), NullChecks.nonNull(shape, "ones", "shape"),
                NullChecks.nonNull(dtype, "ones", "dtype"));
    }

    /** {@code shape} filled with {@code value}, float32. */
    public static Tensor fill(Shape shape, double value) {
        return fill(shape, value, DType.FLOAT32);
    }

    public static Tensor fill(Shape shape, double value, DType dtype) {
        return Creation.fill(Device.current(), NullChecks.nonNull(shape, "fill", "shape"),
                NullChecks.nonNull(dtype, "fill", "dtype"), value);
    }

    /** Zeros with x's shape, dtype and device. */
    public static Tensor zerosLike(Operand x) {
        return Creation.zerosLike(Args.value(x, "zerosLike", "x"));
    }

    /** Ones with x's shape, dtype and device. */
    public static Tensor onesLike(Operand x) {
        return Creation.onesLike(Args.value(x, "onesLike", "x"));
    }

    /** int32 {@code [0, limit)}. */
    public static Tensor range(int limit) {
        return range(0, limit, 1, DType.INT32);
    }

    /** {@code start, start + delta, ...} while below {@code limit} (above, for negative delta). */
    public static Tensor range(double start, double limit, double delta, DType dtype) {
        return Creation.range(Device.current(), start, limit, delta, NullChecks.nonNull(dtype, "range", "dtype"));
    }

    /** {@code num} float32 values evenly spaced from start to stop, both included. */
    public static Tensor linspace(double start, double stop, int num) {
        return Creation.linspace(Device.current(), start, stop, num, DType.FLOAT32);
    }

    public static Tensor linspace(double start, double stop, int num, DType dtype) {
        return Creation.linspace(Device.current(), start, stop, num, NullChecks.nonNull(dtype, "linspace", "dtype"));
    }

    /** The float32 {@code n x n} identity. */
    public static Tensor eye(int n) {
        return eye(n, n, DType.FLOAT32);
    }

    public static Tensor eye(int rows, int cols, DType dtype) {
        return Creation.eye(Device.current(), rows, cols, NullChecks.nonNull(dtype, "eye", "dtype"));
    }

    /** float32 uniform in [0, 1), the same values on every device for the same seed. */
    public static Tensor randomUniform(Shape shape, long seed) {
        return randomUniform(shape, seed, 0, 1, DType.FLOAT32);
    }

    public static Tensor randomUniform(Shape shape, long seed, double min, double max, DType dtype) {
        return Creation.randomUniform(Device.current(), NullChecks.nonNull(shape, "randomUniform", "shape"), seed, min, max,
                NullChecks.nonNull(dtype, "randomUniform", "dtype"));
    }

    /** float32 standard normal, the same values on every device for the same seed (to rounding). */
    public static Tensor randomNormal(Shape shape, long seed) {
        return randomNormal(shape, seed, 0, 1, DType.FLOAT32);
    }

    public static Tensor randomNormal(Shape shape, long seed, double mean, double stddev, DType dtype) {
        return Creation.randomNormal(Device.current(), NullChecks.nonNull(shape, "randomNormal", "shape"), seed, mean, stddev,
                NullChecks.nonNull(dtype, "randomNormal", "dtype"));
    }

    // ---- elementwise ---------------------------------------------------------------------

    public static Tensor add(Operand a, Operand b) {
        return ElementwiseOps.add(Args.value(a, "add", "a"), Args.value(b, "add", "b"));
    }

    public static Tensor subtract(Operand a, Operand b) {
        return ElementwiseOps.sub(Args.value(a, "subtract", "a"), Args.value(b, "subtract", "b"));
    }

    public static Tensor multiply(Operand a, Operand b) {
        return ElementwiseOps.mul(Args.value(a, "multiply", "a"), Args.value(b, "multiply", "b"));
    }

    /** {@code a * b} with a Java number, which takes {@code b}'s dtype. */
    public static Tensor multiply(double a, Operand b) {
        Tensor y = Args.value(b, "multiply", "b");
        return ElementwiseOps.mul(Creation.scalarLike(y, a), y);
    }

    public static Tensor divide(Operand a, Operand b) {
        return ElementwiseOps.div(Args.value(a, "divide", "a"), Args.value(b, "divide", "b"));
    }

    public static Tensor pow(Operand a, Operand b) {
        return ElementwiseOps.pow(Args.value(a, "pow", "a"), Args.value(b, "pow", "b"));
    }

    public static Tensor maximum(Operand a, Operand b) {
        return ElementwiseOps.maximum(Args.value(a, "maximum", "a"), Args.value(b, "maximum", "b"));
    }

    public static Tensor minimum(Operand a, Operand b) {
        return ElementwiseOps.minimum(Args.value(a, "minimum", "a"), Args.value(b, "minimum", "b"));
    }

    public static Tensor negative(Operand x) {
        return ElementwiseOps.neg(Args.value(x, "negative", "x"));
    }

    public static Tensor abs(Operand x) {
        return ElementwiseOps.abs(Args.value(x, "abs", "x"));
    }

    public static Tensor sign(Operand x) {
        return ElementwiseOps.sign(Args.value(x, "sign", "x"));
    }

    public static Tensor exp(Operand x) {
        return ElementwiseOps.exp(Args.value(x, "exp", "x"));
    }

    public static Tensor log(Operand x) {
        return ElementwiseOps.log(Args.value(x, "log", "x"));
    }

    public static Tensor sqrt(Operand x) {
        return ElementwiseOps.sqrt(Args.value(x, "sqrt", "x"));
    }

    public static Tensor rsqrt(Operand x) {
        return ElementwiseOps.rsqrt(Args.value(x, "rsqrt", "x"));
    }

    public static Tensor square(Operand x) {
        return ElementwiseOps.square(Args.value(x, "square", "x"));
    }

    public static Tensor reciprocal(Operand x) {
        return ElementwiseOps.reciprocal(Args.value(x, "reciprocal", "x"));
    }

    public static Tensor sin(Operand x) {
        return ElementwiseOps.sin(Args.value(x, "sin", "x"));
    }

    public static Tensor cos(Operand x) {
        return ElementwiseOps.cos(Args.value(x, "cos", "x"));
    }

    public static Tensor tanh(Operand x) {
        return ElementwiseOps.tanh(Args.value(x, "tanh", "x"));
    }

    public static Tensor sigmoid(Operand x) {
        return ElementwiseOps.sigmoid(Args.value(x, "sigmoid", "x"));
    }

    public static Tensor relu(Operand x) {
        return ElementwiseOps.relu(Args.value(x, "relu", "x"));
    }

    public static Tensor softplus(Operand x) {
        return ElementwiseOps.softplus(Args.value(x, "softplus", "x"));
    }

    /**
     * {@code tf.linalg.band_part}: a copy of {@code x} (rank >= 2) keeping, in each matrix of its
     * last two axes, the elements with {@code -numLower <= j - i <= numUpper} and zeroing the rest;
     * a negative bound keeps that whole triangle. {@code bandPart(ones, -1, 0)} is the lower
     * triangle, a causal mask. Built on the device from index vectors: no host array of the
     * matrix's size.
     */
    public static Tensor bandPart(Operand x, long numLower, long numUpper) {
        return BandOps.bandPart(Args.value(x, "bandPart", "x"), numLower, numUpper);
    }

    /**
     * A bool [rows, cols] band, true where {@code -numLower <= j - i <= numUpper} (negative: no
     * bound), made on the current device; {@code bandMask(t, t, -1, 0)} is the causal mask of
     * {@link #scaledDotProductAttention}, ready to combine with a padding mask.
     */
    public static Tensor bandMask(int rows, int cols, long numLower, long numUpper) {
        Shape.of(rows, cols); // a negative size is a ShapeException
        return BandOps.bandMask(Device.current(), rows, cols, numLower, numUpper);
    }

    /** The error function, {@code (2/sqrt(pi)) ∫₀ˣ exp(-t²) dt} (float32, float64). */
    public static Tensor erf(Operand x) {
        return ElementwiseOps.erf(Args.value(x, "erf", "x"));
    }

    /** Exact GELU, {@code x·Φ(x) = 0.5·x·(1 + erf(x/√2))}: Keras's {@code gelu(x)} default. */
    public static Tensor gelu(Operand x) {
        return gelu(x, false);
    }

    /**
     * GELU, as Keras's {@code gelu(x, approximate)}: exact ({@code 0.5·x·(1 + erf(x/√2))}) or,
     * with {@code approximate}, {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}.
     */
    public static Tensor gelu(Operand x, boolean approximate) {
        return ElementwiseOps.gelu(Args.value(x, "gelu", "x"), approximate);
    }

    public static Tensor equal(Operand a, Operand b) {
        return ElementwiseOps.equal(Args.value(a, "equal", "a"), Args.value(b, "equal", "b"));
    }

    public static Tensor notEqual(Operand a, Operand b) {
        return ElementwiseOps.notEqual(Args.value(a, "notEqual", "a"), Args.value(b, "notEqual", "b"));
    }

    public static Tensor less(Operand a, Operand b) {
        return ElementwiseOps.less(Args.value(a, "less", "a"), Args.value(b, "less", "b"));
    }

    public static Tensor lessEqual(Operand a, Operand b) {
        return ElementwiseOps.lessEqual(Args.value(a, "lessEqual", "a"), Args.value(b, "lessEqual", "b"));
    }

    public static Tensor greater(Operand a, Operand b) {
        return ElementwiseOps.greater(Args.value(a, "greater", "a"), Args.value(b, "greater", "b"));
    }

    public static Tensor greaterEqual(Operand a, Operand b) {
        return ElementwiseOps.greaterEqual(Args.value(a, "greaterEqual", "a"), Args.value(b, "greaterEqual", "b"));
    }

    /** {@code cond ? a : b} elementwise; cond is bool; all three broadcast. */
    public static Tensor where(Operand cond, Operand a, Operand b) {
        return ElementwiseOps.where(Args.value(cond, "where", "cond"), Args.value(a, "where", "a"),
                Args.value(b, "where", "b"));
    }

    // ---- reductions ----------------------------------------------------------------------

    /** {@code tf.reduce_sum(x)}: sum over every axis, a scalar. */
    public static Tensor reduceSum(Operand x) {
        return ReductionOps.sum(Args.value(x, "reduceSum", "x"), false, (int[]) null);
    }

    /**
     * {@code tf.reduce_sum(x, axis=axes)}: sum over {@code axes} (negative counts from the end). An
     * explicit empty array reduces over no axis and returns x's values, as TensorFlow; {@code null}
     * or the form without axes reduces over every axis.
     */
    public static Tensor reduceSum(Operand x, int... axes) {
        return ReductionOps.sum(Args.value(x, "reduceSum", "x"), false, axes);
    }

    /** As {@link #reduceSum(Operand, int...)}, keeping reduced axes as size 1 when {@code keepDims}; {@code null} axes mean all. */
    public static Tensor reduceSum(Operand x, int[] axes, boolean keepDims) {
        return ReductionOps.sum(Args.value(x, "reduceSum", "x"), keepDims, axes);
    }

    /** {@code tf.reduce_mean(x)}: mean over every axis, a scalar. */
    public static Tensor reduceMean(Operand x) {
        return ReductionOps.mean(Args.value(x, "reduceMean", "x"), false, (int[]) null);
    }

    /**
     * {@code tf.reduce_mean(x, axis=axes)}: mean over {@code axes} (negative counts from the end). An
     * explicit empty array reduces over no axis and returns x's values, as TensorFlow; {@code null}
     * or the form without axes reduces over every axis.
     */
    public static Tensor reduceMean(Operand x, int... axes) {
        return ReductionOps.mean(Args.value(x, "reduceMean", "x"), false, axes);
    }

    /** As {@link #reduceMean(Operand, int...)}, keeping reduced axes as size 1 when {@code keepDims}; {@code null} axes mean all. */
    public static Tensor reduceMean(Operand x, int[] axes, boolean keepDims) {
        return ReductionOps.mean(Args.value(x, "reduceMean", "x"), keepDims, axes);
    }

    /** {@code tf.reduce_max(x)}: max over every axis, a scalar. */
    public static Tensor reduceMax(Operand x) {
        return ReductionOps.max(Args.value(x, "reduceMax", "x"), false, (int[]) null);
    }

    /**
     * {@code tf.reduce_max(x, axis=axes)}: max over {@code axes} (negative counts from the end). An
     * explicit empty array reduces over no axis and returns x's values, as TensorFlow; {@code null}
     * or the form without axes reduces over every axis.
     */
    public static Tensor reduceMax(Operand x, int... axes) {
        return ReductionOps.max(Args.value(x, "reduceMax", "x"), false, axes);
    }

    /** As {@link #reduceMax(Operand, int...)}, keeping reduced axes as size 1 when {@code keepDims}; {@code null} axes mean all. */
    public static Tensor reduceMax(Operand x, int[] axes, boolean keepDims) {
        return ReductionOps.max(Args.value(x, "reduceMax", "x"), keepDims, axes);
    }

    /** {@code tf.reduce_min(x)}: min over every axis, a scalar. */
    public static Tensor reduceMin(Operand x) {
        return ReductionOps.min(Args.value(x, "reduceMin", "x"), false, (int[]) null);
    }

    /**
     * {@code tf.reduce_min(x, axis=axes)}: min over {@code axes} (negative counts from the end). An
     * explicit empty array reduces over no axis and returns x's values, as TensorFlow; {@code null}
     * or the form without axes reduces over every axis.
     */
    public static Tensor reduceMin(Operand x, int... axes) {
        return ReductionOps.min(Args.value(x, "reduceMin", "x"), false, axes);
    }

    /** As {@link #reduceMin(Operand, int...)}, keeping reduced axes as size 1 when {@code keepDims}; {@code null} axes mean all. */
    public static Tensor reduceMin(Operand x, int[] axes, boolean keepDims) {
        return ReductionOps.min(Args.value(x, "reduceMin", "x"), keepDims, axes);
    }

    /** {@code tf.reduce_prod(x)}: prod over every axis, a scalar. */
    public static Tensor reduceProd(Operand x) {
        return ReductionOps.prod(Args.value(x, "reduceProd", "x"), false, (int[]) null);
    }

    /**
     * {@code tf.reduce_prod(x, axis=axes)}: prod over {@code axes} (negative counts from the end). An
     * explicit empty array reduces over no axis and returns x's values, as TensorFlow; {@code null}
     * or the form without axes reduces over every axis.
     */
    public static Tensor reduceProd(Operand x, int... axes) {
        return ReductionOps.prod(Args.value(x, "reduceProd", "x"), false, axes);
    }

    /** As {@link #reduceProd(Operand, int...)}, keeping reduced axes as size 1 when {@code keepDims}; {@code null} axes mean all. */
    public static Tensor reduceProd(Operand x, int[] axes, boolean keepDims) {
        return ReductionOps.prod(Args.value(x, "reduceProd", "x"), keepDims, axes);
    }

    public static Tensor argMax(Operand x, int axis) {
        return ReductionOps.argMax(Args.value(x, "argMax", "x"), axis);
    }

    public static Tensor argMin(Operand x, int axis) {
        return ReductionOps.argMin(Args.value(x, "argMin", "x"), axis);
    }

    // ---- linear algebra and shape --------------------------------------------------------

    public static Tensor matmul(Operand a, Operand b) {
        return LinalgOps.matmul(Args.value(a, "matmul", "a"), Args.value(b, "matmul", "b"), false, false);
    }

    public static Tensor matmul(Operand a, Operand b, boolean transposeA, boolean transposeB) {
        return LinalgOps.matmul(Args.value(a, "matmul", "a"), Args.value(b, "matmul", "b"), transposeA, transposeB);
    }

    public static Tensor reshape(Operand x, int... dims) {
        return ShapeOps.reshape(Args.value(x, "reshape", "x"), dims);
    }

    /** {@code tf.transpose(x)}: reverses the dimensions (a matrix transpose for rank 2). */
    public static Tensor transpose(Operand x) {
        return ShapeOps.transpose(Args.value(x, "transpose", "x"), (int[]) null);
    }

    /**
     * {@code tf.transpose(x, perm)}: output dim i is x's dim {@code perm[i]}; {@code perm} must name
     * every axis once, so an explicit empty perm is valid only for a scalar (as TensorFlow);
     * {@code null} or the form without perm reverses the dimensions.
     */
    public static Tensor transpose(Operand x, int... perm) {
        return ShapeOps.transpose(Args.value(x, "transpose", "x"), perm);
    }

    public static Tensor expandDims(Operand x, int axis) {
        return ShapeOps.expandDims(Args.value(x, "expandDims", "x"), axis);
    }

    /**
     * {@code tf.squeeze(x, axis=axes)}: removes the listed size-1 axes. TensorFlow's rule, unlike the
     * reductions': no axes, an empty array or {@code null} removes every size-1 axis.
     */
    public static Tensor squeeze(Operand x, int... axes) {
        return ShapeOps.squeeze(Args.value(x, "squeeze", "x"), axes);
    }

    public static Tensor broadcastTo(Operand x, int... dims) {
        return ShapeOps.broadcastTo(Args.value(x, "broadcastTo", "x"), dims);
    }

    public static Tensor slice(Operand x, int[] begin, int[] size) {
        return ShapeOps.slice(Args.value(x, "slice", "x"), begin, size);
    }

    public static Tensor tile(Operand x, int... multiples) {
        return ShapeOps.tile(Args.value(x, "tile", "x"), multiples);
    }

    /**
     * {@code tf.gather}: params indexed along {@code axis} by int32/int64 {@code indices} of any
     * shape. An index outside {@code [0, params.shape[axis])} gives zeros (TF's GPU kernels), unless
     * checked indices are on ({@link #enableCheckIndices()}): then the first throws
     * {@link IndexOutOfRangeException} with its position (TF's CPU kernels). The gradient's
     * scatter-add follows the same rule.
     */
    public static Tensor gather(Operand params, Operand indices, int axis) {
        return ShapeOps.gather(Args.value(params, "gather", "params"), Args.value(indices, "gather", "indices"), axis);
    }

    public static Tensor concat(List<? extends Operand> parts, int axis) {
        return ShapeOps.concat(Args.values(parts, "concat", "parts"), axis);
    }

    public static Tensor stack(List<? extends Operand> parts, int axis) {
        return ShapeOps.stack(Args.values(parts, "stack", "parts"), axis);
    }

    /**
     * One-hot float32 encoding with a new last axis of size {@code depth}. An index outside
     * {@code [0, depth)} gives a row of zeros, as {@code tf.one_hot}, unless checked indices are on
     * ({@link #enableCheckIndices()}): then it throws {@link IndexOutOfRangeException}.
     */
    public static Tensor oneHot(Operand indices, int depth) {
        return oneHot(indices, depth, 1, 0, DType.FLOAT32);
    }

    /** {@link #oneHot(Operand, int)} with {@code on} and {@code off} values of {@code dtype}; the same index rule. */
    public static Tensor oneHot(Operand indices, int depth, double on, double off, DType dtype) {
        return ShapeOps.oneHot(Args.value(indices, "oneHot", "indices"), depth, on, off, dtype);
    }

    // ---- nn, dtype, gradient control -----------------------------------------------------

    public static Tensor softmax(Operand logits, int axis) {
        return NnOps.softmax(Args.value(logits, "softmax", "logits"), axis);
    }

    public static Tensor logSoftmax(Operand logits, int axis) {
        return NnOps.logSoftmax(Args.value(logits, "logSoftmax", "logits"), axis);
    }

    /**
     * Scaled dot-product attention over the last two axes, as Keras's {@code MultiHeadAttention}
     * computes it: {@code softmax(q·kᵀ·scale, masked) · v} with q [..., Tq, d], k [..., Tk, d] and
     * v [..., Tk, dv] (leading axes, such as batch and heads, equal), giving [..., Tq, dv].
     *
     * <p>One fused primitive forward and one backward (FlashAttention-2's tiles and online softmax):
     * no [Tq, Tk] score matrix is held, so memory grows with T, not T². When a tape records the
     * backward pass itself (an outer tape, for gradients of gradients), the gradient is computed
     * from ops instead (matmul, softmax and its VJP), so that higher derivatives are exact too.
     *
     * @param mask   null, or bool broadcastable to [..., Tq, Tk]: true where a query may attend to
     *               a key. A masked score becomes -1e9 before the softmax, as Keras's masked
     *               softmax, so a row with every key masked attends uniformly rather than giving NaN.
     * @param causal also mask key j > query i (top-left aligned, as Keras's {@code use_causal_mask}).
     * @param scale  the factor on the scores; {@link #scaledDotProductAttention(Operand, Operand,
     *               Operand, Operand, boolean)} uses 1/sqrt(d).
     */
    public static Tensor scaledDotProductAttention(Operand q, Operand k, Operand v, Operand mask, boolean causal,
                                                   double scale) {
        String op = "scaledDotProductAttention";
        return AttentionOps.scaledDotProductAttention(Args.value(q, op, "q"), Args.value(k, op, "k"),
                Args.value(v, op, "v"), mask == null ? null : Args.value(mask, op, "mask"), causal, scale);
    }

    /** {@link #scaledDotProductAttention(Operand, Operand, Operand, Operand, boolean, double)} with
     *  scale 1/sqrt(d), d the depth of q and k. */
    public static Tensor scaledDotProductAttention(Operand q, Operand k, Operand v, Operand mask, boolean causal) {
        Tensor qt = Args.value(q, "scaledDotProductAttention", "q");
        return scaledDotProductAttention(qt, k, v, mask, causal, 1 / Math.sqrt(qt.shape().dim(-1)));
    }

    /** One loss per example, over the last axis: {@code -sum(labels * logSoftmax(logits))}. */
    public static Tensor softmaxCrossEntropyWithLogits(Operand labels, Operand logits) {
        return NnOps.softmaxCrossEntropyWithLogits(Args.value(labels, "softmaxCrossEntropyWithLogits", "labels"),
                Args.value(logits, "softmaxCrossEntropyWithLogits", "logits"), -1);
    }

    public static Tensor cast(Operand x, DType dtype) {
        return ElementwiseOps.cast(Args.value(x, "cast", "x"), dtype);
    }

    public static Tensor stopGradient(Operand x) {
        return ElementwiseOps.stopGradient(Args.value(x, "stopGradient", "x"));
    }

    public static Tensor identity(Operand x) {
        return ElementwiseOps.identity(Args.value(x, "identity", "x"));
    }

    // ---- bias-add and fused activations (tf.nn.bias_add) --------------------------------

    /** {@code x + bias} with a rank-1 {@code bias} the size of {@code x}'s last axis ({@code tf.nn.bias_add}). */
    public static Tensor biasAdd(Operand x, Operand bias) {
        return BiasOps.biasAdd(Args.value(x, "biasAdd", "x"), Args.value(bias, "biasAdd", "bias"));
    }

    /** {@code activation(x + bias)} in one kernel launch; differentiable in both inputs. */
    public static Tensor biasAdd(Operand x, Operand bias, FusedActivation activation) {
        return BiasOps.biasAdd(Args.value(x, "biasAdd", "x"), Args.value(bias, "biasAdd", "bias"), activation);
    }

    // ---- convolution, pooling, normalization (NHWC images, HWIO filters) ------------------

    /**
     * {@code tf.nn.conv2d}: x {@code [batch, height, width, inChannels]}, filters {@code [kh, kw,
     * inChannels / groups, outChannels]} (a grouped convolution when the filter has fewer input
     * channels than x). {@code strides} as TensorFlow: {@code {s}}, {@code {sh, sw}} or
     * {@code {1, sh, sw, 1}}. The output is {@code [batch, outHeight, outWidth, outChannels]}.
     */
    public static Tensor conv2d(Operand x, Operand filters, int[] strides, Padding padding) {
        return conv2d(x, filters, strides, padding, new int[] {1});
    }

    /** {@link #conv2d(Operand, Operand, int[], Padding)} with dilations ({@code {d}}, {@code {dh, dw}}, ...). */
    public static Tensor conv2d(Operand x, Operand filters, int[] strides, Padding padding, int[] dilations) {
        return ConvOps.conv2d(Args.value(x, "conv2d", "x"), Args.value(filters, "conv2d", "filters"), strides,
                padding, dilations);
    }

    /**
     * {@code tf.nn.depthwise_conv2d}: filter {@code [kh, kw, inChannels, multiplier]}; output
     * channel {@code c * multiplier + m} is input channel c convolved with {@code filter[:, :, c, m]}.
     */
    public static Tensor depthwiseConv2d(Operand x, Operand filter, int[] strides, Padding padding) {
        return depthwiseConv2d(x, filter, strides, padding, new int[] {1});
    }

    /** {@link #depthwiseConv2d(Operand, Operand, int[], Padding)} with dilations. */
    public static Tensor depthwiseConv2d(Operand x, Operand filter, int[] strides, Padding padding, int[] dilations) {
        return ConvOps.depthwiseConv2d(Args.value(x, "depthwiseConv2d", "x"),
                Args.value(filter, "depthwiseConv2d", "filter"), strides, padding, dilations);
    }

    /**
     * {@code tf.nn.conv2d_transpose}, the gradient of {@code conv2d} with respect to its input:
     * filters {@code [kh, kw, outChannels, inChannels]}, {@code outputShape} {@code [batch, height,
     * width, outChannels]}, which a conv2d with these strides and padding maps back to input's
     * spatial size.
     */
    public static Tensor conv2dTranspose(Operand input, Operand filters, int[] outputShape, int[] strides,
                                         Padding padding) {
        return conv2dTranspose(input, filters, outputShape, strides, padding, new int[] {1});
    }

    /** {@link #conv2dTranspose(Operand, Operand, int[], int[], Padding)} with dilations. */
    public static Tensor conv2dTranspose(Operand input, Operand filters, int[] outputShape, int[] strides,
                                         Padding padding, int[] dilations) {
        return ConvOps.conv2dTranspose(Args.value(input, "conv2dTranspose", "input"),
                Args.value(filters, "conv2dTranspose", "filters"), outputShape, strides, padding, dilations);
    }

    /**
     * {@code tf.nn.max_pool2d}: the maximum of each {@code poolSize} window per channel, padding
     * cells ignored. The gradient goes to one cell per window: the first maximal cell in
     * row-major window order (TensorFlow's rule; {@code reduceMax} splits ties instead).
     */
    public static Tensor maxPool2d(Operand x, int[] poolSize, int[] strides, Padding padding) {
        return ConvOps.maxPool2d(Args.value(x, "maxPool2d", "x"), poolSize, strides, padding);
    }

    /** {@code tf.nn.avg_pool2d}: the mean of each window over its cells inside the input (padding not counted). */
    public static Tensor avgPool2d(Operand x, int[] poolSize, int[] strides, Padding padding) {
        return ConvOps.avgPool2d(Args.value(x, "avgPool2d", "x"), poolSize, strides, padding);
    }

    /** The mean over height and width of an NHWC x: {@code [batch, channels]} (Keras's GlobalAveragePooling2D). */
    public static Tensor globalAvgPool2d(Operand x) {
        Tensor t = Args.value(x, "globalAvgPool2d", "x");
        if (t.rank() != 4) {
            throw new ShapeException("globalAvgPool2d: x must have rank 4 [batch, height, width, channels], got shape "
                    + t.shape());
        }
        Prims.requireFloating("globalAvgPool2d", t);
        return ReductionOps.mean(t, false, 1, 2);
    }

    /**
     * {@code tf.nn.moments}: mean and biased variance over {@code axes}, kept as size-1 dims when
     * {@code keepDims}. As TensorFlow, axes are required; an empty array reduces over no axis (mean x, variance 0).
     */
    public static Moments moments(Operand x, int[] axes, boolean keepDims) {
        return NormalizationOps.moments(Args.value(x, "moments", "x"), axes, keepDims);
    }

    /**
     * {@code tf.nn.batch_normalization}: {@code (x - mean) * scale / sqrt(variance + epsilon) +
     * offset}, the statistics and parameters broadcast against x (per channel: shape {@code [C]}).
     */
    public static Tensor batchNormalization(Operand x, Operand mean, Operand variance, Operand offset, Operand scale,
                                            double epsilon) {
        String op = "batchNormalization";
        return NormalizationOps.batchNormalization(Args.value(x, op, "x"), Args.value(mean, op, "mean"),
                Args.value(variance, op, "variance"), Args.value(offset, op, "offset"), Args.value(scale, op, "scale"),
                epsilon);
    }

    /**
     * Batch normalization in training mode with the batch's own statistics, over every axis but
     * the last (the channels): {@code tf.compat.v1.nn.fused_batch_norm(x, scale, offset,
     * epsilon, is_training=True)}. The same values as {@link #moments} then
     * {@link #batchNormalization}, in one primitive forward and one backward (TF's
     * FusedBatchNorm). The returned mean and biased variance carry no gradient; {@code y} is
     * differentiable in x, scale and offset, to any order.
     */
    public static FusedBatchNorm fusedBatchNorm(Operand x, Operand scale, Operand offset, double epsilon) {
        String op = "fusedBatchNorm";
        return NormalizationOps.fusedBatchNorm(Args.value(x, op, "x"), Args.value(scale, op, "scale"),
                Args.value(offset, op, "offset"), epsilon);
    }

    // ---- training updates (TensorFlow's raw training ops, one launch per variable) -------

    /** {@code var -= lr * grad} ({@code tf.raw_ops.ResourceApplyGradientDescent}). Not recorded on tapes. */
    public static Variable applyGradientDescent(Variable var, double lr, Operand grad) {
        return TrainingOps.applyGradientDescent(var, () -> lr, grad);
    }

    /**
     * {@link #applyGradientDescent(Variable, double, Operand)} with a learning rate read when the
     * update runs: in a {@linkplain #function traced function}, at every call (for a rate that
     * changes between steps, kept in Java).
     */
    public static Variable applyGradientDescent(Variable var, DoubleSupplier lr, Operand grad) {
        return TrainingOps.applyGradientDescent(var, NullChecks.nonNull(lr, "applyGradientDescent", "lr"), grad);
    }

    /**
     * {@code tf.raw_ops.ResourceApplyMomentum}: {@code accum = accum * momentum + grad}, then
     * {@code var -= lr * accum}, or with Nesterov {@code var -= grad * lr + accum * momentum * lr}.
     */
    public static Variable applyMomentum(Variable var, Variable accum, double lr, Operand grad, double momentum,
                                         boolean useNesterov) {
        return TrainingOps.applyMomentum("applyMomentum", var, accum, () -> lr, grad, momentum, useNesterov, false);
    }

    /**
     * {@code tf.raw_ops.ResourceApplyKerasMomentum}, the rule of Keras's {@code SGD}:
     * {@code accum = accum * momentum - lr * grad}, then {@code var += accum}, or with Nesterov
     * {@code var += accum * momentum - lr * grad}. Unlike {@link #applyMomentum} the
     * accumulator includes the learning rate, so the two differ when it changes between steps.
     */
    public static Variable applyKerasMomentum(Variable var, Variable accum, double lr, Operand grad, double momentum,
                                              boolean useNesterov) {
        return TrainingOps.applyMomentum("applyKerasMomentum", var, accum, () -> lr, grad, momentum, useNesterov, true);
    }

    /** {@link #applyKerasMomentum(Variable, Variable, double, Operand, double, boolean)} with a
     *  learning rate read when the update runs (see {@link #applyGradientDescent(Variable, DoubleSupplier, Operand)}). */
    public static Variable applyKerasMomentum(Variable var, Variable accum, DoubleSupplier lr, Operand grad,
                                              double momentum, boolean useNesterov) {
        return TrainingOps.applyMomentum("applyKerasMomentum", var, accum,
                NullChecks.nonNull(lr, "applyKerasMomentum", "lr"), grad, momentum, useNesterov, true);
    }

    /**
     * {@code tf.raw_ops.ResourceApplyAdam} (without Nesterov): with
     * {@code lr_t = lr * sqrt(1 - beta2Power) / (1 - beta1Power)} (computed in double),
     * {@code m += (grad - m) * (1 - beta1)}, {@code v += (grad^2 - v) * (1 - beta2)},
     * {@code var -= lr_t * m / (sqrt(v) + epsilon)}: epsilon is Kingma and Ba's "epsilon hat",
     * as in Keras. {@code beta1Power} is {@code beta1^t} for step {@code t} (from 1).
     */
    public static Variable applyAdam(Variable var, Variable m, Variable v, double beta1Power, double beta2Power,
                                     double lr, double beta1, double beta2, double epsilon, Operand grad) {
        return TrainingOps.applyAdam(var, m, v, () -> beta1Power, () -> beta2Power, () -> lr, beta1, beta2, epsilon,
                grad);
    }

    /**
     * {@link #applyAdam(Variable, Variable, Variable, double, double, double, double, double, double, Operand)}
     * with the step-dependent scalars read when the update runs: in a {@linkplain #function traced
     * function}, at every call, so that an optimizer's step count kept in Java still advances.
     */
    public static Variable applyAdam(Variable var, Variable m, Variable v, DoubleSupplier beta1Power,
                                     DoubleSupplier beta2Power, DoubleSupplier lr, double beta1, double beta2,
                                     double epsilon, Operand grad) {
        String op = "applyAdam";
        return TrainingOps.applyAdam(var, m, v, NullChecks.nonNull(beta1Power, op, "beta1Power"),
                NullChecks.nonNull(beta2Power, op, "beta2Power"), NullChecks.nonNull(lr, op, "lr"), beta1, beta2,
                epsilon, grad);
    }

    // ---- traced functions ----------------------------------------------------------------

    /**
     * {@code body} as a traced function of one tensor, as {@code tf.function}: see
     * {@link TracedFunction} for what runs once and what at every call.
     * <pre>{@code
     * TracedFunction<Tensor> gelu = Spool.function(x -> x.mul(0.5).mul(x.mul(0.7978845608).tanh().add(1)));
     * Tensor y = gelu.call(x);   // traces; later calls with the same shape replay one fused kernel
     * }</pre>
     */
    public static <R> TracedFunction<R> function(java.util.function.Function<Tensor, R> body) {
        NullChecks.nonNull(body, "function", "body");
        return new TracedFunction<>(name(body), a -> body.apply((Tensor) a[0]));
    }

    /** {@link #function(java.util.function.Function)} with no arguments (the body reads variables). */
    public static <R> TracedFunction<R> function(java.util.function.Supplier<R> body) {
        NullChecks.nonNull(body, "function", "body");
        return new TracedFunction<>(name(body), a -> body.get());
    }

    /** {@link #function(java.util.function.Function)} of two tensors. */
    public static <R> TracedFunction<R> function(java.util.function.BiFunction<Tensor, Tensor, R> body) {
        NullChecks.nonNull(body, "function", "body");
        return new TracedFunction<>(name(body), a -> body.apply((Tensor) a[0], (Tensor) a[1]));
    }

    /** {@link #function(java.util.function.Function)} of three tensors. */
    public static <R> TracedFunction<R> function(TracedFunction.Function3<R> body) {
        NullChecks.nonNull(body, "function", "body");
        return new TracedFunction<>(name(body), a -> body.apply((Tensor) a[0], (Tensor) a[1], (Tensor) a[2]));
    }

    /** A traced function of any arguments: tensors, variables and Java values (which are part of the signature). */
    public static <R> TracedFunction<R> functionOfArgs(TracedFunction.Body<R> body) {
        NullChecks.nonNull(body, "functionOfArgs", "body");
        return new TracedFunction<>(name(body), body);
    }

    private static String name(Object body) {
        return "function " + body.getClass().getSimpleName().replaceAll("\\$\\$Lambda.*", "");
    }

    // ---- debugging -----------------------------------------------------------------------

    /**
     * Check-numerics mode, as {@code tf.debugging.enable_check_numerics()} and PyTorch's
     * {@code set_detect_anomaly(True)}: after every op, each floating output is checked for NaN and
     * ±Inf on its device, and the first that holds one throws {@link NumericsException} naming the
     * op, its inputs' dtypes and shapes and the caller's line; in a backward pass it also names the
     * forward op whose VJP produced the value and the line where a tape recorded that op (tapes
     * keep each op's stack only in this mode). Process-wide; also turned on at start-up by the
     * system property {@code spool.checkNumerics=true} or the environment variable
     * {@code SPOOL_CHECK_NUMERICS=1}. It costs two launches and a one-element read back per
     * floating output: a debugging aid, off by default, and then free (no launch, no allocation).
     */
    public static void enableCheckNumerics() {
        CheckNumerics.enabled = true;
    }

    /** Turns {@link #enableCheckNumerics() check-numerics mode} off. */
    public static void disableCheckNumerics() {
        CheckNumerics.enabled = false;
    }

    /** Whether {@link #enableCheckNumerics() check-numerics mode} is on. */
    public static boolean isCheckNumericsEnabled() {
        return CheckNumerics.enabled;
    }

    /**
     * Checked indices: {@code gather}, {@code oneHot} (and so the labels of nn's
     * {@code Losses.sparseSoftmaxCrossEntropy}) and the scatter-add of gather's gradient check that
     * every index is in range and throw
     * {@link IndexOutOfRangeException} with the first bad index and its position, as TensorFlow
     * does on its CPU. Process-wide; also turned on at start-up by the system property
     * {@code spool.checkIndices=true} or the environment variable {@code SPOOL_CHECK_INDICES=1}.
     * It costs a read of the indices back to the host per op. Off (the default), an index out of
     * range gives zeros (gather) or an all-off row (oneHot), as TensorFlow's GPU kernels.
     */
    public static void enableCheckIndices() {
        CheckNumerics.indices = true;
    }

    /** Turns {@link #enableCheckIndices() checked indices} off. */
    public static void disableCheckIndices() {
        CheckNumerics.indices = false;
    }

    /** Whether {@link #enableCheckIndices() checked indices} are on. */
    public static boolean isCheckIndicesEnabled() {
        return CheckNumerics.indices;
    }
}
