package io.electra.kernels.ops;

import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.KernelArgs;
import io.electra.kernels.runtime.Launcher;
import io.electra.kernels.runtime.Workspace;

import static io.electra.kernels.ops.Operands.shape;

/** Launcher for layernorm.cu: one warp per row, 8 rows per block; backward in chunks of 32 rows. */
public final class LayerNormKernels {
    private static final int ROWS_PER_BLOCK = Launcher.BLOCK / 32;
    private static final int ROWS_PER_CHUNK = 32;
    /** The stream argument when p = 0: the kernels never draw from it. */
    private static final RngKey NO_DROPOUT = new RngKey(0, 0, 0);

    private final Launcher launcher;
    private final Operands operands;
    private final ReduceKernels reduce;
    private final Workspace workspace;
    private final Kernel forward, forwardResidual, backward, backwardResidual, backwardResidualLinear;
    /** Widest row the _linear variant serves: its lanes keep their columns' sums in registers. */
    public static final int LINEAR_MAX_C = 1024;

    public LayerNormKernels(CudaRuntime runtime, Operands operands, ReduceKernels reduce) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        this.reduce = reduce;
        this.workspace = runtime.workspace();
        forward = runtime.kernel(Family.LAYERNORM, "layernorm_forward");
        forwardResidual = runtime.kernel(Family.LAYERNORM, "layernorm_forward_dropout_residual");
        backward = runtime.kernel(Family.LAYERNORM, "layernorm_backward");
        backwardResidual = runtime.kernel(Family.LAYERNORM, "layernorm_backward_dropout_residual");
        backwardResidualLinear = runtime.kernel(Family.LAYERNORM, "layernorm_backward_dropout_residual_linear");
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

    /**
     * sum = dropout(x) + residual, out = LayerNorm(sum): the tail of a post-LN block (p = 0: no dropout);
     * outBf16 (may be null) = out rounded to bf16.
     */
    public void forwardDropoutResidual(Tensor out, Tensor outBf16, Tensor sum, Tensor mean, Tensor rstd, Tensor x, Tensor residual,
                                       Tensor weight, Tensor bias, float eps, float p, RngKey key) {
        Kernel k = forwardResidual;
        int rows = x.rowsFlat(), C = x.cols();
        checkRowwise(k, out, x, mean, rstd, weight, bias, rows, C);
        if (!residual.sameShape(x) || !sum.sameShape(x)) {
            throw shape(k, "x " + x.describe() + ", residual " + residual.describe() + ", sum " + sum.describe()
                    + " must have one shape");
        }
        checkDropout(k, p, key);
        if (outBf16 != null && !outBf16.sameShape(out)) throw shape(k, "outBf16 " + outBf16.describe() + " and out " + out.describe() + " differ");
        long outBf16Address = outBf16 == null ? 0 : operands.bf16(k, outBf16);
        if (rows == 0) return;
        KernelArgs args = launcher.args().ptr(operands.f32(k, out)).ptr(outBf16Address).ptr(operands.f32(k, sum)).ptr(operands.f32(k, mean))
                .ptr(operands.f32(k, rstd)).ptr(operands.f32(k, x)).ptr(operands.f32(k, residual))
                .ptr(operands.f32(k, weight)).ptr(operands.f32(k, bias)).i32(rows).i32(C).f32(eps);
        withDropout(args, p, key);
        launcher.launch(k, blocks(rows), Launcher.BLOCK);
    }

    /**
     * The backward of {@link #forwardDropoutResidual}: dResidual (=|+=) dSum, dX (=|+=) dSum * keep, either
     * may be null; dWeight, dBias += their column sums in chunk order.
     */
    public void backwardDropoutResidual(Tensor dX, boolean accumulateX, Tensor dResidual, boolean accumulateResidual,
                                        Tensor dWeight, Tensor dBias, Tensor dOut, Tensor sum, Tensor mean, Tensor rstd,
                                        Tensor weight, float p, RngKey key) {
        backwardResidual(backwardResidual, dX, accumulateX, null, dResidual, accumulateResidual, dWeight, dBias, dOut, sum, mean,
                rstd, weight, p, key);
    }

