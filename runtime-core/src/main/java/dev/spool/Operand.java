package dev.spool;

/**
 * Anything ops accept: a {@link Tensor}, or a {@link Variable} (read at each use). The ops are
 * the default methods here, so {@code x.mul(y).sum()} reads the same for both. Every op returns
 * a new tensor on its inputs' device; scalar arguments take the receiver's dtype. Each op is
 * defined, with its gradient, in exactly one place; these methods and {@link Spool} only name
 * them.
 */
public interface Operand {

    /** The tensor this operand stands for now (a variable's current value). */
    Tensor value();

    Shape shape();

    DType dtype();

    Device device();

    // ---- arithmetic (NumPy broadcasting) -------------------------------------------------

    default Tensor add(Operand other) {
        return ElementwiseOps.add(value(), Args.value(other, "add", "other"));
    }

    default Tensor add(double other) {
        Tensor x = value();
        return ElementwiseOps.add(x, Creation.scalarLike(x, other));
    }

    default Tensor sub(Operand other) {
        return ElementwiseOps.sub(value(), Args.value(other, "sub", "other"));
    }

    default Tensor sub(double other) {
        Tensor x = value();
        return ElementwiseOps.sub(x, Creation.scalarLike(x, other));
    }

    default Tensor mul(Operand other) {
        return ElementwiseOps.mul(value(), Args.value(other, "mul", "other"));
    }

    default Tensor mul(double other) {
        Tensor x = value();
        return ElementwiseOps.mul(x, Creation.scalarLike(x, other));
    }

    default Tensor div(Operand other) {
        return ElementwiseOps.div(value(), Args.value(other, "div", "other"));
    }

    default Tensor div(double other) {
        Tensor x = value();
        return ElementwiseOps.div(x, Creation.scalarLike(x, other));
    }

    default Tensor pow(Operand exponent) {
        return ElementwiseOps.pow(value(), Args.value(exponent, "pow", "exponent"));
    }

    default Tensor pow(double exponent) {
        Tensor x = value();
        return ElementwiseOps.pow(x, Creation.scalarLike(x, exponent));
    }

    default Tensor maximum(Operand other) {
        return ElementwiseOps.maximum(value(), Args.value(other, "maximum", "other"));
    }

    default Tensor minimum(Operand other) {
        return ElementwiseOps.minimum(value(), Args.value(other, "minimum", "other"));
    }

    default Tensor neg() {
        return ElementwiseOps.neg(value());
    }

    default Tensor abs() {
        return ElementwiseOps.abs(value());
    }

    default Tensor sign() {
        return ElementwiseOps.sign(value());
    }

    default Tensor exp() {
        return ElementwiseOps.exp(value());
    }

    default Tensor log() {
        return ElementwiseOps.log(value());
    }

    default Tensor log1p() {
        return ElementwiseOps.log1p(value());
    }

    default Tensor sqrt() {
        return ElementwiseOps.sqrt(value());
    }

    default Tensor rsqrt() {
        return ElementwiseOps.rsqrt(value());
    }

    default Tensor square() {
        return ElementwiseOps.square(value());
    }

    default Tensor reciprocal() {
        return ElementwiseOps.reciprocal(value());
    }

    default Tensor sin() {
        return ElementwiseOps.sin(value());
    }

    default Tensor cos() {
        return ElementwiseOps.cos(value());
    }

    default Tensor tanh() {
        return ElementwiseOps.tanh(value());
    }

    default Tensor sigmoid() {
        return ElementwiseOps.sigmoid(value());
    }

    default Tensor relu() {
        return ElementwiseOps.relu(value());
    }

    default Tensor softplus() {
        return ElementwiseOps.softplus(value());
    }

    default Tensor erf() {
        return ElementwiseOps.erf(value());
    }

    /** Exact GELU ({@link Spool#gelu(Operand)}). */
    default Tensor gelu() {
        return ElementwiseOps.gelu(value(), false);
    }

