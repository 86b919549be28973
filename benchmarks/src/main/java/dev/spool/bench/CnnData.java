package dev.spool.bench;

import java.util.SplittableRandom;

/**
 * The CNN training step's model and data, shared by Spool's benchmark and its DJL peer: the
 * Keras Fashion-MNIST CNN of examples' FashionMnistCnn (Conv2D(32, 3x3, relu), MaxPooling2D,
 * Conv2D(64, 3x3, relu), MaxPooling2D, Flatten, Dense(128, relu), Dropout(0.3), Dense(10); mean
 * sparse softmax cross-entropy; Adam with Keras's defaults, learning rate 0.001, epsilon 1e-7).
 *
 * <p>Seeded weights: Glorot-uniform kernels, and biases uniform in [-0.1, 0.1) rather than zero
 * so that the reference check covers them. They are held as Spool takes them (HWIO conv kernels,
 * {@code [in, out]} dense kernels, the first dense kernel's rows in Spool's NHWC flatten order
 * (y, x, channel)); the peer converts them to PyTorch's OIHW, {@code [out, in]} and (channel, y,
 * x) flatten order, so that both sides compute the same function.
 *
 * <p>Data: {@link #BATCHES} fixed batches of 28x28 one-channel images in [0, 1), each half a
 * per-class template of zeros and ones
 * (three quarters) and noise (a quarter), so that the classes can be learnt and the training check
 * can require the loss to fall; step i trains on batch {@code i mod BATCHES}. A one-channel NHWC
 * image has PyTorch's NCHW layout too.
 */
public final class CnnData {
    public static final int SIDE = 28;
    public static final int CLASSES = 10;
    public static final int K = 3;
    public static final int C1 = 32;
    public static final int C2 = 64;
    public static final int HIDDEN = 128;
    /** Output sides: each VALID 3x3 convolution takes 2, each 2x2 pooling halves (rounding down). */
    public static final int CONV1 = SIDE - K + 1;
    public static final int POOL1 = CONV1 / 2;
    public static final int CONV2 = POOL1 - K + 1;
    public static final int POOL2 = CONV2 / 2;
    public static final int FLAT = POOL2 * POOL2 * C2;
    public static final float DROPOUT = 0.3f;
    public static final float LEARNING_RATE = 1e-3f;
    public static final float EPSILON = 1e-7f;
    public static final int BATCHES = 4;
    /** Images of batch 0 whose logits {@link #checkLogits} compares with the float64 reference. */
    public static final int CHECKED_ROWS = 8;
    /** Training steps between the two losses of {@link #checkTraining}. */
    public static final int CHECK_STEPS = 10;
    /** Timed steps from which {@link #checkTimedSteps} requires the loss to have fallen: two
     *  passes over the batches (a JMH fork times hundreds on cpu, about ten on PoCL with its
     *  plain convolution kernels; the smoke test one). */
    public static final int MIN_TIMED_STEPS = 8;

    public final int batch;
    /** Per batch: {@code [batch, SIDE, SIDE, 1]}. */
    public final float[][] images;
    /** Per batch: the class of each image, in [0, CLASSES). */
    public final int[][] labels;
    /** {@code [K, K, 1, C1]}. */
    public final float[] conv1Kernel;
    public final float[] conv1Bias;
    /** {@code [K, K, C1, C2]}. */
    public final float[] conv2Kernel;
    public final float[] conv2Bias;
    /** {@code [FLAT, HIDDEN]}, rows in NHWC flatten order. */
    public final float[] dense1Kernel;
    public final float[] dense1Bias;
    /** {@code [HIDDEN, CLASSES]}. */
    public final float[] dense2Kernel;
    public final float[] dense2Bias;

