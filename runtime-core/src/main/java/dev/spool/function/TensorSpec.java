package dev.spool.function;

import dev.spool.DType;
import dev.spool.Shape;
import java.util.Arrays;
import java.util.Locale;

/**
 * What a tensor argument of a traced function must be, as TF's {@code tf.TensorSpec} in an
 * {@code input_signature}: a dtype and dims, where -1 is any size ({@code None}). A call that
 * does not match is refused with the spec it expected, instead of tracing again.
 */
public record TensorSpec(DType dtype, int... dims) {
    public TensorSpec {
        if (dtype == null || dims == null) {
            throw new NullPointerException("TensorSpec: dtype and dims must not be null");
        }
        dims = dims.clone();
        for (int d : dims) {
            if (d < -1) {
                throw new IllegalArgumentException("TensorSpec: a dim is a size >= 0 or -1 (any), got "
                        + Arrays.toString(dims));
            }
        }
    }

    public static TensorSpec of(DType dtype, int... dims) {
        return new TensorSpec(dtype, dims);
    }

    boolean matches(Shape shape, DType actual) {
        if (actual != dtype || shape.rank() != dims.length) {
            return false;
        }
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] >= 0 && dims[i] != shape.dim(i)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            s.append(i == 0 ? "" : ", ").append(dims[i] < 0 ? "None" : String.valueOf(dims[i]));
        }
        return s.append(dims.length == 1 ? ",)" : ")").append(' ').append(dtype.name().toLowerCase(Locale.ROOT))
                .toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && t.dtype == dtype && Arrays.equals(t.dims, dims);
    }

    @Override
    public int hashCode() {
        return dtype.hashCode() * 31 + Arrays.hashCode(dims);
    }
}
