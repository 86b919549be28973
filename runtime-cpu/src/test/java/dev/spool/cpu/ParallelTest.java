package dev.spool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The range splitter that every parallel kernel uses: each index is visited exactly once
 * whatever the number of threads, pieces run on the caller and the workers, a failing piece
 * surfaces in the caller, and nested or concurrent calls finish.
 */
class ParallelTest {
    private static void assertEachIndexOnce(Parallel par, int n, long grain) {
        AtomicIntegerArray seen = new AtomicIntegerArray(n);
        par.forRange(n, grain, (lo, hi) -> {
            for (long i = lo; i < hi; i++) {
                seen.incrementAndGet((int) i);
            }
        });
        for (int i = 0; i < n; i++) {
            assertEquals(1, seen.get(i), "index " + i + " of " + n + " (grain " + grain + ", "
                    + par.threads() + " threads)");
        }
    }

    @Test
    void everyIndexIsVisitedExactlyOnce() {
        for (int threads : new int[] {1, 2, 3, 5}) {
            Parallel par = new Parallel(threads);
            try {
                for (int n : new int[] {0, 1, 2, 7, 100, 1001}) {
                    for (long grain : new long[] {1, 3, 64, 5000}) {
                        assertEachIndexOnce(par, n, grain);
                    }
                }
            } finally {
                par.shutdown();
            }
        }
    }

    @Test
    void piecesRunOnTheCallerAndOnTheWorkers() {
        Parallel par = new Parallel(2);
        try {
            Set<String> threads = ConcurrentHashMap.newKeySet();
            // Pieces that take a while: the worker wakes up before the caller has done them all.
            for (int attempt = 0; attempt < 50 && threads.size() < 2; attempt++) {
                par.forRange(8, 1, (lo, hi) -> {
                    threads.add(Thread.currentThread().getName());
                    long end = System.nanoTime() + 2_000_000;
                    while (System.nanoTime() < end) {
                        Thread.onSpinWait();
                    }
                });
            }
            assertTrue(threads.contains(Thread.currentThread().getName()), "the caller ran pieces: " + threads);
            assertTrue(threads.stream().anyMatch(t -> t.startsWith("spool-cpu-")), "a worker ran pieces: " + threads);
        } finally {
            par.shutdown();
        }
    }

    @Test
    void aFailingPieceIsThrownToTheCallerAfterTheOthersEnd() {
        Parallel par = new Parallel(3);
        try {
            IllegalStateException boom = new IllegalStateException("piece 3 failed");
            AtomicInteger running = new AtomicInteger();
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () ->
                    par.forRange(12, 1, (lo, hi) -> {
                        running.incrementAndGet();
                        try {
                            if (lo == 3) {
                                throw boom;
                            }
                        } finally {
                            running.decrementAndGet();
                        }
                    }));
            assertSame(boom, thrown);
            assertEquals(0, running.get(), "no piece still running when forRange returned");
            // The pool is still usable afterwards.
            assertEachIndexOnce(par, 1000, 10);
        } finally {
            par.shutdown();
        }
    }

    @Test
    void nestedAndConcurrentCallsFinish() throws Exception {
        Parallel par = new Parallel(2);
        try {
            List<Thread> callers = new ArrayList<>();
            AtomicInteger total = new AtomicInteger();
            for (int c = 0; c < 4; c++) {
                Thread t = new Thread(() -> {
                    for (int rep = 0; rep < 200; rep++) {
                        par.forRange(4, 1, (lo, hi) -> par.forRange(10, 1, (a, b) -> total.addAndGet((int) (b - a))));
                    }
                });
                callers.add(t);
                t.start();
            }
            for (Thread t : callers) {
                t.join(60_000);
                assertFalse(t.isAlive(), "a caller is stuck");
            }
            assertEquals(4 * 200 * 4 * 10, total.get());
        } finally {
            par.shutdown();
        }
    }

    @Test
    void afterShutdownTheCallerDoesEveryPiece() {
        Parallel par = new Parallel(4);
        par.shutdown();
        Set<String> threads = ConcurrentHashMap.newKeySet();
        AtomicIntegerArray seen = new AtomicIntegerArray(100);
        par.forRange(100, 1, (lo, hi) -> {
            threads.add(Thread.currentThread().getName());
            for (long i = lo; i < hi; i++) {
                seen.incrementAndGet((int) i);
            }
        });
        assertEquals(Set.of(Thread.currentThread().getName()), threads);
        for (int i = 0; i < 100; i++) {
            assertEquals(1, seen.get(i));
        }
    }
}
