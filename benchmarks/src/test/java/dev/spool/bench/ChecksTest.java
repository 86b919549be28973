package dev.spool.bench;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The result checks the benchmarks rely on must reject wrong work, not only accept right work. */
class ChecksTest {
    private static float[] product(int n, float[] a, float[] b) {
        float[] c = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                for (int j = 0; j < n; j++) {
                    c[i * n + j] += a[i * n + k] * b[k * n + j];
                }
            }
        }
        return c;
    }

    @Test
    void matmulSamplesAcceptsTheProductAndRejectsAScaledOrTransposedOne() {
        int n = 24;
        float[] a = Inputs.uniform(n * n, 1, -1, 1);
        float[] b = Inputs.uniform(n * n, 2, -1, 1);
        float[] c = product(n, a, b);
        assertDoesNotThrow(() -> Checks.matmulSamples("c", n, a, b, false, c));
        float[] scaled = c.clone();
        for (int i = 0; i < scaled.length; i++) {
            scaled[i] *= 1.01f;
        }
        assertThrows(IllegalStateException.class, () -> Checks.matmulSamples("c", n, a, b, false, scaled));
        // a @ b is not a @ bT: the transposed check must notice
        assertThrows(IllegalStateException.class, () -> Checks.matmulSamples("c", n, a, b, true, c));
    }

    @Test
    void closeRejectsNaNAndDistantValues() {
        assertDoesNotThrow(() -> Checks.close("x", 1.0, 1.0 + 1e-7, 1e-6, 0));
        assertThrows(IllegalStateException.class, () -> Checks.close("x", 1.0, Double.NaN, 1e-6, 0));
        assertThrows(IllegalStateException.class, () -> Checks.close("x", 1.0, 1.001, 1e-6, 0));
        assertDoesNotThrow(() -> Checks.close("x", Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e-6, 0));
    }

    @Test
    void mlpTrainingCheckRejectsAWrongFirstLossAndALossThatDoesNotFall() {
        MlpData data = new MlpData(4);
        float ref = (float) data.referenceLoss();
        assertDoesNotThrow(() -> data.checkTraining(ref, 0.5f * ref));
        assertThrows(IllegalStateException.class, () -> data.checkTraining(ref * 1.01f, 0.5f * ref));
        assertThrows(IllegalStateException.class, () -> data.checkTraining(ref, 0.95f * ref));
    }

    @Test
    void cnnChecksRejectWrongLogitsAndALossThatDoesNotFall() {
        CnnData data = new CnnData(2);
        float[] logits = new float[2 * CnnData.CLASSES];
        for (int r = 0; r < 2; r++) {
            double[] ref = data.referenceLogits(r);
            for (int c = 0; c < CnnData.CLASSES; c++) {
                logits[r * CnnData.CLASSES + c] = (float) ref[c];
            }
        }
        assertDoesNotThrow(() -> data.checkLogits("logits", logits));
        float[] swapped = logits.clone(); // the two images' logits exchanged
        System.arraycopy(logits, CnnData.CLASSES, swapped, 0, CnnData.CLASSES);
        System.arraycopy(logits, 0, swapped, CnnData.CLASSES, CnnData.CLASSES);
        assertThrows(IllegalStateException.class, () -> data.checkLogits("logits", swapped));
        float[] shifted = logits.clone();
        shifted[3] += 0.01f;
        assertThrows(IllegalStateException.class, () -> data.checkLogits("logits", shifted));
        double loss = data.loss(logits);
        assertDoesNotThrow(() -> data.checkTraining(loss, 0.8 * loss));
        assertThrows(IllegalStateException.class, () -> data.checkTraining(loss, 0.95 * loss));
        assertDoesNotThrow(() -> CnnData.checkTimedSteps(CnnData.MIN_TIMED_STEPS, loss, 0.99 * loss));
        assertThrows(IllegalStateException.class, () -> CnnData.checkTimedSteps(CnnData.MIN_TIMED_STEPS, loss, loss));
        assertThrows(IllegalStateException.class, () -> CnnData.checkTimedSteps(1, loss, Double.NaN));
    }
}
