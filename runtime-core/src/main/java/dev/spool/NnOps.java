package dev.spool;

import java.util.Arrays;

/**
 * Neural-network ops. Softmax, logSoftmax and softmax cross-entropy are fused primitives of the
 * SPI along the last axis (speed: one launch forward and one backward where the composite of max,
 * sub, exp, sum, log and div took about nine each); another axis is moved last with a transposed
 * view (no copy) and back. Their backward passes are primitives too, each recorded with a VJP
 * written with differentiable ops, so gradients of gradients still work.
 *
 * <p>Numerics are the composite's: each row is shifted by its max (exp never overflows), NaN in
 * a row makes the row NaN, a row of -inf gives NaN (as exp(-inf - -inf)), and the cross-entropy
 * of a -inf logit with label 0 is NaN (0 * -inf), as before and as TensorFlow.
 */
final class NnOps {
    private NnOps() {
    }

    /** exp(x - max) / sum(exp(x - max)) along {@code axis}; the max shift keeps exp finite. */
    static Tensor softmax(Tensor x, int axis) {
        Prims.requireFloating("softmax", x);
        return alongLastAxis(x, axis, "softmax", t -> softmaxLast(t, false));
    }

    /** x - max - log(sum(exp(x - max))) along {@code axis}. */
    static Tensor logSoftmax(Tensor x, int axis) {
        Prims.requireFloating("logSoftmax", x);
        return alongLastAxis(x, axis, "logSoftmax", t -> softmaxLast(t, true));
    }

    /**
     * {@code -sum(labels * logSoftmax(logits), axis)}, as
     * {@code tf.nn.softmax_cross_entropy_with_logits}: one loss per row, differentiable in both.
     */
    static Tensor softmaxCrossEntropyWithLogits(Tensor labels, Tensor logits, int axis) {
        if (!labels.shape().equals(logits.shape())) {
            throw new ShapeException("softmaxCrossEntropyWithLogits: labels " + labels.shape()
                    + " and logits " + logits.shape() + " must have the same shape");
        }
        Prims.requireFloating("softmaxCrossEntropyWithLogits", logits);
        Prims.requireSameDType("softmaxCrossEntropyWithLogits", labels, logits);
        int a = Shape.normalizeAxis(axis, logits.rank(), "softmaxCrossEntropyWithLogits");
        if (a == logits.rank() - 1) {
            return crossEntropyLast(labels, logits);
        }
        int[] perm = moveLast(logits.rank(), a);
        // the loss has the other dims in their order: nothing to move back
        return crossEntropyLast(ShapeOps.transpose(labels, perm), ShapeOps.transpose(logits, perm));
    }

    // ---- the axis ---------------------------------------------------------------------------------

