package dev.spool.testing;

import dev.spool.DType;
import dev.spool.Padding;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.testing.GradCheck.Input;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;

/**
 * Random differentiable programs for property tests: 1–3 inputs of random shapes (rank 0–3,
 * dimensions 1–4) and 3–12 steps drawn from smooth ops — unary math, broadcasting arithmetic,
 * views (transpose, reshape, expandDims, slice), reductions, matmul (plain and with a transposed
 * operand), gather with repeated indices, softmax, self-attention (the fused primitive), and on
 * images (a value reshaped to
 * {@code [1, h, w, 1]}) SAME convolutions with a seeded filter and average pooling — so that
 * central finite differences are a
 * valid reference everywhere (no kinks such as abs, relu or max). Each program is a pure function
 * of its seed, runs on any device ({@link Program#run}) and prints as Java code.
 *
 * <p>{@link #shrink} reduces a failing program to a small one that still fails: it cuts the
 * program after the earliest failing step, drops steps the output does not depend on, and
 * replaces shape-preserving steps by their operand while the failure persists.
 */
public final class RandomPrograms {
    /** Largest value a step may produce, in elements: keeps finite differences cheap. */
    private static final int MAX_ELEMENTS = 48;

    private RandomPrograms() {
    }

    /**
     * One step: {@code op} applied to earlier values {@code a} (and {@code b}); {@code ints} are
     * the op's integer parameters (axes, permutation, slice bounds, gather indices).
     */
    public record Step(String op, int a, int b, int[] ints, int[] shape) {
        @Override
        public String toString() {
            return op + "(v" + a + (b >= 0 ? ", v" + b : "") + (ints.length > 0 ? ", " + Arrays.toString(ints) : "")
                    + ") -> " + Arrays.toString(shape);
        }
    }

    /** Inputs, steps and the index of the output value (inputs are values 0..inputs-1). */
    public record Program(long seed, List<Input> inputs, List<Step> steps, int output) {

        /** Evaluates the program on the current device. */
        public Tensor run(Tensor... xs) {
            List<Tensor> v = new ArrayList<>(Arrays.asList(xs));
            for (Step s : steps) {
                v.add(apply(s, v));
            }
            return v.get(output);
        }

        /** The function {@link GradCheck} checks. */
        public GradCheck.Fn fn() {
            return this::run;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("program of seed " + seed + " (" + steps.size() + " steps):\n");
            for (int i = 0; i < inputs.size(); i++) {
                sb.append("  Tensor v").append(i).append(" = input ").append(inputs.get(i)).append(";\n");
            }
            for (int i = 0; i < steps.size(); i++) {
                sb.append("  Tensor v").append(inputs.size() + i).append(" = ").append(code(steps.get(i)))
                        .append(";   // ").append(Arrays.toString(steps.get(i).shape())).append('\n');
            }
            return sb.append("  return v").append(output).append(";").toString();
        }
    }

    private static Tensor apply(Step s, List<Tensor> v) {
        Tensor a = v.get(s.a());
        Tensor b = s.b() >= 0 ? v.get(s.b()) : null;
        int[] p = s.ints();
        return switch (s.op()) {
            case "neg" -> a.neg();
            case "tanh" -> a.tanh();
            case "sigmoid" -> a.sigmoid();
            case "sin" -> a.sin();
            case "cos" -> a.cos();
            case "square" -> a.square();
            case "softplus" -> a.softplus();
            case "expTanh" -> a.tanh().exp();
            case "erf" -> a.erf();
            case "gelu" -> a.gelu();
            case "geluTanh" -> a.gelu(true);
            case "add" -> a.add(b);
            case "sub" -> a.sub(b);
            case "mul" -> a.mul(b);
            case "divSafe" -> a.div(b.square().add(1.0));
            case "transpose" -> a.transpose(p);
            case "reshape" -> a.reshape(p);
            case "expandDims" -> a.expandDims(p[0]);
            case "slice" -> a.slice(Arrays.copyOfRange(p, 0, a.rank()), Arrays.copyOfRange(p, a.rank(), 2 * a.rank()));
            case "sum" -> a.sum(new int[] {p[0]}, p[1] == 1);
            case "mean" -> a.mean(new int[] {p[0]}, p[1] == 1);
            case "matmul" -> a.matmul(b);
            case "matmulT" -> a.matmul(a, false, true);
            case "gather" -> a.gather(Spool.constant(toDoubles(Arrays.copyOfRange(p, 1, p.length)),
                    Shape.of(p.length - 1), DType.INT32), p[0]);
            case "softmax" -> a.softmax(a.rank() - 1);
            case "attention" -> Spool.scaledDotProductAttention(a, a, a, null, p[0] == 1);
            case "image" -> a.reshape(p);
            case "conv2d" -> Spool.conv2d(a, filter(p, a), new int[] {p[3]}, Padding.SAME);
            case "avgPool" -> a.avgPool2d(new int[] {p[0]}, new int[] {p[1]}, Padding.SAME);
            default -> throw new IllegalStateException("unknown op " + s.op());
        };
    }

