package dev.spool;

import dev.spool.internal.NullChecks;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Owns every tensor created on this thread while it is open, and closes them all when it
 * closes: the way to keep device memory flat in a training loop.
 *
 * <pre>{@code
 * for (int step = 0; step < 10_000; step++) {
 *     try (TensorScope scope = new TensorScope()) {
 *         Tensor loss = ...;          // every intermediate is freed at the end of the step
 *         w.assignSub(grad.mul(lr));  // variables keep their own reference
 *         lastLoss = scope.keep(loss); // survives this scope (handed to the enclosing one)
 *     }
 * }
 * }</pre>
 * Scopes nest; a kept tensor moves to the enclosing scope if there is one.
 */
public final class TensorScope implements AutoCloseable {
    private static final ThreadLocal<Deque<TensorScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    /**
     * In creation order. A list, not a set: each tensor is registered once, and a hash set
     * cost a node and the tensor's identity hash per op (a tenth of a 1-element op).
     */
    private final List<Tensor> owned = new ArrayList<>();
    private final Thread thread = Thread.currentThread();
    private boolean closed;

    public TensorScope() {
        STACK.get().push(this);
    }

    /** Registers a newly created tensor with the innermost scope of this thread, if any. */
    static void register(Tensor t) {
        TensorScope s = STACK.get().peek();
        if (s != null) {
            s.owned.add(t);
        }
    }

    /** Removes {@code t} from this scope so it outlives it; the enclosing scope, if any,
     *  takes it over. Returns {@code t}. */
    public Tensor keep(Tensor t) {
        NullChecks.nonNull(t, "TensorScope.keep", "t");
        if (removeOwned(t)) {
            boolean below = false;
            for (TensorScope s : STACK.get()) { // innermost first
                if (below) {
                    s.owned.add(t);
                    break;
                }
                below = s == this;
            }
        }
        return t;
    }

    /** Removes {@code t} (by identity) if owned; searched from the newest, which is what is usually kept. */
    private boolean removeOwned(Tensor t) {
        for (int i = owned.size() - 1; i >= 0; i--) {
            if (owned.get(i) == t) {
                owned.remove(i);
                return true;
            }
        }
        return false;
    }

    /** Number of tensors this scope currently owns. */
    public int size() {
        return owned.size();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != thread) {
            throw new UsageException("a TensorScope must be closed on the thread that opened it");
        }
        Deque<TensorScope> stack = STACK.get();
        if (stack.peek() != this) {
            // Stay open and on the stack, so that closing in the right order still frees everything.
            throw new UsageException("tensor scopes closed out of order");
        }
        closed = true;
        stack.pop();
        for (Tensor t : owned) {
            t.close();
        }
        owned.clear();
    }
}
