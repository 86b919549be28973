package dev.spool;

import dev.spool.internal.NullChecks;
import java.util.ArrayList;
import java.util.List;

/**
 * The null checks of the entry points that take an {@link Operand}: its value, or the
 * {@link NullChecks} message ({@code "add: other is null"}). Plain arguments are checked with
 * {@link NullChecks} directly.
 */
final class Args {
    private Args() {
    }

    /** The tensor {@code operand} stands for now ({@link Operand#value()}), checked for null. */
    static Tensor value(Operand operand, String op, String name) {
        if (operand == null) {
            throw NullChecks.isNull(op, name);
        }
        return operand.value();
    }

    /** The values of {@code operands}, in order; the list and each element checked for null. */
    static List<Tensor> values(List<? extends Operand> operands, String op, String name) {
        if (operands == null) {
            throw NullChecks.isNull(op, name);
        }
        List<Tensor> out = new ArrayList<>(operands.size());
        for (Operand o : operands) {
            if (o == null) {
                throw NullChecks.isNull(op, name + "[" + out.size() + "]");
            }
            out.add(o.value());
        }
        return out;
    }
}
