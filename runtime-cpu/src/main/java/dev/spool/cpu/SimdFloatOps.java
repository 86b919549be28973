package dev.spool.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Float32's cheap elementwise ops on one vector: the definition that {@link SimdElementwise}'s
 * loops and {@link FusedExpression}'s compiled chains both call, so a fused step gives its
 * primitive's bits. Each is exact per lane (one IEEE operation or a select), so a vector gives
 * what the scalar tail loops give. The Vector API's own methods serve where they are the op
 * (add, sub, mul, div, max, min, neg, abs, sqrt).
 */
final class SimdFloatOps {
    private SimdFloatOps() {
    }

    /** {@code x < 0 ? 0 : x}: NaN and -0 pass through, as the scalar loop's. */
    static FloatVector relu(FloatVector x) {
        return x.blend(0f, x.compare(VectorOperators.LT, 0f));
    }

    /** {@code x > 0 ? g : 0}: the gradient {@code g} where the forward input {@code x} was positive. */
    static FloatVector reluGrad(FloatVector g, FloatVector x) {
        return g.blend(0f, x.compare(VectorOperators.GT, 0f).not());
    }
}
