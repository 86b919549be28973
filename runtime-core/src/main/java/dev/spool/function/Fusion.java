package dev.spool.function;

import dev.spool.internal.CoreAccess;
import dev.spool.spi.Backend;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;

/**
 * Rewrites of a traced graph onto fewer launches, each onto a primitive the SPI already has, so
 * every backend runs it and its result is the eager one to the bit (the SPI promises that the
 * fused primitives compute what the unfused ones do, in the same order, without contraction):
 * <ul>
 * <li><b>hoisted constants</b>: a {@code fill} of a value nothing else writes (the scalars of
 *     {@code x.mul(0.1)}) runs once, when the graph is built, instead of at every call;</li>
 * <li><b>folded constants</b>: so does a primitive that reads only constants;</li>
 * <li><b>activation epilogues</b>: {@code binary} then {@code unary} relu/tanh/sigmoid on its
 *     result ({@code relu(x·W + b)}) becomes one {@code binaryUnary};</li>
 * <li><b>matmul epilogues</b>: {@code binary} or {@code binaryUnary} on a product it alone reads
 *     ({@code relu(x·W + b)}, relu's gradient after {@code dY·Wᵀ}) becomes one {@code
 *     matmulEpilogue}, on backends that run it as one launch;</li>
 * <li><b>cross-entropy with its gradient</b>: {@code softmaxCrossEntropy} and the {@code
 *     softmaxCrossEntropyGrad} of its logSoftmax, when the gradient's seed is known before the
 *     loss (a constant, as a mean's is), become one {@code softmaxCrossEntropyWithGrad} at the
 *     loss's place;</li>
 * <li><b>gradient-descent updates</b>: {@code var - c * grad} with a constant {@code c}
 *     ({@code w.assignSub(g.mul(lr))}) becomes one {@code applyGradientDescent};</li>
 * <li><b>elementwise chains</b>: a tree of {@code unary}, {@code binary} and {@code binaryUnary}
 *     primitives (float, arithmetic) whose inner results are each read once, by the tree, becomes
 *     one {@link dev.spool.spi.FusedElementwise} at the root's place: one generated kernel on
 *     OpenCL, one pass over cache-sized tiles on {@code cpu} (vertical fusion, as XLA's loop
 *     fusion of single-use producers).</li>
 * </ul>
 * A rewrite applies only where the intermediate it removes is read by nothing else and is not a
 * result. Then {@link HorizontalFusion} puts independent elementwise nodes into one launch, and
 * independent reductions into another. Not done yet: elementwise producers fused into a
 * reduction's input.
 */
final class Fusion {
    private static final Method BINARY_UNARY = method("binaryUnary", BinaryOp.class, UnaryOp.class, View.class,
            View.class, DeviceBuffer.class);
    private static final Method MATMUL_EPILOGUE = method("matmulEpilogue", View.class, View.class, BinaryOp.class,
            View.class, UnaryOp.class, DeviceBuffer.class);
    private static final Method APPLY_GD = method("applyGradientDescent", View.class, View.class, double.class,
            DeviceBuffer.class);
    private static final Method XENT_WITH_GRAD = method("softmaxCrossEntropyWithGrad", View.class, View.class,
            View.class, DeviceBuffer.class, DeviceBuffer.class, DeviceBuffer.class);

    private Fusion() {
    }

