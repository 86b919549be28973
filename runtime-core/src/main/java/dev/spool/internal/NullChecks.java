package dev.spool.internal;

import java.util.List;

/**
 * Null checks for Spool's public entry points, shared by its modules (runtime-core, nn): a
 * {@code null} argument, or a {@code null} element of a list or array argument, is a
 * {@link NullPointerException} whose message names the op and the argument
 * ({@code "add: other is null"}, {@code "concat: parts[1] is null"}). Internal: public only so
 * that every module writes the same messages from one place; not part of Spool's API.
 *
 * <p>Why not leave it to the JVM: its helpful messages (JEP 358, {@code Cannot invoke ... because
 * "other" is null}) are not a contract. Once C2 has compiled a site that throws the same implicit
 * exception often, HotSpot ({@code OmitStackTraceInFastThrow}) throws a preallocated
 * NullPointerException with no message at all.
 *
 * <p>These sit on the op dispatch path: a comparison with null and nothing else; the message is
 * built only when the check fails. Callers pass constant strings.
 */
public final class NullChecks {
    private NullChecks() {
    }

    /** {@code value}, or a NullPointerException {@code "op: name is null"}. */
    public static <T> T nonNull(T value, String op, String name) {
        if (value == null) {
            throw isNull(op, name);
        }
        return value;
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

    /** The exception for a null {@code name} of {@code op}: {@code "op: name is null"}. */
    public static NullPointerException isNull(String op, String name) {
        return new NullPointerException(op + ": " + name + " is null");
    }
}
