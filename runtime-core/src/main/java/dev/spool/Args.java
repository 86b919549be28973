package dev.spool;

import java.util.ArrayList;
import java.util.List;

/**
 * Null checks for the public entry points: a {@code null} argument, or a {@code null} element of
 * a list or array argument, is a {@link NullPointerException} whose message names the op and the
 * argument ({@code "add: other is null"}, {@code "concat: parts[1] is null"}).
 *
 * <p>Why not leave it to the JVM: its helpful messages (JEP 358, {@code Cannot invoke ... because
 * "other" is null}) are not a contract. Once C2 has compiled a site that throws the same implicit
 * exception often, HotSpot ({@code OmitStackTraceInFastThrow}) throws a preallocated
 * NullPointerException with no message at all.
 *
 * <p>These sit on the op dispatch path: a comparison with null and nothing else; the message is
 * built only when the check fails. Callers pass constant strings.
 */
final class Args {
    private Args() {
    }

    /** {@code value}, or a NullPointerException {@code "op: name is null"}. */
    static <T> T nonNull(T value, String op, String name) {
        if (value == null) {
            throw isNull(op, name);
        }
        return value;
    }

    /** The tensor {@code operand} stands for now ({@link Operand#value()}), checked for null. */
    static Tensor value(Operand operand, String op, String name) {
        if (operand == null) {
            throw isNull(op, name);
        }
        return operand.value();
    }

    /** The values of {@code operands}, in order; the list and each element checked for null. */
    static List<Tensor> values(List<? extends Operand> operands, String op, String name) {
        if (operands == null) {
            throw isNull(op, name);
        }
        List<Tensor> out = new ArrayList<>(operands.size());
        for (Operand o : operands) {
            if (o == null) {
                throw isNull(op, name + "[" + out.size() + "]");
            }
            out.add(o.value());
        }
        return out;
    }

    /** Checks {@code array} and each of its elements for null. */
    static <T> T[] elements(T[] array, String op, String name) {
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
    static <T> List<T> elements(List<T> list, String op, String name) {
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

    private static NullPointerException isNull(String op, String name) {
        return new NullPointerException(op + ": " + name + " is null");
    }
}
