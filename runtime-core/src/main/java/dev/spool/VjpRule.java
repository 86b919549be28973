package dev.spool;

/**
 * The vector–Jacobian product of one op: given the gradient flowing into the op's result, the
 * gradients of its inputs. Written with ordinary ops, so it runs on the inputs' device and is
 * itself recorded by any outer tape (that is what gives higher-order gradients).
 *
 * <p>The vocabulary is fixed: {@code grad} (shape of {@code result}), {@code inputs},
 * {@code result}, and {@code needs[i]}, whether input {@code i} needs a gradient (skip the
 * work when it does not). Return one entry per input; {@code null} means zero. A gradient may
 * have the broadcast shape of the result: the tape reduces it to the input's shape.
 */
@FunctionalInterface
interface VjpRule {
    Tensor[] apply(Tensor grad, Tensor[] inputs, Tensor result, boolean[] needs);
}
