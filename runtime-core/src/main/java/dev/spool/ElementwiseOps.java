package dev.spool;

import dev.spool.internal.NullChecks;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.UnaryOp;

/**
 * Elementwise ops, each defined once: its primitive (or its composition of other ops) next to its
 * VJP. Composites need no VJP of their own: the tape records the ops they are made of.
 */
final class ElementwiseOps {
    private ElementwiseOps() {
    }

    // ---- unary ---------------------------------------------------------------------------

    /** Runs a unary primitive and records it with {@code vjp}. */
    private static Tensor unary(String name, UnaryOp op, Tensor x, boolean floatOnly, VjpRule vjp) {
        if (floatOnly) {
            Prims.requireFloating(name, x);
        } else {
            Prims.requireNumeric(name, x);
        }
        Tensor y = Prims.unary(op, x);
        GradientTape.record(name, vjp, y, x);
        return y;
    }

    static Tensor neg(Tensor x) {
        return unary("neg", UnaryOp.NEG, x, false, (g, in, y, needs) -> new Tensor[] {neg(g)});
    }

    static Tensor abs(Tensor x) {
        return unary("abs", UnaryOp.ABS, x, false, (g, in, y, needs) -> new Tensor[] {mul(g, sign(in[0]))});
    }

    /** Piecewise constant: its gradient is zero (connected, as in TF). */
    static Tensor sign(Tensor x) {
        return unary("sign", UnaryOp.SIGN, x, false, (g, in, y, needs) -> new Tensor[] {null});
    }

    static Tensor exp(Tensor x) {
        return unary("exp", UnaryOp.EXP, x, true, (g, in, y, needs) -> new Tensor[] {mul(g, y)});
    }

    static Tensor log(Tensor x) {
        return unary("log", UnaryOp.LOG, x, true, (g, in, y, needs) -> new Tensor[] {div(g, in[0])});
    }

    static Tensor log1p(Tensor x) {
        return unary("log1p", UnaryOp.LOG1P, x, true,
                (g, in, y, needs) -> new Tensor[] {div(g, add(in[0], Creation.scalarLike(g, 1)))});
    }

    static Tensor sqrt(Tensor x) {
        // d sqrt(x) = 1 / (2 sqrt(x)) = 0.5 / y
        return unary("sqrt", UnaryOp.SQRT, x, true,
                (g, in, y, needs) -> new Tensor[] {div(mul(g, Creation.scalarLike(g, 0.5)), y)});
    }

    static Tensor rsqrt(Tensor x) {
        // d x^-1/2 = -1/2 x^-3/2 = -0.5 y^3
        return unary("rsqrt", UnaryOp.RSQRT, x, true, (g, in, y, needs) ->
                new Tensor[] {mul(mul(g, Creation.scalarLike(g, -0.5)), mul(y, mul(y, y)))});
    }

    static Tensor sin(Tensor x) {
        return unary("sin", UnaryOp.SIN, x, true, (g, in, y, needs) -> new Tensor[] {mul(g, cos(in[0]))});
    }

    static Tensor cos(Tensor x) {
        return unary("cos", UnaryOp.COS, x, true, (g, in, y, needs) -> new Tensor[] {neg(mul(g, sin(in[0])))});
    }

    static Tensor tanh(Tensor x) {
        // 1 - y^2
        return unary("tanh", UnaryOp.TANH, x, true, (g, in, y, needs) -> new Tensor[] {tanhGrad(g, y)});
    }

    /** tanh's VJP from its result {@code y}: {@code g (1 - y^2)}. */
    static Tensor tanhGrad(Tensor g, Tensor y) {
        return mul(g, sub(Creation.scalarLike(y, 1), mul(y, y)));
    }

    static Tensor sigmoid(Tensor x) {
        // y (1 - y)
        return unary("sigmoid", UnaryOp.SIGMOID, x, true, (g, in, y, needs) -> new Tensor[] {sigmoidGrad(g, y)});
    }

