package dev.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TrackedIdsTest {
    @Test
    void agreesWithHashSetThroughGrowthAndClear() {
        Random r = new Random(42);
        TrackedIds set = new TrackedIds();
        Set<Long> ref = new HashSet<>();
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 5000; i++) {
                // consecutive ids (as tapes see them) mixed with scattered ones
                long id = r.nextBoolean() ? 1 + round * 10_000L + i : 1 + (r.nextLong() >>> 1);
                set.add(id);
                ref.add(id);
            }
            assertEquals(ref.size(), set.size());
            for (long id : ref) {
                assertEquals(true, set.contains(id), "id " + id);
            }
            for (int i = 0; i < 5000; i++) {
                long probe = 1 + (r.nextLong() >>> 1);
                assertEquals(ref.contains(probe), set.contains(probe), "probe " + probe);
            }
            set.clear();
            ref.clear();
            assertEquals(0, set.size());
            assertEquals(false, set.contains(1 + round * 10_000L));
        }
    }

    @Test
    void rejectsNonPositiveIds() {
        assertThrows(IllegalArgumentException.class, () -> new TrackedIds().add(0));
    }
}
