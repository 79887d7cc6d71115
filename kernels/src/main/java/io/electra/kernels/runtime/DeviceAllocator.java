package io.electra.kernels.runtime;

import io.electra.engine.MemoryStats;
import jcuda.CudaException;
import jcuda.driver.CUstream;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/**
 * The caching device allocator.
 *
 * <p>Persistent pool (parameters, gradients, optimizer state): sizes are rounded up (512 B steps
 * below 1 MiB, 2 MiB steps above) and freed blocks wait in a per-size cache, so freeing and
 * re-allocating the same shapes never calls cuMemAlloc again.
 *
 * <p>Arena (activations and their gradients): bump allocation in chunks, reset every step. When a
 * step outgrows the first chunk, the reset after it replaces all chunks by one of the total size,
 * so from the next step on the arena is one chunk and a warm step allocates nothing.
 *
 * <p>Device memory is reused in stream order: everything runs on one stream, so work queued
 * before a free finishes before work queued after the re-allocation starts. Only handing memory
 * back to the driver needs a synchronize.
 *
 * <p>Tight mode ({@code -Delectra.cuda.tightAllocations=true}; the gpu tests on the CUDA emulator
 * run in it): every tensor is a device allocation of its own, of exactly its size, persistent ones
 * cached by exact size and arena ones kept per request number of the step (as the CPU arena keeps
 * them), so a warm step still allocates nothing and a captured graph's addresses stay put. The
 * emulator ends every allocation at a guard page, so a kernel that reads or writes past the end of
 * a tensor fails its launch there, naming the access, where in the pooled layout it would read its
 * neighbour's bytes, or on a GPU fault only at the end of a pool.
 */
public final class DeviceAllocator implements AutoCloseable {
    private static final long ALIGN = 256;
    private static final long MIN_ARENA_CHUNK = 64L << 20;
    private static final boolean TIGHT_DEFAULT = Boolean.getBoolean("electra.cuda.tightAllocations");

    private final CUstream stream;
    private final Map<Long, ArrayDeque<DevicePointer>> cache = new HashMap<>();
    private final List<DevicePointer> live = new ArrayList<>();     // every persistent allocation, for close()
    private final List<DevicePointer> chunks = new ArrayList<>();   // arena chunks
    private final List<Long> chunkSizes = new ArrayList<>();
    private int chunkIndex;
    private long chunkOffset;
    private long generation;
    private boolean warm;
    private long persistentInUse, cachedBytes, otherBytes, arenaInUse, arenaCapacity, peak, arenaAllocsSinceWarm;
    private int liveGraphs;                                          // captured graphs not yet closed
    private final List<DevicePointer> retired = new ArrayList<>();   // freed while a graph lived
    private long retiredBytes;
    private final boolean tight;
    private final List<DevicePointer> tightSlots = new ArrayList<>();  // tight mode: the arena, per request number
    private final List<Long> tightSlotBytes = new ArrayList<>();
    private int tightCursor;                                            // this step's next request number

    DeviceAllocator(CUstream stream) {
        this(stream, TIGHT_DEFAULT);
    }

    DeviceAllocator(CUstream stream, boolean tight) {
        this.stream = stream;
        this.tight = tight;
    }

    /** A persistent block of at least {@code bytes}, contents undefined. */
    public DeviceBlock allocatePersistent(long bytes) {
        long rounded = tight ? Math.max(bytes, 1) : roundPersistent(bytes);
        ArrayDeque<DevicePointer> free = cache.get(rounded);
        DevicePointer p = free == null ? null : free.poll();
        if (p != null) {
            cachedBytes -= rounded;
        } else {
            p = deviceMalloc(rounded, "persistent");
            live.add(p);
        }
        persistentInUse += rounded;
        peak = Math.max(peak, persistentInUse + arenaInUse);
        return new DeviceBlock(p, 0, rounded, true, -1);
    }

