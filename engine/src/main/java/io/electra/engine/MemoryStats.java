package io.electra.engine;

/** Bytes a backend holds: persistent buffers, the per-step arena, and the high-water mark. */
public record MemoryStats(long persistentBytes, long arenaBytesInUse, long arenaCapacityBytes, long peakBytes,
                          long arenaAllocationsSinceWarm) {
}
