package io.electra.kernels.ops;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.ErrorWord;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;
import io.electra.kernels.runtime.Workspace;

import static io.electra.kernels.ops.Operands.isScalar;
import static io.electra.kernels.ops.Operands.shape;

/** Launcher for crossentropy.cu: one block per selected row; the mean over valid rows via reduce.cu. */
public final class CrossEntropyKernels {
    private final Launcher launcher;
    private final Operands operands;
    private final ReduceKernels reduce;
    private final Workspace workspace;
    private final Kernel forward, backward, backwardLinear;

    public CrossEntropyKernels(CudaRuntime runtime, Operands operands, ReduceKernels reduce) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        this.reduce = reduce;
        this.workspace = runtime.workspace();
        forward = runtime.kernel(Family.CROSSENTROPY, "crossentropy_forward");
        backward = runtime.kernel(Family.CROSSENTROPY, "crossentropy_backward");
        backwardLinear = runtime.kernel(Family.CROSSENTROPY, "crossentropy_backward_linear");
    }

    /** loss[] = mean over valid rows of lse - logit[target]; saves lse [K]. */
    public void forward(Tensor loss, Tensor lse, Tensor logits, Tensor targets) {
        int K = check(forward, logits, lse, targets);
        if (!isScalar(loss)) throw shape(forward, "loss " + loss.describe() + " must be a scalar");
        long l = operands.f32(forward, loss), s = operands.f32(forward, lse), x = operands.f32(forward, logits);
        long t = operands.i32(forward, targets);
        workspace.reserve(4L * K, 1);
        long rowLoss = workspace.take(4L * K);
        if (K > 0) {
            launcher.args().ptr(s).ptr(rowLoss).ptr(x).ptr(t).i32(K).i32(logits.cols()).ptr(launcher.errorWord())
                    .i32(ErrorWord.Code.TARGET.bit());
            launcher.launch(forward, K, Launcher.BLOCK);
        }
        long count = reduce.count(t, K, true);
        reduce.sum(l, rowLoss, K, false, 1f, false, count);
    }

    /** dLogits += dLoss * (softmax - onehot) / count for valid rows. */
    public void backward(Tensor dLogits, Tensor dLoss, Tensor logits, Tensor lse, Tensor targets) {
        int K = check(backward, logits, lse, targets);
        if (!dLogits.sameShape(logits)) throw shape(backward, "dLogits " + dLogits.describe() + " and logits " + logits.describe() + " differ");
        if (!isScalar(dLoss)) throw shape(backward, "dLoss " + dLoss.describe() + " must be a scalar");
        long t = operands.i32(backward, targets);
        long g = operands.f32(backward, dLogits), d = operands.f32(backward, dLoss), x = operands.f32(backward, logits);
        long s = operands.f32(backward, lse);
        if (K == 0) return;
        long count = reduce.count(t, K, true);
        launcher.args().ptr(g).ptr(d).ptr(count).ptr(x).ptr(s).ptr(t).i32(K).i32(logits.cols());
        launcher.launch(backward, K, Launcher.BLOCK);
    }

    /**
     * dLogits = dLoss * (softmax - onehot) / count (0 in ignored rows), overwritten, F32 or rounded once to
     * BF16 (the operand of the logits' linear layer's GEMMs); dBias (may be null) += its column sums of
     * the f32 values, in chunk order: that layer's bias gradient, in the same pass.
     */
    public void backwardLinear(Tensor dLogits, Tensor dBias, Tensor dLoss, Tensor logits, Tensor lse, Tensor targets) {
        Kernel k = backwardLinear;
        int K = check(k, logits, lse, targets), V = logits.cols();
        if (!dLogits.sameShape(logits)) throw shape(k, "dLogits " + dLogits.describe() + " and logits " + logits.describe() + " differ");
        if (!isScalar(dLoss)) throw shape(k, "dLoss " + dLoss.describe() + " must be a scalar");
        if (dBias != null && (dBias.rank() != 1 || dBias.size() != V)) throw shape(k, "dBias " + dBias.describe() + " must be [" + V + "]");
        boolean bf16 = dLogits.dtype() == DType.BF16;
        long g = bf16 ? operands.bf16(k, dLogits) : operands.f32(k, dLogits), d = operands.f32(k, dLoss);
        long x = operands.f32(k, logits), s = operands.f32(k, lse), t = operands.i32(k, targets);
        long b = dBias == null ? 0 : operands.f32(k, dBias);
        if (K == 0 || V == 0) return;
        int rowsPerChunk = Math.max(1, (K + 63) / 64), chunks = (K + rowsPerChunk - 1) / rowsPerChunk;
        long partials = 0;
        if (dBias != null) {
            workspace.reserve(4L * chunks * V, 1);
            partials = workspace.take(4L * chunks * V);
        }
        long count = reduce.count(t, K, true);
        launcher.args().ptr(g).i32(bf16 ? 1 : 0).ptr(partials).ptr(d).ptr(count).ptr(x).ptr(s).ptr(t).i32(K).i32(V)
                .i32(rowsPerChunk);
        launcher.launch(k, chunks, (V + Launcher.BLOCK - 1) / Launcher.BLOCK, 1, Launcher.BLOCK, 0);
        if (dBias != null) reduce.columns(partials, chunks, V, V, true, b);
    }

    private static int check(Kernel k, Tensor logits, Tensor lse, Tensor targets) {
        if (logits.rank() != 2) throw shape(k, "logits " + logits.describe() + " must be [K, V]");
        int K = logits.dim(0);
        if (targets.size() != K || lse.size() != K) {
            throw shape(k, "targets " + targets.describe() + " and lse " + lse.describe() + " must hold " + K + " rows");
        }
        return K;
    }
}
