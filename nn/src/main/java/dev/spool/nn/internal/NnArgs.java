package dev.spool.nn.internal;

import dev.spool.internal.NullChecks;
import dev.spool.nn.HyperparameterException;
import java.util.Map;

/**
 * The argument checks nn adds to runtime-core's {@link NullChecks} (which give every null
 * argument or element its {@code "Dense.call: input is null"} message; ops are named
 * {@code Class} for a constructor and {@code Class.method} otherwise): the entries of a map, and
 * hyperparameters in range, else a {@link HyperparameterException}. Callers pass constant
 * strings; a message is built only when a check fails. Internal to nn: public only because nn's
 * packages share it, not part of the API.
 */
public final class NnArgs {
    private NnArgs() {
    }

    /** Checks {@code map}, its keys and its values for null ({@code "op: name['key'] is null"}). */
    public static <K, V> Map<K, V> entries(Map<K, V> map, String op, String name) {
        if (map == null) {
            throw NullChecks.isNull(op, name);
        }
        for (Map.Entry<K, V> e : map.entrySet()) {
            if (e.getKey() == null) {
                throw NullChecks.isNull(op, "a key of " + name);
            }
            if (e.getValue() == null) {
                throw NullChecks.isNull(op, name + "['" + e.getKey() + "']");
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
}