    /** Returns a persistent block to the cache; the tensor name goes into the error for a bad free. */
    public void free(DeviceBlock block, String tensor) {
        if (!block.persistent()) {
            throw new IllegalArgumentException("free(" + tensor + "): arena tensors are released by resetArena(), not free()");
        }
        if (block.freedAlready()) throw new IllegalArgumentException("free(" + tensor + "): already freed");
        block.markFreed();
        persistentInUse -= block.bytes();
        cachedBytes += block.bytes();
        cache.computeIfAbsent(block.bytes(), k -> new ArrayDeque<>()).push(block.base());
    }

    /** An arena block of at least {@code bytes}, contents undefined, valid until {@link #resetArena}. */
    public DeviceBlock allocateArena(long bytes) {
        if (tight) return allocateTightArena(Math.max(bytes, 1));
        long size = align(Math.max(bytes, 1));
        while (chunkIndex < chunks.size()) {
            if (chunkOffset + size <= chunkSizes.get(chunkIndex)) {
                DeviceBlock b = new DeviceBlock(chunks.get(chunkIndex), chunkOffset, size, false, generation);
                chunkOffset += size;
                arenaInUse += size;
                peak = Math.max(peak, persistentInUse + arenaInUse);
                return b;
            }
            chunkIndex++;
            chunkOffset = 0;
        }
        long chunk = Math.max(size, Math.max(MIN_ARENA_CHUNK, arenaCapacity));  // doubles the arena
        chunks.add(deviceMalloc(chunk, "arena"));
        chunkSizes.add(chunk);
        arenaCapacity += chunk;
        if (warm) arenaAllocsSinceWarm++;
        chunkIndex = chunks.size() - 1;
        chunkOffset = 0;
        return allocateArena(bytes);
    }

    /** Tight mode's arena: the step's request number i gets slot i's allocation again when its size is the same. */
    private DeviceBlock allocateTightArena(long bytes) {
        int slot = tightCursor++;
        if (slot < tightSlots.size() && tightSlotBytes.get(slot) != bytes) {
            DevicePointer old = tightSlots.get(slot);
            arenaCapacity -= tightSlotBytes.get(slot);
            if (liveGraphs > 0) {
                retired.add(old);
                retiredBytes += tightSlotBytes.get(slot);
            } else {
                cuStreamSynchronize(stream);
                cuMemFree(old);
            }
            tightSlots.set(slot, null);
        }
        if (slot == tightSlots.size() || tightSlots.get(slot) == null) {
            DevicePointer p = deviceMalloc(bytes, "arena");
            if (slot == tightSlots.size()) {
                tightSlots.add(p);
                tightSlotBytes.add(bytes);
            } else {
                tightSlots.set(slot, p);
                tightSlotBytes.set(slot, bytes);
            }
            arenaCapacity += bytes;
            if (warm) arenaAllocsSinceWarm++;
        }
        arenaInUse += bytes;
        peak = Math.max(peak, persistentInUse + arenaInUse);
        return new DeviceBlock(tightSlots.get(slot), 0, bytes, false, generation);
    }

    /** Ends a step: every arena block handed out so far may be reused. */
    public void resetArena() {
        generation++;
        // the step outgrew the arena: one chunk of the total from now on, unless a captured graph
        // still names the chunks' addresses (then they stay, and steps bump through all of them)
        if (chunks.size() > 1 && liveGraphs == 0) {
            cuStreamSynchronize(stream);
            for (DevicePointer p : chunks) cuMemFree(p);
            chunks.clear();
            chunkSizes.clear();
            long total = arenaCapacity;
            arenaCapacity = 0;
            chunks.add(deviceMalloc(total, "arena"));
            chunkSizes.add(total);
            arenaCapacity = total;
        }
        chunkIndex = 0;
        chunkOffset = 0;
        tightCursor = 0;
        arenaInUse = 0;
        warm = true;
    }

    /** False for an arena block handed out before the last {@link #resetArena}. */
    public boolean isCurrent(DeviceBlock block) {
        return block.persistent() || block.generation() == generation;
    }

    /** Raw device memory outside the pool (workspace, error word), counted in the statistics. */
    DevicePointer allocateRaw(long bytes, String what) {
        DevicePointer p = deviceMalloc(bytes, what);
        otherBytes += bytes;
        return p;
    }

