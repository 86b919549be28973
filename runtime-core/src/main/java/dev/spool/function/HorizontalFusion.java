package dev.spool.function;

import dev.spool.DType;
import dev.spool.internal.CoreAccess;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.FusedElementwise;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Horizontal fusion: independent elementwise nodes (fused chains, single unary or binary
 * primitives, gradient-descent updates) become one {@link GroupNode}, one launch, as XLA's
 * horizontal loop fusion does for the many small updates of an optimizer step; independent
 * reductions (a loss's sum, the bias gradients of a step) become one {@link ReduceGroupNode}.
 * After vertical fusion has made the chains, this pass walks the graph in order and keeps one
 * open group of each kind:
 *
 * <ul>
 * <li>a candidate joins its kind's group unless it reads a member's result (it depends on the
 *     group, which then closes first);</li>
 * <li>any other node that reads a member's result closes the group, which then runs at its last
 *     member's place. Moving the earlier members down to there is safe: nothing between reads
 *     what they write (that would have closed the group), and nothing between writes what they
 *     read (members read only values with at most one writer, which came before them);</li>
 * <li>a candidate that reads a result of the other kind's open group does not close it: its
 *     group then runs after that one (its place moves down with the other's, which is safe by
 *     the same argument), so that the mean's division of a loss can wait in the update group
 *     while the bias gradients join the loss's sum. When such a group closes, the group it
 *     follows closes first, so that nothing it reads can move below it.</li>
 * </ul>
 * A group holds at most {@value #MAX_MEMBERS} programs and {@value #MAX_INPUTS} distinct input
 * views, or {@value #MAX_REDUCTIONS} reductions of one dtype, which keeps a generated OpenCL
 * kernel's arguments well inside the smallest parameter space a device may offer (1 KB) and the
 * launcher's 48 arguments. Results are the members' own to the bit: each is computed as it would
 * be alone.
 */
final class HorizontalFusion {
    static final int MAX_MEMBERS = 8;
    static final int MAX_INPUTS = 16;
    static final int MAX_REDUCTIONS = 6;

    private HorizontalFusion() {
    }

    /** A candidate: the node as it stands, and what it would be as a group member. */
    private record Candidate(Node node, GroupNode.Member member) {
    }

    /** Where an open group stands in the output: its last member's place, until it closes. */
    private static final class Slot extends Node {
        Slot() {
            super(null, List.of(), List.of());
        }

        @Override
        void run(dev.spool.spi.Backend backend, Binding binding) {
            throw new IllegalStateException("an open group's slot is not a node to run");
        }

        @Override
        String label() {
            return "slot";
        }
    }

    /** An open group of one kind: its candidates, their results, its slot, and the group it must follow. */
    private static final class Open {
        final List<Candidate> members = new ArrayList<>();
        final Set<Value> outputs = Collections.newSetFromMap(new IdentityHashMap<>());
        Slot slot;
        Open after;

        boolean readBy(Node n) {
            for (Value v : n.inputs) {
                if (outputs.contains(v)) {
                    return true;
                }
            }
            return false;
        }
    }

    static List<Node> group(List<Node> nodes, List<Value> values) {
        int[] writers = Fusion.writers(nodes, values);
        CoreAccess core = CoreAccess.get();
        List<Node> out = new ArrayList<>();
        Open elementwise = new Open();
        Open reductions = new Open();
        for (Node n : nodes) {
            Candidate c = null;
            Open g = null;
            if (n.device != null && core.backend(n.device).groupsElementwise() && (c = candidate(n, writers)) != null) {
                g = elementwise;
            } else if (n.device != null && core.backend(n.device).groupsReductions()
                    && (c = reduction(n, writers)) != null) {
                g = reductions;
            }
            if (g == null) {
                // Java code (a barrier), or a node that reads a group's results: those run before it
                for (Open o : List.of(elementwise, reductions)) {
                    if (!o.members.isEmpty() && (n.device == null || o.readBy(n))) {
                        close(o, out, values, elementwise, reductions);
                    }
                }
                out.add(n);
                continue;
            }
            Open other = g == elementwise ? reductions : elementwise;
            if (!g.members.isEmpty() && (g.readBy(n) || !fits(g, c, g == elementwise))) {
                close(g, out, values, elementwise, reductions);
            }
            if (!other.members.isEmpty() && other.readBy(n)) {
                if (other.after == g) { // each would follow the other: both run now, in their order
                    close(g, out, values, elementwise, reductions);
                    close(other, out, values, elementwise, reductions);
                } else {
                    g.after = other;
                }
            }
            g.members.add(c);
            g.outputs.addAll(c.node().outputs);
            moveDown(g, out, other);
        }
        close(elementwise, out, values, elementwise, reductions);
        close(reductions, out, values, elementwise, reductions);
        return out;
    }

    /** Puts {@code g}'s slot at the end of the output, and the other group's after it if it must follow {@code g}. */
    private static void moveDown(Open g, List<Node> out, Open other) {
        if (g.slot != null) {
            out.remove(g.slot);
        }
        g.slot = new Slot();
        out.add(g.slot);
        if (other.after == g && other.slot != null) {
            out.remove(other.slot);
            out.add(other.slot);
        }
    }

    /** Whether candidate {@code c} may join the open group {@code g} (same device, room left). */
    private static boolean fits(Open g, Candidate c, boolean elementwise) {
        Node first = g.members.get(0).node();
        if (c.node().device != first.device) {
            return false;
        }
        if (elementwise) {
            return g.members.size() < MAX_MEMBERS && distinctInputs(g.members, c) <= MAX_INPUTS;
        }
        return g.members.size() < MAX_REDUCTIONS && c.node().inputs.get(0).dtype == first.inputs.get(0).dtype;
    }

    /**
     * Replaces {@code g}'s slot by the group (or its lone node, unchanged) and empties it. A
     * group it must follow closes first: left open, that one could take a later member and move
     * down past {@code g}, which reads its results.
     */
    private static void close(Open g, List<Node> out, List<Value> values, Open... all) {
        if (g.members.isEmpty()) {
            return;
        }
        if (g.after != null) {
            close(g.after, out, values, all);
        }
        Node made;
        if (g.members.size() == 1) {
            made = g.members.get(0).node();
        } else if (g.members.get(0).member() == null) {
            List<CallNode> reduces = new ArrayList<>();
            for (Candidate c : g.members) {
                reduces.add((CallNode) c.node());
            }
            made = new ReduceGroupNode(reduces.get(0).device, reduces);
        } else {
            List<GroupNode.Member> members = new ArrayList<>();
            java.util.Map<Double, Value> rates = new java.util.HashMap<>();
            for (Candidate c : g.members) {
                members.add(materialize(c.member(), c.node(), values, rates));
            }
            made = new GroupNode(g.members.get(0).node().device, members);
        }
        int at = out.indexOf(g.slot);
        out.set(at, made);
        g.members.clear();
        g.outputs.clear();
        g.slot = null;
        g.after = null;
        for (Open o : all) {
            if (o.after == g) {
                o.after = null;
            }
        }
    }

    /**
     * A value reduction (not an index one) that may join a reduction group: one output, a fresh
     * internal value of one writer, reading a value of at most one writer on its device.
     */
    private static Candidate reduction(Node n, int[] writers) {
        if (!(n instanceof CallNode c) || !c.method.getName().equals("reduce")
                || ((dev.spool.spi.ReduceOp) c.args[0]).isArg() || n.outputs.size() != 1 || c.argValues[1] == null
                || c.argValues[3] == null || n.inputs.size() != 1) {
            return null;
        }
        Value out = n.outputs.get(0);
        Value in = n.inputs.get(0);
        if (writers[out.id] != 1 || out.kind != Value.Kind.INTERNAL || writers[in.id] > 1 || in.device != n.device) {
            return null;
        }
        return new Candidate(n, null);
    }

    /** The distinct input views of the open group with {@code extra}: a learning rate yet to be made counts as one. */
    private static int distinctInputs(List<Candidate> open, Candidate extra) {
        List<View> seen = new ArrayList<>();
        int rates = 0;
        List<Candidate> all = new ArrayList<>(open);
        all.add(extra);
        for (Candidate c : all) {
            for (View v : c.member().in()) {
                if (v.buffer() == null) {
                    rates++;
                } else if (!seen.contains(v)) {
                    seen.add(v);
                }
            }
        }
        return seen.size() + rates;
    }

    /**
     * The node as a member, or null if it cannot join: a fused chain, a float unary/binary/binaryUnary
     * writing a whole fresh value, or a gradient-descent update, reading only values with at most
     * one writer. A gradient-descent member's learning rate (its last input) is left null until
     * the group is made: a constant is added to the graph only for updates that do join one.
     */
    private static Candidate candidate(Node n, int[] writers) {
        if (n.outputs.size() != 1) {
            return null;
        }
        Value out = n.outputs.get(0);
        if (writers[out.id] != 1 || out.kind != Value.Kind.INTERNAL || !out.dtype.isFloating()) {
            return null;
        }
        for (Value v : n.inputs) {
            if (writers[v.id] > 1 || v.device != n.device) {
                return null;
            }
        }
        if (n instanceof FusedNode f) {
            return new Candidate(n, new GroupNode.Member(f.program, f.in, f.inValues, out, n));
        }
        if (!(n instanceof CallNode c)) {
            return null;
        }
        DType t = out.dtype;
        switch (c.method.getName()) {
            case "unary" -> {
                View x = (View) c.args[1];
                if (x.size() != out.size || x.dtype() != t || c.argValues[1] == null) {
                    return null;
                }
                FusedElementwise p = new FusedElementwise(t, 1, List.of(FusedElementwise.Step.unary((UnaryOp) c.args[0], 0)));
                return new Candidate(n, new GroupNode.Member(p, new View[] {x}, new Value[] {c.argValues[1]}, out, n));
            }
            case "binary", "binaryUnary" -> {
                boolean epilogue = c.method.getName().equals("binaryUnary");
                int first = epilogue ? 2 : 1;
                BinaryOp op = (BinaryOp) c.args[0];
                View a = (View) c.args[first];
                View b = (View) c.args[first + 1];
                if (op.isComparison() || a.size() != out.size || a.dtype() != t || b.dtype() != t
                        || c.argValues[first] == null || c.argValues[first + 1] == null) {
                    return null;
                }
                List<FusedElementwise.Step> steps = new ArrayList<>();
                steps.add(FusedElementwise.Step.binary(op, 0, 1));
                if (epilogue) {
                    steps.add(FusedElementwise.Step.unary((UnaryOp) c.args[1], 2));
                }
                return new Candidate(n, new GroupNode.Member(new FusedElementwise(t, 2, steps), new View[] {a, b},
                        new Value[] {c.argValues[first], c.argValues[first + 1]}, out, n));
            }
            case "applyGradientDescent" -> {
                View var = (View) c.args[0];
                View grad = (View) c.args[1];
                if (var.dtype() != t || grad.dtype() != t || c.argValues[0] == null || c.argValues[1] == null) {
                    return null;
                }
                // var - lr * grad, as the primitive computes it: lr in the dtype, one product, one difference
                FusedElementwise p = new FusedElementwise(t, 3, List.of(
                        FusedElementwise.Step.binary(BinaryOp.MUL, 2, 1),
                        FusedElementwise.Step.binary(BinaryOp.SUB, 0, 3)));
                View rate = new View(null, var.shape(), new long[var.rank()], 0);
                return new Candidate(n, new GroupNode.Member(p, new View[] {var, grad, rate},
                        new Value[] {c.argValues[0], c.argValues[1], null}, out, n));
            }
            default -> {
                return null;
            }
        }
    }

    /** A member ready to run: a gradient-descent update gets its learning rate as a constant of the graph. */
    private static GroupNode.Member materialize(GroupNode.Member m, Node node, List<Value> values,
                                                java.util.Map<Double, Value> rates) {
        int last = m.inValues().length - 1;
        if (m.inValues()[last] != null) {
            return m;
        }
        double lr = (Double) ((CallNode) node).args[2];
        DType t = m.out().dtype;
        Value rate = rates.get(lr);
        if (rate == null || rate.dtype != t) {
            rate = new Value(values.size(), Value.Kind.CONST, node.device, t, 1);
            rate.fill = t == DType.FLOAT32 ? (Number) (float) lr : (Number) lr;
            values.add(rate);
            rates.put(lr, rate);
        }
        Value[] inValues = m.inValues().clone();
        inValues[last] = rate;
        return new GroupNode.Member(m.program(), m.in(), inValues, m.out(), m.node());
    }
}
