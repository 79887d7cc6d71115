package io.electra.kernels.ops;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;
import io.electra.kernels.runtime.Workspace;

import static io.electra.kernels.ops.Operands.shape;

/**
 * Launcher for elementwise.cu: bias add, add/accumulate, scale, GELU, fused bias+GELU, bias gradient, and a
 * linear layer's output gradient (GELU's derivative, the bf16 rounding and the bias gradient in one pass).
 */
public final class ElementwiseKernels {
    private final Launcher launcher;
    private final Operands operands;
    private final ReduceKernels reduce;
    private final Workspace workspace;
    private final Kernel bias, add, scale, gelu, geluBackward, biasGelu, biasBackward, biasBackwardBf16, linearGradF32,
            linearGradBf16;

    public ElementwiseKernels(CudaRuntime runtime, Operands operands, ReduceKernels reduce) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        this.reduce = reduce;
        this.workspace = runtime.workspace();
        bias = runtime.kernel(Family.ELEMENTWISE, "elementwise_forward_bias");
        add = runtime.kernel(Family.ELEMENTWISE, "elementwise_forward_add");
        scale = runtime.kernel(Family.ELEMENTWISE, "elementwise_forward_scale");
        gelu = runtime.kernel(Family.ELEMENTWISE, "elementwise_forward_gelu");
        geluBackward = runtime.kernel(Family.ELEMENTWISE, "elementwise_backward_gelu");
        biasGelu = runtime.kernel(Family.ELEMENTWISE, "elementwise_forward_bias_gelu");
        biasBackward = runtime.kernel(Family.ELEMENTWISE, "elementwise_backward_bias");
        biasBackwardBf16 = runtime.kernel(Family.ELEMENTWISE, "elementwise_backward_bias_bf16");
        linearGradF32 = runtime.kernel(Family.ELEMENTWISE, "elementwise_backward_linear_grad_f32");
        linearGradBf16 = runtime.kernel(Family.ELEMENTWISE, "elementwise_backward_linear_grad_bf16");
    }

    /** out[N,C] = in[N,C] + bias[C]. */
    public void biasAdd(Tensor out, Tensor in, Tensor b) {
        biasLike(bias, out, in, b);
    }

    /** out[N,C] = gelu(in[N,C] + bias[C]). */
    public void biasGelu(Tensor out, Tensor in, Tensor b) {
        biasLike(biasGelu, out, in, b);
    }

    private void biasLike(Kernel k, Tensor out, Tensor in, Tensor b) {
        int C = in.cols();
        if (!out.sameShape(in)) throw shape(k, "out " + out.describe() + " and in " + in.describe() + " differ");
        if (b.size() != C || b.rank() != 1) throw shape(k, "bias " + b.describe() + " must be [" + C + "]");
        long n = in.size();
        if (n == 0) return;
        launcher.args().ptr(operands.f32(k, out)).ptr(operands.f32(k, in)).ptr(operands.f32(k, b)).i64(n).i32(C);
        launcher.launch(k, launcher.gridStride(n), Launcher.BLOCK);
    }

    /** out = alpha * a + beta * b, same shapes. */
    public void add(Tensor out, Tensor a, float alpha, Tensor b, float beta) {
        if (!a.sameShape(b) || !out.sameShape(a)) {
            throw shape(add, "out " + out.describe() + ", a " + a.describe() + ", b " + b.describe() + " must have one shape");
        }
        addRaw(out, a, alpha, b, beta);
    }

    /** dst += alpha * src, same size. */
    public void accumulate(Tensor dst, Tensor src, float alpha) {
        if (dst.size() != src.size()) throw shape(add, "dst " + dst.describe() + " and src " + src.describe() + " differ in size");
        addRaw(dst, dst, 1f, src, alpha);
    }

    private void addRaw(Tensor out, Tensor a, float alpha, Tensor b, float beta) {
        long n = out.size();
        if (n == 0) return;
        launcher.args().ptr(operands.f32(add, out)).ptr(operands.f32(add, a)).f32(alpha).ptr(operands.f32(add, b)).f32(beta).i64(n);
        launcher.launch(add, launcher.gridStride(n), Launcher.BLOCK);
    }

    /** out = s * in. */
    public void scale(Tensor out, Tensor in, float s) {
        if (out.size() != in.size()) throw shape(scale, "out " + out.describe() + " and in " + in.describe() + " differ in size");
        long n = in.size();
        if (n == 0) return;
        launcher.args().ptr(operands.f32(scale, out)).ptr(operands.f32(scale, in)).f32(s).i64(n);
        launcher.launch(scale, launcher.gridStride(n), Launcher.BLOCK);
    }

    /** out = gelu(in). */
    public void gelu(Tensor out, Tensor in) {
        if (out.size() != in.size()) throw shape(gelu, "out " + out.describe() + " and in " + in.describe() + " differ in size");
        long n = in.size();
        if (n == 0) return;
        launcher.args().ptr(operands.f32(gelu, out)).ptr(operands.f32(gelu, in)).i64(n);
        launcher.launch(gelu, launcher.gridStride(n), Launcher.BLOCK);
    }

    /** dIn += dOut * gelu'(in). */
    public void geluBackward(Tensor dIn, Tensor dOut, Tensor in) {
        if (dIn.size() != in.size() || dOut.size() != in.size()) {
            throw shape(geluBackward, "dIn " + dIn.describe() + ", dOut " + dOut.describe() + ", in " + in.describe() + " differ in size");
        }
        long n = in.size();
        if (n == 0) return;
        launcher.args().ptr(operands.f32(geluBackward, dIn)).ptr(operands.f32(geluBackward, dOut)).ptr(operands.f32(geluBackward, in)).i64(n);
        launcher.launch(geluBackward, launcher.gridStride(n), Launcher.BLOCK);
    }

    /** dBias[C] += column sums of dOut[N,C], in a fixed order (chunk partials, then chunk order). */
    public void biasBackward(Tensor dBias, Tensor dOut) {
        int C = dOut.cols(), rows = dOut.rowsFlat();
        boolean bf16 = dOut.dtype() == DType.BF16;  // mixed precision's attention gradients, widened exactly
        Kernel k = bf16 ? biasBackwardBf16 : biasBackward;
        if (dBias.size() != C || dBias.rank() != 1) throw shape(k, "dBias " + dBias.describe() + " must be [" + C + "]");
        long dBiasAddress = operands.f32(k, dBias), dOutAddress = bf16 ? operands.bf16(k, dOut) : operands.f32(k, dOut);
        if (rows == 0 || C == 0) return;
        int rowsPerChunk = rowsPerChunk(rows), chunks = (rows + rowsPerChunk - 1) / rowsPerChunk;
        long partials = partials(chunks, C);
        launcher.args().ptr(partials).ptr(dOutAddress).i32(rows).i32(C).i32(rowsPerChunk);
        launcher.launch(k, chunks, (C + Launcher.BLOCK - 1) / Launcher.BLOCK, 1, Launcher.BLOCK, 0);
        reduce.columns(partials, chunks, C, C, true, dBiasAddress);
    }

    /**
     * gradOut[N,C] = g = dOut (* gelu'(pre) when pre is not null), F32 or rounded once to BF16; dBias[C]
     * (may be null) += column sums of g, in biasBackward's fixed order.
     */
    public void linearOutputGrad(Tensor gradOut, Tensor dBias, Tensor dOut, Tensor pre) {
        boolean bf16 = gradOut.dtype() == DType.BF16;
        Kernel k = bf16 ? linearGradBf16 : linearGradF32;
        int C = dOut.cols(), rows = dOut.rowsFlat();
        if (dOut.rank() != 2 || !gradOut.sameShape(dOut) || (pre != null && !pre.sameShape(dOut))) {
            throw shape(k, "gradOut " + gradOut.describe() + ", dOut " + dOut.describe()
                    + (pre == null ? "" : ", pre " + pre.describe()) + " must be one [N, C] shape");
        }
        if (dBias != null && (dBias.size() != C || dBias.rank() != 1)) throw shape(k, "dBias " + dBias.describe() + " must be [" + C + "]");
        long out = bf16 ? operands.bf16(k, gradOut) : operands.f32(k, gradOut), dOutAddress = operands.f32(k, dOut);
        long preAddress = pre == null ? 0 : operands.f32(k, pre), dBiasAddress = dBias == null ? 0 : operands.f32(k, dBias);
        if (rows == 0 || C == 0) return;
        int rowsPerChunk = rowsPerChunk(rows), chunks = (rows + rowsPerChunk - 1) / rowsPerChunk;
        long partials = dBias == null ? 0 : partials(chunks, C);
        launcher.args().ptr(out).ptr(partials).ptr(dOutAddress).ptr(preAddress).i32(rows).i32(C).i32(rowsPerChunk);
        launcher.launch(k, chunks, (C + Launcher.BLOCK - 1) / Launcher.BLOCK, 1, Launcher.BLOCK, 0);
        if (dBias != null) reduce.columns(partials, chunks, C, C, true, dBiasAddress);
    }

    /** At most 256 chunks of rows: the partials stay small and their sum is one short pass per column. */
    private static int rowsPerChunk(int rows) {
        return Math.max(1, (rows + 255) / 256);
    }

    /** Workspace for [chunks, C] f32 column partials. */
    private long partials(int chunks, int C) {
        workspace.reserve(4L * chunks * C, 1);
        return workspace.take(4L * chunks * C);
    }
}
