package dev.spool.nn.layers;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.Operand;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.UsageException;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import dev.spool.nn.internal.NnArgs;
import java.util.Map;

/**
 * Keras's {@code MultiHeadAttention}: {@code query} [B, T, dq] attends to {@code value} [B, S, dv]
 * through keys {@code key} [B, S, dk] (the value when null). Per head h, {@code q = query·Wq[:, h]
 * + bq[h]}, {@code k}, {@code v} likewise; {@code softmax(q·kᵀ/√keyDim, masked)·v}; then the
 * heads' outputs are projected back, {@code Σ_h o_h·Wo[h] + bo}, to {@code outputShape} features
 * (the query's by default).
 *
 * <p>Variables as Keras names and shapes them: {@code query/kernel} [dq, heads, keyDim] and
 * {@code query/bias} [heads, keyDim], {@code key/kernel} [dk, heads, keyDim], {@code value/kernel}
 * [dv, heads, valueDim] (with their biases), {@code attention_output/kernel} [heads, valueDim, out]
 * and {@code attention_output/bias} [out]. Kernels are Glorot-uniform with Keras's fans for these
 * ranks (for [d, heads, k]: fanIn = d·heads, fanOut = d·k), biases zeros. They are created at the
 * first call, on the query's device, as Keras builds a layer.
 *
 * <p>The attention itself is {@link Spool#scaledDotProductAttention}. Dropout, as Keras, drops
 * attention probabilities (after the softmax, before they weight the values) in training; that op
 * has no dropout, so a training call with {@code dropout > 0} computes the attention from ops
 * (matmul, masked softmax, dropout, matmul) instead, with the same masking (-1e9 as Keras). Every
 * other call goes through the op.
 */
public final class MultiHeadAttention implements Layer {
    private final String name;
    private final int numHeads;
    private final int keyDim;
    private final int valueDim;
    private final double dropout;
    private final boolean useBias;
    private final int outputShape;
    private final long seed;
    private final VariableSet vars;
    private Variable queryKernel;
    private Variable queryBias;
    private Variable keyKernel;
    private Variable keyBias;
    private Variable valueKernel;
    private Variable valueBias;
    private Variable outputKernel;
    private Variable outputBias;
    private int queryFeatures;
    private int keyFeatures;
    private int valueFeatures;
    private long dropoutCalls;

    /** Keras's {@code MultiHeadAttention(num_heads, key_dim)}: value_dim = key_dim, no dropout, biases. */
    public MultiHeadAttention(int numHeads, int keyDim, long seed) {
        this(numHeads, keyDim, 0, 0.0, true, 0, seed);
    }

    /**
     * @param valueDim    features per head of the values; 0 means {@code keyDim} (Keras's None)
     * @param dropout     rate at which attention probabilities are dropped in training
     * @param useBias     whether the four projections have biases
     * @param outputShape features of the output; 0 means the query's (Keras's None)
     * @param seed        fixes the kernels' initial values and the dropout masks
     */
    public MultiHeadAttention(int numHeads, int keyDim, int valueDim, double dropout, boolean useBias,
                              int outputShape, long seed) {
        if (numHeads <= 0 || keyDim <= 0 || valueDim < 0 || outputShape < 0) {
            throw new ShapeException("MultiHeadAttention: numHeads and keyDim must be > 0, valueDim and "
                    + "outputShape >= 0 (0: the default), got " + numHeads + ", " + keyDim + ", " + valueDim
                    + " and " + outputShape);
        }
        this.name = "multi_head_attention";
        this.numHeads = numHeads;
        this.keyDim = keyDim;
        this.valueDim = valueDim == 0 ? keyDim : valueDim;
        this.dropout = NnArgs.fraction(dropout, "MultiHeadAttention", "dropout");
        this.useBias = useBias;
        this.outputShape = outputShape;
        this.seed = seed;
        this.vars = new VariableSet(name);
    }

    public int numHeads() {
        return numHeads;
    }

    public int keyDim() {
        return keyDim;
    }

    public int valueDim() {
        return valueDim;
    }

    /** Self-attention ({@code query = value = key = input}), no mask. */
    @Override
    public Tensor call(Operand input, boolean training) {
        NullChecks.nonNull(input, "MultiHeadAttention.call", "input");
        return call(input, input, null, null, false, training);
    }

    /**
     * Keras's {@code call(query, value, key, attention_mask, use_causal_mask, training)}.
     *
     * @param key           null: the value
     * @param attentionMask null, or bool [B, T, S] (or broadcastable to it): true where query
     *                      position t may attend to key position s; applied to every head
     * @param useCausalMask also mask key s > query t (Keras's lower-triangular mask)
     */
    public Tensor call(Operand query, Operand value, Operand key, Operand attentionMask, boolean useCausalMask,
                       boolean training) {
        NullChecks.nonNull(query, "MultiHeadAttention.call", "query");
        NullChecks.nonNull(value, "MultiHeadAttention.call", "value");
        Tensor q = query.value();
        Tensor v = value.value();
        Tensor k = key == null ? v : key.value();
        if (q.rank() != 3 || v.rank() != 3 || k.rank() != 3) {
            throw new ShapeException("MultiHeadAttention: query, value and key must be [batch, length, features], got "
                    + q.shape() + ", " + v.shape() + " and " + k.shape());
        }
        if (!built()) {
            build(q.device(), q.dtype(), q.shape().dim(2), k.shape().dim(2), v.shape().dim(2));
        }
        requireFeatures("query", q, queryFeatures);
        requireFeatures("key", k, keyFeatures);
        requireFeatures("value", v, valueFeatures);
        Tensor qh = heads(project(q, queryKernel, queryBias), keyDim);   // [B, H, T, keyDim]
        Tensor kh = heads(project(k, keyKernel, keyBias), keyDim);       // [B, H, S, keyDim]
        Tensor vh = heads(project(v, valueKernel, valueBias), valueDim); // [B, H, S, valueDim]
        Tensor mask = null;
        if (attentionMask != null) {
            Tensor m = attentionMask.value();
            mask = m.rank() >= 3 ? Spool.expandDims(m, m.rank() - 2) : m; // [B, T, S] -> [B, 1, T, S]
        }
        double scale = 1 / Math.sqrt(keyDim);
        Tensor attended = training && dropout > 0
                ? attentionWithDropout(qh, kh, vh, mask, useCausalMask, scale)
                : Spool.scaledDotProductAttention(qh, kh, vh, mask, useCausalMask, scale);
        int b = q.shape().dim(0);
        int t = q.shape().dim(1);
        Tensor merged = attended.transpose(0, 2, 1, 3).reshape(b, t, numHeads * valueDim);
        Tensor out = merged.matmul(outputKernel.value().reshape(numHeads * valueDim, outputKernel.shape().dim(2)));
        return outputBias == null ? out : out.add(outputBias);
    }

