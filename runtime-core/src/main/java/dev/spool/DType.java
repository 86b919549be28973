package dev.spool;

/**
 * Element types. {@link #FLOAT32} is the default, as in TensorFlow.
 *
 * <p>Host data crosses the backend SPI as a Java primitive array of {@link #hostArrayType()}:
 * {@code float[]}, {@code double[]}, {@code int[]}, {@code long[]}, and {@code byte[]} (0 or 1)
 * for {@link #BOOL}.
 */
public enum DType {
    FLOAT32("float32", 4, float[].class),
    FLOAT64("float64", 8, double[].class),
    INT32("int32", 4, int[].class),
    INT64("int64", 8, long[].class),
    BOOL("bool", 1, byte[].class);

    private final String displayName;
    private final int byteSize;
    private final Class<?> hostArrayType;

    DType(String displayName, int byteSize, Class<?> hostArrayType) {
        this.displayName = displayName;
        this.byteSize = byteSize;
        this.hostArrayType = hostArrayType;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for the types gradients flow through: float32 and float64. */
    public boolean isFloating() {
        return this == FLOAT32 || this == FLOAT64;
    }

    /** True for the integer types. */
    public boolean isInteger() {
        return this == INT32 || this == INT64;
    }

    /** True for every type that supports arithmetic (all but bool). */
    public boolean isNumeric() {
        return this != BOOL;
    }

    /** The Java array type that carries this dtype's values between host and device. */
    public Class<?> hostArrayType() {
        return hostArrayType;
    }

    /** A new zeroed host array of this dtype's {@link #hostArrayType()}. */
    public Object newHostArray(int length) {
        return switch (this) {
            case FLOAT32 -> new float[length];
            case FLOAT64 -> new double[length];
            case INT32 -> new int[length];
            case INT64 -> new long[length];
            case BOOL -> new byte[length];
        };
    }

    /** The name TensorFlow uses ({@code float32}, {@code int64}, ...). */
    @Override
    public String toString() {
        return displayName;
    }
}
