package dev.spool.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The character transformer's training step, shared by Spool's benchmark and its DJL peer: the
 * model of examples' CharTransformer at its defaults (token Embedding(27, 64) plus position
 * Embedding(17, 64); 4 pre-norm blocks of LayerNormalization, causal MultiHeadAttention (4
 * heads of 16, biases) and a residual, then LayerNormalization, Dense(256, exact GELU),
 * Dense(64) and a residual; a final LayerNormalization and a Dense(27) head), its loss (softmax
 * cross-entropy of every position's logits against its target, times a per-position weight:
 * 0 for padding, 1/count for the counted ones, summed) and its optimizer (AdamW with weight
 * decay 0.01, β₁ 0.9, β₂ 0.99, ε 1e-8, the gradients clipped to global norm 1), at a constant
 * learning rate of 0.002 (the example decays it; a constant one keeps every step the same work).
 *
 * <p>Seeded weights, held as Spool takes them ({@code [in, out]} dense kernels; the attention's
 * {@code [64, heads, 16]} projections and {@code [heads, 16, 64]} output kernel flattened, which
 * read as {@code [64, 64]} matrices whose column {@code h·16 + j} is head h's feature j):
 * embeddings uniform in [-0.05, 0.05) and kernels Glorot-uniform with Keras's fans, as the
 * example initialises them; biases uniform in [-0.1, 0.1), layer-norm gammas in [0.9, 1.1) and
 * betas in [-0.1, 0.1) rather than zeros and ones, so that the reference check covers them.
 *
 * <p>Data: {@link #BATCHES} fixed batches of words of 3 to 12 letters a–z drawn uniformly (the
 * example reads /usr/share/dict/words; the step's work depends only on the shapes, and random
 * words keep the benchmark free of that file), each word one row as the example makes it:
 * {@code .word.} as tokens (0 is '.', 1–26 a–z), the inputs the 17 tokens from the start, the
 * targets the next ones, padding after the end token counted with weight 0. Step i trains on
 * batch {@code i mod BATCHES}.
 */
public final class TransformerData {
    /** '.' (start and end) and a..z. */
    public static final int VOCAB = 27;
    /** Positions the model sees: the start token and 16 characters. */
    public static final int BLOCK = 17;
    public static final int WIDTH = 64;
    public static final int LAYERS = 4;
    public static final int HEADS = 4;
    public static final int KEY_DIM = WIDTH / HEADS;
    public static final int HIDDEN = 4 * WIDTH;
    /** Keras's LayerNormalization epsilon, Spool's default. */
    public static final double NORM_EPSILON = 1e-3;
    public static final double LEARNING_RATE = 0.002;
    public static final double WEIGHT_DECAY = 0.01;
    public static final double BETA1 = 0.9;
    public static final double BETA2 = 0.99;
    public static final double EPSILON = 1e-8;
    public static final double CLIP_NORM = 1.0;
    /** Trainable arrays: two embeddings, 16 per block, the final norm's two and the head's two. */
    public static final int PARAMETERS = 2 + 16 * LAYERS + 4;
    public static final int MIN_WORD = 3;
    public static final int MAX_WORD = 12;
    public static final int BATCHES = 4;
    /** Words of batch 0 whose logits {@link #checkLogits} compares with the float64 reference. */
    public static final int CHECKED_ROWS = 4;
    /** Training steps between the two losses of {@link #checkTraining}. */
    public static final int CHECK_STEPS = 10;
    /** Timed steps from which {@link #checkTimedSteps} requires the loss to have fallen. */
    public static final int MIN_TIMED_STEPS = 8;

    /** One block's weights, Spool's layouts (see the class comment). */
    public record Block(float[] norm1Gamma, float[] norm1Beta,
                        float[] queryKernel, float[] queryBias, float[] keyKernel, float[] keyBias,
                        float[] valueKernel, float[] valueBias, float[] outputKernel, float[] outputBias,
                        float[] norm2Gamma, float[] norm2Beta,
                        float[] upKernel, float[] upBias, float[] downKernel, float[] downBias) {
        /** The 16 arrays in the order above, which both sides' parameter lists follow. */
        public List<float[]> arrays() {
            return List.of(norm1Gamma, norm1Beta, queryKernel, queryBias, keyKernel, keyBias, valueKernel, valueBias,
                    outputKernel, outputBias, norm2Gamma, norm2Beta, upKernel, upBias, downKernel, downBias);
        }
    }

    public final int batch;
    /** Per batch: {@code [batch, BLOCK]} input tokens. */
    public final int[][] tokens;
    /** Per batch: {@code [batch, BLOCK]} target tokens (0 where padding). */
    public final int[][] targets;
    /** Per batch: {@code [batch·BLOCK]} weights, 1/count where counted, else 0; they sum to 1. */
    public final float[][] weights;
    /** {@code [VOCAB, WIDTH]}. */
    public final float[] tokenEmbedding;
    /** {@code [BLOCK, WIDTH]}. */
    public final float[] positionEmbedding;
    public final List<Block> blocks;
    public final float[] normGamma;
    public final float[] normBeta;
    /** {@code [WIDTH, VOCAB]}. */
    public final float[] headKernel;
    public final float[] headBias;
    private double[] referenceLogits;

    public TransformerData(int batch) {
        this.batch = batch;
        tokenEmbedding = Inputs.uniform(VOCAB * WIDTH, 1, -0.05, 0.05);
        positionEmbedding = Inputs.uniform(BLOCK * WIDTH, 2, -0.05, 0.05);
        // Keras's fans for the attention kernels: [d, heads, k] has fanIn d·heads, fanOut d·k;
        // [heads, k, out] fanIn heads·k, fanOut heads·out
        double projection = Math.sqrt(6.0 / (WIDTH * HEADS + WIDTH * KEY_DIM));
        double output = Math.sqrt(6.0 / (HEADS * KEY_DIM + HEADS * WIDTH));
        List<Block> bs = new ArrayList<>();
        for (int b = 0; b < LAYERS; b++) {
            long s = 100L * (b + 1);
            bs.add(new Block(gamma(s), beta(s + 1),
                    Inputs.uniform(WIDTH * WIDTH, s + 2, -projection, projection), bias(WIDTH, s + 3),
                    Inputs.uniform(WIDTH * WIDTH, s + 4, -projection, projection), bias(WIDTH, s + 5),
                    Inputs.uniform(WIDTH * WIDTH, s + 6, -projection, projection), bias(WIDTH, s + 7),
                    Inputs.uniform(WIDTH * WIDTH, s + 8, -output, output), bias(WIDTH, s + 9),
                    gamma(s + 10), beta(s + 11),
                    glorot(WIDTH, HIDDEN, s + 12), bias(HIDDEN, s + 13),
                    glorot(HIDDEN, WIDTH, s + 14), bias(WIDTH, s + 15)));
        }
        blocks = List.copyOf(bs);
        normGamma = gamma(3);
        normBeta = beta(4);
        headKernel = glorot(WIDTH, VOCAB, 5);
        headBias = bias(VOCAB, 6);
        tokens = new int[BATCHES][];
        targets = new int[BATCHES][];
        weights = new float[BATCHES][];
        for (int b = 0; b < BATCHES; b++) {
            SplittableRandom r = new SplittableRandom(1000 + b);
            tokens[b] = new int[batch * BLOCK];
            targets[b] = new int[batch * BLOCK];
            weights[b] = new float[batch * BLOCK];
            int counted = 0;
            for (int w = 0; w < batch; w++) {
                int length = r.nextInt(MIN_WORD, MAX_WORD + 1);
                int[] s = new int[length + 2]; // . word .
                for (int i = 1; i <= length; i++) {
                    s[i] = 1 + r.nextInt(26);
                }
                for (int t = 0; t + 1 < s.length; t++) {
                    tokens[b][w * BLOCK + t] = s[t];
                    targets[b][w * BLOCK + t] = s[t + 1];
                    weights[b][w * BLOCK + t] = 1;
                    counted++;
                }
            }
            for (int i = 0; i < weights[b].length; i++) {
                weights[b][i] /= counted;
            }
        }
    }

    /** The parameters' values in the order both sides list them: embeddings, blocks, norm, head. */
    public List<float[]> parameters() {
        List<float[]> all = new ArrayList<>(List.of(tokenEmbedding, positionEmbedding));
        for (Block b : blocks) {
            all.addAll(b.arrays());
        }
        all.addAll(List.of(normGamma, normBeta, headKernel, headBias));
        return all;
    }

    private static float[] glorot(int in, int out, long seed) {
        double limit = Math.sqrt(6.0 / (in + out));
        return Inputs.uniform(in * out, seed, -limit, limit);
    }

    private static float[] bias(int n, long seed) {
        return Inputs.uniform(n, seed, -0.1, 0.1);
    }

    private static float[] gamma(long seed) {
        return Inputs.uniform(WIDTH, seed, 0.9, 1.1);
    }

    private static float[] beta(long seed) {
        return Inputs.uniform(WIDTH, seed, -0.1, 0.1);
    }

    // ---- the float64 reference -------------------------------------------------------------

    /** Batch 0's logits {@code [batch·BLOCK, VOCAB]} in float64, computed once. */
    public synchronized double[] referenceLogits() {
        if (referenceLogits == null) {
            referenceLogits = forward(tokens[0]);
        }
        return referenceLogits;
    }

    private double[] forward(int[] input) {
        int rows = batch * BLOCK;
        double[] x = new double[rows * WIDTH];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < WIDTH; c++) {
                x[r * WIDTH + c] = (double) tokenEmbedding[input[r] * WIDTH + c] + positionEmbedding[r % BLOCK * WIDTH + c];
            }
        }
        for (Block b : blocks) {
            double[] h = layerNorm(x, rows, b.norm1Gamma(), b.norm1Beta());
            double[] q = dense(h, rows, WIDTH, b.queryKernel(), b.queryBias(), WIDTH);
            double[] k = dense(h, rows, WIDTH, b.keyKernel(), b.keyBias(), WIDTH);
            double[] v = dense(h, rows, WIDTH, b.valueKernel(), b.valueBias(), WIDTH);
            double[] attended = causalAttention(q, k, v);
            add(x, dense(attended, rows, WIDTH, b.outputKernel(), b.outputBias(), WIDTH));
            double[] up = dense(layerNorm(x, rows, b.norm2Gamma(), b.norm2Beta()), rows, WIDTH, b.upKernel(),
                    b.upBias(), HIDDEN);
            for (int i = 0; i < up.length; i++) {
                up[i] = gelu(up[i]);
            }
            add(x, dense(up, rows, HIDDEN, b.downKernel(), b.downBias(), WIDTH));
        }
        return dense(layerNorm(x, rows, normGamma, normBeta), rows, WIDTH, headKernel, headBias, VOCAB);
    }

    /** Per word and head, position t attends to positions 0..t, softmax of q·k/√16. */
    private double[] causalAttention(double[] q, double[] k, double[] v) {
        double[] out = new double[q.length];
        double scale = 1 / Math.sqrt(KEY_DIM);
        double[] p = new double[BLOCK];
        for (int w = 0; w < batch; w++) {
            for (int h = 0; h < HEADS; h++) {
                for (int t = 0; t < BLOCK; t++) {
                    int qi = (w * BLOCK + t) * WIDTH + h * KEY_DIM;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u <= t; u++) {
                        int ki = (w * BLOCK + u) * WIDTH + h * KEY_DIM;
                        double s = 0;
                        for (int j = 0; j < KEY_DIM; j++) {
                            s += q[qi + j] * k[ki + j];
                        }
                        p[u] = s * scale;
                        max = Math.max(max, p[u]);
                    }
                    double sum = 0;
                    for (int u = 0; u <= t; u++) {
                        p[u] = Math.exp(p[u] - max);
                        sum += p[u];
                    }
                    for (int u = 0; u <= t; u++) {
                        int vi = (w * BLOCK + u) * WIDTH + h * KEY_DIM;
                        for (int j = 0; j < KEY_DIM; j++) {
                            out[qi + j] += p[u] / sum * v[vi + j];
                        }
                    }
                }
            }
        }
        return out;
    }

    private static double[] layerNorm(double[] x, int rows, float[] gamma, float[] beta) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int c = 0; c < WIDTH; c++) {
                mean += x[r * WIDTH + c];
            }
            mean /= WIDTH;
            double variance = 0;
            for (int c = 0; c < WIDTH; c++) {
                double d = x[r * WIDTH + c] - mean;
                variance += d * d;
            }
            double inv = 1 / Math.sqrt(variance / WIDTH + NORM_EPSILON);
            for (int c = 0; c < WIDTH; c++) {
                y[r * WIDTH + c] = (x[r * WIDTH + c] - mean) * inv * gamma[c] + beta[c];
            }
        }
        return y;
    }

    /** {@code x [rows, in] · kernel [in, out] + bias}. */
    private static double[] dense(double[] x, int rows, int in, float[] kernel, float[] bias, int out) {
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                y[r * out + o] = bias[o];
            }
            for (int i = 0; i < in; i++) {
                double xi = x[r * in + i];
                for (int o = 0; o < out; o++) {
                    y[r * out + o] += xi * kernel[i * out + o];
                }
            }
        }
        return y;
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }

    /** Exact GELU, x·Φ(x). */
    static double gelu(double x) {
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    /**
     * erf to within 1.5e-7 absolute (Abramowitz and Stegun 7.1.26): far below what separates
     * exact GELU from its tanh form (up to 4.7e-4), which the logits check must tell apart, and
     * a reference for float32 results only.
     */
    static double erf(double x) {
        double a = Math.abs(x);
        double t = 1 / (1 + 0.3275911 * a);
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double r = 1 - poly * Math.exp(-a * a);
        return x < 0 ? -r : r;
    }

    /** The weighted cross-entropy of {@code logits [batch·BLOCK, VOCAB]} against batch 0's targets. */
    public double loss(double[] logits) {
        double total = 0;
        for (int r = 0; r < batch * BLOCK; r++) {
            if (weights[0][r] == 0) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < VOCAB; c++) {
                max = Math.max(max, logits[r * VOCAB + c]);
            }
            double sum = 0;
            for (int c = 0; c < VOCAB; c++) {
                sum += Math.exp(logits[r * VOCAB + c] - max);
            }
            total += weights[0][r] * (max + Math.log(sum) - logits[r * VOCAB + targets[0][r]]);
        }
        return total;
    }

    // ---- the checks ------------------------------------------------------------------------

    /**
     * The first check every transformer benchmark runs at setup: the logits of batch 0's first
     * {@link #CHECKED_ROWS} words ({@code logits[(word·BLOCK + position)·VOCAB + token]}, every
     * position) match the float64 reference. The tolerance is what float32 sums of these sizes
     * keep; a missing causal mask, a swapped gamma and beta or GELU's tanh form all exceed it.
     */
    public void checkLogits(String what, float[] logits) {
        Checks.that(logits.length == batch * BLOCK * VOCAB, what + " has " + logits.length + " logits");
        double[] ref = referenceLogits();
        for (int i = 0; i < Math.min(CHECKED_ROWS, batch) * BLOCK * VOCAB; i++) {
            Checks.close(what + "[" + i / VOCAB + "," + i % VOCAB + "]", ref[i], logits[i], 1e-4, 2e-5);
        }
    }

    /**
     * The second: the side's own loss of batch 0 (its loss code, before any step) equals the
     * float64 reference's, so that both sides start from the same loss.
     */
    public void checkLoss(String what, double loss) {
        Checks.close(what, loss(referenceLogits()), loss, 1e-5, 1e-6);
    }

    /** The third: {@link #CHECK_STEPS} training steps lowered batch 0's loss by at least 10 %. */
    public void checkTraining(double lossBefore, double lossAfter) {
        Checks.lossFell(CHECK_STEPS, "AdamW", lossBefore, lossAfter);
    }

    /**
     * The check at teardown: after the timed steps (at least {@link #MIN_TIMED_STEPS} of them,
     * else only that the loss is finite), batch 0's loss is below its value when timing began.
     */
    public static void checkTimedSteps(long steps, double lossBefore, double lossAfter) {
        Checks.timedStepsTrained(steps, MIN_TIMED_STEPS, lossBefore, lossAfter);
    }
}
