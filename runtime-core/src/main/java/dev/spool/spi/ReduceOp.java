package dev.spool.spi;

/**
 * Reductions. SUM of an empty set is 0, PROD 1, MAX -inf (integer: the type's minimum),
 * MIN +inf (integer: the type's maximum). MAX/MIN propagate NaN.
 * ARGMAX/ARGMIN return the int64 index of the first extreme element (first NaN wins);
 * they are only defined for a non-empty reduced axis: core rejects an empty one with a
 * {@code ShapeException} before it reaches a backend, so what a backend does there is its own.
 */
public enum ReduceOp {
    SUM, PROD, MAX, MIN, ARGMAX, ARGMIN;

    public boolean isArg() {
        return this == ARGMAX || this == ARGMIN;
    }
}
