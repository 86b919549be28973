package dev.spool.spi;

/**
 * Elementwise binary primitives. Both inputs have the same dtype. Arithmetic ops return that
 * dtype; comparisons ({@link #isComparison()}) return bool. Integer DIV truncates toward zero
 * (Java/C semantics); integer division by zero is backend-defined and must not crash.
 * MAX and MIN propagate NaN (if either input is NaN the result is NaN). Floating POW follows
 * {@link Math#pow}, so {@code pow(1, NaN)} is NaN where C's {@code pow} gives 1. Integer POW
 * wraps like repeated multiplication; a negative exponent gives the truncated reciprocal
 * (0, except 1 for base 1 and &plusmn;1 for base -1).
 */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, POW, MAX, MIN,
    /**
     * {@code b > 0 ? a : 0}, numeric dtypes: the VJP of {@link UnaryOp#RELU} with {@code a} the
     * upstream gradient and {@code b} relu's input. One pass instead of a comparison, a select and
     * a zero; a NaN or an infinite {@code a} where {@code b <= 0} (or NaN) gives 0, not NaN.
     */
    RELU_GRAD,
    /** {@code a·(2/√π)·exp(-b²)}, float only: the VJP of {@link UnaryOp#ERF}, a the gradient, b erf's input. */
    ERF_GRAD,
    /** {@code a·(Φ(b) + b·φ(b))}, float only: the VJP of {@link UnaryOp#GELU}. */
    GELU_GRAD,
    /** {@code a·gelu'(b)} for {@link UnaryOp#GELU_TANH}: {@code ½(1 + t) + ½·b·(1 - t²)·u'}, t = tanh(u). */
    GELU_TANH_GRAD,
    EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL;

    public boolean isComparison() {
        return ordinal() >= EQUAL.ordinal();
    }
}