    /** sigmoid's VJP from its result {@code y}: {@code g y (1 - y)}. */
    static Tensor sigmoidGrad(Tensor g, Tensor y) {
        return mul(g, mul(y, sub(Creation.scalarLike(y, 1), y)));
    }

    /** 2/sqrt(pi): erf'(x) = TWO_OVER_SQRT_PI·exp(-x²). */
    static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
    /** 1/sqrt(2 pi), the standard normal density's factor. */
    static final double INV_SQRT_2PI = 0.3989422804014327;
    /** sqrt(2/pi) and the cubic's coefficient of GELU's tanh approximation (Hendrycks and Gimpel). */
    static final double GELU_C = 0.7978845608028654;
    static final double GELU_A = 0.044715;

    /** A primitive: erf has no closed form in other ops. VJP: {@link #erfGrad}. */
    static Tensor erf(Tensor x) {
        return unary("erf", UnaryOp.ERF, x, true, (g, in, y, needs) -> new Tensor[] {erfGrad(g, in[0])});
    }

    /**
     * {@code g·(2/√π)·exp(-x²)}, erf's VJP as one primitive ({@link BinaryOp#ERF_GRAD}). Its own VJP:
     * linear in g; for x, {@code gg·g·(-2x)·(2/√π)·exp(-x²)}.
     */
    static Tensor erfGrad(Tensor g, Tensor x) {
        return binary("erfGrad", BinaryOp.ERF_GRAD, g, x, (gg, in, y, needs) -> new Tensor[] {
            needs[0] ? erfGrad(gg, in[1]) : null,
            needs[1] ? mul(erfGrad(mul(gg, in[0]), in[1]), mul(in[1], Creation.scalarLike(in[1], -2))) : null});
    }

    /**
     * GELU as one primitive forward ({@link UnaryOp#GELU} exact, {@link UnaryOp#GELU_TANH} the tanh
     * approximation) and one backward ({@link #geluGrad}): written from ops it would be five to
     * eight passes over the activations of every MLP block.
     */
    static Tensor gelu(Tensor x, boolean approximate) {
        return unary("gelu", approximate ? UnaryOp.GELU_TANH : UnaryOp.GELU, x, true,
                (g, in, y, needs) -> new Tensor[] {geluGrad(g, in[0], approximate)});
    }

    /**
     * {@code g·gelu'(x)} as one primitive. Exact: gelu' = Φ(x) + x·φ(x), gelu'' = φ(x)·(2 - x²).
     * Tanh form, with u = c·(x + a·x³), t = tanh(u): gelu' = ½(1 + t) + ½·x·(1 - t²)·u',
     * gelu'' = (1 - t²)·(u' - x·t·u'² + ½·x·u''), u' = c·(1 + 3a·x²), u'' = 6ca·x.
     */
    static Tensor geluGrad(Tensor g, Tensor x, boolean approximate) {
        BinaryOp op = approximate ? BinaryOp.GELU_TANH_GRAD : BinaryOp.GELU_GRAD;
        return binary("geluGrad", op, g, x, (gg, in, y, needs) -> new Tensor[] {
            needs[0] ? geluGrad(gg, in[1], approximate) : null,
            needs[1] ? mul(mul(gg, in[0]), geluSecondDerivative(in[1], approximate)) : null});
    }

    private static Tensor geluSecondDerivative(Tensor x, boolean approximate) {
        Tensor x2 = mul(x, x);
        if (!approximate) {
            Tensor phi = mul(exp(mul(x2, Creation.scalarLike(x, -0.5))), Creation.scalarLike(x, INV_SQRT_2PI));
            return mul(phi, sub(Creation.scalarLike(x, 2), x2));
        }
        Tensor c = Creation.scalarLike(x, GELU_C);
        Tensor a = Creation.scalarLike(x, GELU_A);
        Tensor t = tanh(mul(c, add(x, mul(a, mul(x2, x)))));
        Tensor du = mul(c, add(Creation.scalarLike(x, 1), mul(Creation.scalarLike(x, 3 * GELU_A), x2)));
        Tensor ddu = mul(Creation.scalarLike(x, 6 * GELU_C * GELU_A), x);
        Tensor oneMinusT2 = sub(Creation.scalarLike(x, 1), mul(t, t));
        Tensor inner = add(sub(du, mul(mul(x, t), mul(du, du))), mul(Creation.scalarLike(x, 0.5), mul(x, ddu)));
        return mul(oneMinusT2, inner);
    }

