package dev.spool;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Set;

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

    private final Set<Tensor> owned = new LinkedHashSet<>();
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
        if (owned.remove(t)) {
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
            throw new IllegalStateException("a TensorScope must be closed on the thread that opened it");
        }
        Deque<TensorScope> stack = STACK.get();
        if (stack.peek() != this) {
            // Stay open and on the stack, so that closing in the right order still frees everything.
            throw new IllegalStateException("tensor scopes closed out of order");
        }
        closed = true;
        stack.pop();
        for (Tensor t : owned) {
            t.close();
        }
        owned.clear();
    }
}
