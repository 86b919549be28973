package dev.spool;

/**
 * The tape ids a tape tracks, each with the value it holds for that id once a record names it.
 * A tape asks "is this input tracked?" for every op it sees, and keeps every input and result
 * of what it records alive: one table answers both. A value is held once per id, however many
 * records name it (in a chain of ops each result is the next op's input; a constant operand is
 * an input of many ops): tensors with the same id view one storage with one layout.
 *
 * <p>Holding is cheap because recording is on every op's path: the table keeps the tensor the
 * op saw and one reference to its storage ({@link Storage#retain()}), which keeps the values
 * even if that tensor is closed. An alias (a tensor with its own open handle) is made only when
 * the backward pass needs one ({@link #alias}). Made at record time, aliases cost two objects
 * per op and, at release, two more cache misses per value.
 *
 * An input the tape does not track (a constant operand) is held without becoming tracked:
 * its slot holds {@code -id}.
 *
 * <p>Open addressing with linear probing over a power-of-two table, without boxing
 * ({@code HashSet<Long>} allocated a {@code Long} and a node per id). Ids are positive (0 marks
 * an empty slot). Not thread-safe: a tape belongs to one thread.
 */
final class TrackedIds {
    private static final int MIN_CAPACITY = 16;

    private long[] ids = new long[MIN_CAPACITY];
    /** The tensor whose storage this slot retains, or null. */
    private Tensor[] values = new Tensor[MIN_CAPACITY];
    /** The alias made from it for the backward pass, or null. */
    private Tensor[] aliases = new Tensor[MIN_CAPACITY];
    private int size;
    private int held;

    boolean contains(long id) {
        long[] t = ids;
        int mask = t.length - 1;
        for (int i = slot(id, mask); ; i = (i + 1) & mask) {
            long v = t[i];
            if (v == id) {
                return true;
            }
            if (v == 0 || v == -id) {
                return false;
            }
        }
    }

    /** Tracks {@code id}. */
    void add(long id) {
        find(id, true);
    }

    /**
     * Keeps {@code t}'s value alive (once per id); {@code track}: the id is tracked from now on
     * (else it keeps its state, untracked if new).
     */
    void hold(Tensor t, boolean track) {
        int i = find(t.id, track);
        if (values[i] == null) {
            t.retainStorage();
            values[i] = t;
            held++;
        }
    }

    /** An open alias of the value held for {@code t}'s id (made once, closed by the release). */
    Tensor alias(Tensor t) {
        int i = find(t.id, false);
        if (values[i] == null) {
            throw new IllegalStateException("tape id " + t.id + " holds no value");
        }
        Tensor a = aliases[i];
        if (a == null) {
            a = values[i].aliasOfRetained();
            aliases[i] = a;
        }
        return a;
    }

    /** Ids tracked or held. */
    int size() {
        return size;
    }

    /** Values held. */
    int held() {
        return held;
    }

    /**
     * Lets go of every value held (through its alias, where one was made); the ids stay
     * tracked. {@code collected}: as the Cleaner would (the tape was dropped, see
     * {@link Tensor#closeCollected()}).
     */
    void releaseAliases(boolean collected) {
        if (held == 0) {
            return;
        }
        for (int i = 0; i < values.length; i++) {
            Tensor v = values[i];
            if (v == null) {
                continue;
            }
            values[i] = null;
            Tensor a = aliases[i];
            if (a != null) {
                aliases[i] = null;
                if (collected) {
                    a.closeCollected();
                } else {
                    a.close();
                }
            } else {
                v.releaseRetained(collected);
            }
        }
        held = 0;
    }

    /** Forgets every id; the aliases must have been released. */
    void clear() {
        if (held != 0) {
            throw new IllegalStateException("TrackedIds.clear with " + held + " aliases held");
        }
        ids = new long[MIN_CAPACITY];
        values = new Tensor[MIN_CAPACITY];
        aliases = new Tensor[MIN_CAPACITY];
        size = 0;
    }

    /** The slot of {@code id}, inserted if absent; {@code track}: marked tracked. */
    private int find(long id, boolean track) {
        if (id <= 0) {
            throw new IllegalArgumentException("tape ids are positive, got " + id);
        }
        if (2 * (size + 1) > ids.length) {
            grow();
        }
        int mask = ids.length - 1;
        for (int i = slot(id, mask); ; i = (i + 1) & mask) {
            long v = ids[i];
            if (v == id || v == -id) {
                if (track) {
                    ids[i] = id;
                }
                return i;
            }
            if (v == 0) {
                ids[i] = track ? id : -id;
                size++;
                return i;
            }
        }
    }

    private void grow() {
        long[] oldIds = ids;
        Tensor[] oldValues = values;
        Tensor[] oldAliases = aliases;
        ids = new long[oldIds.length * 2];
        values = new Tensor[oldIds.length * 2];
        aliases = new Tensor[oldIds.length * 2];
        int mask = ids.length - 1;
        for (int j = 0; j < oldIds.length; j++) {
            if (oldIds[j] != 0) {
                int i = slot(Math.abs(oldIds[j]), mask);
                while (ids[i] != 0) {
                    i = (i + 1) & mask;
                }
                ids[i] = oldIds[j];
                values[i] = oldValues[j];
                aliases[i] = oldAliases[j];
            }
        }
    }

    /** Fibonacci hashing spreads consecutive ids (the common case) over the table. */
    private static int slot(long id, int mask) {
        return (int) ((id * 0x9E3779B97F4A7C15L) >>> 40) & mask;
    }
}
