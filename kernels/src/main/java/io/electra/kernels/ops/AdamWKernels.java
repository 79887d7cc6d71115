package io.electra.kernels.ops;

import io.electra.engine.ParameterTable;
import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.DeviceAllocator;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;
import io.electra.kernels.runtime.Transfers;

import java.util.List;

import static io.electra.kernels.ops.Operands.isScalar;
import static io.electra.kernels.ops.Operands.shape;

/**
 * Launcher for adamw.cu: one parameter per launch, or every parameter through a table
 * ({@link AdamWTable}): the gradient norm in two launches (per-chunk partials, then reduce.cu's
 * fixed-order finalize) and the update with the gradients' zeroing in one.
 */
public final class AdamWKernels {
    /** Elements per block (chunk) of the table kernels. */
    static final int CHUNK = 16384;

    private final Launcher launcher;
    private final Operands operands;
    private final DeviceAllocator allocator;
    private final Transfers transfers;
    private final ReduceKernels reduce;
    private final Kernel update, updateBf16, updateMulti, sumSquaresMulti;

    public AdamWKernels(CudaRuntime runtime, Operands operands, ReduceKernels reduce) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        this.allocator = runtime.allocator();
        this.transfers = runtime.transfers();
        this.reduce = reduce;
        update = runtime.kernel(Family.ADAMW, "adamw_update");
        updateBf16 = runtime.kernel(Family.ADAMW, "adamw_update_bf16");
        updateMulti = runtime.kernel(Family.ADAMW, "adamw_update_multi");
        sumSquaresMulti = runtime.kernel(Family.ADAMW, "adamw_grad_sumsq_multi");
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
     * The device table of a fixed parameter set for {@link #gradSumSquares} and {@link #stepAll}
     * (the Backend's parameterTable): built once, then each step is a few launches whatever the
     * number of tensors. Close it before its tensors are freed.
     */
    public AdamWTable table(List<Tensor> params, List<Tensor> grads, List<Tensor> m, List<Tensor> v, List<Tensor> bf16Copies,
                            float[] weightDecay, int[] hyperRow) {
        return new AdamWTable(this, operands, allocator, transfers, updateMulti, params, grads, m, v, bf16Copies, weightDecay,
                hyperRow);
    }

    /** out[] = sum over the table's gradients of their squares: per-chunk partials, then a fixed-order finalize. */
    public void gradSumSquares(Tensor out, ParameterTable table) {
        AdamWTable t = own(sumSquaresMulti, table);
        if (!isScalar(out)) throw shape(sumSquaresMulti, "out " + out.describe() + " must be a scalar");
        long outAddress = operands.f32(sumSquaresMulti, out);
        if (t.chunks > 0) {
            launcher.args().ptr(t.partials.address()).ptr(t.pointers.address()).ptr(t.sizes.address())
                    .ptr(t.chunkTensor.address()).ptr(t.chunkStart.address()).i32(t.tensors).i32(CHUNK);
            launcher.launch(sumSquaresMulti, t.chunks, Launcher.BLOCK);
        }
        reduce.finalize(outAddress, t.partials.address(), t.chunks, 1f, false, 0);  // 0 chunks: out = 0
    }

    /**
     * One AdamW step on every parameter of the table, each with its weight decay and its row of
     * {@code hyper} [3 * G], then every gradient zeroed: one launch.
     */
    public void stepAll(ParameterTable table, Tensor gradScale, Tensor hyper, float beta1, float beta2, float eps) {
        Kernel k = updateMulti;
        AdamWTable t = own(k, table);
        if (!isScalar(gradScale)) throw shape(k, "gradScale " + gradScale.describe() + " must be a scalar");
        try {
            t.checkHyper(hyper);
        } catch (IllegalArgumentException e) {
            throw shape(k, e.getMessage());
        }
        launcher.args().ptr(t.pointers.address()).ptr(t.sizes.address()).ptr(t.decay.address())
                .ptr(t.hyperRow.address()).ptr(t.chunkTensor.address()).ptr(t.chunkStart.address()).i32(t.tensors).i32(CHUNK)
                .ptr(operands.f32(k, gradScale)).ptr(operands.f32(k, hyper)).f32(beta1).f32(beta2).f32(eps);
        if (t.chunks == 0) return;
        launcher.launch(k, t.chunks, Launcher.BLOCK);
    }

    /** {@code table} as one this launcher built and has not closed, or a clear error. */
    private AdamWTable own(Kernel k, ParameterTable table) {
        if (!(table instanceof AdamWTable t) || t.owner != this) {
            throw shape(k, "a parameter table must come from this CUDA backend's parameterTable, not a "
                    + table.getClass().getSimpleName() + " built elsewhere");
        }
        if (t.closed()) throw shape(k, "the parameter table was closed");
        return t;
    }
}
