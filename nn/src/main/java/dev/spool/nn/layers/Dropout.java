package dev.spool.nn.layers;

import dev.spool.Device;
import dev.spool.Operand;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;
import dev.spool.nn.internal.NnArgs;
import java.util.Map;

/**
 * Keras's {@code Dropout}: in training, zeroes each element with probability {@code rate} and
 * scales the rest by {@code 1 / (1 - rate)}; otherwise the identity. The masks come from Philox
 * keyed by {@code seed} and a call counter, so a run is reproducible and the same on every
 * device, while successive calls draw different masks.
 */
public final class Dropout implements Layer {
    private final double rate;
    private final long seed;
    private long calls;

    public Dropout(double rate, long seed) {
        this.rate = NnArgs.fraction(rate, "Dropout", "rate");
        this.seed = seed;
    }

    @Override
    public Tensor call(Operand input, boolean training) {
        Tensor x = NullChecks.nonNull(input, "Dropout.call", "input").value();
        if (!training || rate == 0) {
            return x;
        }
        // A distinct Philox key per call: seed and counter mixed by a 64-bit odd-constant multiply.
        long key = seed ^ (0x9E3779B97F4A7C15L * ++calls);
        Tensor u;
        try (Device.Scope on = Device.use(x.device())) {
            u = Spool.randomUniform(x.shape(), key, 0, 1, x.dtype());
        }
        return Spool.where(u.less(rate), Spool.zerosLike(x), x.div(1 - rate));
    }

    @Override
    public String name() {
        return "dropout";
    }

    @Override
    public Map<String, Variable> variables() {
        return Map.of();
    }
}
