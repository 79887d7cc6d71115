package io.electra.kernels.ops;

import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;

import static io.electra.kernels.ops.Operands.shape;

/** Launcher for softmax.cu: one warp per row, 8 rows per block. */
public final class SoftmaxKernels {
    private static final int ROWS_PER_BLOCK = Launcher.BLOCK / 32;
    private final Launcher launcher;
    private final Operands operands;
    private final Kernel forward, forwardMasked, backward;

    public SoftmaxKernels(CudaRuntime runtime, Operands operands) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        forward = runtime.kernel(Family.SOFTMAX, "softmax_forward");
        forwardMasked = runtime.kernel(Family.SOFTMAX, "softmax_forward_masked");
        backward = runtime.kernel(Family.SOFTMAX, "softmax_backward");
    }

    public void forward(Tensor out, Tensor in) {
        if (!out.sameShape(in)) throw shape(forward, "out " + out.describe() + " and in " + in.describe() + " differ");
        int rows = in.rowsFlat(), cols = in.cols();
        if (in.size() == 0) return;
        launcher.args().ptr(operands.f32(forward, out)).ptr(operands.f32(forward, in)).i32(rows).i32(cols);
        launcher.launch(forward, blocks(rows), Launcher.BLOCK);
    }

    /** dIn += out * (dOut - sum(dOut * out)) per row. */
    public void backward(Tensor dIn, Tensor dOut, Tensor out) {
        if (!dIn.sameShape(out) || !dOut.sameShape(out)) {
            throw shape(backward, "dIn " + dIn.describe() + ", dOut " + dOut.describe() + ", out " + out.describe() + " differ");
        }
        if (out.size() == 0) return;
        backward(operands.f32(backward, dIn), operands.f32(backward, dOut), operands.f32(backward, out), out.rowsFlat(),
                out.cols(), 1f, true);
    }

    /** Attention scores [B*H*T, T] to probabilities; mask row = row / rowsPerBatch of keyMask [B, T]. */
    void forwardMasked(long out, long in, long keyMask, int rows, int cols, int rowsPerBatch) {
        launcher.args().ptr(out).ptr(in).ptr(keyMask).i32(rows).i32(cols).i32(rowsPerBatch);
        launcher.launch(forwardMasked, blocks(rows), Launcher.BLOCK);
    }

    /** dIn (=|+=) scale * out * (dOut - sum(dOut * out)); dIn may be dOut. */
    void backward(long dIn, long dOut, long out, int rows, int cols, float scale, boolean accumulate) {
        launcher.args().ptr(dIn).ptr(dOut).ptr(out).i32(rows).i32(cols).f32(scale).i32(accumulate ? 1 : 0);
        launcher.launch(backward, blocks(rows), Launcher.BLOCK);
    }

    Kernel maskedKernel() {
        return forwardMasked;
    }

    private static int blocks(int rows) {
        return (rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
    }
}