    /**
     * {@link #backwardDropoutResidual} where x is a linear layer's output (C at most {@link #LINEAR_MAX_C}):
     * dX (F32, or BF16 rounded once) is overwritten, ready for that layer's GEMMs, and dXBias (may be null)
     * += the column sums of the f32 dX values, in chunk order: the layer's bias gradient in the same pass.
     */
    public void backwardDropoutResidualLinear(Tensor dX, Tensor dXBias, Tensor dResidual, boolean accumulateResidual,
                                              Tensor dWeight, Tensor dBias, Tensor dOut, Tensor sum, Tensor mean, Tensor rstd,
                                              Tensor weight, float p, RngKey key) {
        Kernel k = backwardResidualLinear;
        if (sum.cols() > LINEAR_MAX_C) throw shape(k, "rows of " + sum.cols() + " exceed the " + LINEAR_MAX_C + " it sums in registers");
        if (dX == null) throw shape(k, "dX is required");
        if (dXBias != null && (dXBias.rank() != 1 || dXBias.size() != sum.cols())) {
            throw shape(k, "dXBias " + dXBias.describe() + " must be [" + sum.cols() + "]");
        }
        backwardResidual(k, dX, false, dXBias, dResidual, accumulateResidual, dWeight, dBias, dOut, sum, mean, rstd, weight, p, key);
    }

    /**
     * Both backward kernels take the same arguments; the _linear one reads the flag after dX as "dX is
     * BF16" (it never accumulates) and writes [chunks, 3C] partials, the third C its linear's bias.
     */
    private void backwardResidual(Kernel k, Tensor dX, boolean accumulateX, Tensor dXBias, Tensor dResidual,
                                  boolean accumulateResidual, Tensor dWeight, Tensor dBias, Tensor dOut, Tensor sum, Tensor mean,
                                  Tensor rstd, Tensor weight, float p, RngKey key) {
        boolean linear = k == backwardResidualLinear;
        int rows = sum.rowsFlat(), C = sum.cols(), width = linear ? 3 * C : 2 * C;
        checkRowwise(k, dOut, sum, mean, rstd, weight, dBias, rows, C);
        for (Tensor d : new Tensor[]{dX, dResidual}) {
            if (d != null && !d.sameShape(sum)) throw shape(k, "gradient " + d.describe() + " and sum " + sum.describe() + " differ");
        }
        if (dX != null && dX == dResidual) throw shape(k, "dX and dResidual must be different tensors");
        if (dWeight.size() != C) throw shape(k, "dWeight " + dWeight.describe() + " must be [" + C + "]");
        checkDropout(k, p, key);
        boolean bf16 = dX != null && dX.dtype() == DType.BF16;
        if (bf16 && !linear) throw shape(k, "dX " + dX.describe() + " must be F32");
        long dW = operands.f32(k, dWeight), dB = operands.f32(k, dBias), dXB = dXBias == null ? 0 : operands.f32(k, dXBias);
        long dXAddress = dX == null ? 0 : bf16 ? operands.bf16(k, dX) : operands.f32(k, dX);
        long dRAddress = dResidual == null ? 0 : operands.f32(k, dResidual);
        if (rows == 0 || C == 0) return;
        int chunks = (rows + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
        long partialBytes = 4L * chunks * width;  // [chunks, width]: dWeight, dBias (, the linear's bias)
        workspace.reserve(partialBytes, 1);
        long partials = workspace.take(partialBytes);
        int flagX = linear ? (bf16 ? 1 : 0) : (accumulateX ? 1 : 0);
        KernelArgs args = launcher.args().ptr(dXAddress).i32(flagX).ptr(dRAddress).i32(accumulateResidual ? 1 : 0)
                .ptr(partials).ptr(operands.f32(k, dOut)).ptr(operands.f32(k, sum)).ptr(operands.f32(k, mean))
                .ptr(operands.f32(k, rstd)).ptr(operands.f32(k, weight)).i32(rows).i32(C).i32(ROWS_PER_CHUNK);
        withDropout(args, p, key);
        launcher.launch(k, chunks, Launcher.BLOCK);
        if (dXBias != null) reduce.columns(partials, chunks, C, width, true, dW, dB, dXB);
        else reduce.columns(partials, chunks, C, width, true, dW, dB);
    }

    private static void checkDropout(Kernel k, float p, RngKey key) {
        if (!(p >= 0f && p < 1f)) throw shape(k, "dropout probability " + p + " is outside [0, 1)");
        if (p > 0f && key == null) throw shape(k, "dropout with p = " + p + " needs an RngKey");
    }

    /** p, the kept scale as the CPU rounds it, and the stream (a fixed dummy key when p = 0). */
    private void withDropout(KernelArgs args, float p, RngKey key) {
        args.f32(p).f32(DropoutKernels.keepScale(p));
        DropoutKernels.withKey(launcher, args, key != null ? key : NO_DROPOUT);
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
        reduce.columns(partials, chunks, C, 2 * C, true, dW, dB);
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