    public CnnData(int batch) {
        this.batch = batch;
        conv1Kernel = glorot(K * K * C1, K * K, K * K * C1, 11);
        conv1Bias = Inputs.uniform(C1, 12, -0.1, 0.1);
        conv2Kernel = glorot(K * K * C1 * C2, K * K * C1, K * K * C2, 13);
        conv2Bias = Inputs.uniform(C2, 14, -0.1, 0.1);
        dense1Kernel = glorot(FLAT * HIDDEN, FLAT, HIDDEN, 15);
        dense1Bias = Inputs.uniform(HIDDEN, 16, -0.1, 0.1);
        dense2Kernel = glorot(HIDDEN * CLASSES, HIDDEN, CLASSES, 17);
        dense2Bias = Inputs.uniform(CLASSES, 18, -0.1, 0.1);
        float[][] templates = new float[CLASSES][];
        for (int c = 0; c < CLASSES; c++) {
            templates[c] = Inputs.uniform(SIDE * SIDE, 100 + c, 0, 1);
            for (int p = 0; p < SIDE * SIDE; p++) {
                templates[c][p] = templates[c][p] < 0.5f ? 0 : 1;
            }
        }
        images = new float[BATCHES][];
        labels = new int[BATCHES][];
        for (int b = 0; b < BATCHES; b++) {
            labels[b] = new SplittableRandom(200 + b).ints(batch, 0, CLASSES).toArray();
            float[] noise = Inputs.uniform(batch * SIDE * SIDE, 300 + b, 0, 1);
            images[b] = new float[batch * SIDE * SIDE];
            for (int i = 0; i < batch; i++) {
                float[] t = templates[labels[b][i]];
                for (int p = 0; p < SIDE * SIDE; p++) {
                    images[b][i * SIDE * SIDE + p] = 0.75f * t[p] + 0.25f * noise[i * SIDE * SIDE + p];
                }
            }
        }
    }

    private static float[] glorot(int n, int fanIn, int fanOut, long seed) {
        double limit = Math.sqrt(6.0 / (fanIn + fanOut));
        return Inputs.uniform(n, seed, -limit, limit);
    }

    // ---- the peer's layouts ----------------------------------------------------------------

    /** An HWIO kernel as PyTorch's OIHW. */
    public static float[] oihw(float[] hwio, int in, int out) {
        float[] w = new float[hwio.length];
        for (int ky = 0; ky < K; ky++) {
            for (int kx = 0; kx < K; kx++) {
                for (int i = 0; i < in; i++) {
                    for (int o = 0; o < out; o++) {
                        w[((o * in + i) * K + ky) * K + kx] = hwio[((ky * K + kx) * in + i) * out + o];
                    }
                }
            }
        }
        return w;
    }