    private static Method method(String name, Class<?>... types) {
        try {
            return Backend.class.getMethod(name, types);
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static List<Node> fuse(List<Node> nodes, List<Value> values) {
        List<Node> out = hoistFills(nodes, values);
        out = foldConstants(out, values);
        out = crossEntropyWithGrad(out, values);
        out = reluGradFromOutput(out);
        out = epilogues(out, values);
        out = matmulEpilogues(out, values);
        out = gradientDescent(out, values);
        out = elementwiseChains(out, values);
        return HorizontalFusion.group(out, values);
    }

    // ---- hoisted constants ------------------------------------------------------------------

    private static List<Node> hoistFills(List<Node> nodes, List<Value> values) {
        int[] writers = writers(nodes, values);
        List<Node> out = new ArrayList<>();
        for (Node n : nodes) {
            if (n instanceof CallNode c && c.method.getName().equals("fill") && c.outputs.size() == 1) {
                Value v = c.outputs.get(0);
                if (v.kind == Value.Kind.INTERNAL && !v.escapes && writers[v.id] == 1) {
                    v.kind = Value.Kind.CONST;
                    v.fill = (Number) c.args[1];
                    continue;
                }
            }
            out.add(n);
        }
        return out;
    }

    // ---- folded constants ------------------------------------------------------------------

    /** The largest result folding keeps for the function's life (a planned buffer would be shared). */
    static final long MAX_FOLDED = 1 << 16;

    /**
     * A primitive that reads only constants ({@code ones / n}, the seed of a mean's gradient)
     * gives the same result at every call: it runs once when the graph is built, and its result
     * becomes a constant. Random ops (new numbers per call) and results over {@link #MAX_FOLDED}
     * elements are left alone.
     */
    private static List<Node> foldConstants(List<Node> nodes, List<Value> values) {
        int[] writers = writers(nodes, values);
        List<Node> out = new ArrayList<>();
        int folded = 0;
        for (Node n : nodes) {
            if (n instanceof CallNode c && !c.method.getName().equals("randomUniform") && c.pure()
                    && c.device != null && !c.inputs.isEmpty() && c.outputs.size() == 1) {
                Value v = c.outputs.get(0);
                boolean constant = v.kind == Value.Kind.INTERNAL && !v.escapes && writers[v.id] == 1
                        && v.size <= MAX_FOLDED;
                for (Value in : c.inputs) {
                    constant &= in.kind == Value.Kind.CONST;
                }
                if (constant) {
                    v.kind = Value.Kind.CONST;
                    v.foldedBy = c;
                    v.foldOrder = folded++;
                    continue;
                }
            }
            out.add(n);
        }
        return out;
    }

    // ---- relu's gradient from its output -------------------------------------------------------

    /**
     * {@code reluGrad(g, x)} reads x only for {@code x > 0}, which is {@code relu(x) > 0}: reading
     * the output instead (what the hand-fused {@code biasAdd(..., RELU)} records) leaves x to its
     * producer alone, so that {@code relu(a + b)} can become one epilogue.
     */
    private static List<Node> reluGradFromOutput(List<Node> nodes) {
        java.util.Map<Value, CallNode> reluOf = new java.util.IdentityHashMap<>();
        List<Node> out = new ArrayList<>();
        for (Node n : nodes) {
            if (n instanceof CallNode c && c.method.getName().equals("unary") && c.args[0] == UnaryOp.RELU
                    && c.argValues[1] != null && whole((View) c.args[1], c.argValues[1])) {
                reluOf.put(c.argValues[1], c);
            }
            if (isBinary(n, BinaryOp.RELU_GRAD)) {
                CallNode c = (CallNode) n;
                CallNode relu = reluOf.get(c.argValues[2]);
                View x = (View) c.args[2];
                if (relu != null && whole(x, c.argValues[2])) {
                    Value y = relu.outputs.get(0);
                    Object[] args = c.args.clone();
                    Value[] argValues = c.argValues.clone();
                    args[2] = new View((DeviceBuffer) relu.args[2], x.shape(), x.strides(), 0);
                    argValues[2] = y;
                    List<Value> inputs = new ArrayList<>(c.inputs);
                    inputs.set(inputs.indexOf(c.argValues[2]), y);
                    n = new CallNode(c.device, c.method, args, argValues, inputs, c.outputs);
                }
            }
            out.add(n);
        }
        return out;
    }

    // ---- epilogues -------------------------------------------------------------------------

    private static List<Node> epilogues(List<Node> nodes, List<Value> values) {
        int[] reads = reads(nodes, values);
        List<Node> out = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (i + 1 < nodes.size() && isBinary(n) && nodes.get(i + 1) instanceof CallNode next
                    && next.method.getName().equals("unary") && Backend.EPILOGUES.contains((UnaryOp) next.args[0])) {
                CallNode bin = (CallNode) n;
                Value t = bin.outputs.get(0);
                BinaryOp op = (BinaryOp) bin.args[0];
                View read = (View) next.args[1];
                if (!op.isComparison() && t.dtype.isFloating() && !t.escapes && reads[t.id] == 1
                        && next.argValues[1] == t && whole(read, t)) {
                    Object[] args = {op, next.args[0], bin.args[1], bin.args[2], next.args[2]};
                    Value[] argValues = {null, null, bin.argValues[1], bin.argValues[2], next.argValues[2]};
                    out.add(new CallNode(n.device, BINARY_UNARY, args, argValues, bin.inputs, next.outputs));
                    i++;
                    continue;
                }
            }
            out.add(n);
        }
        return out;
    }

    // ---- matmul epilogues --------------------------------------------------------------------

    /**
     * {@code op(a @ b, y)} and {@code act(op(a @ b, y))}, where the product is read once, by that
     * node, as its first operand (or second, for add and mul, which commute bit for bit), become
     * one {@code matmulEpilogue}, for backends that run it as one launch. The fused node takes
     * the consumer's place: nothing between reads the product, and nothing writes what the
     * matmul reads (values with one writer, which came before it).
     */
    private static List<Node> matmulEpilogues(List<Node> nodes, List<Value> values) {
        int[] reads = reads(nodes, values);
        int[] writers = writers(nodes, values);
        java.util.Map<Value, Integer> readerOf = new java.util.IdentityHashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (Value v : nodes.get(i).inputs) {
                readerOf.put(v, i);
            }
        }
        Node[] replaced = new Node[nodes.size()];
        boolean[] dropped = new boolean[nodes.size()];
        for (int i = 0; i < nodes.size(); i++) {
            if (!(nodes.get(i) instanceof CallNode mm) || !mm.method.getName().equals("matmul")
                    || !CoreAccess.get().backend(mm.device).fusesMatmulEpilogues()) {
                continue;
            }
            Value t = mm.outputs.get(0);
            Integer j = readerOf.get(t);
            if (t.escapes || reads[t.id] != 1 || writers[t.id] != 1 || j == null || j <= i
                    || !(nodes.get(j) instanceof CallNode c) || c.device != mm.device || replaced[j] != null) {
                continue;
            }
            boolean withActivation = c.method.getName().equals("binaryUnary");
            if (!withActivation && !c.method.getName().equals("binary")) {
                continue;
            }
            BinaryOp op = (BinaryOp) c.args[0];
            int first = withActivation ? 2 : 1;
            int mine = c.argValues[first] == t ? first : c.argValues[first + 1] == t ? first + 1 : -1;
            boolean commutes = op == BinaryOp.ADD || op == BinaryOp.MUL;
            if (mine < 0 || (mine != first && !commutes) || op.isComparison()
                    || c.argValues[first] == c.argValues[first + 1]) {
                continue;
            }
            int other = mine == first ? first + 1 : first;
            Value y = c.argValues[other];
            boolean inputsSettled = writers[y.id] <= 1;
            for (Value in : mm.inputs) {
                inputsSettled &= writers[in.id] <= 1;
            }
            Value out = c.outputs.get(0);
            if (!inputsSettled || !whole((View) c.args[mine], t) || out.size != t.size || out.dtype != t.dtype) {
                continue;
            }
            Object[] args = {mm.args[0], mm.args[1], op, c.args[other], withActivation ? c.args[1] : null,
                c.args[c.args.length - 1]};
            Value[] argValues = {mm.argValues[0], mm.argValues[1], null, y, null, c.argValues[c.args.length - 1]};
            List<Value> inputs = new ArrayList<>(mm.inputs);
            inputs.add(y);
            replaced[j] = new CallNode(mm.device, MATMUL_EPILOGUE, args, argValues, inputs, c.outputs);
            dropped[i] = true;
        }
        return rebuilt(nodes, replaced, dropped);
    }

