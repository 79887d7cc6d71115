package io.electra.kernels.ops;

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
    private final Kernel forward, backward;

    public CrossEntropyKernels(CudaRuntime runtime, Operands operands, ReduceKernels reduce) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        this.reduce = reduce;
        this.workspace = runtime.workspace();
        forward = runtime.kernel(Family.CROSSENTROPY, "crossentropy_forward");
        backward = runtime.kernel(Family.CROSSENTROPY, "crossentropy_backward");
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

    private static int check(Kernel k, Tensor logits, Tensor lse, Tensor targets) {
        if (logits.rank() != 2) throw shape(k, "logits " + logits.describe() + " must be [K, V]");
        int K = logits.dim(0);
        if (targets.size() != K || lse.size() != K) {
            throw shape(k, "targets " + targets.describe() + " and lse " + lse.describe() + " must hold " + K + " rows");
        }
        return K;
    }
}
