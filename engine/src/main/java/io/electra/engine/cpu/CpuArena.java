package io.electra.engine.cpu;

import io.electra.engine.DType;

import java.util.ArrayList;
import java.util.List;

/**
 * Per-step storage for activations and their gradients. A training step asks for the same sizes
 * in the same order every time, so the arena keeps the arrays it handed out in a list and walks it
 * with a cursor: request number i of a step gets slot i back when its array has the right type and
 * is large enough, else a new array replaces the slot. {@link #reset} rewinds the cursor; a warm
 * step therefore allocates nothing, which {@link #allocationsSinceReset} lets a test prove.
 */
final class CpuArena {
    /** Slots at least this long are zeroed by the thread pool (the logits and their gradient are tens of MB). */
    private static final int PARALLEL_ZERO = 1 << 18;
    private final List<Object> slots = new ArrayList<>(); // float[] / double[] / int[] / short[]
    private final Parallel parallel;
    private final boolean poison;
    private int cursor;
    private long bytesInUse;
    private long capacityBytes;
    private long allocationsSinceReset;

    CpuArena(Parallel parallel, boolean poison) {
        this.parallel = parallel;
        this.poison = poison;
    }

    /**
     * Storage for {@code n} elements of {@code dtype} (possibly a longer array): zero-filled when
     * {@code fill}, else holding whatever the slot held last step (or {@code poison}'s NaN / MIN_VALUE
     * when the arena is in that test mode, so a kernel that leaves part of its output unwritten
     * cannot go unnoticed).
     */
    Object take(DType dtype, int n, boolean fill) {
        Object storage = cursor < slots.size() ? slots.get(cursor) : null;
        if (storage != null && CpuStorage.dtypeOf(storage) == dtype && CpuStorage.length(storage) >= n) {
            if (fill) zero(storage, n);
            else if (poison) CpuStorage.poison(storage, n);
        } else {
            if (storage != null) capacityBytes -= (long) CpuStorage.length(storage) * CpuStorage.dtypeOf(storage).bytes;
            storage = CpuStorage.newArray(dtype, n);
            capacityBytes += (long) n * dtype.bytes;
            allocationsSinceReset++;
            if (cursor < slots.size()) slots.set(cursor, storage);
            else slots.add(storage);
            if (!fill && poison) CpuStorage.poison(storage, n);
        }
        cursor++;
        bytesInUse += (long) n * dtype.bytes;
        return storage;
    }

    void reset() {
        cursor = 0;
        bytesInUse = 0;
        allocationsSinceReset = 0;
    }

    long bytesInUse() {
        return bytesInUse;
    }

    long capacityBytes() {
        return capacityBytes;
    }

    long allocationsSinceReset() {
        return allocationsSinceReset;
    }

    private void zero(Object storage, int n) {
        if (n < PARALLEL_ZERO) {
            CpuStorage.zero(storage, 0, n);
            return;
        }
        int chunks = (n + PARALLEL_ZERO - 1) / PARALLEL_ZERO;
        parallel.parallelFor(chunks, PARALLEL_ZERO, (c0, c1) ->
                CpuStorage.zero(storage, c0 * PARALLEL_ZERO, (int) Math.min(n, (long) c1 * PARALLEL_ZERO)));
    }
}
