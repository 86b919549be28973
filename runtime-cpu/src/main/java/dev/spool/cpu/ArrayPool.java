package dev.spool.cpu;

import dev.spool.DType;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Released large arrays, kept for the next allocation of the same dtype and length. A fresh
 * {@code new float[4M]} is a G1 humongous allocation that the JVM zeroes before the op writes
 * it: one extra pass over memory that made {@code add}, {@code relu} and {@code exp} on 4M floats
 * all cost the same 5.5 ms (docs/PERFORMANCE.md). Buffers are uninitialised by the SPI contract,
 * so a recycled array is as good as a new one.
 *
 * <p>Only arrays of at least {@code minElements} are kept (small ones come cheaply from the
 * thread-local allocation buffer), at most {@code capBytes} in all; the rest are left to the
 * garbage collector. {@link #clear()} empties it when memory is short. Tests run with
 * {@code -Dspool.cpu.pool.minElements=1 -Dspool.cpu.pool.poison=true}, so that every buffer of
 * the whole suite is a recycled one filled with garbage: a kernel that relied on zeroed arrays
 * would fail there.
 */
final class ArrayPool {
    private final int minElements;
    private final long capBytes;
    private final boolean poison;
    private final Map<Key, ArrayDeque<Object>> free = new HashMap<>();
    private long pooledBytes;

    private record Key(DType dtype, int length) {
    }

    ArrayPool(int minElements, long capBytes, boolean poison) {
        this.minElements = minElements;
        this.capBytes = capBytes;
        this.poison = poison;
    }

    /** The pool the backend uses, sized from system properties and the heap. */
    static ArrayPool fromProperties() {
        int min = Integer.getInteger("spool.cpu.pool.minElements", 1 << 16);
        long cap = Long.getLong("spool.cpu.pool.maxBytes", Runtime.getRuntime().maxMemory() / 8);
        return new ArrayPool(Math.max(1, min), cap, Boolean.getBoolean("spool.cpu.pool.poison"));
    }

    /** A released array of exactly this dtype and length, or null. Small lengths, the common
     *  case on the dispatch path, return before taking the lock. */
    Object take(DType dtype, int length) {
        return length < minElements ? null : takeLarge(dtype, length);
    }

    private synchronized Object takeLarge(DType dtype, int length) {
        ArrayDeque<Object> q = free.get(new Key(dtype, length));
        Object a = q == null ? null : q.pollLast();
        if (a != null) {
            pooledBytes -= (long) length * dtype.byteSize();
        }
        return a;
    }

    /** Keeps {@code array} (of {@code dtype}, {@code length} elements) for reuse if it is large
     *  and there is room; small ones return before taking the lock. */
    void give(DType dtype, Object array, int length) {
        if (length >= minElements) {
            giveLarge(dtype, array, length);
        }
    }

    private synchronized void giveLarge(DType dtype, Object array, int length) {
        long bytes = (long) length * dtype.byteSize();
        if (pooledBytes + bytes > capBytes) {
            return;
        }
        if (poison) {
            fillWithGarbage(array);
        }
        free.computeIfAbsent(new Key(dtype, length), k -> new ArrayDeque<>()).addLast(array);
        pooledBytes += bytes;
    }

    /** Drops every kept array; returns the bytes freed. */
    synchronized long clear() {
        long freed = pooledBytes;
        free.clear();
        pooledBytes = 0;
        return freed;
    }

    synchronized long pooledBytes() {
        return pooledBytes;
    }

    private static void fillWithGarbage(Object array) {
        if (array instanceof float[] f) {
            Arrays.fill(f, Float.NaN);
        } else if (array instanceof double[] d) {
            Arrays.fill(d, Double.NaN);
        } else if (array instanceof int[] i) {
            Arrays.fill(i, 0x5EED_BAD1);
        } else if (array instanceof long[] l) {
            Arrays.fill(l, 0x5EED_BAD1_5EED_BAD1L);
        } else if (array instanceof byte[] b) {
            Arrays.fill(b, (byte) 7); // not a valid bool: a kernel must write every element
        }
    }
}
