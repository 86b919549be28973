package dev.spool.nn.optimizers;

import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import dev.spool.nn.internal.NnArgs;

/**
 * Stochastic gradient descent, Keras's {@code SGD} (defaults: learning rate 0.01, no momentum):
 * <pre>
 * momentum = 0:  w ← w - lr·g
 * otherwise:     m ← momentum·m - lr·g
 *                w ← w + m                        (classic)
 *                w ← w + momentum·m - lr·g        (Nesterov)
 * </pre>
 */
public final class SGD extends Optimizer {
    private final double momentum;
    private final boolean nesterov;

    public SGD() {
        this(0.01);
    }

    public SGD(double learningRate) {
        this(LearningRateSchedule.constant(NnArgs.nonNegative(learningRate, "SGD", "learningRate")), 0, false);
    }

    public SGD(double learningRate, double momentum, boolean nesterov) {
        this(LearningRateSchedule.constant(NnArgs.nonNegative(learningRate, "SGD", "learningRate")), momentum,
                nesterov);
    }

    public SGD(LearningRateSchedule learningRate, double momentum, boolean nesterov) {
        super(NullChecks.nonNull(learningRate, "SGD", "learningRate"));
        this.momentum = NnArgs.unit(momentum, "SGD", "momentum");
        this.nesterov = nesterov;
    }

    @Override
    protected void update(Variable w, Tensor g, double lr, long step) {
        // one launch per variable (tf.raw_ops' ApplyGradientDescent and ApplyKerasMomentum)
        if (momentum == 0) {
            Spool.applyGradientDescent(w, learningRateNow(), g);
        } else {
            Spool.applyKerasMomentum(w, slot(w, "momentum"), learningRateNow(), g, momentum, nesterov);
        }
    }

    @Override
    protected boolean readsScheduleWhenReplayed() {
        return true;
    }
}