    private Tensor project(Tensor x, Variable kernel, Variable bias) {
        Shape s = kernel.shape();
        Tensor y = x.matmul(kernel.value().reshape(s.dim(0), s.dim(1) * s.dim(2)));
        return bias == null ? y : y.add(bias.value().reshape(s.dim(1) * s.dim(2)));
    }

    /** [B, T, H·d] -> [B, H, T, d]. */
    private Tensor heads(Tensor x, int depth) {
        return x.reshape(x.shape().dim(0), x.shape().dim(1), numHeads, depth).transpose(0, 2, 1, 3);
    }

    /** As the op computes it, with Keras's dropout on the probabilities. */
    private Tensor attentionWithDropout(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, double scale) {
        Tensor scores = q.matmul(k, false, true).mul(scale);
        Tensor masked = Spool.fill(Shape.of(), -1e9, scores.dtype());
        if (mask != null) {
            scores = Spool.where(mask, scores, masked);
        }
        if (causal) {
            int tq = q.shape().dim(2);
            int tk = k.shape().dim(2);
            Tensor rows = Spool.range(0, tq, 1, DType.INT32).reshape(tq, 1);
            Tensor cols = Spool.range(0, tk, 1, DType.INT32).reshape(1, tk);
            scores = Spool.where(cols.lessEqual(rows), scores, masked);
        }
        Tensor p = scores.softmax(-1);
        long key = seed ^ (0x9E3779B97F4A7C15L * ++dropoutCalls);
        Tensor u = Spool.randomUniform(p.shape(), key, 0, 1, p.dtype());
        p = Spool.where(u.less(dropout), Spool.zerosLike(p), p.div(1 - dropout));
        return p.matmul(v);
    }

    private void requireFeatures(String what, Tensor x, int features) {
        if (x.shape().dim(2) != features) {
            throw new ShapeException("MultiHeadAttention '" + name + "': " + what + " " + x.shape()
                    + " must have " + features + " features, as at the first call");
        }
    }

    private void build(Device device, DType dtype, int dq, int dk, int dv) {
        queryFeatures = dq;
        keyFeatures = dk;
        valueFeatures = dv;
        int out = outputShape == 0 ? dq : outputShape;
        try (Device.Scope on = Device.use(device)) {
            queryKernel = vars.add("query/kernel", glorot(Shape.of(dq, numHeads, keyDim), dtype, seed), true);
            queryBias = useBias ? vars.add("query/bias", zeros(Shape.of(numHeads, keyDim), dtype), true) : null;
            keyKernel = vars.add("key/kernel", glorot(Shape.of(dk, numHeads, keyDim), dtype, seed + 1), true);
            keyBias = useBias ? vars.add("key/bias", zeros(Shape.of(numHeads, keyDim), dtype), true) : null;
            valueKernel = vars.add("value/kernel", glorot(Shape.of(dv, numHeads, valueDim), dtype, seed + 2), true);
            valueBias = useBias ? vars.add("value/bias", zeros(Shape.of(numHeads, valueDim), dtype), true) : null;
            outputKernel = vars.add("attention_output/kernel", glorot(Shape.of(numHeads, valueDim, out), dtype,
                    seed + 3), true);
            outputBias = useBias ? vars.add("attention_output/bias", zeros(Shape.of(out), dtype), true) : null;
        }
    }

    private static Tensor glorot(Shape shape, DType dtype, long seed) {
        return Initializer.GLOROT_UNIFORM.create(shape, dtype, seed);
    }

    private static Tensor zeros(Shape shape, DType dtype) {
        return Initializer.ZEROS.create(shape, dtype, 0);
    }

    /**
     * Creates the variables for inputs of these feature sizes (query, key, value), as a first call
     * would, on {@link Device#current()}; returns this layer. For restoring a checkpoint into a
     * layer that has not been called.
     */
    public MultiHeadAttention build(int queryFeatures, int keyFeatures, int valueFeatures, DType dtype) {
        NullChecks.nonNull(dtype, "MultiHeadAttention.build", "dtype");
        if (built()) {
            throw new UsageException("MultiHeadAttention '" + name + "' is already built");
        }
        build(Device.current(), dtype, queryFeatures, keyFeatures, valueFeatures);
        return this;
    }

    @Override
    public boolean built() {
        return queryKernel != null;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Map<String, Variable> variables() {
        if (!built()) {
            throw new UsageException("MultiHeadAttention '" + name + "' has no variables until its first call "
                    + "(or build(...)) gives it the input sizes");
        }
        return vars.view();
    }
}