    /** A {@code [in, out]} kernel as PyTorch's Linear weight {@code [out, in]}. */
    public static float[] outIn(float[] inOut, int in, int out) {
        float[] w = new float[inOut.length];
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
                w[o * in + i] = inOut[i * out + o];
            }
        }
        return w;
    }

    /** The first dense kernel as PyTorch's {@code [HIDDEN, FLAT]}, its columns in NCHW flatten order. */
    public float[] dense1Torch() {
        float[] w = new float[dense1Kernel.length];
        for (int y = 0; y < POOL2; y++) {
            for (int x = 0; x < POOL2; x++) {
                for (int c = 0; c < C2; c++) {
                    int nhwc = (y * POOL2 + x) * C2 + c;
                    int nchw = (c * POOL2 + y) * POOL2 + x;
                    for (int o = 0; o < HIDDEN; o++) {
                        w[o * FLAT + nchw] = dense1Kernel[nhwc * HIDDEN + o];
                    }
                }
            }
        }
        return w;
    }

    // ---- the reference and the checks ------------------------------------------------------

    /** The logits of image {@code row} of batch 0 in inference mode (no dropout), in float64. */
    public double[] referenceLogits(int row) {
        double[] a = new double[SIDE * SIDE];
        for (int p = 0; p < a.length; p++) {
            a[p] = images[0][row * SIDE * SIDE + p];
        }
        double[] h = maxPool(convRelu(a, SIDE, 1, conv1Kernel, conv1Bias, C1), CONV1, C1);
        h = maxPool(convRelu(h, POOL1, C1, conv2Kernel, conv2Bias, C2), CONV2, C2);
        double[] hidden = dense(h, FLAT, dense1Kernel, dense1Bias, HIDDEN);
        for (int j = 0; j < HIDDEN; j++) {
            hidden[j] = Math.max(hidden[j], 0);
        }
        return dense(hidden, HIDDEN, dense2Kernel, dense2Bias, CLASSES);
    }

    /** A VALID 3x3 convolution of an HWC image with a bias, then relu. */
    private static double[] convRelu(double[] x, int side, int in, float[] k, float[] bias, int out) {
        int os = side - K + 1;
        double[] y = new double[os * os * out];
        for (int oy = 0; oy < os; oy++) {
            for (int ox = 0; ox < os; ox++) {
                for (int o = 0; o < out; o++) {
                    double s = bias[o];
                    for (int ky = 0; ky < K; ky++) {
                        for (int kx = 0; kx < K; kx++) {
                            for (int i = 0; i < in; i++) {
                                s += x[((oy + ky) * side + ox + kx) * in + i] * k[((ky * K + kx) * in + i) * out + o];
                            }
                        }
                    }
                    y[(oy * os + ox) * out + o] = Math.max(s, 0);
                }
            }
        }
        return y;
    }

    /** 2x2 max pooling, stride 2, VALID, of an HWC image. */
    private static double[] maxPool(double[] x, int side, int c) {
        int os = side / 2;
        double[] y = new double[os * os * c];
        for (int oy = 0; oy < os; oy++) {
            for (int ox = 0; ox < os; ox++) {
                for (int ch = 0; ch < c; ch++) {
                    double m = Double.NEGATIVE_INFINITY;
                    for (int dy = 0; dy < 2; dy++) {
                        for (int dx = 0; dx < 2; dx++) {
                            m = Math.max(m, x[((2 * oy + dy) * side + 2 * ox + dx) * c + ch]);
                        }
                    }
                    y[(oy * os + ox) * c + ch] = m;
                }
            }
        }
        return y;
    }

    private static double[] dense(double[] x, int in, float[] k, float[] bias, int out) {
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            y[o] = bias[o];
        }
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
                y[o] += x[i] * k[i * out + o];
            }
        }
        return y;
    }

    /**
     * The check every CNN benchmark runs at setup, before its first training step: the
     * inference-mode logits of the first {@link #CHECKED_ROWS} images of batch 0
     * ({@code logits[row * CLASSES + class]}) match the float64 reference.
     */
    public void checkLogits(String what, float[] logits) {
        Checks.that(logits.length == batch * CLASSES, what + " has " + logits.length + " logits");
        for (int r = 0; r < Math.min(CHECKED_ROWS, batch); r++) {
            double[] ref = referenceLogits(r);
            for (int c = 0; c < CLASSES; c++) {
                Checks.close(what + "[" + r + "," + c + "]", ref[c], logits[r * CLASSES + c], 1e-3, 1e-4);
            }
        }
    }

    /** The inference-mode mean loss of batch 0 for logits as {@link #checkLogits} takes them, in float64. */
    public double loss(float[] logits) {
        double total = 0;
        for (int r = 0; r < batch; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < CLASSES; c++) {
                max = Math.max(max, logits[r * CLASSES + c]);
            }
            double sum = 0;
            for (int c = 0; c < CLASSES; c++) {
                sum += Math.exp(logits[r * CLASSES + c] - max);
            }
            total += max + Math.log(sum) - logits[r * CLASSES + labels[0][r]];
        }
        return total / batch;
    }

    /** The second check at setup: {@link #CHECK_STEPS} training steps lowered batch 0's loss by at least 10 %. */
    public void checkTraining(double lossBefore, double lossAfter) {
        Checks.lossFell(CHECK_STEPS, "Adam", lossBefore, lossAfter);
    }

    /**
     * The check at teardown: after the timed steps (at least {@link #MIN_TIMED_STEPS} of them,
     * else only that the loss is finite), batch 0's loss is below its value when timing began, so
     * the steps that were timed trained the model.
     */
    public static void checkTimedSteps(long steps, double lossBefore, double lossAfter) {
        Checks.timedStepsTrained(steps, MIN_TIMED_STEPS, lossBefore, lossAfter);
    }
}
