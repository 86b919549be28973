package dev.spool;

import java.util.Arrays;

/**
 * A set of tape ids without boxing: open addressing with linear probing over a power-of-two
 * table. A tape asks "is this input tracked?" for every op it sees, and {@code HashSet<Long>}
 * allocated a {@code Long} and a node per id. Ids are positive (0 marks an empty slot).
 * Not thread-safe: a tape belongs to one thread.
 */
final class LongSet {
    private static final int MIN_CAPACITY = 16;

    private long[] slots = new long[MIN_CAPACITY];
    private int size;

    boolean contains(long id) {
        long[] t = slots;
        int mask = t.length - 1;
        for (int i = slot(id, mask); ; i = (i + 1) & mask) {
            long v = t[i];
            if (v == id) {
                return true;
            }
            if (v == 0) {
                return false;
            }
        }
    }

    void add(long id) {
        if (id <= 0) {
            throw new IllegalArgumentException("tape ids are positive, got " + id);
        }
        if (2 * (size + 1) > slots.length) {
            grow();
        }
        if (insert(slots, id)) {
            size++;
        }
    }

    int size() {
        return size;
    }

    void clear() {
        if (slots.length > MIN_CAPACITY) {
            slots = new long[MIN_CAPACITY];
        } else {
            Arrays.fill(slots, 0);
        }
        size = 0;
    }

    private void grow() {
        long[] bigger = new long[slots.length * 2];
        for (long v : slots) {
            if (v != 0) {
                insert(bigger, v);
            }
        }
        slots = bigger;
    }

    /** Inserts {@code id} into {@code t}; false if it was there already. */
    private static boolean insert(long[] t, long id) {
        int mask = t.length - 1;
        for (int i = slot(id, mask); ; i = (i + 1) & mask) {
            long v = t[i];
            if (v == id) {
                return false;
            }
            if (v == 0) {
                t[i] = id;
                return true;
            }
        }
    }

    /** Fibonacci hashing spreads consecutive ids (the common case) over the table. */
    private static int slot(long id, int mask) {
        return (int) ((id * 0x9E3779B97F4A7C15L) >>> 40) & mask;
    }
}
