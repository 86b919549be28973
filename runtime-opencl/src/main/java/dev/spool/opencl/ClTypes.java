package dev.spool.opencl;

import dev.spool.DType;
import org.jocl.Pointer;
import org.jocl.Sizeof;

/** How each {@link DType} is spelled in OpenCL C and passed to kernels. */
final class ClTypes {
    private ClTypes() {
    }

    /** The build options that select {@code dtype} for the type macro {@code macro} (T, S, D). */
    static String options(String macro, DType dtype) {
        String m = "-D" + macro;
        return switch (dtype) {
            case FLOAT32 -> m + "=float " + m + "_IS_FP=1";
            case FLOAT64 -> m + "=double " + m + "_IS_FP=1 " + m + "_IS_DOUBLE=1";
            case INT32 -> m + "=int " + m + "_IS_INT=32";
            case INT64 -> m + "=long " + m + "_IS_INT=64";
            case BOOL -> m + "=uchar " + m + "_IS_BOOL=1";
        };
    }

    /** The OpenCL C name of {@code dtype}'s element type. */
    static String name(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> "float";
            case FLOAT64 -> "double";
            case INT32 -> "int";
            case INT64 -> "long";
            case BOOL -> "uchar";
        };
    }

    /** Options for the usual element type {@code T}. */
    static String options(DType dtype) {
        return options("T", dtype);
    }

    /** A kernel argument holding {@code value} converted to {@code dtype} as Java casts do
     *  (float to int truncates toward zero and saturates; for bool, non-zero is true). */
    static Pointer scalar(DType dtype, Number value) {
        return switch (dtype) {
            case FLOAT32 -> Pointer.to(new float[] {value.floatValue()});
            case FLOAT64 -> Pointer.to(new double[] {value.doubleValue()});
            case INT32 -> Pointer.to(new int[] {value.intValue()});
            case INT64 -> Pointer.to(new long[] {value.longValue()});
            case BOOL -> Pointer.to(new byte[] {isNonZero(value) ? (byte) 1 : (byte) 0});
        };
    }

    static long scalarSize(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> Sizeof.cl_float;
            case FLOAT64 -> Sizeof.cl_double;
            case INT32 -> Sizeof.cl_int;
            case INT64 -> Sizeof.cl_long;
            case BOOL -> Sizeof.cl_uchar;
        };
    }

    static boolean isNonZero(Number value) {
        if (value instanceof Long || value instanceof Integer || value instanceof Short
                || value instanceof Byte) {
            return value.longValue() != 0;
        }
        return value.doubleValue() != 0; // NaN is non-zero
    }
}
