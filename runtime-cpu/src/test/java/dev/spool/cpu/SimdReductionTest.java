package dev.spool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link SimdReduction}'s sixteen partial sums against {@link DoubleLane}'s scalar loop: the same
 * bits for every start index mod 16, run length and offset, in float32 and float64 (the sums are
 * held in vectors of whatever width the machine prefers, and must not depend on it).
 */
class SimdReductionTest {
    @BeforeAll
    static void vectorApi() {
        Assumptions.assumeTrue(VectorSupport.ENABLED, "no Vector API in this JVM: no SIMD path to compare");
    }

    @Test
    void partialSumsHaveTheBitsOfTheScalarLoop() {
        Random r = new Random(7);
        float[] f = new float[700];
        double[] d = new double[700];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
            d[i] = r.nextGaussian() * Math.pow(10, r.nextInt(13) - 6);
        }
        for (int first = 0; first < 20; first++) {
            for (int n : new int[] {0, 1, 15, 16, 17, 31, 32, 33, 100, 255, 256, 511, 600}) {
                for (int p : new int[] {0, 3, 16, 77}) {
                    double[] start = new double[DoubleLane.SUM_LANES];
                    for (int k = 0; k < start.length; k++) {
                        start[k] = r.nextDouble(); // sums already begun
                    }
                    String at = "first " + first + ", n " + n + ", p " + p;
                    double[] want = start.clone();
                    double[] got = start.clone();
                    DoubleLane.sumByIndex(f, p, n, first, want);
                    SimdReduction.sumByIndex(f, p, n, first, got);
                    assertArrayEquals(want, got, 0, "float32, " + at);
                    want = start.clone();
                    got = start.clone();
                    DoubleLane.sumByIndex(d, p, n, first, want);
                    SimdReduction.sumByIndex(d, p, n, first, got);
                    assertArrayEquals(want, got, 0, "float64, " + at);
                }
            }
        }
    }

    @Test
    void addIntoWidensEachElement() {
        Random r = new Random(8);
        float[] a = new float[300];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextFloat() - 0.5f;
        }
        for (int n : new int[] {0, 1, 7, 8, 15, 16, 17, 33, 250}) {
            double[] want = new double[n];
            double[] got = new double[n];
            for (int i = 0; i < n; i++) {
                want[i] = got[i] = r.nextDouble();
                want[i] += a[5 + i];
            }
            SimdReduction.addInto(got, 0, a, 5, n);
            assertArrayEquals(want, got, 0, "n " + n);
        }
    }
}
