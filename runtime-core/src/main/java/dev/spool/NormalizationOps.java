package dev.spool;

/**
 * {@code tf.nn.moments} and {@code tf.nn.batch_normalization}, written with ordinary ops (their
 * gradients, and gradients of gradients, come from those ops), with TensorFlow's formulas; and
 * TensorFlow's fused batch normalization in training mode as two primitives, forward and
 * backward ({@link dev.spool.spi.Backend#batchNormTraining}), which replace the dozen launches of
 * the composite each way.
 */
final class NormalizationOps {
    private NormalizationOps() {
    }

    /**
     * The mean and the biased variance (divided by the count, as TensorFlow's) over {@code axes}:
     * {@code mean = reduceMean(x)}, {@code variance = reduceMean(square(x - stopGradient(mean)))}
     * (the stop changes no gradient: the deviations sum to zero). An empty {@code axes} reduces
     * over no axis, as {@code tf.nn.moments(x, axes=[])}: the mean is x and the variance 0.
     */
    static Moments moments(Tensor x, int[] axes, boolean keepDims) {
        dev.spool.internal.NullChecks.nonNull(axes, "moments", "axes");
        Prims.requireFloating("moments", x);
        Tensor mean = ReductionOps.mean(x, true, axes);
        Tensor variance = ReductionOps.mean(
                ElementwiseOps.square(ElementwiseOps.sub(x, ElementwiseOps.stopGradient(mean))), keepDims, axes);
        return new Moments(keepDims ? mean : ShapeOps.reshape(mean, variance.shape().toArray()), variance);
    }

    /**
     * {@code (x - mean) * scale / sqrt(variance + epsilon) + offset}, computed as TensorFlow does:
     * {@code inv = rsqrt(variance + epsilon) * scale}, {@code x * inv + (offset - mean * inv)}.
     * mean, variance, offset and scale broadcast against x (per channel: shape {@code [C]}). Any
     * epsilon is taken, as TensorFlow does (a negative one can make the root NaN).
     */
    static Tensor batchNormalization(Tensor x, Tensor mean, Tensor variance, Tensor offset, Tensor scale,
                                     double epsilon) {
        String op = "batchNormalization";
        Prims.requireFloating(op, x);
        Shape shape = x.shape();
        for (Tensor t : new Tensor[] {mean, variance, offset, scale}) {
            Prims.requireSameDType(op, x, t);
            shape = Shape.broadcast(op, shape, t.shape());
        }
        if (!shape.equals(x.shape())) {
            throw new ShapeException(op + ": mean, variance, offset and scale (shapes " + mean.shape() + ", "
                    + variance.shape() + ", " + offset.shape() + ", " + scale.shape()
                    + ") must broadcast to x's shape " + x.shape() + ", not beyond it");
        }
        Prims.deviceOf(op, x, mean, variance, offset, scale);
        Tensor inv = ElementwiseOps.mul(
                ElementwiseOps.rsqrt(ElementwiseOps.add(variance, Creation.scalarLike(variance, epsilon))), scale);
        Tensor y = ElementwiseOps.add(ElementwiseOps.mul(x, inv), ElementwiseOps.sub(offset,
                ElementwiseOps.mul(mean, inv)));
        return y;
    }

    // ---- fused, training mode -------------------------------------------------------------------

    /**
     * Batch normalization over every axis but the last (the channels), with the batch's own
     * statistics: {@code tf.compat.v1.nn.fused_batch_norm(x, scale, offset, epsilon,
     * is_training=True)}. The returned mean and biased variance are constants (no gradient).
     */
    static FusedBatchNorm fusedBatchNorm(Tensor x, Tensor scale, Tensor offset, double epsilon) {
        String op = "fusedBatchNorm";
        Prims.requireFloating(op, x);
        Prims.requireSameDType(op, x, scale);
        Prims.requireSameDType(op, x, offset);
        Device d = Prims.deviceOf(op, x, scale, offset);
        if (x.rank() < 2) {
            throw new ShapeException(op + ": x must have rank >= 2 with channels last, got shape " + x.shape());
        }
        int c = x.shape().dim(x.rank() - 1);
        for (Tensor t : new Tensor[] {scale, offset}) {
            if (t.rank() != 1 || t.shape().dim(0) != c) {
                throw new ShapeException(op + ": scale and offset must have shape (" + c + "), x's channels (x shape "
                        + x.shape() + "), got " + scale.shape() + " and " + offset.shape());
            }
        }
        if (x.size() == 0) {
            throw new ShapeException(op + ": x of shape " + x.shape() + " has no element to take statistics of");
        }
        Tensor[] out = launch(op, d, x.dtype(), new Shape[] {x.shape(), scale.shape(), scale.shape()},
                (b, v, o) -> b.batchNormTraining(v[0], v[1], v[2], epsilon, o[0], o[1], o[2]), x, scale, offset);
        Tensor y = out[0];
        Tensor mean = out[1];
        Tensor variance = out[2];
        GradientTape.record(op, (h, in, res, needs) -> batchNormGrad(h, in[0], in[1], mean, variance, epsilon),
                y, x, scale, offset);
        return new FusedBatchNorm(y, mean, variance);
    }

