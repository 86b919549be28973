package dev.spool.cpu;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Whether a Vector API loop has been compiled by C2 yet, judged by timing a trickle of its
 * calls. Until C2 compiles it, Vector API code runs in the interpreter or in C1, which do not
 * intrinsify the API: every vector op there allocates and loops over lanes in Java, about
 * 0.3 µs an op, 100–1000× the compiled speed (measured: the first step of a 784→256→10 MLP took
 * 3.7 s, the 50th 3 ms). While a loop is cold its caller runs a scalar loop that gives the same
 * bits (plain scalar code is fast from C1 on) and hands the SIMD loop one call in
 * {@link #EVERY}, timed: those calls warm the JIT's counters, and the first one that runs at
 * compiled speed marks the loop hot for good. A call can be slowed by the machine (descheduled),
 * never sped up, so a slow machine only delays the switch. After {@link #MAX_PROBES} probes the
 * loop counts as hot whatever the timings said, so that a machine where the compiled loop is
 * slower than the bound still ends on the SIMD path.
 *
 * <p>Results do not depend on the state: callers only use this where both forms compute the
 * same bits (the same operations in the same order, FMAs where the SIMD form has them).
 * {@code -Dspool.cpu.warmup=false} starts every loop hot (the SIMD form from the first call).
 */
final class Warmth {
    /** One call in this many goes to the SIMD form while it is cold. */
    static final int EVERY = 2;
    /** Probes after which the loop counts as hot regardless of their timings. */
    static final int MAX_PROBES = 4096;
    static final boolean ENABLED = !"false".equalsIgnoreCase(System.getProperty("spool.cpu.warmup"));

    private final double hotNanosPerUnit;
    private final AtomicInteger calls = new AtomicInteger();
    private final AtomicInteger probes = new AtomicInteger();
    private volatile boolean hot = !ENABLED;

    /** @param hotNanosPerUnit the time per unit of work below which a call is compiled code */
    Warmth(double hotNanosPerUnit) {
        this.hotNanosPerUnit = hotNanosPerUnit;
    }

    boolean hot() {
        return hot;
    }

    /** While cold: whether this call should run the SIMD form (and be timed with {@link #record}). */
    boolean probe() {
        return calls.getAndIncrement() % EVERY == 0;
    }

    /** A probe of {@code units} of work took {@code nanos}. */
    void record(long nanos, long units) {
        if (nanos < units * hotNanosPerUnit || probes.incrementAndGet() >= MAX_PROBES) {
            hot = true;
        }
    }

    /** For tests: force a state. */
    void set(boolean isHot) {
        hot = isHot;
    }
}
