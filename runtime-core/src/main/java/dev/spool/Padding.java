package dev.spool;

/**
 * How a convolution or pooling window treats the border, as TensorFlow's {@code padding}
 * argument: {@link #VALID} (no padding: only windows that fit), {@link #SAME} (output size
 * {@code ceil(in / stride)}, padding split evenly with the odd cell at the bottom and right), or
 * explicit pads per side ({@link #explicit}).
 *
 * <p>TensorFlow's SAME rule, per spatial dimension: {@code out = ceil(in / stride)},
 * {@code total = max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0)}, {@code before =
 * total / 2}, {@code after = total - before}.
 */
public final class Padding {
    /** No padding: {@code out = ceil((in - (k - 1) * dilation) / stride)}, at least 0. */
    public static final Padding VALID = new Padding("VALID", 0, 0, 0, 0);
    /** Output size {@code ceil(in / stride)}, the odd padding cell after (bottom, right). */
    public static final Padding SAME = new Padding("SAME", 0, 0, 0, 0);

    private final String kind;
    private final int top;
    private final int bottom;
    private final int left;
    private final int right;

    private Padding(String kind, int top, int bottom, int left, int right) {
        this.kind = kind;
        this.top = top;
        this.bottom = bottom;
        this.left = left;
        this.right = right;
    }

    /** Explicit pads, as TensorFlow's {@code [[0, 0], [top, bottom], [left, right], [0, 0]]}; each ≥ 0. */
    public static Padding explicit(int top, int bottom, int left, int right) {
        if (top < 0 || bottom < 0 || left < 0 || right < 0) {
            throw new ShapeException("explicit padding: pads must be non-negative, got top " + top
                    + ", bottom " + bottom + ", left " + left + ", right " + right);
        }
        return new Padding("EXPLICIT", top, bottom, left, right);
    }

    /** The padding named as in TensorFlow and Keras: {@code "valid"} or {@code "same"}, any case. */
    public static Padding of(String name) {
        return switch (name == null ? "" : name.trim().toUpperCase(java.util.Locale.ROOT)) {
            case "VALID" -> VALID;
            case "SAME" -> SAME;
            default -> throw new UsageException("padding must be \"valid\" or \"same\", got "
                    + (name == null ? "null" : "\"" + name + "\""));
        };
    }

    boolean isSame() {
        return this == SAME;
    }

    boolean isExplicit() {
        return kind.equals("EXPLICIT");
    }

    int top() {
        return top;
    }

    int bottom() {
        return bottom;
    }

    int left() {
        return left;
    }

    int right() {
        return right;
    }

    @Override
    public String toString() {
        return isExplicit() ? "EXPLICIT(top " + top + ", bottom " + bottom + ", left " + left + ", right " + right
                + ")" : kind;
    }
}
