package dev.spool.nn.metrics;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.DeviceException;
import dev.spool.Operand;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.Variable;
import dev.spool.internal.NullChecks;

/**
 * The running mean of every value seen since the last {@link #reset()}, Keras's
 * {@code metrics.Mean}. The float32 sum stays on the device of the values, so that updating
 * never waits for the device; {@link #result()} reads it.
 */
public final class Mean implements AutoCloseable {
    private Variable total;
    private long count;

    /** Adds every element of {@code values}. */
    public void update(Operand values) {
        NullChecks.nonNull(values, "Mean.update", "values");
        try (TensorScope scope = new TensorScope()) {
            Tensor v = values.value();
            Tensor sum = v.cast(DType.FLOAT32).sum();
            if (total != null && total.device() != v.device()) {
                throw new DeviceException("Mean: values on " + v.device() + ", but the running sum is on "
                        + total.device() + " (use one metric per device)");
            }
            if (total == null) {
                try (Device.Scope on = Device.use(v.device()); Tensor zero = Spool.constant(0f)) {
                    total = new Variable(zero, "mean/total", false);
                }
            }
            total.assignAdd(sum);
            count += v.size();
        }
    }

    /** The mean so far (NaN before any value). */
    public double result() {
        if (count == 0) {
            return Double.NaN;
        }
        try (Tensor t = total.value()) {
            return t.doubleValue() / count;
        }
    }

    /** Number of values seen. */
    public long count() {
        return count;
    }

    public void reset() {
        count = 0;
        if (total != null) {
            try (TensorScope scope = new TensorScope()) {
                total.assign(Spool.zerosLike(total));
            }
        }
    }

    /** Frees the device memory of the running sum. */
    @Override
    public void close() {
        if (total != null) {
            total.close();
            total = null;
        }
    }
}
