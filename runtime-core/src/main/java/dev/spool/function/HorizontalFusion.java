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
 * horizontal loop fusion does for the many small updates of an optimizer step. After vertical
 * fusion has made the chains, this pass walks the graph in order and keeps one open group:
 *
 * <ul>
 * <li>an elementwise node joins it unless it reads a member's result (it depends on the group);</li>
 * <li>any node that reads a member's result closes the group, which then runs at its last
 *     member's place. Moving the earlier members down to there is safe: nothing between reads
 *     what they write (that would have closed the group), and nothing between writes what they
 *     read (members read only values with at most one writer, which came before them).</li>
 * </ul>
 * A group holds at most {@value #MAX_MEMBERS} programs and {@value #MAX_INPUTS} distinct input
 * views, which keeps a generated OpenCL kernel's arguments well inside the smallest parameter
 * space a device may offer (1 KB). Results are the members' own to the bit: each program is
 * computed as it would be alone.
 */
final class HorizontalFusion {
    static final int MAX_MEMBERS = 8;
    static final int MAX_INPUTS = 16;

    private HorizontalFusion() {
    }

    /** A candidate: the node as it stands, and what it would be as a group member. */
    private record Candidate(Node node, GroupNode.Member member) {
    }

    static List<Node> group(List<Node> nodes, List<Value> values) {
        int[] writers = Fusion.writers(nodes, values);
        CoreAccess core = CoreAccess.get();
        List<Node> out = new ArrayList<>();
        List<Candidate> open = new ArrayList<>();
        Set<Value> openOutputs = Collections.newSetFromMap(new IdentityHashMap<>());
        int insertAt = -1; // where in out the open group's last member stands
        for (Node n : nodes) {
            boolean depends = n.device == null; // Java code: a barrier
            for (Value v : n.inputs) {
                depends |= openOutputs.contains(v);
            }
            if (depends && !open.isEmpty()) {
                close(open, insertAt, out, values);
                openOutputs.clear();
            }
            Candidate c = n.device == null || !core.backend(n.device).groupsElementwise() ? null
                    : candidate(n, writers);
            if (c == null) {
                out.add(n);
                continue;
            }
            if (!open.isEmpty() && (n.device != open.get(0).node().device || open.size() == MAX_MEMBERS
                    || distinctInputs(open, c) > MAX_INPUTS)) {
                close(open, insertAt, out, values);
                openOutputs.clear();
            }
            open.add(c);
            openOutputs.add(c.member().out());
            insertAt = out.size();
        }
        if (!open.isEmpty()) {
            close(open, insertAt, out, values);
        }
        return out;
    }

    /** Puts the open group (or its lone node, unchanged) at {@code at} and empties it. */
    private static void close(List<Candidate> open, int at, List<Node> out, List<Value> values) {
        Node g;
        if (open.size() == 1) {
            g = open.get(0).node();
        } else {
            List<GroupNode.Member> members = new ArrayList<>();
            java.util.Map<Double, Value> rates = new java.util.HashMap<>();
            for (Candidate c : open) {
                members.add(materialize(c.member(), c.node(), values, rates));
            }
            g = new GroupNode(open.get(0).node().device, members);
        }
        out.add(at, g);
        open.clear();
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
