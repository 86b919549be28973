package dev.spool.spi;

import dev.spool.DType;
import java.util.List;
import java.util.Locale;

/**
 * A chain (a tree) of elementwise primitives over one floating dtype that a traced function runs
 * as one {@link Backend#fusedElementwise}: what {@link Backend#unary} and {@link Backend#binary}
 * would compute one after another, without the intermediate buffers or their launches.
 *
 * <p>Operands are numbered: {@code 0 .. inputs-1} are the inputs (views broadcast to the output's
 * shape), {@code inputs + j} is step j's result. The last step's result is the output. A backend
 * must give each step's result exactly as the primitive would (the same per-element function,
 * in the same order, with no contraction of a multiply and an add into one rounding).
 */
public record FusedElementwise(DType dtype, int inputs, List<Step> steps) {
    /** One primitive: exactly one of {@code unary} and {@code binary} is set; {@code b} is -1 for unary. */
    public record Step(UnaryOp unary, BinaryOp binary, int a, int b) {
        public static Step unary(UnaryOp op, int a) {
            return new Step(op, null, a, -1);
        }

        public static Step binary(BinaryOp op, int a, int b) {
            return new Step(null, op, a, b);
        }
    }

    public FusedElementwise {
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("fused elementwise programs are float32 or float64, got " + dtype);
        }
        steps = List.copyOf(steps);
        for (int j = 0; j < steps.size(); j++) {
            Step s = steps.get(j);
            if ((s.unary() == null) == (s.binary() == null) || s.a() < 0 || s.a() >= inputs + j
                    || (s.binary() != null && (s.b() < 0 || s.b() >= inputs + j || s.binary().isComparison()))) {
                throw new IllegalArgumentException("bad step " + j + " of a fused program: " + s);
            }
        }
    }

    /** {@code tanh(mul(in0, c)) ...}: the expression, for logs and graph dumps. */
    public String expression() {
        return operand(inputs + steps.size() - 1);
    }

    private String operand(int i) {
        if (i < inputs) {
            return "in" + i;
        }
        Step s = steps.get(i - inputs);
        return s.unary() != null ? s.unary().name().toLowerCase(Locale.ROOT) + "(" + operand(s.a()) + ")"
                : s.binary().name().toLowerCase(Locale.ROOT) + "(" + operand(s.a()) + ", " + operand(s.b()) + ")";
    }
}