    void freeRaw(DevicePointer p, long bytes) {
        otherBytes -= bytes;
        if (liveGraphs > 0) {  // a replay may still read it (a workspace that grew after the capture)
            retired.add(p);
            retiredBytes += bytes;
            return;
        }
        cuMemFree(p);
    }

    /**
     * A graph was captured: it holds raw addresses of arena chunks and scratch buffers, so until
     * it is closed nothing is handed back to the driver or merged (memory that would be freed is
     * retired instead). Persistent tensors a graph uses must simply stay alive; their owner sees to it.
     */
    public void graphCaptured() {
        liveGraphs++;
    }

    /** A captured graph was closed; with none left, retired memory goes back to the driver. */
    public void graphClosed() {
        if (liveGraphs == 0) throw new IllegalStateException("graphClosed() without a live graph");
        if (--liveGraphs > 0 || retired.isEmpty()) return;
        cuStreamSynchronize(stream);  // a replay queued before the close may still be running
        for (DevicePointer p : retired) cuMemFree(p);
        retired.clear();
        retiredBytes = 0;
    }

    /** persistentBytes counts live persistent tensors; cache and workspace are in {@link #describe()}. */
    public MemoryStats stats() {
        return new MemoryStats(persistentInUse, arenaInUse, arenaCapacity, peak, arenaAllocsSinceWarm);
    }

    public String describe() {
        return "persistent " + DeviceOutOfMemoryError.mib(persistentInUse) + " (+" + DeviceOutOfMemoryError.mib(cachedBytes)
                + " cached), arena " + DeviceOutOfMemoryError.mib(arenaInUse) + " of " + DeviceOutOfMemoryError.mib(arenaCapacity)
                 + ", workspace " + DeviceOutOfMemoryError.mib(otherBytes)
                + (retiredBytes > 0 ? ", retired while a graph lives " + DeviceOutOfMemoryError.mib(retiredBytes) : "")
                + ", peak " + DeviceOutOfMemoryError.mib(peak);
    }

    private DevicePointer deviceMalloc(long bytes, String what) {
        DevicePointer p = new DevicePointer();
        try {
            cuMemAlloc(p, bytes);
            return p;
        } catch (CudaException first) {
            releaseCache();  // cached blocks of other sizes may make room
            try {
                cuMemAlloc(p, bytes);
                return p;
            } catch (CudaException second) {
                long[] free = new long[1], total = new long[1];
                String device = "";
                try {
                    cuMemGetInfo(free, total);
                    device = "; device has " + DeviceOutOfMemoryError.mib(free[0]) + " free of " + DeviceOutOfMemoryError.mib(total[0]);
                } catch (CudaException ignored) {
                    // the report stays useful without the device totals
                }
                throw new DeviceOutOfMemoryError("CUDA out of memory: asked for " + DeviceOutOfMemoryError.mib(bytes) + " (" + what
                        + ") with " + DeviceOutOfMemoryError.mib(persistentInUse + arenaInUse) + " in use [" + describe() + "]"
                        + device + " (" + second.getMessage() + ")", second);
            }
        }
    }

    private void releaseCache() {
        if (cachedBytes == 0) return;
        cuStreamSynchronize(stream);
        for (ArrayDeque<DevicePointer> q : cache.values()) {
            for (DevicePointer p : q) {
                cuMemFree(p);
                live.remove(p);
            }
            q.clear();
        }
        cachedBytes = 0;
    }

    static long align(long bytes) {
        return (bytes + ALIGN - 1) / ALIGN * ALIGN;
    }

    static long roundPersistent(long bytes) {
        long b = Math.max(bytes, 1);
        long step = b <= (1L << 20) ? 512 : 2L << 20;
        return (b + step - 1) / step * step;
    }

    @Override
    public void close() {
        for (DevicePointer p : live) cuMemFree(p);
        for (DevicePointer p : chunks) cuMemFree(p);
        for (DevicePointer p : tightSlots) cuMemFree(p);
        live.clear();
        chunks.clear();
        tightSlots.clear();
        cache.clear();
    }
}