    // ---- cross-entropy with its gradient ----------------------------------------------------

    private static List<Node> crossEntropyWithGrad(List<Node> nodes, List<Value> values) {
        int[] writers = writers(nodes, values);
        java.util.Map<Value, Integer> writtenAt = new java.util.IdentityHashMap<>();
        java.util.Map<Value, Integer> lossOf = new java.util.IdentityHashMap<>(); // logSoftmax -> its loss node
        Node[] replaced = new Node[nodes.size()];
        boolean[] dropped = new boolean[nodes.size()];
        for (int j = 0; j < nodes.size(); j++) {
            Node n = nodes.get(j);
            if (n instanceof CallNode c && c.method.getName().equals("softmaxCrossEntropy")) {
                lossOf.put(c.argValues[3], j);
            }
            if (n instanceof CallNode grad && grad.method.getName().equals("softmaxCrossEntropyGrad")) {
                Integer i = lossOf.get(grad.argValues[1]);
                if (i != null && replaced[i] == null && nodes.get(i).device == grad.device) {
                    CallNode xent = (CallNode) nodes.get(i);
                    Value g = grad.argValues[0];
                    Value lsm = xent.argValues[3];
                    Integer gAt = writtenAt.get(g);
                    boolean seedKnown = g.kind == Value.Kind.CONST || (gAt != null && gAt < i && writers[g.id] == 1);
                    boolean settled = writers[lsm.id] == 1 && writers[xent.argValues[0].id] <= 1
                            && writers[xent.argValues[1].id] <= 1 && writers[grad.argValues[3].id] == 1;
                    if (seedKnown && settled && grad.argValues[2] == xent.argValues[0]
                            && grad.args[2].equals(xent.args[0]) && whole((View) grad.args[1], lsm)) {
                        Object[] args = {xent.args[0], xent.args[1], grad.args[0], xent.args[2], xent.args[3],
                            grad.args[3]};
                        Value[] argValues = {xent.argValues[0], xent.argValues[1], g, xent.argValues[2], lsm,
                            grad.argValues[3]};
                        List<Value> inputs = new ArrayList<>(xent.inputs);
                        if (!inputs.contains(g)) {
                            inputs.add(g);
                        }
                        List<Value> outputs = new ArrayList<>(xent.outputs);
                        outputs.addAll(grad.outputs);
                        replaced[i] = new CallNode(xent.device, XENT_WITH_GRAD, args, argValues, inputs, outputs);
                        dropped[j] = true;
                    }
                }
            }
            for (Value v : n.outputs) {
                writtenAt.putIfAbsent(v, j);
            }
        }
        return rebuilt(nodes, replaced, dropped);
    }

