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
 * float32 comes from the lane path (float64 math rounded once), so 0.5 ulp plus the float64
 * algorithm's error; float64 from {@link ErfMath}, within a few ulps.
 */
class GeluAccuracyTest {
    @ParameterizedTest
    @EnumSource(value = UnaryOp.class, names = {"ERF", "GELU", "GELU_TANH"})
    void float32ForwardIsCorrectlyRoundedAlmost(UnaryOp op) {
        GeluAccuracy.Worst w = GeluAccuracy.float32(CPU, op, 0.501, 0);
        assertTrue(w.error() <= 1, op + ": " + w + " of the bound, 0.501 ulp");
    }

    @ParameterizedTest
    @EnumSource(value = BinaryOp.class, names = {"ERF_GRAD", "GELU_GRAD", "GELU_TANH_GRAD"})
    void float32GradientIsCorrectlyRoundedAlmost(BinaryOp op) {
        GeluAccuracy.Worst w = GeluAccuracy.float32(CPU, op, 0.501, 0);
        assertTrue(w.error() <= 1, op + ": " + w + " of the bound, 0.501 ulp");
    }

    @ParameterizedTest
    @EnumSource(value = UnaryOp.class, names = {"ERF", "GELU", "GELU_TANH"})
    void float64IsWithinAFewUlps(UnaryOp op) {
        GeluAccuracy.Worst w = GeluAccuracy.float64(CPU, op);
        assertTrue(w.error() <= 1e-14, op + ": relative " + w);
    }
}
