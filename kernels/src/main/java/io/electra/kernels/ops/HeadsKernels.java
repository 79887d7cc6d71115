package io.electra.kernels.ops;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;

import java.util.Arrays;

import static io.electra.kernels.ops.Operands.shape;

/**
 * Launcher for heads.cu: [B, T, H*D] <-> [B, H, T, D], each side F32 or BF16 (a BF16 out is rounded
 * once, so a mixed-precision split feeds bf16 attention without a separate conversion pass), and the
 * fused query, key and value projection [B, T, 3*H*D] <-> q, k, v [B, H, T, D] in one launch.
 */
public final class HeadsKernels {
    private final Launcher launcher;
    private final Operands operands;
    private final Kernel[] split, merge, splitQkv, mergeQkv;  // by index(in, out)

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
        splitQkv = new Kernel[] {runtime.kernel(Family.HEADS, "heads_forward_split_qkv_f32"),
                runtime.kernel(Family.HEADS, "heads_forward_split_qkv_f32_to_bf16"),
                runtime.kernel(Family.HEADS, "heads_forward_split_qkv_bf16_to_f32"),
                runtime.kernel(Family.HEADS, "heads_forward_split_qkv_bf16")};
        mergeQkv = new Kernel[] {runtime.kernel(Family.HEADS, "heads_forward_merge_qkv_f32"),
                runtime.kernel(Family.HEADS, "heads_forward_merge_qkv_f32_to_bf16"),
                runtime.kernel(Family.HEADS, "heads_forward_merge_qkv_bf16_to_f32"),
                runtime.kernel(Family.HEADS, "heads_forward_merge_qkv_bf16")};
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

    /** in [B,T,3*H*D] to q, k, v [B,H,T,D] (one dtype), overwritten. */
    public void splitQkv(Tensor q, Tensor k, Tensor v, Tensor in, int heads) {
        Kernel kernel = splitQkv[index(in.dtype(), q.dtype())];
        int[] s = checkQkv(kernel, in, q, k, v, heads);
        long pq = operands.f32OrBf16(kernel, q), pk = operands.f32OrBf16(kernel, k), pv = operands.f32OrBf16(kernel, v);
        long pIn = operands.f32OrBf16(kernel, in);
        if (in.size() == 0) return;
        launcher.args().ptr(pq).ptr(pk).ptr(pv).ptr(pIn).i32(s[0]).i32(s[2]).i32(s[1]).i32(s[3]);
        launcher.launch(kernel, launcher.gridStride(in.size()), Launcher.BLOCK);
    }

    /** dq, dk, dv [B,H,T,D] (one dtype) to dIn [B,T,3*H*D], added when accumulate. */
    public void mergeQkv(Tensor dIn, Tensor dq, Tensor dk, Tensor dv, boolean accumulate) {
        Kernel kernel = mergeQkv[index(dq.dtype(), dIn.dtype())];
        if (dq.rank() != 4) throw shape(kernel, "dq " + dq.describe() + " must be [B, H, T, D]");
        int[] s = checkQkv(kernel, dIn, dq, dk, dv, dq.dim(1));
        long pOut = operands.f32OrBf16(kernel, dIn), pq = operands.f32OrBf16(kernel, dq);
        long pk = operands.f32OrBf16(kernel, dk), pv = operands.f32OrBf16(kernel, dv);
        if (dIn.size() == 0) return;
        launcher.args().ptr(pOut).ptr(pq).ptr(pk).ptr(pv).i32(s[0]).i32(s[2]).i32(s[1]).i32(s[3]).i32(accumulate ? 1 : 0);
        launcher.launch(kernel, launcher.gridStride(dIn.size()), Launcher.BLOCK);
    }

    /** fused [B,T,3*H*D] against q, k, v [B,H,T,D] of one dtype; returns {B, H, T, D}. */
    private static int[] checkQkv(Kernel kernel, Tensor fused, Tensor q, Tensor k, Tensor v, int heads) {
        if (fused.rank() != 3 || heads <= 0 || fused.dim(2) % (3 * heads) != 0) {
            throw shape(kernel, fused.describe() + " must be [B, T, 3*H*D] with H = " + heads);
        }
        if (k.dtype() != q.dtype() || v.dtype() != q.dtype()) {
            throw shape(kernel, "q, k and v must share a dtype: " + q.describe() + ", " + k.describe() + ", " + v.describe());
        }
        int[] s = {fused.dim(0), heads, fused.dim(1), fused.dim(2) / (3 * heads)};
        for (Tensor t : new Tensor[] {q, k, v}) {
            if (!t.sameShape(s)) throw shape(kernel, t.describe() + " must be " + Arrays.toString(s));
        }
        return s;
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
