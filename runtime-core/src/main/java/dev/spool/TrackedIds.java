package dev.spool;

/**
 * The tape ids a tape tracks, each with the alias it holds for that id once a record names it.
 * A tape asks "is this input tracked?" for every op it sees, and keeps every input and result
 * of what it records alive: one table answers both. Aliases are shared by every record that
 * names the id (in a chain of ops each result is the next op's input; a constant operand is
 * an input of many ops): tensors with the same id are aliases of one storage and layout, so
 * any of them serves.
 *
 * An input the tape does not track (a constant operand) gets an alias without becoming tracked:
 * its slot holds {@code -id}.
 *
 * <p>Open addressing with linear probing over a power-of-two table, without boxing
 * ({@code HashSet<Long>} allocated a {@code Long} and a node per id). Ids are positive (0 marks
 * an empty slot). Not thread-safe: a tape belongs to one thread.
 */
final class TrackedIds {
    private static final int MIN_CAPACITY = 16;

    private long[] ids = new long[MIN_CAPACITY];
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
     * The alias held for {@code t}'s id, made with {@link Tensor#heldAlias()} the first time;
     * {@code track}: the id is tracked from now on (else it keeps its state, untracked if new).
     */
    Tensor hold(Tensor t, boolean track) {
        int i = find(t.id, track);
        Tensor a = aliases[i];
        if (a == null) {
            a = t.heldAlias();
            aliases[i] = a;
            held++;
        }
        return a;
    }

    /** Ids tracked or held. */
    int size() {
        return size;
    }

    /** Aliases held. */
    int held() {
        return held;
    }

    /**
     * Closes every alias held; the ids stay tracked. {@code collected}: as the Cleaner would
     * (the tape was dropped, see {@link Tensor#closeCollected()}).
     */
    void releaseAliases(boolean collected) {
        if (held == 0) {
            return;
        }
        for (int i = 0; i < aliases.length; i++) {
            Tensor a = aliases[i];
            if (a != null) {
                aliases[i] = null;
                if (collected) {
                    a.closeCollected();
                } else {
                    a.close();
                }
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
        Tensor[] oldAliases = aliases;
        ids = new long[oldIds.length * 2];
        aliases = new Tensor[oldIds.length * 2];
        int mask = ids.length - 1;
        for (int j = 0; j < oldIds.length; j++) {
            if (oldIds[j] != 0) {
                int i = slot(Math.abs(oldIds[j]), mask);
                while (ids[i] != 0) {
                    i = (i + 1) & mask;
                }
                ids[i] = oldIds[j];
                aliases[i] = oldAliases[j];
            }
        }
    }

    /** Fibonacci hashing spreads consecutive ids (the common case) over the table. */
    private static int slot(long id, int mask) {
        return (int) ((id * 0x9E3779B97F4A7C15L) >>> 40) & mask;
    }
}
