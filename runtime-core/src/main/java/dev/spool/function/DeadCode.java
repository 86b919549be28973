package dev.spool.function;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/** Drops the nodes whose results nothing needs: not a result, not a variable's new value, not read later. */
final class DeadCode {
    private DeadCode() {
    }

    static List<Node> eliminate(List<Node> nodes, List<Value> values) {
        BitSet needed = new BitSet(values.size());
        for (Value v : values) {
            if (v.escapes) {
                needed.set(v.id);
            }
        }
        boolean[] keep = new boolean[nodes.size()];
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            boolean live = !n.pure();
            for (Value o : n.outputs) {
                live |= needed.get(o.id);
            }
            if (live) {
                keep[i] = true;
                for (Value in : n.inputs) {
                    needed.set(in.id);
                }
            }
        }
        List<Node> kept = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (keep[i]) {
                kept.add(nodes.get(i));
            }
        }
        return kept;
    }
}
