package io.electra.kernels.runtime;

import jcuda.Pointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemHostAlloc;

/**
 * One page-locked host buffer for uploads and downloads: the DMA engine reads and writes it
 * directly (pageable memory would be copied through a driver bounce buffer first). Grows on
 * demand up to {@link #MAX_BYTES}; larger transfers go through it in pieces.
 */
final class PinnedStaging implements AutoCloseable {
    static final long MAX_BYTES = 64L << 20;
    private Pointer host;
    private ByteBuffer buffer;
    private long capacity;

    /** The host pointer of a buffer of at least min(bytes, MAX_BYTES). */
    Pointer pointer(long bytes) {
        long want = Math.min(Math.max(bytes, 4096), MAX_BYTES);
        if (want > capacity) {
            close();
            Pointer p = new Pointer();
            cuMemHostAlloc(p, want, 0);
            host = p;
            capacity = want;
            buffer = p.getByteBuffer(0, want).order(ByteOrder.nativeOrder());
        }
        return host;
    }

    /** The buffer behind {@link #pointer}, position 0, native byte order. */
    ByteBuffer buffer() {
        buffer.clear();
        return buffer;
    }

    /** How many elements of {@code elementBytes} one piece of a {@code length}-element transfer holds. */
    int capacityFor(int length, int elementBytes) {
        long piece = Math.min((long) length * elementBytes, MAX_BYTES) / elementBytes;
        return (int) Math.max(1, piece);
    }

    @Override
    public void close() {
        if (host != null) cuMemFreeHost(host);
        host = null;
        buffer = null;
        capacity = 0;
    }
}
