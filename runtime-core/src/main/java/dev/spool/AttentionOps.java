package dev.spool;

import dev.spool.spi.View;
import java.util.Arrays;

/**
 * Scaled dot-product attention, {@code softmax(q·kᵀ·scale + mask) · v} over the last two axes.
 *
 * <p>The forward is one fused primitive ({@link dev.spool.spi.Backend#attention}: tiles with an
 * online softmax, no [Tq, Tk] score matrix) that also keeps each query row's logsumexp; the VJP
 * is the fused backward ({@link dev.spool.spi.Backend#attentionGrad}), which recomputes the
 * scores per tile from those. {@link #reference}, the same computation written from ops, is the
 * definition both are tested against.
 *
 * <p><b>Gradients of gradients.</b> The backward primitive has no VJP of its own. So when, as the
 * VJP runs, a tape on this thread is recording and tracks one of its inputs (the incoming
 * gradient, q, k, v: an outer tape differentiating the gradient, or a persistent tape asked
 * inside its own recording scope), the VJP is computed from ops instead ({@link #backwardFromOps}:
 * the scores and softmax recomputed, then matmuls and the softmax VJP), which that tape records
 * like any other ops, so second derivatives are those of the reference. That path materialises
 * the score matrix, as the reference does; first-order training never takes it.
 */
final class AttentionOps {
    /** What a masked-out score becomes, as Keras's masked softmax (-1e9 for float32 and float64):
     *  a row with every key masked attends uniformly instead of giving NaN. */
    static final double MASKED_SCORE = -1e9;

    private static final String OP = "scaledDotProductAttention";

    private AttentionOps() {
    }

