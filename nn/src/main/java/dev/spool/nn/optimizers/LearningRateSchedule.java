package dev.spool.nn.optimizers;

/**
 * The learning rate as a function of the optimizer's step (0 for the first update), as Keras's
 * {@code LearningRateSchedule}s. Evaluated on the host, once per step.
 */
@FunctionalInterface
public interface LearningRateSchedule {

    double at(long step);

    static LearningRateSchedule constant(double learningRate) {
        return step -> learningRate;
    }

    /**
     * Step decay, Keras's {@code ExponentialDecay(staircase=True)}:
     * {@code initial · rate^floor(step / decaySteps)}.
     */
    static LearningRateSchedule stepDecay(double initial, double rate, long decaySteps) {
        if (decaySteps <= 0) {
            throw new IllegalArgumentException("stepDecay: decaySteps must be positive, got " + decaySteps);
        }
        return step -> initial * Math.pow(rate, Math.floorDiv(step, decaySteps));
    }

    /**
     * Cosine decay, Keras's {@code CosineDecay} (without warm-up):
     * {@code initial · ((1 - alpha) · ½(1 + cos(π · min(step, decaySteps) / decaySteps)) + alpha)}.
     */
    static LearningRateSchedule cosineDecay(double initial, long decaySteps, double alpha) {
        if (decaySteps <= 0) {
            throw new IllegalArgumentException("cosineDecay: decaySteps must be positive, got " + decaySteps);
        }
        return step -> {
            double progress = (double) Math.min(step, decaySteps) / decaySteps;
            double cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
            return initial * ((1 - alpha) * cosine + alpha);
        };
    }
}