    private static String code(Step s) {
        String a = "v" + s.a();
        String b = "v" + s.b();
        int[] p = s.ints();
        return switch (s.op()) {
            case "expTanh" -> a + ".tanh().exp()";
            case "geluTanh" -> a + ".gelu(true)";
            case "add", "sub", "mul", "matmul" -> a + "." + s.op() + "(" + b + ")";
            case "divSafe" -> a + ".div(" + b + ".square().add(1.0))";
            case "transpose", "reshape" -> a + "." + s.op() + "(" + join(p) + ")";
            case "expandDims" -> a + ".expandDims(" + p[0] + ")";
            case "slice" -> a + ".slice(new int[] {" + join(Arrays.copyOfRange(p, 0, p.length / 2))
                    + "}, new int[] {" + join(Arrays.copyOfRange(p, p.length / 2, p.length)) + "})";
            case "sum", "mean" -> a + "." + s.op() + "(new int[] {" + p[0] + "}, " + (p[1] == 1) + ")";
            case "matmulT" -> a + ".matmul(" + a + ", false, true)";
            case "gather" -> a + ".gather(indices(" + join(Arrays.copyOfRange(p, 1, p.length)) + "), " + p[0] + ")";
            case "softmax" -> a + ".softmax(-1 + rank)";
            case "attention" -> "Spool.scaledDotProductAttention(" + a + ", " + a + ", " + a + ", null, " + (p[0] == 1) + ")";
            case "image" -> a + ".reshape(" + join(p) + ")";
            case "conv2d" -> "Spool.conv2d(" + a + ", Spool.randomUniform(Shape.of(" + p[0] + ", " + p[1] + ", "
                    + "channels, " + p[2] + "), " + p[4] + ", -1, 1, dtype), new int[] {" + p[3] + "}, Padding.SAME)";
            case "avgPool" -> a + ".avgPool2d(new int[] {" + p[0] + "}, new int[] {" + p[1] + "}, Padding.SAME)";
            default -> a + "." + s.op() + "()";
        };
    }

    /** The seeded filter of a conv2d step: [kh, kw, channels of a, out], uniform in [-1, 1). */
    private static Tensor filter(int[] p, Tensor a) {
        return Spool.randomUniform(Shape.of(p[0], p[1], a.shape().dim(3), p[2]), p[4], -1, 1, a.dtype());
    }

    private static String join(int[] p) {
        return String.join(", ", Arrays.stream(p).mapToObj(Integer::toString).toList());
    }

    private static double[] toDoubles(int[] p) {
        return Arrays.stream(p).asDoubleStream().toArray();
    }

    // ---- generation ------------------------------------------------------------------------

    private static final String[] UNARY = {"neg", "tanh", "sigmoid", "sin", "cos", "square", "softplus", "expTanh", "erf",
        "gelu", "geluTanh"};
    private static final String[] OTHER = {"add", "sub", "mul", "divSafe", "transpose", "reshape", "expandDims",
        "slice", "sum", "mean", "matmul", "matmulT", "gather", "softmax", "image", "conv2d", "avgPool", "attention"};