    /** Composite: x * x. */
    static Tensor square(Tensor x) {
        return mul(x, x);
    }

    /** Composite: 1 / x. */
    static Tensor reciprocal(Tensor x) {
        Prims.requireFloating("reciprocal", x);
        return div(Creation.scalarLike(x, 1), x);
    }

    /** A primitive (see {@link UnaryOp#RELU}); the gradient at 0 is 0, as in TF. */
    static Tensor relu(Tensor x) {
        return unary("relu", UnaryOp.RELU, x, false, (g, in, y, needs) -> new Tensor[] {reluGrad(g, in[0])});
    }

    /**
     * {@code x > 0 ? g : 0}, relu's VJP as one primitive. Linear in {@code g} (its VJP for g is
     * itself, so nested tapes differentiate relu's gradient) and piecewise constant in {@code x}.
     */
    static Tensor reluGrad(Tensor g, Tensor x) {
        return binary("reluGrad", BinaryOp.RELU_GRAD, g, x, (gg, in, y, needs) ->
                new Tensor[] {needs[0] ? reluGrad(gg, in[1]) : null, null});
    }

    /** Composite, stable for large |x|: max(x, 0) + log1p(exp(-|x|)). */
    static Tensor softplus(Tensor x) {
        Prims.requireFloating("softplus", x);
        return add(maximum(x, Creation.scalarLike(x, 0)), log1p(exp(neg(abs(x)))));
    }

    static Tensor logicalNot(Tensor x) {
        if (x.dtype() != DType.BOOL) {
            throw new DTypeException("logicalNot: expected bool, got " + x.dtype());
        }
        return Prims.unary(UnaryOp.NOT, x);
    }

    // ---- binary (NumPy broadcasting; the tape sums gradients back to each input's shape) --

    private static Tensor binary(String name, BinaryOp op, Tensor a, Tensor b, VjpRule vjp) {
        Prims.requireNumeric(name, a);
        Tensor y = Prims.binary(name, op, a, b);
        GradientTape.record(name, vjp, y, a, b);
        return y;
    }

    static Tensor add(Tensor a, Tensor b) {
        return binary("add", BinaryOp.ADD, a, b, (g, in, y, needs) -> new Tensor[] {g, g});
    }

    static Tensor sub(Tensor a, Tensor b) {
        return binary("sub", BinaryOp.SUB, a, b, (g, in, y, needs) ->
                new Tensor[] {g, needs[1] ? neg(g) : null});
    }

    static Tensor mul(Tensor a, Tensor b) {
        return binary("mul", BinaryOp.MUL, a, b, (g, in, y, needs) ->
                new Tensor[] {needs[0] ? mul(g, in[1]) : null, needs[1] ? mul(g, in[0]) : null});
    }

    static Tensor div(Tensor a, Tensor b) {
        // d(a/b)/da = 1/b; d(a/b)/db = -a/b^2
        return binary("div", BinaryOp.DIV, a, b, (g, in, y, needs) -> new Tensor[] {
            needs[0] ? div(g, in[1]) : null,
            needs[1] ? neg(div(mul(g, in[0]), mul(in[1], in[1]))) : null});
    }

    static Tensor pow(Tensor a, Tensor b) {
        // d a^b / da = b a^(b-1); d a^b / db = a^b ln a, taken as 0 where a <= 0 (as TF does)
        return binary("pow", BinaryOp.POW, a, b, (g, in, y, needs) -> {
            Tensor ga = null;
            Tensor gb = null;
            if (needs[0]) {
                Tensor bMinus1 = sub(in[1], Creation.scalarLike(in[1], 1));
                ga = mul(g, mul(in[1], pow(in[0], bMinus1)));
            }
            if (needs[1]) {
                Tensor zero = Creation.scalarLike(in[0], 0);
                Tensor positive = greater(in[0], zero);
                Tensor safeA = where(positive, in[0], Creation.scalarLike(in[0], 1));
                gb = mul(g, mul(y, where(positive, log(safeA), zero)));
            }
            return new Tensor[] {ga, gb};
        });
    }

