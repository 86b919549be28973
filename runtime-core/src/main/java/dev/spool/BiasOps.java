package dev.spool;

import dev.spool.spi.BinaryOp;
import dev.spool.spi.View;

/**
 * {@code tf.nn.bias_add}: a rank-1 bias added along the last axis, alone or followed by a
 * {@link FusedActivation} in the same launch ({@link dev.spool.spi.Backend#binaryUnary}). The
 * backward pass needs no primitive of its own: the activation's gradient from the result, and
 * the tape sums the bias gradient over the leading axes as it does for any broadcast add.
 */
final class BiasOps {
    private BiasOps() {
    }

    static Tensor biasAdd(Tensor x, Tensor bias) {
        check(x, bias);
        return ElementwiseOps.add(x, bias);
    }

    static Tensor biasAdd(Tensor x, Tensor bias, FusedActivation activation) {
        if (activation == null) {
            return biasAdd(x, bias);
        }
        String name = "biasAdd+" + activation.name().toLowerCase(java.util.Locale.ROOT);
        check(x, bias);
        Device d = Prims.deviceOf(name, x, bias);
        Prims.requireSameDType(name, x, bias);
        if (activation == FusedActivation.RELU) {
            Prims.requireNumeric(name, x);
        } else {
            Prims.requireFloating(name, x);
        }
        Tensor y = Prims.empty(d, x.dtype(), x.shape());
        try {
            View xv = x.spiView();
            View bv = Prims.broadcastView(bias, x.shape());
            synchronized (d) {
                d.checkOpen();
                d.backend().binaryUnary(BinaryOp.ADD, activation.op, xv, bv, y.storage.buffer);
            }
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
        GradientTape.record(name, (g, in, out, needs) -> {
            Tensor gz = activation.grad(g, out);
            return new Tensor[] {gz, gz};
        }, y, x, bias);
        return y;
    }

    private static void check(Tensor x, Tensor bias) {
        if (bias.rank() != 1) {
            throw new ShapeException("biasAdd: bias must be rank 1, got shape " + bias.shape());
        }
        if (x.rank() < 1 || x.shape().dim(x.rank() - 1) != bias.shape().dim(0)) {
            throw new ShapeException("biasAdd: bias of shape " + bias.shape()
                    + " does not match the last dimension of x, of shape " + x.shape());
        }
    }
}
