package dev.spool.nn.optimizers;

import dev.spool.nn.internal.NnArgs;

/**
 * The learning rate as a function of the optimizer's step (0 for the first update), as Keras's
 * {@code LearningRateSchedule}s. Evaluated on the host, once per step.
 */
@FunctionalInterface
public interface LearningRateSchedule {

    double at(long step);

    /** Whether every step has the same rate (inside a traced function, any optimizer may use it). */
    default boolean isConstant() {
        return false;
    }

    /** {@code learningRate} at every step: a finite number {@code >= 0}. */
    static LearningRateSchedule constant(double learningRate) {
        NnArgs.nonNegative(learningRate, "LearningRateSchedule.constant", "learningRate");
        return new LearningRateSchedule() {
            @Override
            public double at(long step) {
                return learningRate;
            }

            @Override
            public boolean isConstant() {
                return true;
            }
        };
    }

    /**
     * Step decay, Keras's {@code ExponentialDecay(staircase=True)}:
     * {@code initial · rate^floor(step / decaySteps)}.
     */
    static LearningRateSchedule stepDecay(double initial, double rate, long decaySteps) {
        NnArgs.nonNegative(initial, "LearningRateSchedule.stepDecay", "initial");
        NnArgs.nonNegative(rate, "LearningRateSchedule.stepDecay", "rate");
        NnArgs.positive(decaySteps, "LearningRateSchedule.stepDecay", "decaySteps");
        return step -> initial * Math.pow(rate, Math.floorDiv(step, decaySteps));
    }

    /**
     * Cosine decay, Keras's {@code CosineDecay} (without warm-up):
     * {@code initial · ((1 - alpha) · ½(1 + cos(π · min(step, decaySteps) / decaySteps)) + alpha)}.
     */
    static LearningRateSchedule cosineDecay(double initial, long decaySteps, double alpha) {
        NnArgs.nonNegative(initial, "LearningRateSchedule.cosineDecay", "initial");
        NnArgs.positive(decaySteps, "LearningRateSchedule.cosineDecay", "decaySteps");
        NnArgs.unit(alpha, "LearningRateSchedule.cosineDecay", "alpha");
        return step -> {
            double progress = (double) Math.min(step, decaySteps) / decaySteps;
            double cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
            return initial * ((1 - alpha) * cosine + alpha);
        };
    }

    /**
     * Cosine decay after a linear warm-up, Keras's
     * {@code CosineDecay(initial, decaySteps, alpha, warmup_target=warmupTarget, warmup_steps=warmupSteps)}:
     * with {@code s = min(step, warmupSteps + decaySteps)}, the rate is
     * {@code initial + (warmupTarget - initial) · s / warmupSteps} while {@code s < warmupSteps},
     * then {@code warmupTarget · ((1 - alpha) · ½(1 + cos(π · (s - warmupSteps) / decaySteps)) + alpha)}.
     * The warm-up starts at {@code initial} at step 0 (Keras's, which often passes 0) and reaches
     * {@code warmupTarget} at step {@code warmupSteps}; the run lasts {@code warmupSteps + decaySteps}
     * steps to decay fully.
     */
    static LearningRateSchedule cosineDecay(double initial, long decaySteps, double alpha, double warmupTarget,
                                            long warmupSteps) {
        String op = "LearningRateSchedule.cosineDecay";
        NnArgs.nonNegative(initial, op, "initial");
        NnArgs.positive(decaySteps, op, "decaySteps");
        NnArgs.unit(alpha, op, "alpha");
        NnArgs.nonNegative(warmupTarget, op, "warmupTarget");
        NnArgs.positive(warmupSteps, op, "warmupSteps");
        return step -> {
            double s = Math.min(step, warmupSteps + decaySteps);
            if (s < warmupSteps) {
                return (warmupTarget - initial) * (s / warmupSteps) + initial;
            }
            double cosine = 0.5 * (1 + Math.cos(Math.PI * ((s - warmupSteps) / decaySteps)));
            return warmupTarget * ((1 - alpha) * cosine + alpha);
        };
    }
}