    /** Elementwise max; a tie sends the gradient to {@code a}, as TF does. */
    static Tensor maximum(Tensor a, Tensor b) {
        return binary("maximum", BinaryOp.MAX, a, b, (g, in, y, needs) -> {
            Tensor aWins = greaterEqual(in[0], in[1]);
            Tensor zero = Creation.scalarLike(g, 0);
            return new Tensor[] {needs[0] ? where(aWins, g, zero) : null,
                                 needs[1] ? where(aWins, zero, g) : null};
        });
    }

    /** Elementwise min; a tie sends the gradient to {@code a}, as TF does. */
    static Tensor minimum(Tensor a, Tensor b) {
        return binary("minimum", BinaryOp.MIN, a, b, (g, in, y, needs) -> {
            Tensor aWins = lessEqual(in[0], in[1]);
            Tensor zero = Creation.scalarLike(g, 0);
            return new Tensor[] {needs[0] ? where(aWins, g, zero) : null,
                                 needs[1] ? where(aWins, zero, g) : null};
        });
    }

    // ---- comparisons (bool results, not differentiable) ----------------------------------

    static Tensor equal(Tensor a, Tensor b) {
        return Prims.binary("equal", BinaryOp.EQUAL, a, b);
    }

    static Tensor notEqual(Tensor a, Tensor b) {
        return Prims.binary("notEqual", BinaryOp.NOT_EQUAL, a, b);
    }

    static Tensor less(Tensor a, Tensor b) {
        Prims.requireNumeric("less", a);
        return Prims.binary("less", BinaryOp.LESS, a, b);
    }

    static Tensor lessEqual(Tensor a, Tensor b) {
        Prims.requireNumeric("lessEqual", a);
        return Prims.binary("lessEqual", BinaryOp.LESS_EQUAL, a, b);
    }

    static Tensor greater(Tensor a, Tensor b) {
        Prims.requireNumeric("greater", a);
        return Prims.binary("greater", BinaryOp.GREATER, a, b);
    }

    static Tensor greaterEqual(Tensor a, Tensor b) {
        Prims.requireNumeric("greaterEqual", a);
        return Prims.binary("greaterEqual", BinaryOp.GREATER_EQUAL, a, b);
    }

    /** {@code cond ? a : b} elementwise, all three broadcast together. */
    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        Tensor y = Prims.select(cond, a, b);
        GradientTape.record("where", (g, in, out, needs) -> {
            Tensor zero = Creation.scalarLike(g, 0);
            return new Tensor[] {null, needs[1] ? where(in[0], g, zero) : null,
                                 needs[2] ? where(in[0], zero, g) : null};
        }, y, cond, a, b);
        return y;
    }

    // ---- dtype and identity --------------------------------------------------------------

    /** Converts to {@code dtype} (float to int truncates toward zero). Differentiable between
     *  float types; a cast to or from a non-float type stops the gradient. */
    static Tensor cast(Tensor x, DType dtype) {
        NullChecks.nonNull(dtype, "cast", "dtype");
        if (x.dtype() == dtype) {
            return identity(x);
        }
        Tensor y = Prims.copy(x, dtype);
        if (x.dtype().isFloating()) {
            GradientTape.record("cast", (g, in, out, needs) -> new Tensor[] {cast(g, in[0].dtype())}, y, x);
        }
        return y;
    }

    /** The same values; recorded, so gradients flow through it. Shares the buffer. */
    static Tensor identity(Tensor x) {
        Tensor y = x.freshAlias();
        GradientTape.record("identity", (g, in, out, needs) -> new Tensor[] {g}, y, x);
        return y;
    }

    /** The same values, never recorded: gradients stop here. Shares the buffer. */
    static Tensor stopGradient(Tensor x) {
        return x.freshAlias();
    }
}
