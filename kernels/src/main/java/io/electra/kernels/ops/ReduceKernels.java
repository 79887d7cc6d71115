package io.electra.kernels.ops;

import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.DeviceBlock;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;

import static io.electra.kernels.ops.Operands.isScalar;
import static io.electra.kernels.ops.Operands.shape;

/**
 * Launcher for reduce.cu: deterministic sums (block partials then one finishing block), column
 * sums of partials, masked counts, the sum backward and the clip factor. Its partials and count
 * live in a small buffer of its own, so losses can reduce without touching the workspace.
 */
public final class ReduceKernels {
    /** Most block partials a sum uses; each block reads at least 2048 elements. */
    static final int MAX_PARTIALS = 1024;
    private static final int FINISH_BLOCK = 1024;

    private final Launcher launcher;
    private final Operands operands;
    private final Kernel partial, finalize, columns, count, sumBackward, clip;
    private final long partials, countScalar;  // [MAX_PARTIALS] and [1] floats

    public ReduceKernels(CudaRuntime runtime, Operands operands) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        partial = runtime.kernel(Family.REDUCE, "reduce_forward_partial");
        finalize = runtime.kernel(Family.REDUCE, "reduce_forward_finalize");
        columns = runtime.kernel(Family.REDUCE, "reduce_forward_columns");
        count = runtime.kernel(Family.REDUCE, "reduce_forward_count");
        sumBackward = runtime.kernel(Family.REDUCE, "reduce_backward_sum");
        clip = runtime.kernel(Family.REDUCE, "reduce_forward_clip");
        DeviceBlock scratch = runtime.allocator().allocatePersistent(4L * (MAX_PARTIALS + 1));
        partials = scratch.address();
        countScalar = partials + 4L * MAX_PARTIALS;
    }

    /** out[] = alpha * sum(in) (the mean with alpha = 1/n). */
    public void sum(Tensor out, Tensor in, float alpha) {
        if (!isScalar(out)) throw shape(partial, "out " + out.describe() + " must be a scalar");
        sum(operands.f32(finalize, out), operands.f32(partial, in), in.size(), false, alpha, false, 0);
    }

    /** out[] += sum(in^2). */
    public void sumSquaresAccumulate(Tensor out, Tensor in) {
        if (!isScalar(out)) throw shape(partial, "out " + out.describe() + " must be a scalar");
        sum(operands.f32(finalize, out), operands.f32(partial, in), in.size(), true, 1f, true, 0);
    }

    /** dIn += alpha * dOut[]. */
    public void sumBackward(Tensor dIn, Tensor dOut, float alpha) {
        if (!isScalar(dOut)) throw shape(sumBackward, "dOut " + dOut.describe() + " must be a scalar");
        long n = dIn.size();
        if (n == 0) return;
        launcher.args().ptr(operands.f32(sumBackward, dIn)).ptr(operands.f32(sumBackward, dOut)).f32(alpha).i64(n);
        launcher.launch(sumBackward, launcher.gridStride(n), Launcher.BLOCK);
    }

    /** scale[] = min(1, maxNorm / (sqrt(sumSquares[]) + 1e-6)). */
    public void clipFactor(Tensor scale, Tensor sumSquares, float maxNorm) {
        if (!isScalar(scale) || !isScalar(sumSquares)) {
            throw shape(clip, "scale " + scale.describe() + " and sumSquares " + sumSquares.describe() + " must be scalars");
        }
        launcher.args().ptr(operands.f32(clip, scale)).ptr(operands.f32(clip, sumSquares)).f32(maxNorm);
        launcher.launch(clip, 1, 32);
    }

    /**
     * out[0] (=|+=) alpha * sum(in[0..n) or its squares) / divisor[0] (no division when divisor is 0).
     * The partition into blocks depends on n only, so the bits do not change between runs.
     */
    void sum(long out, long in, long n, boolean squares, float alpha, boolean accumulate, long divisor) {
        int blocks = (int) Math.max(1, Math.min(MAX_PARTIALS, (n + 2047) / 2048));
        launcher.args().ptr(partials).ptr(in).i64(n).i32(squares ? 1 : 0);
        launcher.launch(partial, blocks, Launcher.BLOCK);
        finalize(out, partials, blocks, alpha, accumulate, divisor);
    }

    /**
     * out[0] (=|+=) alpha * sum(partials[0..count)) / divisor[0], in one block and a fixed order: the
     * second stage of every sum here, and of the table's gradient norm (AdamWKernels).
     */
    void finalize(long out, long partialsAddress, int count, float alpha, boolean accumulate, long divisor) {
        launcher.args().ptr(out).ptr(partialsAddress).i32(count).f32(alpha).i32(accumulate ? 1 : 0).ptr(divisor);
        launcher.launch(finalize, 1, FINISH_BLOCK);
    }

    /** reduce.cu's COLUMN_LANES: 32 columns x this many lanes per block. */
    private static final int COLUMN_LANES = 16;

    /**
     * outs[s][c] (=|+=) sum over g of partials[g * stride + s * C + c], c in [0, C), for each of the one
     * to three outputs (the segments of a partial row): one launch however many.
     */
    void columns(long partialsAddress, int groups, int C, int stride, boolean accumulate, long... outs) {
        if (outs.length < 1 || outs.length > 3 || (long) outs.length * C > stride) {
            throw new IllegalArgumentException("reduce_forward_columns: " + outs.length + " segments of " + C
                    + " columns in partial rows of " + stride);
        }
        long width = (long) outs.length * C;
        if (width == 0) return;
        launcher.args().ptr(outs[0]).ptr(outs.length > 1 ? outs[1] : 0).ptr(outs.length > 2 ? outs[2] : 0).ptr(partialsAddress)
                .i32(groups).i32(C).i32(outs.length).i32(stride).i32(accumulate ? 1 : 0);
        launcher.launch(columns, (int) ((width + 31) / 32), 32 * COLUMN_LANES);
    }

    /** Counts in[i] >= 0 (validTargets) or in[i] != 0 into a device float; returns its address. */
    long count(long in, int n, boolean validTargets) {
        launcher.args().ptr(countScalar).ptr(in).i32(n).i32(validTargets ? 0 : 1);
        launcher.launch(count, 1, FINISH_BLOCK);
        return countScalar;
    }
}
