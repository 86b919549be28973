package dev.spool;

/**
 * Scaled dot-product attention, {@code softmax(q·kᵀ·scale + mask) · v} over the last two axes.
 *
 * <p>For now it is written from ops (batched matmul, where, softmax, matmul), so it materialises
 * the [..., Tq, Tk] score matrix and its gradients are those of the ops, gradients of gradients
 * included. The fused primitive (tiles with an online softmax, no score matrix) replaces the
 * forward and backward here; {@link #reference} stays as the definition it is tested against.
 */
final class AttentionOps {
    /** What a masked-out score becomes, as Keras's masked softmax (-1e9 for float32 and float64):
     *  a row with every key masked attends uniformly instead of giving NaN. */
    static final double MASKED_SCORE = -1e9;

    private AttentionOps() {
    }

    static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, double scale) {
        checkShapes(q, k, v, mask);
        return reference(q, k, v, mask, causal, scale);
    }

    /** The definition from ops. */
    static Tensor reference(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, double scale) {
        Tensor scores = ElementwiseOps.mul(LinalgOps.matmul(q, k, false, true), Creation.scalarLike(q, scale));
        Tensor masked = Creation.scalarLike(scores, MASKED_SCORE);
        if (mask != null) {
            scores = ElementwiseOps.where(mask, scores, masked);
        }
        if (causal) {
            scores = ElementwiseOps.where(causalMask(q.device(), q.shape().dim(-2), k.shape().dim(-2)), scores, masked);
        }
        return LinalgOps.matmul(NnOps.softmax(scores, -1), v, false, false);
    }

    /** [Tq, Tk] booleans, true where key j <= query i (top-left aligned, as Keras's causal mask). */
    static Tensor causalMask(Device device, int tq, int tk) {
        Tensor rows = ShapeOps.reshape(Creation.range(device, 0, tq, 1, DType.INT32), tq, 1);
        Tensor cols = ShapeOps.reshape(Creation.range(device, 0, tk, 1, DType.INT32), 1, tk);
        return ElementwiseOps.lessEqual(cols, rows);
    }

    static void checkShapes(Tensor q, Tensor k, Tensor v, Tensor mask) {
        String op = "scaledDotProductAttention";
        if (q.rank() < 2 || k.rank() != q.rank() || v.rank() != q.rank()) {
            throw new ShapeException(op + ": q, k and v need the same rank >= 2 ([..., T, d]), got "
                    + q.shape() + ", " + k.shape() + " and " + v.shape());
        }
        if (q.shape().dim(-1) != k.shape().dim(-1)) {
            throw new ShapeException(op + ": q " + q.shape() + " and k " + k.shape() + " differ in depth");
        }
        if (k.shape().dim(-2) != v.shape().dim(-2)) {
            throw new ShapeException(op + ": k " + k.shape() + " and v " + v.shape() + " differ in length");
        }
        for (int i = 0; i < q.rank() - 2; i++) {
            if (q.shape().dim(i) != k.shape().dim(i) || q.shape().dim(i) != v.shape().dim(i)) {
                throw new ShapeException(op + ": q " + q.shape() + ", k " + k.shape() + " and v " + v.shape()
                        + " differ in their leading (batch, head) axes");
            }
        }
        Prims.requireFloating(op, q);
        Prims.requireSameDType(op, q, k);
        Prims.requireSameDType(op, q, v);
        if (mask != null && mask.dtype() != DType.BOOL) {
            throw new DTypeException(op + ": the mask must be bool (true = attend), got " + mask.dtype());
        }
    }
}
