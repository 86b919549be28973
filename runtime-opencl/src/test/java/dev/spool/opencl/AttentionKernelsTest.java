package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.spool.DType;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * attention.cl under both kernel strategies (the conformance suite's AttentionTest runs only the
 * device's own, so GPU kernels on PoCL are reached here alone), dense and strided depths: the
 * forward and backward primitives, called through the SPI, against the definition computed on the
 * host in double, with Tq ≠ Tk, causal, a mask broadcast over the heads (stride 0) and one query
 * row whose every key is masked. Three sets of sizes: depths of several chunks of the GPU
 * strategy's accumulators and part of one of the CPU row kernels' (d 20, dv 33); deeper ones
 * (d 80, dv 120) that the CPU tiles still take; and dv 130, past the tiles' 128 (two whole chunks
 * of the CPU row kernels and a part). Dense operands on a CPU-style device run the tile kernels
 * where their depths allow, strided ones the row kernels; the test checks which ran.
 */
@ExtendWith(TestDevices.class)
@SuppressWarnings("try")
class AttentionKernelsTest {
    /** Batch, heads, query and key lengths, depths of q·k and of v. */
    record Sizes(int b, int h, int tq, int tk, int d, int dv) {
    }

    static final List<Sizes> SIZES = List.of(new Sizes(2, 2, 45, 37, 20, 33), new Sizes(1, 2, 40, 35, 80, 120),
            new Sizes(1, 1, 20, 18, 8, 130));

    @ParameterizedTest(name = "{0}", autoCloseArguments = false) // the backends are shared by the test classes
    @MethodSource("dev.spool.opencl.TestDevices#bothStyles")
    void bothStrategiesMatchTheDefinition(OpenClBackend be) {
        for (DType t : KernelCatalog.types(KernelCatalog.FLOATING, be.info().fp64())) {
            for (Sizes z : SIZES) {
                for (boolean strided : new boolean[] {false, true}) {
                    run(be, t, z, strided);
                }
            }
        }
    }

    /** With {@code strided}, k is stored [B, H, D, TK] and seen transposed: the depth has stride TK. */
    private static void run(OpenClBackend be, DType t, Sizes z, boolean strided) {
        final int B = z.b();
        final int H = z.h();
        final int TQ = z.tq();
        final int TK = z.tk();
        final int D = z.d();
        final int DV = z.dv();
        {
            Random r = new Random(5);
            double[] q = values(r, B * H * TQ * D);
            double[] k = values(r, B * H * TK * D);
            double[] v = values(r, B * H * TK * DV);
            double[] g = values(r, B * H * TQ * DV);
            double[] mask = new double[B * TQ * TK];
            for (int i = 0; i < mask.length; i++) {
                mask[i] = r.nextDouble() < 0.8 ? 1 : 0;
            }
            java.util.Arrays.fill(mask, 5 * TK, 6 * TK, 0); // batch 0, query 5: no key left

            double scale = 0.3;
            List<double[]> expected = reference(z, q, k, v, g, mask, scale);
            DeviceBuffer qb = Host.upload(be, t, q);
            double[] kStored = k;
            if (strided) {
                kStored = new double[k.length];
                for (int bh = 0; bh < B * H; bh++) {
                    for (int j = 0; j < TK; j++) {
                        for (int c = 0; c < D; c++) {
                            kStored[(bh * D + c) * TK + j] = k[(bh * TK + j) * D + c];
                        }
                    }
                }
            }
            DeviceBuffer kb = Host.upload(be, t, kStored);
            DeviceBuffer vb = Host.upload(be, t, v);
            DeviceBuffer gb = Host.upload(be, t, g);
            DeviceBuffer mb = Host.upload(be, DType.BOOL, mask);
            DeviceBuffer out = be.allocate(t, (long) B * H * TQ * DV);
            DeviceBuffer lse = be.allocate(t, (long) B * H * TQ);
            DeviceBuffer dq = be.allocate(t, q.length);
            DeviceBuffer dk = be.allocate(t, k.length);
            DeviceBuffer dv = be.allocate(t, v.length);
            View qv = View.contiguous(qb, B, H, TQ, D);
            View kv = strided ? new View(kb, new int[] {B, H, TK, D}, new long[] {(long) H * D * TK, (long) D * TK, 1, TK}, 0)
                    : View.contiguous(kb, B, H, TK, D);
            View vv = View.contiguous(vb, B, H, TK, DV);
            View mv = new View(mb, new int[] {B, H, TQ, TK}, new long[] {(long) TQ * TK, 0, TK, 1}, 0);
            View ov = View.contiguous(out, B, H, TQ, DV);
            long tileCalls = be.attentionKernels().tileCalls;
            be.attention(qv, kv, vv, mv, true, scale, out, lse);
            be.attentionGrad(qv, kv, vv, mv, true, scale, ov, View.contiguous(gb, B, H, TQ, DV),
                    View.contiguous(lse, B, H, TQ), dq, dk, dv);
            // which kernels ran: the tiles exactly where AttentionKernels picks them
            boolean tiles = !strided && be.tuning().style() == Tuning.Style.CPU
                    && be.device().loopLimit == Long.MAX_VALUE && D <= AttentionKernels.TILE_DMAX
                    && DV <= AttentionKernels.TILE_DMAX;
            be.synchronize();
            assertEquals(tiles ? 2 : 0, be.attentionKernels().tileCalls - tileCalls, "calls that ran the tiles on "
                    + be.info().name() + " (" + be.strategy() + ")" + (strided ? " strided" : ""));
            DeviceBuffer[] got = {out, dq, dk, dv};
            String[] names = {"out", "dq", "dk", "dv"};
            double tol = t == DType.FLOAT64 ? 1e-10 : 2e-5;
            for (int i = 0; i < 4; i++) {
                double[] e = expected.get(i);
                Object a = t == DType.FLOAT64 ? new double[e.length] : new float[e.length];
                be.read(View.contiguous(got[i], e.length), a);
                double[] ad = Host.doubles(a);
                for (int j = 0; j < e.length; j++) {
                    assertEquals(e[j], ad[j], tol * (1 + Math.abs(e[j])), names[i] + " " + t + (strided ? " strided" : "") + " element " + j + " on "
                            + be.info().name() + " (" + be.strategy() + ")");
                }
            }
            for (DeviceBuffer b : new DeviceBuffer[] {qb, kb, vb, gb, mb, out, lse, dq, dk, dv}) {
                be.release(b);
            }
        }
    }

