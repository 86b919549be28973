package dev.spool.cpu;

import static dev.spool.cpu.CpuTesting.CPU;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.spi.BinaryOp;
import dev.spool.spi.UnaryOp;
import dev.spool.testing.GeluAccuracy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * erf, GELU and their VJP primitives on cpu against a decimal reference ({@link GeluAccuracy}).
 * float32 comes from the lane path (float64 math rounded once: 0.5 ulp plus the float64
 * algorithm's error) or, for erf and exact GELU with the Vector API on and for GELU's gradient,
 * from {@link Float32Erf}'s formulas ({@link SimdErf} with the Vector API; 2.5 ulp); float64 from
 * {@link ErfMath}, within 1e-14 relative.
 */
class GeluAccuracyTest {
    @ParameterizedTest
    @EnumSource(value = UnaryOp.class, names = {"ERF", "GELU", "GELU_TANH"})
    void float32ForwardIsWithinItsBound(UnaryOp op) {
        // with the Vector API on, erf and exact GELU come from Float32Erf (NR's erfc, 1.05e-7)
        double bound = VectorSupport.ENABLED && op != UnaryOp.GELU_TANH ? 2.5 : 0.501;
        GeluAccuracy.Worst w = GeluAccuracy.float32(CPU, op, bound, 0);
        assertTrue(w.error() <= 1, op + ": " + w + " of the bound, " + bound + " ulp");
    }

    @ParameterizedTest
    @EnumSource(value = BinaryOp.class, names = {"ERF_GRAD", "GELU_GRAD", "GELU_TANH_GRAD"})
    void float32GradientIsWithinItsBound(BinaryOp op) {
        double bound = op == BinaryOp.GELU_GRAD ? 2.5 : 0.501; // Float32Direct: GELU_GRAD from Float32Erf
        GeluAccuracy.Worst w = GeluAccuracy.float32(CPU, op, bound, 0);
        assertTrue(w.error() <= 1, op + ": " + w + " of the bound, " + bound + " ulp");
    }

    @ParameterizedTest
    @EnumSource(value = UnaryOp.class, names = {"ERF", "GELU", "GELU_TANH"})
    void float64IsWithinAFewUlps(UnaryOp op) {
        GeluAccuracy.Worst w = GeluAccuracy.float64(CPU, op);
        assertTrue(w.error() <= 1e-14, op + ": relative " + w);
    }
}