    /** The program of {@code seed}: always the same program for the same seed. */
    public static Program generate(long seed) {
        Random r = new Random(seed);
        int nInputs = 1 + r.nextInt(3);
        List<int[]> shapes = new ArrayList<>();
        List<Input> inputs = new ArrayList<>();
        for (int i = 0; i < nInputs; i++) {
            int[] shape = randomShape(r);
            shapes.add(shape);
            Input in = Input.random(Shape.of(shape), seed * 31 + i, -1, 1);
            inputs.add(shape.length >= 2 && r.nextInt(4) == 0 ? in.asTransposedView() : in);
        }
        int target = 3 + r.nextInt(10);
        List<Step> steps = new ArrayList<>();
        int attempts = 0;
        while (steps.size() < target && attempts++ < 400) {
            // favour recent values, so that programs are chains rather than many short branches
            int n = shapes.size();
            int a = r.nextInt(3) > 0 ? n - 1 - r.nextInt(Math.min(n, 2)) : r.nextInt(n);
            Step s = r.nextInt(3) == 0
                    ? unary(UNARY[r.nextInt(UNARY.length)], a, shapes.get(a))
                    : other(OTHER[r.nextInt(OTHER.length)], a, shapes, r);
            if (s == null || size(s.shape()) > MAX_ELEMENTS || size(s.shape()) == 0) {
                continue;
            }
            steps.add(s);
            shapes.add(s.shape());
        }
        Program p = new Program(seed, inputs, steps, shapes.size() - 1);
        return markUnusedInputsFixed(p);
    }

    private static int[] randomShape(Random r) {
        int rank = r.nextInt(4);
        int[] s = new int[rank];
        for (int i = 0; i < rank; i++) {
            s[i] = 1 + r.nextInt(4);
        }
        return s;
    }

    private static Step unary(String op, int a, int[] shape) {
        return new Step(op, a, -1, new int[0], shape);
    }