    /**
     * dx, dscale and doffset in one primitive. Each is recorded with a VJP that differentiates the
     * same gradient written with ordinary ops ({@link #compositeGrad}), statistics recomputed from
     * x, so gradients of gradients see how they depend on x.
     */
    static Tensor[] batchNormGrad(Tensor dy, Tensor x, Tensor scale, Tensor mean, Tensor variance, double epsilon) {
        String op = "fusedBatchNormGrad";
        Device d = Prims.deviceOf(op, dy, x, scale, mean, variance);
        Tensor[] out = launch(op, d, x.dtype(), new Shape[] {x.shape(), scale.shape(), scale.shape()},
                (b, v, o) -> b.batchNormTrainingGrad(v[0], v[1], v[2], v[3], v[4], epsilon, o[0], o[1], o[2]),
                dy, x, scale, mean, variance);
        for (int k = 0; k < 3; k++) {
            int which = k;
            GradientTape.record(op, (h, in, res, needs) -> compositeVjp(which, h, in[0], in[1], in[2], epsilon),
                    out[k], dy, x, scale);
        }
        return out;
    }

    /** The VJP of output {@code which} of {@link #compositeGrad} in (dy, x, scale), by a tape over it. */
    private static Tensor[] compositeVjp(int which, Tensor h, Tensor dy, Tensor x, Tensor scale, double epsilon) {
        GradientTape tape = new GradientTape(true);
        Tensor[] g;
        try (tape) {
            tape.watch(dy, x, scale);
            g = compositeGrad(dy, x, scale, epsilon);
        }
        try {
            return tape.gradient(g[which], java.util.List.of(dy, x, scale), h, UnconnectedGradients.ZERO)
                    .toArray(new Tensor[0]);
        } finally {
            tape.reset();
        }
    }

    /** {@link dev.spool.spi.Backend#batchNormTrainingGrad}'s formula with ordinary ops: {dx, dscale, doffset}. */
    static Tensor[] compositeGrad(Tensor dy, Tensor x, Tensor scale, double epsilon) {
        int[] axes = new int[x.rank() - 1];
        for (int i = 0; i < axes.length; i++) {
            axes[i] = i;
        }
        long rows = x.size() / x.shape().dim(x.rank() - 1);
        Moments m = moments(x, axes, false);
        Tensor r = ElementwiseOps.rsqrt(ElementwiseOps.add(m.variance(), Creation.scalarLike(x, epsilon)));
        Tensor xhat = ElementwiseOps.mul(ElementwiseOps.sub(x, m.mean()), r);
        Tensor doffset = ReductionOps.sum(dy, false, axes);
        Tensor dscale = ReductionOps.sum(ElementwiseOps.mul(dy, xhat), false, axes);
        Tensor n = Creation.scalarLike(x, rows);
        Tensor dx = ElementwiseOps.mul(ElementwiseOps.div(ElementwiseOps.mul(scale, r), n),
                ElementwiseOps.sub(ElementwiseOps.sub(ElementwiseOps.mul(n, dy), doffset),
                        ElementwiseOps.mul(xhat, dscale)));
        return new Tensor[] {dx, dscale, doffset};
    }

    @FunctionalInterface
    private interface Launch {
        void run(dev.spool.spi.Backend backend, dev.spool.spi.View[] inputs, dev.spool.spi.DeviceBuffer[] outputs);
    }

    /** One primitive with several outputs; inputs made contiguous first. */
    private static Tensor[] launch(String op, Device d, DType dtype, Shape[] shapes, Launch call, Tensor... inputs) {
        Tensor[] dense = new Tensor[inputs.length];
        Tensor[] out = new Tensor[shapes.length];
        boolean done = false;
        try {
            dev.spool.spi.View[] views = new dev.spool.spi.View[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                Prims.requireSameDType(op, inputs[0], inputs[i]);
                Tensor t = inputs[i];
                if (!t.isContiguous()) {
                    t = dense[i] = Prims.copy(t, dtype);
                }
                views[i] = t.spiView();
            }
            dev.spool.spi.DeviceBuffer[] buffers = new dev.spool.spi.DeviceBuffer[shapes.length];
            for (int i = 0; i < shapes.length; i++) {
                out[i] = Prims.empty(d, dtype, shapes[i]);
                buffers[i] = out[i].storage.buffer;
            }
            synchronized (d) {
                d.checkOpen();
                Prims.stillOpen(op, inputs);
                call.run(d.backend(), views, buffers);
            }
            done = true;
            return out;
        } finally {
            for (Tensor t : dense) {
                if (t != null) {
                    t.close();
                }
            }
            if (!done) {
                for (Tensor t : out) {
                    if (t != null) {
                        t.close();
                    }
                }
            }
        }
    }
}
