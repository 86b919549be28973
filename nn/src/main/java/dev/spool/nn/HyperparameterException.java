package dev.spool.nn;

import dev.spool.SpoolException;

/**
 * A hyperparameter outside its range: a learning rate, momentum, β, ρ, ε, dropout rate, clip
 * norm, weight decay or decay period. The message names the op, the parameter, its range and
 * the value given ({@code "SGD: momentum must be in [0, 1], got 1.5"}). Sizes (units, batch
 * sizes) that do not fit are {@link dev.spool.ShapeException}s, as in runtime-core.
 */
public class HyperparameterException extends SpoolException {
    public HyperparameterException(String message) {
        super(message);
    }
}
