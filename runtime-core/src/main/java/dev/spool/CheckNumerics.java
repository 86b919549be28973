package dev.spool;

import dev.spool.spi.BinaryOp;
import dev.spool.spi.ReduceOp;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Set;
import java.util.StringJoiner;

/**
 * Check-numerics mode (TF's {@code tf.debugging.enable_check_numerics}, PyTorch's anomaly mode):
 * after every op, each floating output is checked for NaN and ±Inf on its device, and the first
 * op that makes one throws {@link NumericsException}. Also the switch for checked indices.
 *
 * <p>The hook is {@link GradientTape#record}, which every differentiable op calls with its name,
 * result and inputs whether or not a tape is active, and the fused optimizer updates
 * ({@link TrainingOps}, checked before any variable changes). When the mode is off the cost is one read of
 * a volatile boolean there: no launch, no allocation. When on, each floating output costs two
 * launches ({@code x - x}, which is NaN exactly where x is NaN or ±Inf, then its sum) and a
 * one-element read back; tapes record the stack of each op they record, so that an error in a
 * backward pass names the forward op whose VJP produced the value and where it was recorded.
 */
final class CheckNumerics {
    static final String PROPERTY = "spool.checkNumerics";
    static final String ENV = "SPOOL_CHECK_NUMERICS";
    static final String INDICES_PROPERTY = "spool.checkIndices";
    static final String INDICES_ENV = "SPOOL_CHECK_INDICES";

    static volatile boolean enabled = flag(PROPERTY, ENV);
    static volatile boolean indices = flag(INDICES_PROPERTY, INDICES_ENV);

    /** The forward records whose VJPs are running on this thread, innermost last. */
    private static final ThreadLocal<Deque<Backward>> BACKWARD = ThreadLocal.withInitial(ArrayDeque::new);
    /** Set while the check itself runs, so that it never checks its own work. */
    private static final ThreadLocal<boolean[]> CHECKING = ThreadLocal.withInitial(() -> new boolean[1]);

    /** Packages whose frames are Spool's own: skipped when naming the caller's line. */
    private static final Set<String> INTERNAL = Set.of("dev.spool", "dev.spool.internal", "dev.spool.spi",
            "dev.spool.cpu", "dev.spool.opencl");

    private CheckNumerics() {
    }

    private static boolean flag(String property, String env) {
        String v = System.getProperty(property);
        if (v == null) {
            v = System.getenv(env);
        }
        if (v == null) {
            return false;
        }
        v = v.trim().toLowerCase(Locale.ROOT);
        return v.equals("1") || v.equals("true") || v.equals("on") || v.equals("yes");
    }

    /** A forward op whose VJP is running: its name and the stack where a tape recorded it. */
    record Backward(String op, StackTraceElement[] recordedAt) {
    }

    static Backward enterBackward(String op, StackTraceElement[] recordedAt) {
        Backward b = new Backward(op, recordedAt);
        BACKWARD.get().addLast(b);
        return b;
    }

    static void exitBackward(Backward b) {
        Deque<Backward> stack = BACKWARD.get();
        if (stack.peekLast() == b) {
            stack.removeLast();
        }
    }

    /** The stack of the current call, for a record (only in this mode). */
    static StackTraceElement[] site() {
        return new Throwable().getStackTrace();
    }

    /** Throws {@link NumericsException} if {@code result} (floating) holds a NaN or an Inf. */
    static void check(String op, Tensor result, Tensor[] inputs) {
        if (!result.dtype().isFloating() || result.size() == 0 || CHECKING.get()[0]) {
            return;
        }
        boolean[] checking = CHECKING.get();
        checking[0] = true;
        double flag;
        try (Tensor diff = Prims.binary("checkNumerics", BinaryOp.SUB, result, result);
                Tensor sum = Prims.reduce(ReduceOp.SUM, diff, ReductionOps.all(diff.rank()))) {
            flag = sum.doubleValue();
        } finally {
            checking[0] = false;
        }
        if (!Double.isNaN(flag)) {
            return;
        }
        throw failure(op, result, inputs);
    }

    private static NumericsException failure(String op, Tensor result, Tensor[] inputs) {
        double[] v = result.toDoubleArray(); // the error path only: find the first bad element
        int at = 0;
        while (at < v.length && Double.isFinite(v[at])) {
            at++;
        }
        String what = at == v.length ? "NaN or Inf" : Double.isNaN(v[at]) ? "NaN" : v[at] > 0 ? "+Inf" : "-Inf";
        StringJoiner ins = new StringJoiner(", ", "[", "]");
        for (Tensor in : inputs) {
            ins.add(in.dtype() + " " + in.shape());
        }
        StackTraceElement[] here = site();
        Backward b = BACKWARD.get().peekLast();
        StringBuilder m = new StringBuilder("check-numerics: op '").append(op).append("' produced ").append(what)
                .append(" (first at flat index ").append(at).append(" of its ").append(result.dtype()).append(' ')
                .append(result.shape()).append(" output) from inputs ").append(ins);
        if (b != null) {
            m.append(", in the backward pass: the VJP of forward op '").append(b.op()).append("'");
            StackTraceElement line = callerOf(b.recordedAt());
            if (line != null) {
                m.append(", recorded at ").append(line);
            }
        }
        StackTraceElement call = callerOf(here);
        if (call != null) {
            m.append("; called from ").append(call);
        }
        return new NumericsException(m.toString(), op, b == null ? null : b.op(),
                b == null ? null : b.recordedAt());
    }

    /** The first frame outside Spool's runtime: the line of the caller's code. */
    static StackTraceElement callerOf(StackTraceElement[] stack) {
        if (stack == null) {
            return null;
        }
        for (StackTraceElement e : stack) {
            String c = e.getClassName();
            int dot = c.lastIndexOf('.');
            String pkg = dot < 0 ? "" : c.substring(0, dot);
            if (!INTERNAL.contains(pkg) && !pkg.startsWith("java.") && !pkg.startsWith("jdk.")) {
                return e;
            }
        }
        return stack.length > 0 ? stack[stack.length - 1] : null;
    }

    /**
     * Checked indices: throws {@link IndexOutOfRangeException} with the first index of
     * {@code indices} outside {@code [0, bound)} and its position. Reads the indices back to the host.
     */
    static void checkIndices(String op, String what, Tensor indices, long bound) {
        long[] v = indices.toLongArray();
        for (int i = 0; i < v.length; i++) {
            if (v[i] < 0 || v[i] >= bound) {
                int[] dims = indices.shape().toArray();
                int[] pos = new int[dims.length];
                for (int k = dims.length - 1, r = i; k >= 0; k--) {
                    pos[k] = r % dims[k];
                    r /= dims[k];
                }
                throw new IndexOutOfRangeException(op, what, v[i], pos, bound);
            }
        }
    }
}
