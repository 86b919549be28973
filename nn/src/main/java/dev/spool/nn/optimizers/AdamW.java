package dev.spool.nn.optimizers;

import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.nn.internal.NnArgs;
import java.util.function.DoubleSupplier;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter), Keras's {@code AdamW} (defaults as
 * {@link Adam}, weight decay 0.004): first {@code w ← w - w·weightDecay·lr}, then the Adam step.
 */
public final class AdamW extends Adam {
    private final double weightDecay;

    public AdamW() {
        this(0.001, 0.004);
    }

    public AdamW(double learningRate, double weightDecay) {
        this(LearningRateSchedule.constant(NnArgs.nonNegative(learningRate, "AdamW", "learningRate")), weightDecay,
                0.9, 0.999, 1e-7);
    }

    public AdamW(LearningRateSchedule learningRate, double weightDecay, double beta1, double beta2, double epsilon) {
        super("AdamW", learningRate, beta1, beta2, epsilon);
        this.weightDecay = NnArgs.nonNegative(weightDecay, "AdamW", "weightDecay");
    }

    @Override
    protected void update(Variable w, Tensor g, double lr, long step) {
        // w - w·(weightDecay·lr) in one launch, the rate read when the update runs (in a traced
        // function, at every call), so that a schedule advances on replay as Adam's does
        DoubleSupplier rate = learningRateNow();
        Spool.applyGradientDescent(w, () -> weightDecay * rate.getAsDouble(), w);
        super.update(w, g, lr, step);
    }

    @Override
    protected boolean readsScheduleWhenReplayed() {
        return true;
    }
}