    static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, double scale) {
        checkShapes(q, k, v, mask);
        if (q.shape().size() == 0 || k.shape().size() == 0 || v.shape().size() == 0) {
            return reference(q, k, v, mask, causal, scale); // empty axes: nothing to fuse
        }
        Device d = mask == null ? Prims.deviceOf(OP, q, k, v) : Prims.deviceOf(OP, q, k, v, mask);
        int rank = q.rank();
        int[] outDims = q.shape().toArray();
        outDims[rank - 1] = v.shape().dim(-1);
        Tensor[] in4 = {as4d(q), as4d(k), as4d(v), mask4(mask, q, k)};
        Tensor out = null;
        Tensor lse = null;
        try {
            out = Prims.empty(d, q.dtype(), Shape.of(outDims));
            lse = Prims.empty(d, q.dtype(), Shape.of(Arrays.copyOf(outDims, rank - 1)));
            View maskView = maskView(in4[3], q, k);
            synchronized (d) {
                d.checkOpen();
                stillOpen(q, k, v, mask);
                d.backend().attention(view4(in4[0]), view4(in4[1]), view4(in4[2]), maskView, causal, scale,
                        out.storage.buffer, lse.storage.buffer);
            }
        } catch (RuntimeException | Error e) {
            if (out != null) {
                out.close();
            }
            if (lse != null) {
                lse.close();
            }
            throw e;
        } finally {
            closeCopies(in4, q, k, v, mask);
        }
        // lse is an input of the record (never given a gradient) so that the tape holds it
        try (Tensor l = lse) {
            Tensor[] inputs = mask == null ? new Tensor[] {q, k, v, l} : new Tensor[] {q, k, v, l, mask};
            GradientTape.record(OP, (g, in, result, needs) -> {
                Tensor m = in.length > 4 ? in[4] : null;
                Tensor[] grads = GradientTape.wouldRecord(g, in[0], in[1], in[2])
                        ? backwardFromOps(in[0], in[1], in[2], m, causal, scale, g, needs)
                        : backward(in[0], in[1], in[2], m, causal, scale, result, g, in[3]);
                return Arrays.copyOf(grads, in.length);
            }, out, inputs);
        }
        return out;
    }

    /** The fused backward: dq, dk, dv in one primitive. */
    static Tensor[] backward(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, double scale, Tensor out,
                             Tensor g, Tensor lse) {
        String op = OP + "Grad";
        Device d = mask == null ? Prims.deviceOf(op, q, k, v, out, g, lse)
                : Prims.deviceOf(op, q, k, v, out, g, lse, mask);
        Tensor[] in4 = {as4d(q), as4d(k), as4d(v), as4d(out), as4d(g), mask4(mask, q, k)};
        Tensor dq = null;
        Tensor dk = null;
        Tensor dv = null;
        try {
            dq = Prims.empty(d, q.dtype(), q.shape());
            dk = Prims.empty(d, q.dtype(), k.shape());
            dv = Prims.empty(d, q.dtype(), v.shape());
            View maskView = maskView(in4[5], q, k);
            View lse3 = lseView(lse);
            synchronized (d) {
                d.checkOpen();
                stillOpen(q, k, v, mask);
                stillOpen(out, g, lse, null);
                d.backend().attentionGrad(view4(in4[0]), view4(in4[1]), view4(in4[2]), maskView, causal, scale,
                        view4(in4[3]), view4(in4[4]), lse3, dq.storage.buffer, dk.storage.buffer,
                        dv.storage.buffer);
            }
        } catch (RuntimeException | Error e) {
            for (Tensor t : new Tensor[] {dq, dk, dv}) {
                if (t != null) {
                    t.close();
                }
            }
            throw e;
        } finally {
            closeCopies(in4, q, k, v, out, g, mask);
        }
        return new Tensor[] {dq, dk, dv};
    }

    /**
     * The VJP written from differentiable ops, for an outer tape to record (gradients of
     * gradients): p recomputed as the reference computes it, {@code dv = pᵀ g}, {@code ds =
     * softmaxVjp(p, g vᵀ)} zeroed where masked (the masked scores are constants), {@code dq =
     * scale ds k}, {@code dk = scale dsᵀ q}.
     */
    static Tensor[] backwardFromOps(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, double scale,
                                    Tensor g, boolean[] needs) {
        Tensor p = NnOps.softmax(maskedScores(q, k, mask, causal, scale), -1);
        Tensor[] r = new Tensor[3];
        if (needs[2]) {
            r[2] = LinalgOps.matmul(p, g, true, false);
        }
        if (needs[0] || needs[1]) {
            Tensor ds = NnOps.softmaxGrad(p, LinalgOps.matmul(g, v, false, true), false);
            Tensor zero = Creation.scalarLike(ds, 0);
            if (mask != null) {
                ds = ElementwiseOps.where(mask, ds, zero);
            }
            if (causal) {
                ds = ElementwiseOps.where(causalMask(q.device(), q.shape().dim(-2), k.shape().dim(-2)), ds, zero);
            }
            Tensor s = Creation.scalarLike(q, scale);
            if (needs[0]) {
                r[0] = ElementwiseOps.mul(LinalgOps.matmul(ds, k, false, false), s);
            }
            if (needs[1]) {
                r[1] = ElementwiseOps.mul(LinalgOps.matmul(ds, q, true, false), s);
            }
        }
        return r;
    }

    /** The definition from ops. */
    static Tensor reference(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, double scale) {
        return LinalgOps.matmul(NnOps.softmax(maskedScores(q, k, mask, causal, scale), -1), v, false, false);
    }

    private static Tensor maskedScores(Tensor q, Tensor k, Tensor mask, boolean causal, double scale) {
        Tensor scores = ElementwiseOps.mul(LinalgOps.matmul(q, k, false, true), Creation.scalarLike(q, scale));
        Tensor masked = Creation.scalarLike(scores, MASKED_SCORE);
        if (mask != null) {
            scores = ElementwiseOps.where(mask, scores, masked);
        }
        if (causal) {
            scores = ElementwiseOps.where(causalMask(q.device(), q.shape().dim(-2), k.shape().dim(-2)), scores, masked);
        }
        return scores;
    }

    /** [Tq, Tk] booleans, true where key j <= query i (top-left aligned, as Keras's causal mask). */
    static Tensor causalMask(Device device, int tq, int tk) {
        Tensor rows = ShapeOps.reshape(Creation.range(device, 0, tq, 1, DType.INT32), tq, 1);
        Tensor cols = ShapeOps.reshape(Creation.range(device, 0, tk, 1, DType.INT32), 1, tk);
        return ElementwiseOps.lessEqual(cols, rows);
    }

    static void checkShapes(Tensor q, Tensor k, Tensor v, Tensor mask) {
        if (q.rank() < 2 || k.rank() != q.rank() || v.rank() != q.rank()) {
            throw new ShapeException(OP + ": q, k and v need the same rank >= 2 ([..., T, d]), got "
                    + q.shape() + ", " + k.shape() + " and " + v.shape());
        }
        if (q.shape().dim(-1) != k.shape().dim(-1)) {
            throw new ShapeException(OP + ": q " + q.shape() + " and k " + k.shape() + " differ in depth");
        }
        if (k.shape().dim(-2) != v.shape().dim(-2)) {
            throw new ShapeException(OP + ": k " + k.shape() + " and v " + v.shape() + " differ in length");
        }
        for (int i = 0; i < q.rank() - 2; i++) {
            if (q.shape().dim(i) != k.shape().dim(i) || q.shape().dim(i) != v.shape().dim(i)) {
                throw new ShapeException(OP + ": q " + q.shape() + ", k " + k.shape() + " and v " + v.shape()
                        + " differ in their leading (batch, head) axes");
            }
        }
        Prims.requireFloating(OP, q);
        Prims.requireSameDType(OP, q, k);
        Prims.requireSameDType(OP, q, v);
        if (mask != null) {
            if (mask.dtype() != DType.BOOL) {
                throw new DTypeException(OP + ": the mask must be bool (true = attend), got " + mask.dtype());
            }
            Shape scores = scoresShape(q, k);
            if (mask.rank() > scores.rank() || !Shape.broadcast(OP, mask.shape(), scores).equals(scores)) {
                throw new ShapeException(OP + ": the mask " + mask.shape() + " does not broadcast to the scores' "
                        + scores);
            }
        }
    }

    private static Shape scoresShape(Tensor q, Tensor k) {
        int[] dims = q.shape().toArray();
        dims[dims.length - 1] = k.shape().dim(-2);
        return Shape.of(dims);
    }

    // ---- views for the primitives -----------------------------------------------------------------

    /** {@code t} itself when its view can be seen as [B, H, T, d] without a copy, else a contiguous copy. */
    private static Tensor as4d(Tensor t) {
        return to4(t.spiView()) != null ? t : Prims.copy(t, t.dtype());
    }

    private static View view4(Tensor t) {
        return to4(t.spiView());
    }

    private static void closeCopies(Tensor[] maybeCopies, Tensor... originals) {
        for (int i = 0; i < originals.length; i++) {
            if (maybeCopies[i] != originals[i] && maybeCopies[i] != null) {
                maybeCopies[i].close();
            }
        }
    }

    /**
     * A view of rank >= 2 as rank 4: missing leading axes become size 1, more than two leading
     * axes are merged into the first where their strides allow; null where they do not.
     */
    static View to4(View v) {
        int rank = v.rank();
        int[] shape = new int[4];
        long[] strides = new long[4];
        shape[2] = v.shape()[rank - 2];
        shape[3] = v.shape()[rank - 1];
        strides[2] = v.strides()[rank - 2];
        strides[3] = v.strides()[rank - 1];
        int lead = rank - 2;
        if (lead == 0) {
            shape[0] = shape[1] = 1;
        } else if (lead == 1) {
            shape[0] = 1;
            shape[1] = v.shape()[0];
            strides[1] = v.strides()[0];
        } else {
            shape[1] = v.shape()[lead - 1];
            strides[1] = v.strides()[lead - 1];
            // merge axes 0 .. lead-2 into one, innermost first
            long n = 1;
            long stride = 0;
            for (int i = lead - 2; i >= 0; i--) {
                int dim = v.shape()[i];
                if (dim == 1) {
                    continue;
                }
                if (n == 1) {
                    stride = v.strides()[i];
                } else if (v.strides()[i] != stride * n) {
                    return null;
                }
                n *= dim;
            }
            shape[0] = Math.toIntExact(n);
            strides[0] = stride;
        }
        return new View(v.buffer(), shape, strides, v.offset());
    }

    /** lse [..., Tq] as [B, H, Tq, 1] then cut to [B, H, Tq]. */
    private static View lseView(Tensor lse) {
        View v = lse.spiView();
        int r = v.rank();
        View v4 = to4(new View(v.buffer(), appendOne(v.shape()), appendZero(v.strides()), v.offset()));
        return new View(v4.buffer(), Arrays.copyOf(v4.shape(), 3), Arrays.copyOf(v4.strides(), 3), v4.offset());
    }

    private static int[] appendOne(int[] a) {
        int[] r = Arrays.copyOf(a, a.length + 1);
        r[a.length] = 1;
        return r;
    }

    private static long[] appendZero(long[] a) {
        return Arrays.copyOf(a, a.length + 1);
    }

    /** The mask broadcast to [B, H, Tq, Tk] (stride 0 on broadcast axes), or null. */
    private static View maskView(Tensor mask, Tensor q, Tensor k) {
        return mask == null ? null : to4(Prims.broadcastView(mask, scoresShape(q, k)));
    }

    /**
     * The mask itself when its broadcast view can be seen as rank 4, else the broadcast mask
     * materialised (bools; only for more than two leading axes that do not merge).
     */
    private static Tensor mask4(Tensor mask, Tensor q, Tensor k) {
        if (mask == null || maskView(mask, q, k) != null) {
            return mask;
        }
        try (Tensor b = ShapeOps.broadcastTo(mask, scoresShape(q, k).toArray())) {
            return Prims.copy(b, DType.BOOL);
        }
    }

    private static void stillOpen(Tensor a, Tensor b, Tensor c, Tensor mask) {
        Prims.stillOpen(OP, a, b, c);
        if (mask != null) {
            Prims.stillOpen(OP, mask);
        }
    }
}
