package io.electra.kernels.runtime;

import jcuda.Pointer;
import jcuda.driver.CUstream;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemHostAlloc;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/**
 * One device word that kernels OR a code into when device data is out of range (an id outside
 * the vocabulary, an index outside the rows): the host cannot check such values before launch
 * without a copy, so kernels skip them and the next synchronize reports them by name.
 */
public final class ErrorWord implements AutoCloseable {
    /** The call sites that can report, one bit each. */
    public enum Code {
        EMBEDDING_ID("embedding_forward: an id is outside [0, V) of the table"),
        EMBEDDING_BACKWARD_ID("embedding_backward_keys: an id is outside [0, V) of the table"),
        GATHER_INDEX("embedding_forward (gatherRows): an index is outside the rows of the input"),
        SCATTER_INDEX("embedding_backward_keys (scatterAddRows): an index is outside the rows of dIn"),
        TARGET("crossentropy_forward: a target is >= V"),
        POSITION("sampling_forward_replace: a position is outside [0, N)"),
        EMBEDDING_SUM_FIRST("embedding_forward_sum3: an id of the first table (the words) is outside its rows"),
        EMBEDDING_SUM_SECOND("embedding_forward_sum3: an id of the second table (the positions) is outside its rows"),
        EMBEDDING_SUM_THIRD("embedding_forward_sum3: an id of the third table (the token types) is outside its rows");

        private final String message;

        Code(String message) {
            this.message = message;
        }

        public int bit() {
            return 1 << ordinal();
        }
    }

    private final DeviceAllocator allocator;
    private final CUstream stream;
    private final DevicePointer word;
    private final Pointer host = new Pointer();
    private final ByteBuffer hostBuffer;

    ErrorWord(DeviceAllocator allocator, CUstream stream) {
        this.allocator = allocator;
        this.stream = stream;
        this.word = allocator.allocateRaw(4, "error word");
        cuMemHostAlloc(host, 4, 0);
        hostBuffer = host.getByteBuffer(0, 4).order(ByteOrder.nativeOrder());
        cuMemsetD32Async(word, 0, 1, stream);
    }

    /** The device address kernels receive. */
    public long address() {
        return word.address();
    }

    /** After a synchronize: throws naming every call site that reported since the last check. */
    public void check() {
        cuMemcpyDtoHAsync(host, word, 4, stream);
        cuStreamSynchronize(stream);
        int bits = hostBuffer.getInt(0);
        if (bits == 0) return;
        cuMemsetD32Async(word, 0, 1, stream);
        List<String> what = new ArrayList<>();
        for (Code c : Code.values()) {
            if ((bits & c.bit()) != 0) what.add(c.message);
        }
        throw new IllegalArgumentException("device data out of range (the offending elements were skipped): "
                + String.join("; ", what));
    }

    @Override
    public void close() {
        allocator.freeRaw(word, 4);
        cuMemFreeHost(host);
    }
}
