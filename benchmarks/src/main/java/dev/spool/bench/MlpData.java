package dev.spool.bench;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The MLP training step's model and data, shared by Spool's benchmark and its peers: 784 → 256
 * (relu) → 10, mean softmax cross-entropy, SGD with learning rate 0.1, seeded Glorot-uniform
 * weights, zero biases, inputs uniform in [0, 1), random labels.
 */
public final class MlpData {
    public static final int IN = 784;
    public static final int HIDDEN = 256;
    public static final int OUT = 10;
    public static final float LR = 0.1f;

    public final int batch;
    /** [batch, IN] row-major. */
    public final float[] x;
    /** [IN, HIDDEN] row-major. */
    public final float[] w1;
    /** [HIDDEN, OUT] row-major. */
    public final float[] w2;
    /** The label of each row, in [0, OUT). */
    public final int[] classes;

    public MlpData(int batch) {
        this.batch = batch;
        x = Inputs.uniform(batch * IN, 1, 0, 1);
        w1 = Inputs.uniform(IN * HIDDEN, 2, -glorot(IN, HIDDEN), glorot(IN, HIDDEN));
        w2 = Inputs.uniform(HIDDEN * OUT, 3, -glorot(HIDDEN, OUT), glorot(HIDDEN, OUT));
        classes = new SplittableRandom(4).ints(batch, 0, OUT).toArray();
    }

    /** The labels one-hot, [batch, OUT] row-major. */
    public float[] oneHot() {
        float[] y = new float[batch * OUT];
        for (int r = 0; r < batch; r++) {
            y[r * OUT + classes[r]] = 1;
        }
        return y;
    }

    private static double glorot(int fanIn, int fanOut) {
        return Math.sqrt(6.0 / (fanIn + fanOut));
    }

    /** The forward loss in float64 for the initial weights (biases are zero). */
    public double referenceLoss() {
        double total = 0;
        double[] h = new double[HIDDEN];
        double[] z = new double[OUT];
        for (int r = 0; r < batch; r++) {
            Arrays.fill(h, 0);
            for (int k = 0; k < IN; k++) {
                double v = x[r * IN + k];
                for (int j = 0; j < HIDDEN; j++) {
                    h[j] += v * w1[k * HIDDEN + j];
                }
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int o = 0; o < OUT; o++) {
                z[o] = 0;
                for (int j = 0; j < HIDDEN; j++) {
                    z[o] += Math.max(h[j], 0) * w2[j * OUT + o];
                }
                max = Math.max(max, z[o]);
            }
            double sum = 0;
            for (int o = 0; o < OUT; o++) {
                sum += Math.exp(z[o] - max);
            }
            total += max + Math.log(sum) - z[classes[r]];
        }
        return total / batch;
    }

    /** The check every MLP benchmark runs at setup: the first step's loss matches the float64
     *  reference and ten more steps lower it by at least 10 %. */
    public void checkTraining(float firstLoss, float lossAfterTenMoreSteps) {
        Checks.close("initial loss", referenceLoss(), firstLoss, 1e-4, 0);
        Checks.that(lossAfterTenMoreSteps < 0.9f * firstLoss,
                "10 SGD steps took the loss from " + firstLoss + " to " + lossAfterTenMoreSteps);
    }
}
