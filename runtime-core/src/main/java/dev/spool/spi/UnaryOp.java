package dev.spool.spi;

/**
 * Elementwise unary primitives. The output dtype equals the input dtype.
 * Integer inputs are accepted by NEG, ABS, SIGN and RELU; {@link #NOT} takes and returns bool;
 * every other op takes float32 or float64. IEEE semantics throughout: no clamping.
 */
public enum UnaryOp {
    NEG, ABS, SIGN,
    /**
     * {@code x < 0 ? 0 : x}: NaN stays NaN and -0 stays -0 (it compares equal to 0). A primitive
     * because the composite {@code where(x > 0, x, 0)} costs three passes and two allocations
     * on the most common activation; its VJP is {@link BinaryOp#RELU_GRAD}.
     */
    RELU,
    EXP, LOG,
    /** log(1 + x), accurate for small x; a primitive for softplus's numerics. */
    LOG1P,
    SQRT, RSQRT, SIN, COS,
    /** A primitive (not exp-based) so that large |x| saturates instead of overflowing. */
    TANH,
    /** A primitive for the same reason as TANH: 1 / (1 + exp(-x)) overflows for x << 0. */
    SIGMOID,
    /** The error function: no composite of the other ops; GELU's exact form is built on it. */
    ERF,
    /** Exact GELU, {@code 0.5·x·(1 + erf(x/√2))}: one pass where a composite takes five. */
    GELU,
    /** GELU's tanh approximation, {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}. */
    GELU_TANH,
    NOT
}
