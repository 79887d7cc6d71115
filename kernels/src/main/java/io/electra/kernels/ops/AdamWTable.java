package io.electra.kernels.ops;

import io.electra.engine.ParameterTable;
import io.electra.engine.Tensor;
import io.electra.kernels.runtime.DeviceAllocator;
import io.electra.kernels.runtime.DeviceBlock;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Transfers;

import java.util.List;

/**
 * A {@link ParameterTable} uploaded for adamw.cu's table kernels: the tensors' addresses and sizes,
 * their weight decays and hyper rows, and the chunk map (block b works on chunk b, up to
 * {@link AdamWKernels#CHUNK} elements of one tensor). Built once (parameters do not move); closing it
 * frees these device arrays, never the tensors.
 */
public final class AdamWTable extends ParameterTable {
    final AdamWKernels owner;
    final int tensors, chunks;
    final DeviceBlock pointers;     // [5, T] u64: param, grad, m, v, bf16 copy (0: none)
    final DeviceBlock sizes;        // [T] i64
    final DeviceBlock decay;        // [T] f32
    final DeviceBlock hyperRow;     // [T] i32
    final DeviceBlock chunkTensor;  // [chunks] i32
    final DeviceBlock chunkStart;   // [chunks] i64
    final DeviceBlock partials;     // [chunks] f32: the gradient norm's per-chunk sums
    private final DeviceAllocator allocator;
    private boolean closed;

    AdamWTable(AdamWKernels owner, Operands operands, DeviceAllocator allocator, Transfers transfers, Kernel k,
               List<Tensor> params, List<Tensor> grads, List<Tensor> m, List<Tensor> v, List<Tensor> bf16Copies,
               float[] weightDecay, int[] hyperRows) {
        super(params, grads, m, v, bf16Copies, weightDecay, hyperRows);  // counts and shapes
        this.owner = owner;
        this.allocator = allocator;
        int t = size();
        long[] address = new long[5 * t], size = new long[t];
        int count = 0;
        for (int i = 0; i < t; i++) {
            address[i] = operands.f32(k, params.get(i));
            address[t + i] = operands.f32(k, grads.get(i));
            address[2 * t + i] = operands.f32(k, m.get(i));
            address[3 * t + i] = operands.f32(k, v.get(i));
            Tensor copy = bf16Copies.get(i);
            address[4 * t + i] = copy == null ? 0 : operands.bf16(k, copy);
            size[i] = params.get(i).size();
            count += Math.toIntExact((size[i] + AdamWKernels.CHUNK - 1) / AdamWKernels.CHUNK);
        }
        int[] tensorOf = new int[count];
        long[] start = new long[count];
        for (int i = 0, c = 0; i < t; i++) {
            for (long s = 0; s < size[i]; s += AdamWKernels.CHUNK, c++) {
                tensorOf[c] = i;
                start[c] = s;
            }
        }
        tensors = t;
        chunks = count;
        pointers = upload(transfers, longs(address));
        sizes = upload(transfers, longs(size));
        decay = allocator.allocatePersistent(4L * Math.max(1, t));
        transfers.upload(decay, 0, weightDecay);
        hyperRow = upload(transfers, hyperRows);
        chunkTensor = upload(transfers, tensorOf);
        chunkStart = upload(transfers, longs(start));
        partials = allocator.allocatePersistent(4L * Math.max(1, count));
    }

    /** Little-endian u64s as pairs of u32s, for an int upload. */
    private static int[] longs(long[] values) {
        int[] halves = new int[2 * values.length];
        for (int i = 0; i < values.length; i++) {
            halves[2 * i] = (int) values[i];
            halves[2 * i + 1] = (int) (values[i] >>> 32);
        }
        return halves;
    }

    private DeviceBlock upload(Transfers transfers, int[] values) {
        DeviceBlock b = allocator.allocatePersistent(4L * Math.max(1, values.length));
        transfers.upload(b, 0, values);
        return b;
    }

    boolean closed() {
        return closed;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (DeviceBlock b : new DeviceBlock[] {pointers, sizes, decay, hyperRow, chunkTensor, chunkStart, partials}) {
            allocator.free(b, "adamw table");
        }
    }
}
