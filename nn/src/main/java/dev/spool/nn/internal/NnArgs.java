package dev.spool.nn.internal;

import dev.spool.nn.HyperparameterException;
import java.util.List;
import java.util.Map;

/**
 * Argument checks for nn's public entry points, as runtime-core's {@code Args}: a {@code null}
 * argument, or a {@code null} element of a list, array or map argument, is a
 * {@link NullPointerException} whose message names the op and the argument
 * ({@code "Dense.call: input is null"}, {@code "Sequential: layers[1] is null"}). Ops are named
 * {@code Class} for a constructor and {@code Class.method} otherwise.
 *
 * <p>Why not leave it to the JVM: its helpful messages (JEP 358) are not a contract; once C2 has
 * compiled a site that throws the same implicit exception often, HotSpot
 * ({@code OmitStackTraceInFastThrow}) throws a preallocated exception with no message.
 *
 * <p>Callers pass constant strings; a message is built only when a check fails. Internal to nn:
 * public only because nn's packages share it, not part of the API.
 */
public final class NnArgs {
    private NnArgs() {
    }

    /** {@code value}, or a NullPointerException {@code "op: name is null"}. */
    public static <T> T nonNull(T value, String op, String name) {
        if (value == null) {
            throw isNull(op, name);
        }
        return value;
    }

    /** Checks {@code list} and each of its elements for null. */
    public static <T> List<T> elements(List<T> list, String op, String name) {
        if (list == null) {
            throw isNull(op, name);
        }
        int i = 0;
        for (T t : list) {
            if (t == null) {
                throw isNull(op, name + "[" + i + "]");
            }
            i++;
        }
        return list;
    }

    /** Checks {@code array} and each of its elements for null. */
    public static <T> T[] elements(T[] array, String op, String name) {
        if (array == null) {
            throw isNull(op, name);
        }
        for (int i = 0; i < array.length; i++) {
            if (array[i] == null) {
                throw isNull(op, name + "[" + i + "]");
            }
        }
        return array;
    }

    /** Checks {@code map}, its keys and its values for null ({@code "op: name['key'] is null"}). */
    public static <K, V> Map<K, V> entries(Map<K, V> map, String op, String name) {
        if (map == null) {
            throw isNull(op, name);
        }
        for (Map.Entry<K, V> e : map.entrySet()) {
            if (e.getKey() == null) {
                throw isNull(op, "a key of " + name);
            }
            if (e.getValue() == null) {
                throw isNull(op, name + "['" + e.getKey() + "']");
            }
        }
        return map;
    }

    /** {@code value} if it is finite and at least 0, else a {@link HyperparameterException}. */
    public static double nonNegative(double value, String op, String name) {
        if (!(value >= 0 && value < Double.POSITIVE_INFINITY)) {
            throw new HyperparameterException(op + ": " + name + " must be a finite number >= 0, got " + value);
        }
        return value;
    }

    /** {@code value} if it is finite and above 0, else a {@link HyperparameterException}. */
    public static double positive(double value, String op, String name) {
        if (!(value > 0 && value < Double.POSITIVE_INFINITY)) {
            throw new HyperparameterException(op + ": " + name + " must be a finite number > 0, got " + value);
        }
        return value;
    }

    /** {@code value} if it is above 0 (a count of steps), else a {@link HyperparameterException}. */
    public static long positive(long value, String op, String name) {
        if (value <= 0) {
            throw new HyperparameterException(op + ": " + name + " must be > 0, got " + value);
        }
        return value;
    }

    /** {@code value} if it is in {@code [0, 1)}, else a {@link HyperparameterException}. */
    public static double fraction(double value, String op, String name) {
        if (!(value >= 0 && value < 1)) {
            throw new HyperparameterException(op + ": " + name + " must be in [0, 1), got " + value);
        }
        return value;
    }

    /** {@code value} if it is in {@code [0, 1]}, else a {@link HyperparameterException}. */
    public static double unit(double value, String op, String name) {
        if (!(value >= 0 && value <= 1)) {
            throw new HyperparameterException(op + ": " + name + " must be in [0, 1], got " + value);
        }
        return value;
    }

    private static NullPointerException isNull(String op, String name) {
        return new NullPointerException(op + ": " + name + " is null");
    }
}
