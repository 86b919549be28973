package dev.spool.nn.optimizers;

import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import dev.spool.nn.internal.NnArgs;
import java.util.function.LongSupplier;

/**
 * Adam, Keras's rule and defaults (learning rate 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7, where ε is
 * the "ε-hat" of Kingma and Ba, added to √v without bias correction):
 * <pre>
 * m ← m + (g - m)(1 - β₁)
 * v ← v + (g² - v)(1 - β₂)
 * w ← w - α·m / (√v + ε),   α = lr·√(1 - β₂ᵗ) / (1 - β₁ᵗ),  t = step (from 1)
 * </pre>
 */
public class Adam extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double epsilon;

    public Adam() {
        this(0.001);
    }

    public Adam(double learningRate) {
        this(LearningRateSchedule.constant(NnArgs.nonNegative(learningRate, "Adam", "learningRate")), 0.9, 0.999,
                1e-7);
    }

    public Adam(LearningRateSchedule learningRate, double beta1, double beta2, double epsilon) {
        this("Adam", learningRate, beta1, beta2, epsilon);
    }

    /** {@code op} names the class in error messages ({@link AdamW} passes its own). */
    Adam(String op, LearningRateSchedule learningRate, double beta1, double beta2, double epsilon) {
        super(NullChecks.nonNull(learningRate, op, "learningRate"));
        this.beta1 = NnArgs.fraction(beta1, op, "beta1");
        this.beta2 = NnArgs.fraction(beta2, op, "beta2");
        this.epsilon = NnArgs.nonNegative(epsilon, op, "epsilon");
    }

    @Override
    protected void update(Variable w, Tensor g, double lr, long step) {
        // one launch per variable (tf.raw_ops.ApplyAdam), the formula above in the variable's dtype
        // the step-dependent scalars are read when the update runs: in a traced function, at every call
        LongSupplier t = stepNow();
        Spool.applyAdam(w, slot(w, "m"), slot(w, "v"), () -> Math.pow(beta1, t.getAsLong()),
                () -> Math.pow(beta2, t.getAsLong()), learningRateNow(), beta1, beta2, epsilon, g);
    }

    @Override
    protected boolean readsScheduleWhenReplayed() {
        return getClass() == Adam.class; // a subclass may use the rate it is given (AdamW says for itself)
    }
}
