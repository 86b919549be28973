package dev.spool.conformance;

import dev.spool.Tensor;
import dev.spool.testing.ErfReference;
import java.util.List;
import java.util.Random;
import java.util.function.BinaryOperator;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;

/**
 * The elementwise ops, one row each, shared by the forward, gradient and parity tests: the op,
 * a plain-Java reference, and the input domain that keeps it finite and differentiable.
 */
final class ElementwiseTable {
    private ElementwiseTable() {
    }

    /** Where inputs are drawn from: away from poles, kinks and the edges of each op's domain. */
    enum Domain {
        /** [-2, 2). */
        ANY,
        /** [0.5, 2.5): log, sqrt, rsqrt, the base of pow. */
        POSITIVE,
        /** ±[0.3, 2): abs, sign, relu, reciprocal, softplus, divisors. */
        AWAY_FROM_ZERO;

        double sample(Random r) {
            return switch (this) {
                case ANY -> -2 + 4 * r.nextDouble();
                case POSITIVE -> 0.5 + 2 * r.nextDouble();
                case AWAY_FROM_ZERO -> (r.nextBoolean() ? 1 : -1) * (0.3 + 1.7 * r.nextDouble());
            };
        }

        double[] sample(Random r, int n) {
            double[] out = new double[n];
            for (int i = 0; i < n; i++) {
                out[i] = sample(r);
            }
            return out;
        }
    }

    /** A unary op; {@code integers}: it also takes int32/int64 (neg, abs, sign, relu). */
    record Unary(String name, Domain domain, UnaryOperator<Tensor> op, DoubleUnaryOperator reference,
                 boolean integers) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** A binary op with NumPy broadcasting; {@code integers}: it also takes int32/int64. */
    record Binary(String name, Domain a, Domain b, BinaryOperator<Tensor> op, DoubleBinaryOperator reference,
                  boolean integers) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final List<Unary> UNARY = List.of(
            new Unary("neg", Domain.ANY, Tensor::neg, x -> -x, true),
            new Unary("abs", Domain.AWAY_FROM_ZERO, Tensor::abs, Math::abs, true),
            new Unary("sign", Domain.AWAY_FROM_ZERO, Tensor::sign, Math::signum, true),
            new Unary("exp", Domain.ANY, Tensor::exp, Math::exp, false),
            new Unary("log", Domain.POSITIVE, Tensor::log, Math::log, false),
            new Unary("log1p", Domain.POSITIVE, Tensor::log1p, Math::log1p, false),
            new Unary("sqrt", Domain.POSITIVE, Tensor::sqrt, Math::sqrt, false),
            new Unary("rsqrt", Domain.POSITIVE, Tensor::rsqrt, x -> 1 / Math.sqrt(x), false),
            new Unary("square", Domain.ANY, Tensor::square, x -> x * x, false),
            new Unary("reciprocal", Domain.AWAY_FROM_ZERO, Tensor::reciprocal, x -> 1 / x, false),
            new Unary("sin", Domain.ANY, Tensor::sin, Math::sin, false),
            new Unary("cos", Domain.ANY, Tensor::cos, Math::cos, false),
            new Unary("tanh", Domain.ANY, Tensor::tanh, Math::tanh, false),
            new Unary("sigmoid", Domain.ANY, Tensor::sigmoid, x -> 1 / (1 + Math.exp(-x)), false),
            new Unary("erf", Domain.ANY, Tensor::erf, ErfReference::erf, false),
            new Unary("gelu", Domain.ANY, Tensor::gelu, ErfReference::gelu, false),
            new Unary("gelu approximate", Domain.ANY, x -> x.gelu(true), ErfReference::geluTanh, false),
            new Unary("relu", Domain.AWAY_FROM_ZERO, Tensor::relu, x -> Math.max(x, 0), true),
            new Unary("softplus", Domain.AWAY_FROM_ZERO, Tensor::softplus, x -> Math.log1p(Math.exp(x)), false),
            new Unary("identity", Domain.ANY, Tensor::identity, x -> x, true));

    static final List<Binary> BINARY = List.of(
            new Binary("add", Domain.ANY, Domain.ANY, Tensor::add, Double::sum, true),
            new Binary("sub", Domain.ANY, Domain.ANY, Tensor::sub, (x, y) -> x - y, true),
            new Binary("mul", Domain.ANY, Domain.ANY, Tensor::mul, (x, y) -> x * y, true),
            new Binary("div", Domain.ANY, Domain.AWAY_FROM_ZERO, Tensor::div, (x, y) -> x / y, false),
            new Binary("pow", Domain.POSITIVE, Domain.ANY, Tensor::pow, Math::pow, false),
            new Binary("maximum", Domain.ANY, Domain.ANY, Tensor::maximum, Math::max, true),
            new Binary("minimum", Domain.ANY, Domain.ANY, Tensor::minimum, Math::min, true));

    /** A seed derived from a row's name, so that each row's random inputs never change. */
    static long seed(String name) {
        return name.hashCode() * 0x9E3779B97F4A7C15L;
    }
}
