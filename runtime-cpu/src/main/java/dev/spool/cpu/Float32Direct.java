package dev.spool.cpu;

import dev.spool.spi.BinaryOp;

/**
 * The one per-dtype shortcut: float32 arithmetic on contiguous segments, computed directly in
 * float. JDK 17's JIT does not vectorise float/double conversions, so the round trip through
 * {@link DoubleLane} makes cheap float32 ops (the most common ones) about four times slower.
 * The results are bit-identical to the lane path (see {@link Lane} on exact rounding), except
 * GELU_GRAD's, which come from {@link Float32Erf}'s formulas (within 2.5 ulp; {@link SimdErf} with
 * the Vector API) instead of ErfMath.
 */
final class Float32Direct {
    private Float32Direct() {
    }

    /** Whether {@link #binary} handles this op. */
    static boolean handles(BinaryOp op) {
        return exact(op) || op == BinaryOp.ERF_GRAD || op == BinaryOp.GELU_GRAD || op == BinaryOp.GELU_TANH_GRAD;
    }

    /** The ops whose float result is exactly rounded, so any loop gives the same bits. */
    static boolean exact(BinaryOp op) {
        return switch (op) {
            case ADD, SUB, MUL, DIV, MAX, MIN, RELU_GRAD -> true;
            default -> false;
        };
    }

    /** {@code r[pr + t] = op(x[px + t], y[py + t])} for {@code t < n}. */
    static void binary(BinaryOp op, float[] x, int px, float[] y, int py, float[] r, int pr, int n) {
        switch (op) {
            case ADD -> { for (int t = 0; t < n; t++) r[pr + t] = x[px + t] + y[py + t]; }
            case SUB -> { for (int t = 0; t < n; t++) r[pr + t] = x[px + t] - y[py + t]; }
            case MUL -> { for (int t = 0; t < n; t++) r[pr + t] = x[px + t] * y[py + t]; }
            case DIV -> { for (int t = 0; t < n; t++) r[pr + t] = x[px + t] / y[py + t]; }
            case MAX -> { for (int t = 0; t < n; t++) r[pr + t] = Math.max(x[px + t], y[py + t]); }
            case MIN -> { for (int t = 0; t < n; t++) r[pr + t] = Math.min(x[px + t], y[py + t]); }
            case RELU_GRAD -> { for (int t = 0; t < n; t++) r[pr + t] = y[py + t] > 0 ? x[px + t] : 0; }
            // the transcendental gradients, in double rounded once; GELU's with Float32Erf's erfc
            case ERF_GRAD -> { for (int t = 0; t < n; t++) r[pr + t] = (float) ErfMath.erfGrad(x[px + t], y[py + t]); }
            case GELU_GRAD -> {
                if (VectorSupport.ENABLED) {
                    SimdErf.geluGrad(x, px, y, py, r, pr, n);
                } else {
                    for (int t = 0; t < n; t++) r[pr + t] = (float) Float32Erf.geluGrad(x[px + t], y[py + t]);
                }
            }
            case GELU_TANH_GRAD -> {
                for (int t = 0; t < n; t++) r[pr + t] = (float) ErfMath.geluTanhGrad(x[px + t], y[py + t]);
            }
            default -> throw new IllegalArgumentException(op + " has no direct float32 form");
        }
    }
}