    private static Step other(String op, int a, List<int[]> shapes, Random r) {
        int[] sa = shapes.get(a);
        int rank = sa.length;
        switch (op) {
            case "add", "sub", "mul", "divSafe" -> {
                // any earlier value whose shape broadcasts with a's (a itself included)
                List<Integer> partners = new ArrayList<>();
                for (int b = 0; b < shapes.size(); b++) {
                    if (broadcast(sa, shapes.get(b)) != null) {
                        partners.add(b);
                    }
                }
                int b = partners.get(r.nextInt(partners.size()));
                return r.nextBoolean()
                        ? new Step(op, a, b, new int[0], broadcast(sa, shapes.get(b)))
                        : new Step(op, b, a, new int[0], broadcast(shapes.get(b), sa));
            }
            case "transpose" -> {
                if (rank < 2) {
                    return null;
                }
                int[] perm = shuffled(rank, r);
                int[] out = new int[rank];
                for (int i = 0; i < rank; i++) {
                    out[i] = sa[perm[i]];
                }
                return new Step(op, a, -1, perm, out);
            }
            case "reshape" -> {
                int n = size(sa);
                int first = divisorOf(n, r);
                int[] to = first == n ? new int[] {n} : new int[] {first, n / first};
                return new Step(op, a, -1, to, to);
            }
            case "expandDims" -> {
                if (rank >= 4) {
                    return null;
                }
                int axis = r.nextInt(rank + 1);
                int[] out = new int[rank + 1];
                for (int i = 0, j = 0; i <= rank; i++) {
                    out[i] = i == axis ? 1 : sa[j++];
                }
                return new Step(op, a, -1, new int[] {axis}, out);
            }
            case "slice" -> {
                if (rank == 0) {
                    return null;
                }
                int[] p = new int[2 * rank];
                for (int i = 0; i < rank; i++) {
                    int size = 1 + r.nextInt(sa[i]);
                    p[i] = r.nextInt(sa[i] - size + 1);
                    p[rank + i] = size;
                }
                return new Step(op, a, -1, p, Arrays.copyOfRange(p, rank, 2 * rank));
            }
            case "sum", "mean" -> {
                if (rank == 0) {
                    return null;
                }
                int axis = r.nextInt(rank);
                boolean keep = r.nextBoolean();
                int[] out = keep ? sa.clone() : removeAxis(sa, axis);
                if (keep) {
                    out[axis] = 1;
                }
                return new Step(op, a, -1, new int[] {axis, keep ? 1 : 0}, out);
            }
            case "matmul" -> {
                if (rank != 2) {
                    return null;
                }
                for (int b = 0; b < shapes.size(); b++) {
                    int[] sb = shapes.get(b);
                    if (sb.length == 2 && sb[0] == sa[1]) {
                        return new Step(op, a, b, new int[0], new int[] {sa[0], sb[1]});
                    }
                }
                return null;
            }
            case "matmulT" -> {
                if (rank < 2) {
                    return null;
                }
                int[] out = sa.clone();
                out[rank - 1] = sa[rank - 2];
                return new Step(op, a, -1, new int[0], out);
            }
            case "gather" -> {
                if (rank == 0) {
                    return null;
                }
                int axis = r.nextInt(rank);
                int n = 1 + r.nextInt(4);
                int[] p = new int[n + 1];
                p[0] = axis;
                for (int i = 1; i <= n; i++) {
                    p[i] = r.nextInt(sa[axis]); // repeats are likely: their gradients must add up
                }
                int[] out = sa.clone();
                out[axis] = n;
                return new Step(op, a, -1, p, out);
            }
            case "softmax" -> {
                return rank == 0 ? null : new Step(op, a, -1, new int[0], sa);
            }
            case "attention" -> { // self-attention of a value [..., T, d], causal or not
                return rank < 2 ? null : new Step(op, a, -1, new int[] {r.nextInt(2)}, sa);
            }
            case "image" -> {
                int n = size(sa);
                int h = divisorOf(n, r);
                int[] to = {1, h, n / h, 1};
                return new Step(op, a, -1, to, to);
            }
            case "conv2d" -> {
                if (rank != 4) {
                    return null;
                }
                int kh = 1 + r.nextInt(Math.min(3, sa[1]));
                int kw = 1 + r.nextInt(Math.min(3, sa[2]));
                int out = 1 + r.nextInt(2);
                int stride = 1 + r.nextInt(2);
                int[] shape = {sa[0], (sa[1] + stride - 1) / stride, (sa[2] + stride - 1) / stride, out};
                return new Step(op, a, -1, new int[] {kh, kw, out, stride, r.nextInt(1000)}, shape);
            }
            case "avgPool" -> {
                if (rank != 4) {
                    return null;
                }
                int k = 1 + r.nextInt(2);
                int stride = 1 + r.nextInt(2);
                int[] shape = {sa[0], (sa[1] + stride - 1) / stride, (sa[2] + stride - 1) / stride, sa[3]};
                return new Step(op, a, -1, new int[] {k, stride}, shape);
            }
            default -> throw new IllegalStateException(op);
        }
    }

    private static int[] broadcast(int[] x, int[] y) {
        int rank = Math.max(x.length, y.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int dx = i < rank - x.length ? 1 : x[i - (rank - x.length)];
            int dy = i < rank - y.length ? 1 : y[i - (rank - y.length)];
            if (dx != dy && dx != 1 && dy != 1) {
                return null;
            }
            out[i] = Math.max(dx, dy);
        }
        return out;
    }

    private static int[] shuffled(int n, Random r) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static int divisorOf(int n, Random r) {
        List<Integer> ds = new ArrayList<>();
        for (int d = 1; d <= n; d++) {
            if (n % d == 0) {
                ds.add(d);
            }
        }
        return ds.get(r.nextInt(ds.size()));
    }

    private static int[] removeAxis(int[] s, int axis) {
        int[] out = new int[s.length - 1];
        for (int i = 0, j = 0; i < s.length; i++) {
            if (i != axis) {
                out[j++] = s[i];
            }
        }
        return out;
    }

