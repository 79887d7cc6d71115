package io.electra.kernels.runtime;

import jcuda.driver.CUdeviceptr;

/**
 * A range of device memory: what a CUDA tensor's {@code storage()} holds. Persistent blocks own
 * their allocation and go back to the allocator's cache when freed; arena blocks are slices of
 * an arena chunk, valid until the next {@code resetArena}.
 */
public final class DeviceBlock {
    private final DevicePointer base;
    private final long byteOffset; // into base
    private final long bytes;
    private final boolean persistent;
    private final long generation;  // arena generation this slice belongs to; -1 for persistent
    private boolean freed;

    DeviceBlock(DevicePointer base, long byteOffset, long bytes, boolean persistent, long generation) {
        this.base = base;
        this.byteOffset = byteOffset;
        this.bytes = bytes;
        this.persistent = persistent;
        this.generation = generation;
    }

    /** The device address of byte 0 of this block. */
    public long address() {
        return base.address() + byteOffset;
    }

    /** A driver-API pointer {@code byteOffset} bytes into the block (allocates; not for the launch path). */
    public CUdeviceptr pointer(long offset) {
        return base.withByteOffset(byteOffset + offset);
    }

    public long bytes() {
        return bytes;
    }

    public boolean persistent() {
        return persistent;
    }

    long generation() {
        return generation;
    }

    DevicePointer base() {
        return base;
    }

    /** True once a persistent block went back to the allocator. */
    public boolean freedAlready() {
        return freed;
    }

    void markFreed() {
        freed = true;
    }
}
