package io.electra.kernels.ops;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;

import static io.electra.kernels.ops.Operands.shape;

/**
 * Launcher for heads.cu: [B, T, H*D] <-> [B, H, T, D], each side F32 or BF16 (a BF16 out is rounded
 * once, so a mixed-precision split feeds bf16 attention without a separate conversion pass).
 */
public final class HeadsKernels {
    private final Launcher launcher;
    private final Operands operands;
    private final Kernel[] split, merge;  // by index(in, out)

    public HeadsKernels(CudaRuntime runtime, Operands operands) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        split = new Kernel[] {runtime.kernel(Family.HEADS, "heads_forward_split_f32"),
                runtime.kernel(Family.HEADS, "heads_forward_split_f32_to_bf16"),
                runtime.kernel(Family.HEADS, "heads_forward_split_bf16_to_f32"),
                runtime.kernel(Family.HEADS, "heads_forward_split_bf16")};
        merge = new Kernel[] {runtime.kernel(Family.HEADS, "heads_forward_merge_f32"),
                runtime.kernel(Family.HEADS, "heads_forward_merge_f32_to_bf16"),
                runtime.kernel(Family.HEADS, "heads_forward_merge_bf16_to_f32"),
                runtime.kernel(Family.HEADS, "heads_forward_merge_bf16")};
    }

    /** in [B,T,H*D] to out [B,H,T,D]. */
    public void split(Tensor out, Tensor in, int heads, boolean accumulate) {
        Kernel k = split[index(in.dtype(), out.dtype())];
        if (in.rank() != 3 || heads <= 0 || in.dim(2) % heads != 0) {
            throw shape(k, "in " + in.describe() + " must be [B, T, H*D] with H = " + heads);
        }
        int B = in.dim(0), T = in.dim(1), D = in.dim(2) / heads;
        if (!out.sameShape(B, heads, T, D)) throw shape(k, "out " + out.describe() + " must be [" + B + ", " + heads + ", " + T + ", " + D + "]");
        run(k, out, in, B, T, heads, D, accumulate);
    }

    /** in [B,H,T,D] to out [B,T,H*D]. */
    public void merge(Tensor out, Tensor in, boolean accumulate) {
        Kernel k = merge[index(in.dtype(), out.dtype())];
        if (in.rank() != 4) throw shape(k, "in " + in.describe() + " must be [B, H, T, D]");
        int B = in.dim(0), H = in.dim(1), T = in.dim(2), D = in.dim(3);
        if (!out.sameShape(B, T, H * D)) throw shape(k, "out " + out.describe() + " must be [" + B + ", " + T + ", " + H * D + "]");
        run(k, out, in, B, T, H, D, accumulate);
    }

    private void run(Kernel k, Tensor out, Tensor in, int B, int T, int H, int D, boolean accumulate) {
        long n = in.size();
        long pOut = operands.f32OrBf16(k, out), pIn = operands.f32OrBf16(k, in);
        if (n == 0) return;
        launcher.args().ptr(pOut).ptr(pIn).i32(B).i32(T).i32(H).i32(D).i32(accumulate ? 1 : 0);
        launcher.launch(k, launcher.gridStride(n), Launcher.BLOCK);
    }

    private static int index(DType in, DType out) {
        return (in == DType.BF16 ? 2 : 0) + (out == DType.BF16 ? 1 : 0);
    }
}
