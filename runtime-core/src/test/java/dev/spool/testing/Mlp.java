package dev.spool.testing;

import dev.spool.DType;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import java.util.List;

/**
 * The MLP of the speed issues (runtime-opencl's LaunchCountTest, the benchmarks): inputs →
 * hidden (relu) → 10 classes, mean softmax cross-entropy, SGD with learning rate 0.1 on four
 * variables; every value from a fixed seed, so two models built alike train bit for bit alike.
 * Built on the current device.
 */
public final class Mlp implements AutoCloseable {
    public final Tensor x;
    public final Tensor labels;
    public final List<Variable> params;

    /** {@code new Mlp(128, 784, 256, seed)} is the speed issues' model. */
    public Mlp(int batch, int inputs, int hidden, long seed) {
        try (TensorScope scope = new TensorScope()) { // the intermediates of building it are closed
            x = scope.keep(Spool.randomUniform(Shape.of(batch, inputs), seed));
            Tensor classes = Spool.cast(Spool.multiply(10.0, Spool.randomUniform(Shape.of(batch), seed + 1)), DType.INT32);
            labels = scope.keep(Spool.oneHot(classes, 10));
            Tensor w1 = Spool.randomUniform(Shape.of(inputs, hidden), seed + 2).sub(0.5).mul(0.1);
            Tensor w2 = Spool.randomUniform(Shape.of(hidden, 10), seed + 3).sub(0.5).mul(0.1);
            params = List.of(new Variable(w1, "w1"), new Variable(Spool.zeros(hidden), "b1"),
                    new Variable(w2, "w2"), new Variable(Spool.zeros(10), "b2"));
        }
    }

    /** One SGD step; with {@code scoped}, everything it makes is closed on return. Returns the loss. */
    public float step(boolean scoped) {
        TensorScope scope = scoped ? new TensorScope() : null;
        try {
            List<Tensor> grads;
            Tensor loss;
            try (GradientTape tape = new GradientTape()) {
                Tensor h = Spool.relu(Spool.add(Spool.matmul(x, params.get(0)), params.get(1)));
                Tensor logits = Spool.add(Spool.matmul(h, params.get(2)), params.get(3));
                loss = Spool.reduceMean(Spool.softmaxCrossEntropyWithLogits(labels, logits));
                grads = tape.gradient(loss, params);
            }
            for (int i = 0; i < params.size(); i++) {
                params.get(i).assignSub(Spool.multiply(0.1, grads.get(i)));
            }
            return loss.floatValue();
        } finally {
            if (scope != null) {
                scope.close();
            }
        }
    }

    /** The four parameters' values, concatenated. */
    public float[] weights() {
        int n = 0;
        float[][] parts = new float[params.size()][];
        for (int i = 0; i < parts.length; i++) {
            try (Tensor v = params.get(i).value()) {
                parts[i] = v.toFloatArray();
            }
            n += parts[i].length;
        }
        float[] all = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    @Override
    public void close() {
        x.close();
        labels.close();
        for (Variable v : params) {
            v.close();
        }
    }
}
