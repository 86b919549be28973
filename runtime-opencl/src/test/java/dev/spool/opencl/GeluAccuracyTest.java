package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.spi.BinaryOp;
import dev.spool.spi.UnaryOp;
import dev.spool.testing.GeluAccuracy;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * erf, GELU and their VJP kernels (elementwise.cl, on OpenCL C's erf/erfc, exp and the sigmoid
 * written there) against a decimal reference ({@link GeluAccuracy}). Bounds in float32 ulps,
 * beyond the 0.5 of a correctly rounded result: {@code erf}, {@code erfc} are allowed 16 ulp by
 * the OpenCL specification and are within a few on PoCL and Rusticl; exact GELU multiplies x by
 * 1/√2 in float first, an error that erfc's slope turns into up to x² ulp where x << 0
 * ({@code d ln erfc(z)/d ln z ≈ -2z²}), so its bound is {@code 8 + x²} ulp, which still fails a
 * formula that cancels ({@code 1 + erf}) by orders of magnitude. The tanh form's sigmoid(2u) has
 * the same amplification of u's rounding, |2u| ≈ 0.07·|x|³ (about 70 at x = -10, below which the
 * result is subnormal): {@code 8 + 2x²} ulp. float64, where the device has
 * it, within 1e-13 relative (1e-12 for exact GELU, whose own x/√2 rounding costs x²·1e-16).
 */
@ExtendWith(TestDevices.class)
class GeluAccuracyTest {
    static Stream<Arguments> devices() {
        List<Arguments> out = new ArrayList<>();
        for (OpenClBackend b : TestDevices.all()) {
            out.add(Arguments.of(b));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("devices")
    void float32Forward(OpenClBackend b) {
        check(GeluAccuracy.float32(b, UnaryOp.ERF, 8, 0), "ERF");
        check(GeluAccuracy.float32(b, UnaryOp.GELU, 8, 1), "GELU");
        check(GeluAccuracy.float32(b, UnaryOp.GELU_TANH, 8, 2), "GELU_TANH");
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("devices")
    void float32Gradients(OpenClBackend b) {
        check(GeluAccuracy.float32(b, BinaryOp.ERF_GRAD, 8, 2), "ERF_GRAD");
        check(GeluAccuracy.float32(b, BinaryOp.GELU_GRAD, 8, 1), "GELU_GRAD");
        check(GeluAccuracy.float32(b, BinaryOp.GELU_TANH_GRAD, 8, 2), "GELU_TANH_GRAD");
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("devices")
    void float64(OpenClBackend b) {
        if (!b.info().fp64()) {
            return;
        }
        for (UnaryOp op : new UnaryOp[] {UnaryOp.ERF, UnaryOp.GELU, UnaryOp.GELU_TANH}) {
            GeluAccuracy.Worst w = GeluAccuracy.float64(b, op);
            double bound = op == UnaryOp.GELU ? 1e-12 : 1e-13;
            assertTrue(w.error() <= bound, op + ": relative " + w);
        }
    }

    /** Error within {@code base + slope·x²} ulp everywhere: the ratio at most 1. */
    private static void check(GeluAccuracy.Worst w, String what) {
        assertTrue(w.error() <= 1, what + ": " + w + " of its bound");
    }
}