    private static int size(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    // ---- shrinking -------------------------------------------------------------------------

    /** A smaller program for which {@code fails} still holds (returns {@code p} if none is). */
    public static Program shrink(Program p, Predicate<Program> fails) {
        // 1. the earliest value that already fails
        for (int out = p.inputs().size(); out < p.output(); out++) {
            Program cut = prune(new Program(p.seed(), p.inputs(), p.steps(), out));
            if (cut != null && fails.test(cut)) {
                p = cut;
                break;
            }
        }
        Program pruned = prune(p);
        if (pruned != null && fails.test(pruned)) {
            p = pruned;
        }
        // 2. skip shape-preserving steps one at a time while it still fails
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int i = 0; i < p.steps().size(); i++) {
                Program skipped = skip(p, i);
                if (skipped != null && fails.test(skipped)) {
                    p = skipped;
                    progress = true;
                    break;
                }
            }
        }
        return p;
    }

    /** Drops the steps {@code p.output()} does not depend on; null if nothing differentiable is left. */
    static Program prune(Program p) {
        int nIn = p.inputs().size();
        int total = nIn + p.steps().size();
        boolean[] live = new boolean[total];
        live[p.output()] = true;
        for (int v = total - 1; v >= nIn; v--) {
            if (live[v]) {
                Step s = p.steps().get(v - nIn);
                live[s.a()] = true;
                if (s.b() >= 0) {
                    live[s.b()] = true;
                }
            }
        }
        int[] newIndex = new int[total];
        for (int i = 0; i < nIn; i++) {
            newIndex[i] = i; // inputs stay (an unused one is marked fixed below)
        }
        List<Step> kept = new ArrayList<>();
        for (int v = nIn; v < total && v <= p.output(); v++) {
            if (live[v]) {
                Step s = p.steps().get(v - nIn);
                newIndex[v] = nIn + kept.size();
                kept.add(new Step(s.op(), newIndex[s.a()], s.b() >= 0 ? newIndex[s.b()] : -1, s.ints(), s.shape()));
            }
        }
        Program out = markUnusedInputsFixed(new Program(p.seed(), p.inputs(), kept, newIndex[p.output()]));
        return out.inputs().stream().anyMatch(Input::differentiable) ? out : null;
    }

    /** {@code p} with step {@code i} replaced by its first operand, if that has the same shape. */
    private static Program skip(Program p, int i) {
        int nIn = p.inputs().size();
        Step s = p.steps().get(i);
        if (!Arrays.equals(s.shape(), shapeOf(p, s.a()))) {
            return null;
        }
        int removed = nIn + i;
        List<Step> steps = new ArrayList<>();
        for (int j = 0; j < p.steps().size(); j++) {
            if (j == i) {
                continue;
            }
            Step t = p.steps().get(j);
            steps.add(new Step(t.op(), remap(t.a(), removed, s.a()), t.b() < 0 ? -1 : remap(t.b(), removed, s.a()),
                    t.ints(), t.shape()));
        }
        int output = remap(p.output(), removed, s.a());
        if (output < nIn && p.steps().size() > 1) {
            return null;
        }
        Program q = markUnusedInputsFixed(new Program(p.seed(), p.inputs(), steps, output));
        return q.inputs().stream().anyMatch(Input::differentiable) && !steps.isEmpty() ? prune(q) : null;
    }

    private static int remap(int v, int removed, int replacement) {
        if (v == removed) {
            return replacement;
        }
        return v > removed ? v - 1 : v;
    }

    private static int[] shapeOf(Program p, int v) {
        int nIn = p.inputs().size();
        return v < nIn ? p.inputs().get(v).shape().toArray() : p.steps().get(v - nIn).shape();
    }

    /** Inputs the output does not depend on are not differentiated (their gradient is unconnected). */
    private static Program markUnusedInputsFixed(Program p) {
        int nIn = p.inputs().size();
        boolean[] live = new boolean[nIn + p.steps().size()];
        live[p.output()] = true;
        for (int v = live.length - 1; v >= nIn; v--) {
            if (live[v]) {
                Step s = p.steps().get(v - nIn);
                live[s.a()] = true;
                if (s.b() >= 0) {
                    live[s.b()] = true;
                }
            }
        }
        List<Input> inputs = new ArrayList<>();
        for (int i = 0; i < nIn; i++) {
            Input in = p.inputs().get(i);
            inputs.add(live[i] || !in.differentiable() ? in : in.fixed());
        }
        return new Program(p.seed(), inputs, p.steps(), p.output());
    }
}
