package dev.spool.function;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.Variable;
import dev.spool.spi.DeviceBuffer;

/** One buffer's worth of values in a traced graph, and where its buffer comes from at a call. */
final class Value {
    enum Kind {
        /** An argument of the function: the caller's tensor. */
        ARG,
        /** A variable's value as it is when the call starts. */
        VAR,
        /** A tensor captured from outside the function, snapshotted once when traced. */
        CONST,
        /** Made inside the function: a planned buffer, or a fresh one if it leaves the call. */
        INTERNAL
    }

    final int id;
    Kind kind;
    final Device device;
    final DType dtype;
    final long size;
    /** ARG: which argument. */
    int arg = -1;
    /** ARG and VAR: the offset of the traced view, which a call's view may shift. */
    long tracedOffset;
    Variable variable;
    /** CONST: the function's own copy. */
    DeviceBuffer owned;
    /** CONST made by hoisting a fill out of the calls: the value to fill once. */
    Number fill;
    /** CONST made by folding a primitive of constants: the node to run once, when the graph is built. */
    Node foldedBy;
    /** Its place among the folded values: the order in which they were traced. */
    int foldOrder;
    /** Leaves the call: a result, or a variable's new value. Never planned. */
    boolean escapes;
    /** Node indices of the first and last use, after the passes. */
    int first = -1;
    int last = -1;
    /** INTERNAL and not escaping: the planned buffer's index. */
    int slot = -1;

    Value(int id, Kind kind, Device device, DType dtype, long size) {
        this.id = id;
        this.kind = kind;
        this.device = device;
        this.dtype = dtype;
        this.size = size;
    }

    long bytes() {
        return size * dtype.byteSize();
    }

    @Override
    public String toString() {
        String what = switch (kind) {
            case ARG -> "arg" + arg;
            case VAR -> "var '" + variable.name() + "'";
            case CONST -> "const";
            case INTERNAL -> escapes ? "out" : (slot >= 0 ? "buf" + slot : "tmp");
        };
        return "%" + id + ":" + dtype.name().toLowerCase(java.util.Locale.ROOT) + "[" + size + "] " + what;
    }
}
