package dev.spool.bench;

import dev.spool.FusedActivation;
import dev.spool.GradientTape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import java.util.List;

/**
 * The MLP of {@link MlpData} on the current device (its inputs, one-hot labels and four
 * variables) and its SGD step written two ways: with the hand-fused primitives
 * ({@code biasAdd(..., RELU)}, {@code applyGradientDescent}) and with plain ops
 * ({@code x.matmul(w1).add(b1).relu()}, {@code w.assignSub(g.mul(lr))}). Shared by the MLP
 * benchmarks so that each measures the same model and the same code. Build it outside any
 * {@link TensorScope}: an enclosing scope would take its tensors over and close them.
 */
final class MlpModel implements AutoCloseable {
    final Tensor x;
    final Tensor labels;
    final List<Variable> params;

    MlpModel(MlpData data) {
        int batch = data.batch;
        try (TensorScope scope = new TensorScope()) {
            x = scope.keep(Spool.constant(data.x).reshape(batch, MlpData.IN));
            labels = scope.keep(Spool.oneHot(Spool.constant(data.classes), MlpData.OUT));
            params = List.of(new Variable(Spool.constant(data.w1).reshape(MlpData.IN, MlpData.HIDDEN), "w1"),
                    new Variable(Spool.zeros(MlpData.HIDDEN), "b1"),
                    new Variable(Spool.constant(data.w2).reshape(MlpData.HIDDEN, MlpData.OUT), "w2"),
                    new Variable(Spool.zeros(MlpData.OUT), "b2"));
        }
    }

    /** The step with the fused primitives; returns the loss of the forward pass (before the update). */
    Tensor handFusedStep() {
        GradientTape tape = new GradientTape();
        Tensor loss;
        try (tape) {
            Tensor hidden = Spool.biasAdd(x.matmul(params.get(0)), params.get(1), FusedActivation.RELU);
            Tensor logits = Spool.biasAdd(hidden.matmul(params.get(2)), params.get(3));
            loss = Spool.softmaxCrossEntropyWithLogits(labels, logits).mean();
        }
        List<Tensor> grads = tape.gradient(loss, params);
        for (int i = 0; i < params.size(); i++) {
            Spool.applyGradientDescent(params.get(i), MlpData.LR, grads.get(i));
        }
        return loss;
    }

    /** The same step with plain ops, as issue #22 writes it. */
    Tensor plainStep() {
        GradientTape tape = new GradientTape();
        Tensor loss;
        try (tape) {
            Tensor hidden = x.matmul(params.get(0)).add(params.get(1)).relu();
            Tensor logits = hidden.matmul(params.get(2)).add(params.get(3));
            loss = Spool.softmaxCrossEntropyWithLogits(labels, logits).mean();
        }
        List<Tensor> grads = tape.gradient(loss, params);
        for (int i = 0; i < params.size(); i++) {
            params.get(i).assignSub(grads.get(i).mul(MlpData.LR));
        }
        return loss;
    }

    @Override
    public void close() {
        x.close();
        labels.close();
        params.forEach(Variable::close);
    }
}