    // ---- gradient descent ------------------------------------------------------------------

    private static List<Node> gradientDescent(List<Node> nodes, List<Value> values) {
        int[] reads = reads(nodes, values);
        List<Node> out = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (i + 1 < nodes.size() && isBinary(n, BinaryOp.MUL) && isBinary(nodes.get(i + 1), BinaryOp.SUB)) {
                CallNode mul = (CallNode) n;
                CallNode sub = (CallNode) nodes.get(i + 1);
                Value t = mul.outputs.get(0);
                int c = constantScalar(mul, 1) ? 1 : constantScalar(mul, 2) ? 2 : -1;
                if (c > 0 && t.dtype.isFloating() && !t.escapes && reads[t.id] == 1 && sub.argValues[2] == t
                        && whole((View) sub.args[2], t) && ((View) sub.args[1]).isContiguous()
                        && ((View) mul.args[3 - c]).isContiguous() && t.size == sub.outputs.get(0).size) {
                    double lr = mul.argValues[c].fill.doubleValue();
                    Object[] args = {sub.args[1], mul.args[3 - c], lr, sub.args[3]};
                    Value[] argValues = {sub.argValues[1], mul.argValues[3 - c], null, sub.argValues[3]};
                    out.add(new CallNode(n.device, APPLY_GD, args, argValues,
                            List.of(sub.argValues[1], mul.argValues[3 - c]), sub.outputs));
                    i++;
                    continue;
                }
            }
            out.add(n);
        }
        return out;
    }

    // ---- elementwise chains -----------------------------------------------------------------

    /** A primitive the chains take: float, arithmetic, writing its whole output. */
    private static boolean elementwise(Node n) {
        if (!(n instanceof CallNode c) || c.outputs.size() != 1 || !c.outputs.get(0).dtype.isFloating()) {
            return false;
        }
        return switch (c.method.getName()) {
            case "unary" -> true;
            case "binary" -> !((BinaryOp) c.args[0]).isComparison();
            case "binaryUnary" -> true;
            default -> false;
        };
    }

    /** The operand views and values of an elementwise node, in order. */
    private static int firstOperand(CallNode c) {
        return c.method.getName().equals("binaryUnary") ? 2 : 1;
    }

    private static int operands(CallNode c) {
        return c.method.getName().equals("unary") ? 1 : 2;
    }

    private static List<Node> elementwiseChains(List<Node> nodes, List<Value> values) {
        int[] reads = reads(nodes, values);
        java.util.Map<Value, Integer> producer = new java.util.IdentityHashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (elementwise(nodes.get(i))) {
                producer.put(nodes.get(i).outputs.get(0), i);
            }
        }
        boolean[] absorbed = new boolean[nodes.size()];
        Node[] replacement = new Node[nodes.size()];
        for (int r = nodes.size() - 1; r >= 0; r--) {
            if (absorbed[r] || !elementwise(nodes.get(r))) {
                continue;
            }
            CallNode root = (CallNode) nodes.get(r);
            Value out = root.outputs.get(0);
            Chain chain = new Chain(out.dtype);
            int members = chain.emit(root, r, nodes, producer, reads, absorbed, out.size);
            if (members >= 2) {
                replacement[r] = new FusedNode(root.device, chain.program(), chain.views.toArray(new View[0]),
                        chain.values.toArray(new Value[0]), out, Chain.shapeOf(root), members);
            }
        }
        List<Node> result = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (replacement[i] != null) {
                result.add(replacement[i]);
            } else if (!absorbed[i]) {
                result.add(nodes.get(i));
            }
        }
        return result;
    }

    /** A fused program being built: its inputs (deduplicated) and steps, post-order. */
    private static final class Chain {
        final dev.spool.DType dtype;
        final List<View> views = new ArrayList<>();
        final List<Value> values = new ArrayList<>();
        final List<int[]> steps = new ArrayList<>(); // {kind 0 unary/1 binary, op ordinal, a, b}, operands tagged
        final List<Object> ops = new ArrayList<>();

        Chain(dev.spool.DType dtype) {
            this.dtype = dtype;
        }

        /** Emits node {@code c} (index {@code at}) and the producers it absorbs; returns the members count. */
        int emit(CallNode c, int at, List<Node> nodes, java.util.Map<Value, Integer> producer, int[] reads,
                 boolean[] absorbed, long size) {
            int members = 1;
            int first = firstOperand(c);
            int[] operand = new int[operands(c)];
            for (int k = 0; k < operand.length; k++) {
                View v = (View) c.args[first + k];
                Value val = c.argValues[first + k];
                Integer p = val == null ? null : producer.get(val);
                if (p != null && p < at && !absorbed[p] && val.kind == Value.Kind.INTERNAL && !val.escapes
                        && reads[val.id] == 1 && val.dtype == dtype && whole(v, val) && val.size == size
                        && java.util.Arrays.equals(v.shape(), shapeOf((CallNode) nodes.get(p)))) {
                    absorbed[p] = true;
                    members += emit((CallNode) nodes.get(p), p, nodes, producer, reads, absorbed, size);
                    operand[k] = -(steps.size()); // the step just emitted, tagged negative (1-based)
                } else {
                    operand[k] = input(v, val);
                }
            }
            String m = c.method.getName();
            if (m.equals("unary")) {
                add(c.args[0], operand[0], -1);
            } else {
                add(c.args[0], operand[0], operand[1]);
                if (m.equals("binaryUnary")) {
                    add(c.args[1], -(steps.size()), -1);
                }
            }
            return members;
        }

        /** The shape an elementwise node computes: its operands' (broadcast) shape. */
        private static int[] shapeOf(CallNode c) {
            return ((View) c.args[firstOperand(c)]).shape();
        }

        private void add(Object op, int a, int b) {
            ops.add(op);
            steps.add(new int[] {a, b});
        }

        private int input(View v, Value val) {
            for (int i = 0; i < views.size(); i++) {
                if (values.get(i) == val && views.get(i).equals(v)) {
                    return i + 1; // inputs tagged positive (1-based)
                }
            }
            views.add(v);
            values.add(val);
            return views.size();
        }

        dev.spool.spi.FusedElementwise program() {
            int n = views.size();
            List<dev.spool.spi.FusedElementwise.Step> out = new ArrayList<>();
            for (int j = 0; j < steps.size(); j++) {
                int a = operandIndex(steps.get(j)[0], n);
                Object op = ops.get(j);
                if (op instanceof UnaryOp u) {
                    out.add(dev.spool.spi.FusedElementwise.Step.unary(u, a));
                } else {
                    out.add(dev.spool.spi.FusedElementwise.Step.binary((BinaryOp) op, a,
                            operandIndex(steps.get(j)[1], n)));
                }
            }
            return new dev.spool.spi.FusedElementwise(dtype, n, out);
        }

        private static int operandIndex(int tagged, int inputs) {
            return tagged > 0 ? tagged - 1 : inputs + (-tagged - 1);
        }
    }

    /** Argument {@code i} of a binary node is a hoisted fill seen as a broadcast scalar. */
    private static boolean constantScalar(CallNode n, int i) {
        Value v = n.argValues[i];
        return v != null && v.kind == Value.Kind.CONST && v.fill != null && v.size == 1;
    }

    private static boolean isBinary(Node n) {
        return n instanceof CallNode c && c.method.getName().equals("binary");
    }

    private static boolean isBinary(Node n, BinaryOp op) {
        return isBinary(n) && ((CallNode) n).args[0] == op;
    }

    /** {@code view} covers all of {@code v}'s buffer in order. */
    private static boolean whole(View view, Value v) {
        return view.isContiguous() && view.offset() == 0 && view.size() == v.size;
    }

    /** The nodes in order, each replaced where {@code replaced} has a node, without the dropped ones. */
    private static List<Node> rebuilt(List<Node> nodes, Node[] replaced, boolean[] dropped) {
        List<Node> out = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (!dropped[i]) {
                out.add(replaced[i] != null ? replaced[i] : nodes.get(i));
            }
        }
        return out;
    }

    /** How many nodes write each value (more than one: slices of one buffer). */
    static int[] writers(List<Node> nodes, List<Value> values) {
        int[] w = new int[values.size()];
        for (Node n : nodes) {
            for (Value v : n.outputs) {
                w[v.id]++;
            }
        }
        return w;
    }

    /** How many node inputs read each value; an escaping value counts as read once more. */
    private static int[] reads(List<Node> nodes, List<Value> values) {
        int[] r = new int[values.size()];
        for (Node n : nodes) {
            for (Value v : n.inputs) {
                r[v.id]++;
            }
        }
        for (Value v : values) {
            if (v.escapes) {
                r[v.id]++;
            }
        }
        return r;
    }
}
