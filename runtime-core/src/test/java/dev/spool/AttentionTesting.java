package dev.spool;

/** For the conformance suite: scaled dot-product attention's definition from ops, which the fused primitives must match. */
public final class AttentionTesting {
    private AttentionTesting() {
    }

    /** {@code AttentionOps.reference}: matmul, scale, where, softmax, matmul; differentiable as ops. */
    public static Tensor reference(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, double scale) {
        return AttentionOps.reference(q, k, v, mask, causal, scale);
    }
}