    default Tensor gelu(boolean approximate) {
        return ElementwiseOps.gelu(value(), approximate);
    }

    // ---- comparisons (bool results) ------------------------------------------------------

    default Tensor equal(Operand other) {
        return ElementwiseOps.equal(value(), Args.value(other, "equal", "other"));
    }

    default Tensor notEqual(Operand other) {
        return ElementwiseOps.notEqual(value(), Args.value(other, "notEqual", "other"));
    }

    default Tensor less(Operand other) {
        return ElementwiseOps.less(value(), Args.value(other, "less", "other"));
    }

    default Tensor lessEqual(Operand other) {
        return ElementwiseOps.lessEqual(value(), Args.value(other, "lessEqual", "other"));
    }

    default Tensor greater(Operand other) {
        return ElementwiseOps.greater(value(), Args.value(other, "greater", "other"));
    }

    default Tensor greater(double other) {
        Tensor x = value();
        return ElementwiseOps.greater(x, Creation.scalarLike(x, other));
    }

    default Tensor less(double other) {
        Tensor x = value();
        return ElementwiseOps.less(x, Creation.scalarLike(x, other));
    }

    default Tensor greaterEqual(Operand other) {
        return ElementwiseOps.greaterEqual(value(), Args.value(other, "greaterEqual", "other"));
    }

    default Tensor logicalNot() {
        return ElementwiseOps.logicalNot(value());
    }

    // ---- reductions ------------------------------------------------------------------------
    // TensorFlow's axes rule: the forms without axes (and null axes) reduce over every axis; an
    // explicit empty array reduces over no axis and returns this operand's values unchanged.

    /** Over every axis: a scalar. */
    default Tensor sum() {
        return ReductionOps.sum(value(), false, (int[]) null);
    }

    /** Over {@code axes}; an empty array means no axis (the values unchanged), as TensorFlow. */
    default Tensor sum(int... axes) {
        return ReductionOps.sum(value(), false, axes);
    }

    /** Over {@code axes} ({@code null}: every axis; empty: none), reduced axes kept as size 1 when {@code keepDims}. */
    default Tensor sum(int[] axes, boolean keepDims) {
        return ReductionOps.sum(value(), keepDims, axes);
    }

    /** Over every axis: a scalar. */
    default Tensor mean() {
        return ReductionOps.mean(value(), false, (int[]) null);
    }

    /** Over {@code axes}; an empty array means no axis (the values unchanged), as TensorFlow. */
    default Tensor mean(int... axes) {
        return ReductionOps.mean(value(), false, axes);
    }

    /** Over {@code axes} ({@code null}: every axis; empty: none), reduced axes kept as size 1 when {@code keepDims}. */
    default Tensor mean(int[] axes, boolean keepDims) {
        return ReductionOps.mean(value(), keepDims, axes);
    }

    /** Over every axis: a scalar. */
    default Tensor max() {
        return ReductionOps.max(value(), false, (int[]) null);
    }

    /** Over {@code axes}; an empty array means no axis (the values unchanged), as TensorFlow. */
    default Tensor max(int... axes) {
        return ReductionOps.max(value(), false, axes);
    }

    /** Over {@code axes} ({@code null}: every axis; empty: none), reduced axes kept as size 1 when {@code keepDims}. */
    default Tensor max(int[] axes, boolean keepDims) {
        return ReductionOps.max(value(), keepDims, axes);
    }

    /** Over every axis: a scalar. */
    default Tensor min() {
        return ReductionOps.min(value(), false, (int[]) null);
    }

    /** Over {@code axes}; an empty array means no axis (the values unchanged), as TensorFlow. */
    default Tensor min(int... axes) {
        return ReductionOps.min(value(), false, axes);
    }

    /** Over {@code axes} ({@code null}: every axis; empty: none), reduced axes kept as size 1 when {@code keepDims}. */
    default Tensor min(int[] axes, boolean keepDims) {
        return ReductionOps.min(value(), keepDims, axes);
    }

