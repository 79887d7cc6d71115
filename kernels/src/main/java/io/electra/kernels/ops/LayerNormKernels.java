package io.electra.kernels.ops;

import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;
import io.electra.kernels.runtime.Workspace;

import static io.electra.kernels.ops.Operands.shape;

/** Launcher for layernorm.cu: one warp per row, 8 rows per block; backward in chunks of 32 rows. */
public final class LayerNormKernels {
    private static final int ROWS_PER_BLOCK = Launcher.BLOCK / 32;
    private static final int ROWS_PER_CHUNK = 32;

    private final Launcher launcher;
    private final Operands operands;
    private final ReduceKernels reduce;
    private final Workspace workspace;
    private final Kernel forward, forwardResidual, backward;

    public LayerNormKernels(CudaRuntime runtime, Operands operands, ReduceKernels reduce) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        this.reduce = reduce;
        this.workspace = runtime.workspace();
        forward = runtime.kernel(Family.LAYERNORM, "layernorm_forward");
        forwardResidual = runtime.kernel(Family.LAYERNORM, "layernorm_forward_residual");
        backward = runtime.kernel(Family.LAYERNORM, "layernorm_backward");
    }

    /** out = (in - mean) * rstd * weight + bias per row; saves mean, rstd [rows]. */
    public void forward(Tensor out, Tensor mean, Tensor rstd, Tensor in, Tensor weight, Tensor bias, float eps) {
        int rows = in.rowsFlat(), C = in.cols();
        checkRowwise(forward, out, in, mean, rstd, weight, bias, rows, C);
        if (rows == 0) return;
        launcher.args().ptr(operands.f32(forward, out)).ptr(operands.f32(forward, mean)).ptr(operands.f32(forward, rstd))
                .ptr(operands.f32(forward, in)).ptr(operands.f32(forward, weight)).ptr(operands.f32(forward, bias))
                .i32(rows).i32(C).f32(eps);
        launcher.launch(forward, blocks(rows), Launcher.BLOCK);
    }

    /** residual = a + b, out = LayerNorm(residual): the add before each post-LN block, fused. */
    public void forwardResidual(Tensor out, Tensor residual, Tensor mean, Tensor rstd, Tensor a, Tensor b, Tensor weight,
                                Tensor bias, float eps) {
        int rows = a.rowsFlat(), C = a.cols();
        checkRowwise(forwardResidual, out, a, mean, rstd, weight, bias, rows, C);
        if (!b.sameShape(a) || !residual.sameShape(a)) {
            throw shape(forwardResidual, "a " + a.describe() + ", b " + b.describe() + ", residual " + residual.describe()
                    + " must have one shape");
        }
        if (rows == 0) return;
        Kernel k = forwardResidual;
        launcher.args().ptr(operands.f32(k, out)).ptr(operands.f32(k, residual)).ptr(operands.f32(k, mean))
                .ptr(operands.f32(k, rstd)).ptr(operands.f32(k, a)).ptr(operands.f32(k, b)).ptr(operands.f32(k, weight))
                .ptr(operands.f32(k, bias)).i32(rows).i32(C).f32(eps);
        launcher.launch(k, blocks(rows), Launcher.BLOCK);
    }

    /** dIn += ..., dWeight += ..., dBias += ... from the saved statistics. */
    public void backward(Tensor dIn, Tensor dWeight, Tensor dBias, Tensor dOut, Tensor in, Tensor mean, Tensor rstd,
                         Tensor weight) {
        int rows = in.rowsFlat(), C = in.cols();
        checkRowwise(backward, dOut, in, mean, rstd, weight, dBias, rows, C);
        if (!dIn.sameShape(in)) throw shape(backward, "dIn " + dIn.describe() + " and in " + in.describe() + " differ");
        if (dWeight.size() != C) throw shape(backward, "dWeight " + dWeight.describe() + " must be [" + C + "]");
        long dW = operands.f32(backward, dWeight), dB = operands.f32(backward, dBias);
        if (rows == 0 || C == 0) return;
        int chunks = (rows + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
        long partialBytes = 8L * chunks * C;  // [chunks, 2C]: dWeight then dBias
        workspace.reserve(partialBytes, 1);
        long partials = workspace.take(partialBytes);
        Kernel k = backward;
        launcher.args().ptr(operands.f32(k, dIn)).ptr(partials).ptr(operands.f32(k, dOut)).ptr(operands.f32(k, in))
                .ptr(operands.f32(k, mean)).ptr(operands.f32(k, rstd)).ptr(operands.f32(k, weight))
                .i32(rows).i32(C).i32(ROWS_PER_CHUNK);
        launcher.launch(k, chunks, Launcher.BLOCK);
        reduce.columns(dW, partials, chunks, C, 2 * C, true);
        reduce.columns(dB, partials + 4L * C, chunks, C, 2 * C, true);
    }

    private static void checkRowwise(Kernel k, Tensor out, Tensor in, Tensor mean, Tensor rstd, Tensor weight, Tensor bias,
                                     int rows, int C) {
        if (!out.sameShape(in)) throw shape(k, out.describe() + " and " + in.describe() + " differ");
        if (mean.size() != rows || rstd.size() != rows) {
            throw shape(k, "mean " + mean.describe() + " and rstd " + rstd.describe() + " must hold " + rows + " rows");
        }
        if (weight.size() != C || bias.size() != C) {
            throw shape(k, "weight " + weight.describe() + " and bias " + bias.describe() + " must be [" + C + "]");
        }
    }

    private static int blocks(int rows) {
        return (rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
    }
}
