package io.electra.kernels.ops;

import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.DeviceAllocator;
import io.electra.kernels.runtime.DeviceBlock;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;
import io.electra.kernels.runtime.Transfers;

import java.util.List;

import static io.electra.kernels.ops.Operands.isScalar;
import static io.electra.kernels.ops.Operands.shape;

/** Launcher for adamw.cu: one parameter per launch, or every parameter in one launch through a table. */
public final class AdamWKernels {
    /** Elements per block of the fused update. */
    static final int CHUNK = 16384;

    private final Launcher launcher;
    private final Operands operands;
    private final DeviceAllocator allocator;
    private final Transfers transfers;
    private final Kernel update, updateBf16, updateMulti;

    public AdamWKernels(CudaRuntime runtime, Operands operands) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        this.allocator = runtime.allocator();
        this.transfers = runtime.transfers();
        update = runtime.kernel(Family.ADAMW, "adamw_update");
        updateBf16 = runtime.kernel(Family.ADAMW, "adamw_update_bf16");
        updateMulti = runtime.kernel(Family.ADAMW, "adamw_update_multi");
    }

    /** One AdamW step on one parameter (the Backend contract). */
    public void step(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradScale, Tensor hyper, float beta1, float beta2,
                     float eps, float weightDecay) {
        step(param, null, grad, m, v, gradScale, hyper, beta1, beta2, eps, weightDecay);
    }

    /**
     * {@link #step}, and when {@code paramBf16} is not null it receives the updated parameter
     * rounded to bf16 in the same pass (the weight copy the tensor-core GEMMs read).
     */
    public void step(Tensor param, Tensor paramBf16, Tensor grad, Tensor m, Tensor v, Tensor gradScale, Tensor hyper, float beta1,
                     float beta2, float eps, float weightDecay) {
        Kernel k = paramBf16 == null ? update : updateBf16;
        if (!grad.sameShape(param) || !m.sameShape(param) || !v.sameShape(param)) {
            throw shape(k, "param " + param.describe() + ", grad " + grad.describe() + ", m " + m.describe() + ", v "
                    + v.describe() + " must have one shape");
        }
        if (paramBf16 != null && !paramBf16.sameShape(param)) {
            throw shape(k, "the bf16 copy " + paramBf16.describe() + " must have param's shape " + param.describe());
        }
        if (!isScalar(gradScale) || hyper.size() != 3) {
            throw shape(k, "gradScale " + gradScale.describe() + " must be a scalar and hyper " + hyper.describe() + " [3]");
        }
        long n = param.size();
        var args = launcher.args().ptr(operands.f32(k, param));
        if (paramBf16 != null) args.ptr(operands.bf16(k, paramBf16));
        args.ptr(operands.f32(k, grad)).ptr(operands.f32(k, m)).ptr(operands.f32(k, v))
                .ptr(operands.f32(k, gradScale)).ptr(operands.f32(k, hyper)).f32(beta1).f32(beta2).f32(eps).f32(weightDecay).i64(n);
        if (n == 0) return;
        launcher.launch(k, launcher.gridStride(n), Launcher.BLOCK);
    }

    /**
     * The device table of a fixed parameter set for {@link #stepAll}: built once (parameters do
     * not move), then every step is one launch. Close it when the parameter set goes away.
     */
    public Table table(List<Tensor> params, List<Tensor> grads, List<Tensor> ms, List<Tensor> vs, float[] weightDecay) {
        return table(params, grads, ms, vs, weightDecay, null);
    }

    /**
     * {@link #table} whose update also refreshes bf16 weight copies: {@code bf16Copies.get(i)} is
     * parameter i's BF16 copy, or null for a parameter without one (LayerNorm, biases).
     */
    public Table table(List<Tensor> params, List<Tensor> grads, List<Tensor> ms, List<Tensor> vs, float[] weightDecay,
                       List<Tensor> bf16Copies) {
        int t = params.size();
        if (grads.size() != t || ms.size() != t || vs.size() != t || weightDecay.length != t
                || (bf16Copies != null && bf16Copies.size() != t)) {
            throw shape(updateMulti, "params, grads, m, v, weightDecay (and bf16 copies) must list " + t + " tensors each");
        }
        long[] pointers = new long[5 * t];
        long[] sizes = new long[t];
        int chunks = 0;
        for (int i = 0; i < t; i++) {
            Tensor p = params.get(i);
            if (!grads.get(i).sameShape(p) || !ms.get(i).sameShape(p) || !vs.get(i).sameShape(p)) {
                throw shape(updateMulti, "tensor " + i + ": param " + p.describe() + ", grad " + grads.get(i).describe()
                        + ", m " + ms.get(i).describe() + ", v " + vs.get(i).describe() + " must have one shape");
            }
            pointers[i] = operands.f32(updateMulti, p);
            pointers[t + i] = operands.f32(updateMulti, grads.get(i));
            pointers[2 * t + i] = operands.f32(updateMulti, ms.get(i));
            pointers[3 * t + i] = operands.f32(updateMulti, vs.get(i));
            Tensor copy = bf16Copies == null ? null : bf16Copies.get(i);
            if (copy != null && !copy.sameShape(p)) {
                throw shape(updateMulti, "tensor " + i + ": the bf16 copy " + copy.describe() + " must have param's shape " + p.describe());
            }
            pointers[4 * t + i] = copy == null ? 0 : operands.bf16(updateMulti, copy);  // 0: no copy to refresh
            sizes[i] = p.size();
            chunks += Math.toIntExact((p.size() + CHUNK - 1) / CHUNK);
        }
        int[] chunkTensor = new int[chunks];
        long[] chunkStart = new long[chunks];
        for (int i = 0, c = 0; i < t; i++) {
            for (long s = 0; s < sizes[i]; s += CHUNK, c++) {
                chunkTensor[c] = i;
                chunkStart[c] = s;
            }
        }
        return new Table(t, chunks, upload(pointers), upload(sizes), upload(weightDecay), upload(chunkTensor), upload(chunkStart));
    }

    /** One AdamW step on every parameter of the table, in one launch. */
    public void stepAll(Table table, Tensor gradScale, Tensor hyper, float beta1, float beta2, float eps) {
        Kernel k = updateMulti;
        if (!isScalar(gradScale) || hyper.size() != 3) {
            throw shape(k, "gradScale " + gradScale.describe() + " must be a scalar and hyper " + hyper.describe() + " [3]");
        }
        if (table.chunks == 0) return;
        launcher.args().ptr(table.pointers.address()).ptr(table.sizes.address()).ptr(table.decay.address())
                .ptr(table.chunkTensor.address()).ptr(table.chunkStart.address()).i32(table.tensors).i32(CHUNK)
                .ptr(operands.f32(k, gradScale)).ptr(operands.f32(k, hyper)).f32(beta1).f32(beta2).f32(eps);
        launcher.launch(k, table.chunks, Launcher.BLOCK);
    }

    private DeviceBlock upload(long[] values) {
        int[] halves = new int[2 * values.length];  // little-endian u64 as two u32
        for (int i = 0; i < values.length; i++) {
            halves[2 * i] = (int) values[i];
            halves[2 * i + 1] = (int) (values[i] >>> 32);
        }
        return upload(halves);
    }

    private DeviceBlock upload(int[] values) {
        DeviceBlock b = allocator.allocatePersistent(4L * Math.max(1, values.length));
        transfers.upload(b, 0, values);
        return b;
    }

    private DeviceBlock upload(float[] values) {
        DeviceBlock b = allocator.allocatePersistent(4L * Math.max(1, values.length));
        transfers.upload(b, 0, values);
        return b;
    }

    /** The uploaded descriptor arrays of a parameter set. */
    public final class Table implements AutoCloseable {
        private final int tensors, chunks;
        private final DeviceBlock pointers, sizes, decay, chunkTensor, chunkStart;

        private Table(int tensors, int chunks, DeviceBlock pointers, DeviceBlock sizes, DeviceBlock decay, DeviceBlock chunkTensor,
                      DeviceBlock chunkStart) {
            this.tensors = tensors;
            this.chunks = chunks;
            this.pointers = pointers;
            this.sizes = sizes;
            this.decay = decay;
            this.chunkTensor = chunkTensor;
            this.chunkStart = chunkStart;
        }

        @Override
        public void close() {
            for (DeviceBlock b : new DeviceBlock[] {pointers, sizes, decay, chunkTensor, chunkStart}) allocator.free(b, "adamw table");
        }
    }
}