    private static Tensor alongLastAxis(Tensor x, int axis, String op, java.util.function.UnaryOperator<Tensor> f) {
        int a = Shape.normalizeAxis(axis, x.rank(), op);
        if (a == x.rank() - 1) {
            return f.apply(x);
        }
        int[] perm = moveLast(x.rank(), a);
        int[] inverse = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            inverse[perm[i]] = i;
        }
        return ShapeOps.transpose(f.apply(ShapeOps.transpose(x, perm)), inverse);
    }

    /** The permutation that moves dim {@code a} last and keeps the others in order. */
    private static int[] moveLast(int rank, int a) {
        int[] perm = new int[rank];
        for (int i = 0, j = 0; i < rank; i++) {
            if (i != a) {
                perm[j++] = i;
            }
        }
        perm[rank - 1] = a;
        return perm;
    }

    private static Shape rowsShape(Shape s) {
        return Shape.of(Arrays.copyOf(s.toArray(), s.rank() - 1));
    }

    // ---- forward primitives and their VJPs -----------------------------------------------------

    private static Tensor softmaxLast(Tensor x, boolean log) {
        Device d = Prims.deviceOf(log ? "logSoftmax" : "softmax", x);
        Tensor y = Prims.empty(d, x.dtype(), x.shape());
        try {
            synchronized (d) {
                d.checkOpen();
                d.backend().softmax(x.spiView(), y.storage.buffer, log);
            }
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
        GradientTape.record(log ? "logSoftmax" : "softmax",
                (g, in, out, needs) -> new Tensor[] {softmaxGrad(out, g, log)}, y, x);
        return y;
    }

    /**
     * The VJP of (log)softmax as one primitive. Its own VJP, for second derivatives: with
     * {@code s = sum(g y)}, {@code t = sum(h y)} (h the incoming gradient), softmax's is
     * {@code dy = h (g - s) - g t}, {@code dg = y (h - t)}; logSoftmax's (e = exp(y)) is
     * {@code dy = -h e sum(g)}, {@code dg = h - sum(h e)}.
     */
    static Tensor softmaxGrad(Tensor y, Tensor g, boolean log) {
        String name = log ? "logSoftmaxGrad" : "softmaxGrad";
        Device d = Prims.deviceOf(name, y, g);
        Prims.requireSameDType(name, y, g);
        Tensor dx = Prims.empty(d, y.dtype(), y.shape());
        try {
            synchronized (d) {
                d.checkOpen();
                d.backend().softmaxGrad(y.spiView(), Prims.broadcastView(g, y.shape()), dx.storage.buffer, log);
            }
        } catch (RuntimeException | Error e) {
            dx.close();
            throw e;
        }
        int last = y.rank() - 1;
        GradientTape.record(name, (h, in, out, needs) -> {
            Tensor yy = in[0];
            Tensor gg = in[1];
            Tensor[] r = new Tensor[2];
            if (log) {
                Tensor e = ElementwiseOps.exp(yy);
                if (needs[0]) {
                    r[0] = ElementwiseOps.neg(ElementwiseOps.mul(ElementwiseOps.mul(h, e),
                            ReductionOps.sum(gg, true, last)));
                }
                if (needs[1]) {
                    r[1] = ElementwiseOps.sub(h, ReductionOps.sum(ElementwiseOps.mul(h, e), true, last));
                }
            } else {
                Tensor t = ReductionOps.sum(ElementwiseOps.mul(h, yy), true, last);
                if (needs[0]) {
                    Tensor s = ReductionOps.sum(ElementwiseOps.mul(gg, yy), true, last);
                    r[0] = ElementwiseOps.sub(ElementwiseOps.mul(h, ElementwiseOps.sub(gg, s)),
                            ElementwiseOps.mul(gg, t));
                }
                if (needs[1]) {
                    r[1] = ElementwiseOps.mul(yy, ElementwiseOps.sub(h, t));
                }
            }
            return r;
        }, dx, y, g);
        return dx;
    }

    /**
     * One launch for the loss and logSoftmax(logits), which the backward pass reuses. logSoftmax
     * is recorded as an op of its own (its result feeds the backward), so that an outer tape
     * differentiating the gradient sees how it depends on the logits; the loss's record takes it
     * as a third input that never receives a gradient.
     */
    private static Tensor crossEntropyLast(Tensor labels, Tensor logits) {
        Device d = Prims.deviceOf("softmaxCrossEntropyWithLogits", labels, logits);
        Tensor loss = Prims.empty(d, logits.dtype(), rowsShape(logits.shape()));
        Tensor lsm = Prims.empty(d, logits.dtype(), logits.shape());
        try {
            synchronized (d) {
                d.checkOpen();
                d.backend().softmaxCrossEntropy(labels.spiView(), logits.spiView(), loss.storage.buffer,
                        lsm.storage.buffer);
            }
        } catch (RuntimeException | Error e) {
            loss.close();
            lsm.close();
            throw e;
        }
        try (lsm) {
            GradientTape.record("logSoftmax", (g, in, out, needs) -> new Tensor[] {softmaxGrad(out, g, true)},
                    lsm, logits);
            GradientTape.record("softmaxCrossEntropyWithLogits", (g, in, out, needs) -> {
                Tensor[] r = new Tensor[3];
                if (needs[0]) {
                    r[0] = ElementwiseOps.neg(ElementwiseOps.mul(ShapeOps.expandDims(g, -1), in[2]));
                }
                if (needs[1]) {
                    r[1] = crossEntropyGrad(g, in[2], in[0]);
                }
                return r; // none for logSoftmax: its part is in r[1] already
            }, loss, labels, logits, lsm);
        }
        return loss;
    }

    /**
     * The loss's VJP in the logits as one primitive: {@code g (exp(lsm) L - labels)}, L the row's
     * label sum. Its own VJP (h incoming, e = exp(lsm)): {@code dg = sum(h (e L - labels))},
     * {@code dlsm = h g e L}, {@code dlabels = g (sum(h e) - h)}.
     */
    static Tensor crossEntropyGrad(Tensor g, Tensor lsm, Tensor labels) {
        String name = "softmaxCrossEntropyGrad";
        Device d = Prims.deviceOf(name, g, lsm, labels);
        Prims.requireSameDType(name, g, lsm);
        Prims.requireSameDType(name, labels, lsm);
        Tensor dx = Prims.empty(d, lsm.dtype(), lsm.shape());
        try {
            synchronized (d) {
                d.checkOpen();
                d.backend().softmaxCrossEntropyGrad(Prims.broadcastView(g, rowsShape(lsm.shape())),
                        lsm.spiView(), Prims.broadcastView(labels, lsm.shape()), dx.storage.buffer);
            }
        } catch (RuntimeException | Error e) {
            dx.close();
            throw e;
        }
        int last = lsm.rank() - 1;
        GradientTape.record(name, (h, in, out, needs) -> {
            Tensor gCol = ShapeOps.expandDims(in[0], -1);
            Tensor e = ElementwiseOps.exp(in[1]);
            Tensor sumLabels = ReductionOps.sum(in[2], true, last);
            Tensor[] r = new Tensor[3];
            if (needs[0]) {
                r[0] = ReductionOps.sum(ElementwiseOps.mul(h,
                        ElementwiseOps.sub(ElementwiseOps.mul(e, sumLabels), in[2])), false, last);
            }
            if (needs[1]) {
                r[1] = ElementwiseOps.mul(ElementwiseOps.mul(h, gCol), ElementwiseOps.mul(e, sumLabels));
            }
            if (needs[2]) {
                r[2] = ElementwiseOps.mul(gCol,
                        ElementwiseOps.sub(ReductionOps.sum(ElementwiseOps.mul(h, e), true, last), h));
            }
            return r;
        }, dx, g, lsm, labels);
        return dx;
    }
}
