package io.electra.kernels.runtime;

import jcuda.driver.CUstream;

import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/**
 * Scratch device memory for the inside of one backend call (column partials, sort keys,
 * attention scores), kept apart from the arena so a call's hidden temporaries never shift the
 * arena's allocation order. A call reserves its total once, then takes slices; calls run in
 * stream order, so the next call may reuse the same bytes. Grows (never shrinks) on demand.
 */
public final class Workspace implements AutoCloseable {
    private static final long ALIGN = 256;
    private final DeviceAllocator allocator;
    private final CUstream stream;
    private DevicePointer buffer;
    private long capacity, used, reserved;

    Workspace(DeviceAllocator allocator, CUstream stream) {
        this.allocator = allocator;
        this.stream = stream;
    }

    /** Starts a call that will take {@code slices} slices of {@code totalBytes} in all. */
    public void reserve(long totalBytes, int slices) {
        long need = totalBytes + ALIGN * slices;
        if (need > capacity) {
            if (buffer != null) {
                cuStreamSynchronize(stream);  // queued kernels may still read the old buffer
                allocator.freeRaw(buffer, capacity);
            }
            long grown = Math.max(need, capacity + capacity / 2);
            buffer = allocator.allocateRaw(grown, "workspace");
            capacity = grown;
        }
        used = 0;
        reserved = need;
    }

    /** The device address of the next {@code bytes} of the reservation. */
    public long take(long bytes) {
        long start = used;
        used += (bytes + ALIGN - 1) / ALIGN * ALIGN;
        if (used > reserved) {
            throw new IllegalStateException("workspace: took " + used + " bytes of a " + reserved + "-byte reservation");
        }
        return buffer.address() + start;
    }

    @Override
    public void close() {
        if (buffer != null) allocator.freeRaw(buffer, capacity);
        buffer = null;
    }
}
