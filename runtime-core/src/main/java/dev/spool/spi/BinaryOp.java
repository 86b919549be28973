package dev.spool.spi;

/**
 * Elementwise binary primitives. Both inputs have the same dtype. Arithmetic ops return that
 * dtype; comparisons ({@link #isComparison()}) return bool. Integer DIV truncates toward zero
 * (Java/C semantics); integer division by zero is backend-defined and must not crash.
 * MAX and MIN propagate NaN (if either input is NaN the result is NaN).
 */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, POW, MAX, MIN,
    EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL;

    public boolean isComparison() {
        return ordinal() >= EQUAL.ordinal();
    }
}
