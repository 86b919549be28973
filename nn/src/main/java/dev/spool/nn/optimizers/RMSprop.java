package dev.spool.nn.optimizers;

import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import dev.spool.nn.internal.NnArgs;

/**
 * RMSprop, Keras's rule and defaults (learning rate 0.001, ρ 0.9, momentum 0, ε 1e-7,
 * not centered):
 * <pre>
 * s ← ρ·s + (1 - ρ)·g²
 * centered:  ḡ ← ρ·ḡ + (1 - ρ)·g,  d = s - ḡ² + ε;   otherwise d = s + ε
 * Δ = lr·g / √d
 * momentum = 0:  w ← w - Δ;   otherwise  p ← momentum·p + Δ,  w ← w - p
 * </pre>
 */
public final class RMSprop extends Optimizer {
    private final double rho;
    private final double momentum;
    private final double epsilon;
    private final boolean centered;

    public RMSprop() {
        this(0.001);
    }

    public RMSprop(double learningRate) {
        this(LearningRateSchedule.constant(NnArgs.nonNegative(learningRate, "RMSprop", "learningRate")), 0.9, 0.0,
                1e-7, false);
    }

    public RMSprop(LearningRateSchedule learningRate, double rho, double momentum, double epsilon, boolean centered) {
        super(NullChecks.nonNull(learningRate, "RMSprop", "learningRate"));
        this.rho = NnArgs.fraction(rho, "RMSprop", "rho");
        this.momentum = NnArgs.unit(momentum, "RMSprop", "momentum");
        this.epsilon = NnArgs.nonNegative(epsilon, "RMSprop", "epsilon");
        this.centered = centered;
    }

    @Override
    protected void update(Variable w, Tensor g, double lr, long step) {
        Variable s = slot(w, "velocity");
        s.assign(s.mul(rho).add(g.square().mul(1 - rho)));
        Tensor denominator;
        if (centered) {
            Variable avg = slot(w, "average_gradient");
            avg.assign(avg.mul(rho).add(g.mul(1 - rho)));
            denominator = s.sub(avg.square()).add(epsilon);
        } else {
            denominator = s.add(epsilon);
        }
        Tensor increment = g.mul(lr).div(denominator.sqrt());
        if (momentum > 0) {
            Variable p = slot(w, "momentum");
            p.assign(p.mul(momentum).add(increment));
            w.assignSub(p.value());
        } else {
            w.assignSub(increment);
        }
    }
}
