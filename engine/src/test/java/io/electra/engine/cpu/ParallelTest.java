package io.electra.engine.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ParallelTest {

    @Test
    void everyIndexRunsExactlyOnce() {
        try (Parallel parallel = new Parallel(3)) {
            for (int n : new int[]{0, 1, 2, 7, 1000, 100_003}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(1, n));
                parallel.parallelFor(n, 1_000, (from, to) -> {
                    for (int i = from; i < to; i++) hits.incrementAndGet(i);
                });
                for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "n=" + n + ", index " + i);
            }
        }
    }

    @Test
    void nestedLoopsFinishAndCoverEverything() {
        try (Parallel parallel = new Parallel(2)) {
            AtomicLong total = new AtomicLong();
            parallel.parallelFor(8, 1_000_000, (a0, a1) -> {
                for (int a = a0; a < a1; a++) {
                    parallel.parallelFor(100, 1_000_000, (b0, b1) -> total.addAndGet(b1 - b0));
                }
            });
            assertEquals(800, total.get());
        }
    }

    @Test
    void aFailureInAChunkReachesTheCaller() {
        try (Parallel parallel = new Parallel(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () ->
                    parallel.parallelFor(64, 1_000_000, (from, to) -> {
                        if (from <= 40 && 40 < to) throw new IllegalStateException("chunk with 40");
                    }));
            assertEquals("chunk with 40", e.getMessage());
        }
    }
}
