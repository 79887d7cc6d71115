package io.electra.kernels.runtime;

import jcuda.driver.CUstream;

import static jcuda.driver.JCudaDriver.cuMemsetD32Async;

/**
 * One persistent device int64 that every Philox kernel adds to its RngKey's step (philox.cuh): the
 * device half of {@code Backend.setRngStepOffset}. A captured CUDA graph replays its kernels with
 * the step argument of the captured step; writing this word between replays moves every dropout
 * mask and Gumbel draw on to the replayed step's stream. Writes are two stream-ordered 32-bit
 * memsets, so they take effect between the launches queued before and after, with no host staging.
 */
public final class RngStepOffsetWord implements AutoCloseable {
    private final DeviceAllocator allocator;
    private final CUstream stream;
    private final DevicePointer word;

    RngStepOffsetWord(DeviceAllocator allocator, CUstream stream) {
        this.allocator = allocator;
        this.stream = stream;
        this.word = allocator.allocateRaw(8, "RNG step offset");
        set(0);
    }

    /** The device address kernels receive (their last argument, {@code const int64_t* step_offset}). */
    public long address() {
        return word.address();
    }

    /** Queues the write of {@code offset} on the compute stream (little-endian: low word first). */
    public void set(long offset) {
        cuMemsetD32Async(word, (int) offset, 1, stream);
        cuMemsetD32Async(word.withByteOffset(4), (int) (offset >>> 32), 1, stream);
    }

    @Override
    public void close() {
        allocator.freeRaw(word, 8);
    }
}