    /** The definition on the host, in double: scores, masked, softmax, and the gradients written out. */
    static List<double[]> reference(Sizes z, double[] q, double[] k, double[] v, double[] g, double[] mask,
                                    double scale) {
        final int B = z.b();
        final int H = z.h();
        final int TQ = z.tq();
        final int TK = z.tk();
        final int D = z.d();
        final int DV = z.dv();
        double[] out = new double[B * H * TQ * DV];
        double[] dq = new double[q.length];
        double[] dk = new double[k.length];
        double[] dv = new double[v.length];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                int bh = b * H + h;
                for (int i = 0; i < TQ; i++) {
                    double[] s = new double[TK];
                    double m = Double.NEGATIVE_INFINITY;
                    boolean[] off = new boolean[TK];
                    for (int j = 0; j < TK; j++) {
                        off[j] = j > i || mask[(b * TQ + i) * TK + j] == 0;
                        double x = 0;
                        for (int c = 0; c < D; c++) {
                            x += q[(bh * TQ + i) * D + c] * k[(bh * TK + j) * D + c];
                        }
                        s[j] = off[j] ? -1e9 : x * scale;
                        m = Math.max(m, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < TK; j++) {
                        s[j] = Math.exp(s[j] - m);
                        sum += s[j];
                    }
                    double[] dp = new double[TK];
                    double dot = 0; // sum_j p dp = D
                    for (int j = 0; j < TK; j++) {
                        double p = s[j] / sum;
                        s[j] = p;
                        for (int c = 0; c < DV; c++) {
                            out[(bh * TQ + i) * DV + c] += p * v[(bh * TK + j) * DV + c];
                            dv[(bh * TK + j) * DV + c] += p * g[(bh * TQ + i) * DV + c];
                            dp[j] += g[(bh * TQ + i) * DV + c] * v[(bh * TK + j) * DV + c];
                        }
                        dot += p * dp[j];
                    }
                    for (int j = 0; j < TK; j++) {
                        double ds = off[j] ? 0 : s[j] * (dp[j] - dot) * scale;
                        for (int c = 0; c < D; c++) {
                            dq[(bh * TQ + i) * D + c] += ds * k[(bh * TK + j) * D + c];
                            dk[(bh * TK + j) * D + c] += ds * q[(bh * TQ + i) * D + c];
                        }
                    }
                }
            }
        }
        return List.of(out, dq, dk, dv);
    }

    private static double[] values(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextDouble() * 4 - 2;
        }
        return v;
    }
}