    /** Over every axis: a scalar. */
    default Tensor prod() {
        return ReductionOps.prod(value(), false, (int[]) null);
    }

    /** Over {@code axes}; an empty array means no axis (the values unchanged), as TensorFlow. */
    default Tensor prod(int... axes) {
        return ReductionOps.prod(value(), false, axes);
    }

    /** Over {@code axes} ({@code null}: every axis; empty: none), reduced axes kept as size 1 when {@code keepDims}. */
    default Tensor prod(int[] axes, boolean keepDims) {
        return ReductionOps.prod(value(), keepDims, axes);
    }

    default Tensor argMax(int axis) {
        return ReductionOps.argMax(value(), axis);
    }

    default Tensor argMin(int axis) {
        return ReductionOps.argMin(value(), axis);
    }

    // ---- linear algebra ------------------------------------------------------------------

    default Tensor matmul(Operand other) {
        return LinalgOps.matmul(value(), Args.value(other, "matmul", "other"), false, false);
    }

    default Tensor matmul(Operand other, boolean transposeThis, boolean transposeOther) {
        return LinalgOps.matmul(value(), Args.value(other, "matmul", "other"), transposeThis, transposeOther);
    }

    // ---- shape ---------------------------------------------------------------------------

    default Tensor reshape(int... dims) {
        return ShapeOps.reshape(value(), dims);
    }

    /** Reverses the dimensions (a matrix transpose), as {@code tf.transpose(x)}. */
    default Tensor transpose() {
        return ShapeOps.transpose(value(), (int[]) null);
    }

    /** Output dim i is dim {@code perm[i]}; perm names every axis (an empty one only for a scalar). */
    default Tensor transpose(int... perm) {
        return ShapeOps.transpose(value(), perm);
    }

    default Tensor expandDims(int axis) {
        return ShapeOps.expandDims(value(), axis);
    }

    /** Removes the listed size-1 axes; none, or an empty array, removes every size-1 axis (TF's rule). */
    default Tensor squeeze(int... axes) {
        return ShapeOps.squeeze(value(), axes);
    }

    default Tensor broadcastTo(int... dims) {
        return ShapeOps.broadcastTo(value(), dims);
    }

    default Tensor slice(int[] begin, int[] size) {
        return ShapeOps.slice(value(), begin, size);
    }

    default Tensor tile(int... multiples) {
        return ShapeOps.tile(value(), multiples);
    }

    default Tensor gather(Operand indices, int axis) {
        return ShapeOps.gather(value(), Args.value(indices, "gather", "indices"), axis);
    }

    // ---- nn ------------------------------------------------------------------------------

    /** {@link Spool#conv2d(Operand, Operand, int[], Padding)} of this NHWC image. */
    default Tensor conv2d(Operand filters, int[] strides, Padding padding) {
        return ConvOps.conv2d(value(), Args.value(filters, "conv2d", "filters"), strides, padding, new int[] {1});
    }

    /** {@link Spool#maxPool2d} of this NHWC image. */
    default Tensor maxPool2d(int[] poolSize, int[] strides, Padding padding) {
        return ConvOps.maxPool2d(value(), poolSize, strides, padding);
    }

    /** {@link Spool#avgPool2d} of this NHWC image. */
    default Tensor avgPool2d(int[] poolSize, int[] strides, Padding padding) {
        return ConvOps.avgPool2d(value(), poolSize, strides, padding);
    }

    default Tensor softmax(int axis) {
        return NnOps.softmax(value(), axis);
    }

    default Tensor logSoftmax(int axis) {
        return NnOps.logSoftmax(value(), axis);
    }

    // ---- dtype and gradient control ------------------------------------------------------

    default Tensor cast(DType dtype) {
        return ElementwiseOps.cast(value(), dtype);
    }

    /** The same values with no gradient flowing back through them. */
    default Tensor stopGradient() {
        return ElementwiseOps.stopGradient(value());
    }

    default Tensor identity() {
        return ElementwiseOps.identity(value());
    }
}
