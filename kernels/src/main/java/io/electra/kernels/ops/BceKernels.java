package io.electra.kernels.ops;

import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;
import io.electra.kernels.runtime.Workspace;

import static io.electra.kernels.ops.Operands.isScalar;
import static io.electra.kernels.ops.Operands.shape;

/** Launcher for bce.cu: elementwise losses, then the masked mean through reduce.cu. */
public final class BceKernels {
    private final Launcher launcher;
    private final Operands operands;
    private final ReduceKernels reduce;
    private final Workspace workspace;
    private final Kernel forward, backward;

    public BceKernels(CudaRuntime runtime, Operands operands, ReduceKernels reduce) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        this.reduce = reduce;
        this.workspace = runtime.workspace();
        forward = runtime.kernel(Family.BCE, "bce_forward");
        backward = runtime.kernel(Family.BCE, "bce_backward");
    }

    /** loss[] = mean over mask != 0 of the stable BCE with logits. */
    public void forward(Tensor loss, Tensor logits, Tensor labels, Tensor mask) {
        int n = check(forward, logits, labels, mask);
        if (!isScalar(loss)) throw shape(forward, "loss " + loss.describe() + " must be a scalar");
        long l = operands.f32(forward, loss), x = operands.f32(forward, logits), y = operands.f32(forward, labels);
        long m = operands.i32(forward, mask);
        workspace.reserve(4L * n, 1);
        long elemLoss = workspace.take(4L * n);
        if (n > 0) {
            launcher.args().ptr(elemLoss).ptr(x).ptr(y).ptr(m).i64(n);
            launcher.launch(forward, launcher.gridStride(n), Launcher.BLOCK);
        }
        long count = reduce.count(m, n, false);
        reduce.sum(l, elemLoss, n, false, 1f, false, count);
    }

    /** dLogits += dLoss * (sigmoid(x) - y) / count where mask != 0. */
    public void backward(Tensor dLogits, Tensor dLoss, Tensor logits, Tensor labels, Tensor mask) {
        int n = check(backward, logits, labels, mask);
        if (dLogits.size() != n) throw shape(backward, "dLogits " + dLogits.describe() + " must hold " + n + " elements");
        if (!isScalar(dLoss)) throw shape(backward, "dLoss " + dLoss.describe() + " must be a scalar");
        long g = operands.f32(backward, dLogits), d = operands.f32(backward, dLoss);
        long x = operands.f32(backward, logits), y = operands.f32(backward, labels), m = operands.i32(backward, mask);
        if (n == 0) return;
        long count = reduce.count(m, n, false);
        launcher.args().ptr(g).ptr(d).ptr(count).ptr(x).ptr(y).ptr(m).i64(n);
        launcher.launch(backward, launcher.gridStride(n), Launcher.BLOCK);
    }

    private static int check(Kernel k, Tensor logits, Tensor labels, Tensor mask) {
        long n = logits.size();
        if (labels.size() != n || mask.size() != n) {
            throw shape(k, "logits " + logits.describe() + ", labels " + labels.describe() + ", mask " + mask.describe()
                    + " must have one size");
        }
        return Math.toIntExact(n);
    }
}
