package dev.spool.function;

import dev.spool.DType;
import dev.spool.Device;
import java.util.ArrayList;
import java.util.List;

/**
 * Assigns every temporary of the graph (made and dropped inside a call) a buffer of the
 * function's own, reused by values whose lifetimes do not overlap, so that a call allocates
 * nothing for them. Greedy in node order, among the free buffers of the same device, dtype
 * and size (backends check that an output buffer has exactly the output's size). A node's outputs never share a buffer with its inputs: the outputs of node i are
 * placed before the inputs whose last use is i are freed.
 */
final class MemoryPlan {
    /** One planned buffer. */
    record Slot(Device device, DType dtype, long size) {
        long bytes() {
            return size * dtype.byteSize();
        }
    }

    final List<Slot> slots = new ArrayList<>();

    MemoryPlan(List<Node> nodes, List<Value> values) {
        for (Value v : values) {
            v.first = -1;
            v.last = -1;
            v.slot = -1;
        }
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            for (Value v : n.inputs) {
                use(v, i);
            }
            for (Value v : n.outputs) {
                use(v, i);
            }
        }
        List<List<Value>> startAt = buckets(nodes.size());
        List<List<Value>> endAt = buckets(nodes.size());
        for (Value v : values) {
            if (planned(v)) {
                startAt.get(v.first).add(v);
                endAt.get(v.last).add(v);
            }
        }
        List<Integer> free = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (Value v : startAt.get(i)) {
                v.slot = take(free, v);
            }
            for (Value v : endAt.get(i)) {
                free.add(v.slot);
            }
        }
    }

    static boolean planned(Value v) {
        return v.kind == Value.Kind.INTERNAL && !v.escapes && v.first >= 0;
    }

    private static void use(Value v, int node) {
        if (v.first < 0) {
            v.first = node;
        }
        v.last = node;
    }

    private int take(List<Integer> free, Value v) {
        int best = -1;
        for (int k = 0; k < free.size(); k++) {
            Slot s = slots.get(free.get(k));
            if (s.device() == v.device && s.dtype() == v.dtype && s.size() == v.size) {
                best = k;
                break;
            }
        }
        if (best >= 0) {
            return free.remove(best);
        }
        slots.add(new Slot(v.device, v.dtype, v.size));
        return slots.size() - 1;
    }

    long bytes() {
        long b = 0;
        for (Slot s : slots) {
            b += s.bytes();
        }
        return b;
    }

    private static List<List<Value>> buckets(int n) {
        List<List<Value>> l = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            l.add(new ArrayList<>());
        }
        return l;
    }
}
