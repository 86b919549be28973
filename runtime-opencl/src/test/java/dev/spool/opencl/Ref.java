package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.spool.DType;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.UnaryOp;
import dev.spool.testing.ErfReference;

/** The SPI's semantics in plain Java: what every backend must compute. */
final class Ref {
    private Ref() {
    }

    /** {@code v} as stored in {@code t} (Java cast semantics; bool is != 0). */
    static double cast(DType t, double v) {
        return switch (t) {
            case FLOAT32 -> (float) v;
            case FLOAT64 -> v;
            case INT32 -> (int) v;
            case INT64 -> (long) v;
            case BOOL -> v != 0 ? 1 : 0;
        };
    }

    static double unary(UnaryOp op, DType t, double x) {
        if (t == DType.BOOL) {
            return x == 0 ? 1 : 0; // NOT
        }
        if (t.isInteger()) {
            long v = (long) x;
            long r = switch (op) {
                case NEG -> -v;
                case ABS -> Math.abs(v);
                case SIGN -> Long.signum(v);
                case RELU -> v < 0 ? 0 : v;
                default -> throw new IllegalArgumentException(op.name());
            };
            return t == DType.INT32 ? (int) r : r;
        }
        double r = switch (op) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case SIGN -> Math.signum(x);
            case RELU -> x < 0 ? 0 : x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case LOG1P -> Math.log1p(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1 / Math.sqrt(x);
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
            case ERF -> ErfReference.erf(x);
            case GELU -> ErfReference.gelu(x);
            case GELU_TANH -> ErfReference.geluTanh(x);
            case NOT -> throw new IllegalArgumentException();
        };
        return cast(t, r);
    }

    static double binary(BinaryOp op, DType t, double a, double b) {
        if (op.isComparison()) {
            boolean r = switch (op) {
                case EQUAL -> a == b;
                case NOT_EQUAL -> a != b;
                case LESS -> a < b;
                case LESS_EQUAL -> a <= b;
                case GREATER -> a > b;
                default -> a >= b;
            };
            return r ? 1 : 0;
        }
        if (t.isInteger()) {
            return t == DType.INT32 ? intBinary(op, (int) a, (int) b) : longBinary(op, (long) a, (long) b);
        }
        if (t == DType.FLOAT32) {
            float x = (float) a;
            float y = (float) b;
            return switch (op) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> x / y;
                case POW -> (float) Math.pow(x, y);
                case MAX -> Math.max(x, y);
                case RELU_GRAD -> y > 0 ? x : 0;
                case ERF_GRAD, GELU_GRAD, GELU_TANH_GRAD -> (float) (x * gradientFactor(op, y));
                default -> Math.min(x, y);
            };
        }
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> Math.pow(a, b);
            case MAX -> Math.max(a, b);
            case RELU_GRAD -> b > 0 ? a : 0;
            case ERF_GRAD, GELU_GRAD, GELU_TANH_GRAD -> a * gradientFactor(op, b);
            default -> Math.min(a, b);
        };
    }

    static int intBinary(BinaryOp op, int a, int b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> b == 0 ? 0 : a / b;
            case POW -> (int) longPow(a, b);
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case RELU_GRAD -> b > 0 ? a : 0;
            default -> throw new IllegalArgumentException(op.name());
        };
    }

    static long longBinary(BinaryOp op, long a, long b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> b == 0 ? 0 : a / b;
            case POW -> longPow(a, b);
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case RELU_GRAD -> b > 0 ? a : 0;
            default -> throw new IllegalArgumentException(op.name());
        };
    }

    /** Exact (wrapping) power; negative exponents give 0 unless |a| == 1. */
    static long longPow(long a, long b) {
        if (b < 0) {
            return a == 1 ? 1 : a == -1 ? ((b & 1) != 0 ? -1 : 1) : 0;
        }
        if (a >= -1 && a <= 1) {
            return a == 0 ? (b == 0 ? 1 : 0) : a == 1 ? 1 : ((b & 1) != 0 ? -1 : 1);
        }
        // low 64 bits of the exact power: what wrapping multiplication gives
        return java.math.BigInteger.valueOf(a).pow((int) b).longValue();
    }

    /** Whether the float32 factor that {@code op}'s gradient multiplies its first operand by is
     *  subnormal at {@code y}, so a device without subnormals computes it as 0. */
    static boolean flushesToZero(BinaryOp op, double y) {
        if (op != BinaryOp.ERF_GRAD && op != BinaryOp.GELU_GRAD && op != BinaryOp.GELU_TANH_GRAD) {
            return false;
        }
        float f = (float) gradientFactor(op, y);
        return f != 0 && Math.abs(f) < Float.MIN_NORMAL;
    }

    /** What the erf and GELU gradients multiply g by at {@code y}: the derivative of the forward op. */
    private static double gradientFactor(BinaryOp op, double y) {
        return switch (op) {
            case ERF_GRAD -> ErfReference.erfDerivative(y);
            case GELU_GRAD -> ErfReference.geluDerivative(y);
            case GELU_TANH_GRAD -> ErfReference.geluTanhDerivative(y);
            default -> throw new IllegalArgumentException(op + " is not an erf or GELU gradient");
        };
    }

    /** Asserts {@code actual} is {@code expected} within {@code ulps} units in the last place of
     *  {@code t} (0 = exactly; NaN matches NaN; zeros must agree in sign when exact). */
    static void assertClose(DType t, double expected, double actual, int ulps, String what) {
        if (Double.isNaN(expected) || Double.isNaN(actual)) {
            if (Double.isNaN(expected) != Double.isNaN(actual)) {
                fail(what + ": expected " + expected + " but was " + actual);
            }
            return;
        }
        if (ulps == 0 || Double.isInfinite(expected) || !t.isFloating()) {
            assertEquals(expected, actual, 0.0, what);
            if (expected == 0 && t.isFloating()) {
                assertEquals(Math.copySign(1, expected), Math.copySign(1, actual), what + ": sign of zero");
            }
            return;
        }
        double ulp = t == DType.FLOAT32 ? Math.ulp((float) expected) : Math.ulp(expected);
        double tiny = t == DType.FLOAT32 ? 1e-37 : 1e-300; // denormals may be flushed
        if (Math.abs(expected - actual) > Math.max(ulps * ulp, tiny)) {
            fail(what + ": expected " + expected + " but was " + actual + " (more than " + ulps + " ulps)");
        }
    }
}
