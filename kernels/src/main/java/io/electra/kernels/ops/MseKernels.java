package io.electra.kernels.ops;

import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;
import io.electra.kernels.runtime.Workspace;

import static io.electra.kernels.ops.Operands.isScalar;
import static io.electra.kernels.ops.Operands.shape;

/** Launcher for mse.cu: elementwise squared errors, then the mean through reduce.cu. */
public final class MseKernels {
    private final Launcher launcher;
    private final Operands operands;
    private final ReduceKernels reduce;
    private final Workspace workspace;
    private final Kernel forward, backward;

    public MseKernels(CudaRuntime runtime, Operands operands, ReduceKernels reduce) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        this.reduce = reduce;
        this.workspace = runtime.workspace();
        forward = runtime.kernel(Family.MSE, "mse_forward");
        backward = runtime.kernel(Family.MSE, "mse_backward");
    }

    /** loss[] = mean((pred - target)^2). */
    public void forward(Tensor loss, Tensor pred, Tensor target) {
        long n = check(forward, pred, target);
        if (!isScalar(loss)) throw shape(forward, "loss " + loss.describe() + " must be a scalar");
        long l = operands.f32(forward, loss), p = operands.f32(forward, pred), t = operands.f32(forward, target);
        workspace.reserve(4L * n, 1);
        long elemLoss = workspace.take(4L * n);
        if (n > 0) {
            launcher.args().ptr(elemLoss).ptr(p).ptr(t).i64(n);
            launcher.launch(forward, launcher.gridStride(n), Launcher.BLOCK);
        }
        reduce.sum(l, elemLoss, n, false, n == 0 ? 0f : 1f / n, false, 0);
    }

    /** dPred += dLoss * 2 (pred - target) / N. */
    public void backward(Tensor dPred, Tensor dLoss, Tensor pred, Tensor target) {
        long n = check(backward, pred, target);
        if (dPred.size() != n) throw shape(backward, "dPred " + dPred.describe() + " must hold " + n + " elements");
        if (!isScalar(dLoss)) throw shape(backward, "dLoss " + dLoss.describe() + " must be a scalar");
        long g = operands.f32(backward, dPred), d = operands.f32(backward, dLoss);
        long p = operands.f32(backward, pred), t = operands.f32(backward, target);
        if (n == 0) return;
        launcher.args().ptr(g).ptr(d).ptr(p).ptr(t).i64(n);
        launcher.launch(backward, launcher.gridStride(n), Launcher.BLOCK);
    }

    private static long check(Kernel k, Tensor pred, Tensor target) {
        if (pred.size() != target.size()) throw shape(k, "pred " + pred.describe() + " and target " + target.describe() + " differ in size");
        return pred.size();
    }
}
