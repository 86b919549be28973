package dev.spool.function;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.Shape;
import dev.spool.Tensor;
import dev.spool.internal.CoreAccess;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What a call must share with a trace to replay it: for each tensor argument its shape, dtype,
 * device, strides and which earlier argument shares its buffer; for any other argument, the
 * value itself ({@code equals}; identity for variables and other objects).
 */
record Signature(List<Object> parts) {
    record TensorArg(Shape shape, DType dtype, Device device, List<Long> strides, int sameBufferAs) {
        @Override
        public String toString() {
            return "tensor " + shape + " " + dtype.name().toLowerCase(java.util.Locale.ROOT) + " on " + device;
        }
    }

    static Signature of(Object[] args) {
        CoreAccess core = CoreAccess.get();
        List<Object> parts = new ArrayList<>(args.length);
        View[] views = new View[args.length];
        for (int i = 0; i < args.length; i++) {
            if (args[i] instanceof Tensor t) {
                if (t.isClosed()) {
                    throw new dev.spool.ClosedException("Spool.function: argument " + i + " is closed");
                }
                views[i] = core.view(t);
                int same = -1;
                for (int j = 0; j < i && same < 0; j++) {
                    if (views[j] != null && views[j].buffer() == views[i].buffer()) {
                        same = j;
                    }
                }
                parts.add(new TensorArg(t.shape(), t.dtype(), t.device(),
                        Arrays.stream(views[i].strides()).boxed().toList(), same));
            } else {
                parts.add(args[i] == null ? NullArg.NULL : args[i]);
            }
        }
        return new Signature(parts);
    }

    private enum NullArg { NULL }

    /** Which arguments differ from {@code other}'s, for the retracing warning. */
    String differences(Signature other) {
        StringBuilder s = new StringBuilder();
        if (other.parts.size() != parts.size()) {
            return other.parts.size() + " arguments, then " + parts.size();
        }
        for (int i = 0; i < parts.size(); i++) {
            if (!Objects.equals(parts.get(i), other.parts.get(i))) {
                if (s.length() > 0) {
                    s.append("; ");
                }
                s.append("argument ").append(i).append(": ").append(other.parts.get(i)).append(", then ")
                        .append(parts.get(i));
            }
        }
        return s.toString();
    }

    @Override
    public String toString() {
        return parts.toString();
    }
}
