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

/**
 * Launcher for flash_attention.cu: fused attention for head dims 16, 32 and 64, BF16 (tensor
 * cores) or F32 (CUDA cores) q, k, v, out and gradients; the forward saves lse [B, H, T] F32.
 * The backward runs three kernels: delta = rowsum(dOut * out) into the workspace, then dk/dv
 * (CTAs own keys) and dq (CTAs own queries). Semantics are AttentionCpu's, dropout mask included.
 * The heads are [B, H, T, D] tensors, or read and written in place in a fused projection [B, T,
 * 3*H*D] and the context [B, T, H*D] ({@link #forwardQkv}, {@link #backwardQkv}; see {@link HeadsLayout}).
 */
public final class FlashAttentionKernels {
    private static final int[] HEAD_DIMS = {16, 32, 64};
    private static final int BF16_ROWS = 64, THREADS = 128, PREP_ROWS_PER_BLOCK = Launcher.BLOCK / 32;
    private final Launcher launcher;
    private final Operands operands;
    private final Workspace workspace;
    private final Kernel[] forwardKernels = new Kernel[6], dqKernels = new Kernel[6], dkdvKernels = new Kernel[6];
    private final Kernel prepF32, prepBf16;

    public FlashAttentionKernels(CudaRuntime runtime, Operands operands) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        this.workspace = runtime.workspace();
        for (DType type : new DType[] {DType.F32, DType.BF16}) {
            for (int d : HEAD_DIMS) {
                int i = index(type, d);
                forwardKernels[i] = runtime.kernel(Family.FLASH_ATTENTION, kernelName("forward", type, d));
                dqKernels[i] = runtime.kernel(Family.FLASH_ATTENTION, kernelName("backward_dq", type, d));
                dkdvKernels[i] = runtime.kernel(Family.FLASH_ATTENTION, kernelName("backward_dkdv", type, d));
            }
        }
        prepF32 = runtime.kernel(Family.FLASH_ATTENTION, "flash_attention_backward_prep_f32");
        prepBf16 = runtime.kernel(Family.FLASH_ATTENTION, "flash_attention_backward_prep_bf16");
    }

    /** Whether the kernels serve this head dimension (others take the composed fp32 path). */
    public static boolean supports(int headDim) {
        for (int d : HEAD_DIMS) if (d == headDim) return true;
        return false;
    }

    /** What the forward saves: log-sum-exp per query row. */
    public static int[] savedShape(int batch, int heads, int seq) {
        return new int[] {batch, heads, seq};
    }

    /** out = dropout(softmax(q k^T * scale + mask)) v; lse = the softmax's log normaliser per row. */
    public void forward(Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, Tensor keyMask, float scale, float p, RngKey key) {
        FlashAttentionCall c = FlashAttentionCall.of("forward", q, k, v, keyMask, lse, p, out);
        Kernel kernel = forwardKernels[index(c.dtype(), c.d())];
        long po = tensor(kernel, out, c), pq = tensor(kernel, q, c), pk = tensor(kernel, k, c), pv = tensor(kernel, v, c);
        HeadsLayout heads = HeadsLayout.heads(c.h(), c.t(), c.d());
        forward(kernel, c, po, pq, pk, pv, heads, heads, lse, keyMask, scale, p, key);
    }

    /**
     * {@link #forward} with q, k, v read in place from a fused projection qkv [B, T, 3*H*D] and out
     * written as the context [B, T, H*D]: no heads copies on either side.
     */
    public void forwardQkv(Tensor out, Tensor lse, Tensor qkv, int heads, Tensor keyMask, float scale, float p, RngKey key) {
        FlashAttentionCall c = FlashAttentionCall.ofQkv("forward", qkv, heads, keyMask, lse, p, out);
        Kernel kernel = forwardKernels[index(c.dtype(), c.d())];
        long po = tensor(kernel, out, c), pq = tensor(kernel, qkv, c), third = thirdBytes(c);
        forward(kernel, c, po, pq, pq + third, pq + 2 * third, HeadsLayout.qkv(c.h(), c.t(), c.d()),
                HeadsLayout.context(c.h(), c.t(), c.d()), lse, keyMask, scale, p, key);
    }

    private void forward(Kernel kernel, FlashAttentionCall c, long po, long pq, long pk, long pv, HeadsLayout in, HeadsLayout ol,
                         Tensor lse, Tensor keyMask, float scale, float p, RngKey key) {
        long pl = operands.f32(kernel, lse), pm = operands.i32(kernel, keyMask);
        if (c.empty()) return;
        KernelArgs args = launcher.args().ptr(po).ptr(pl).ptr(pq).ptr(pk).ptr(pv).ptr(pm).i32(c.h()).i32(c.t());
        DropoutKernels.withKey(launcher, layouts(args, in, ol).f32(scale).f32(p).f32(DropoutKernels.keepScale(p)), key);
        launch(kernel, c);
    }

    /** dq, dk, dv += the gradients of {@link #forward}, recomputing the probabilities from lse and out. */
    public void backward(Tensor dq, Tensor dk, Tensor dv, Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor keyMask, Tensor lse,
                         Tensor out, float scale, float p, RngKey key) {
        FlashAttentionCall c = FlashAttentionCall.of("backward", q, k, v, keyMask, lse, p, out, dOut, dq, dk, dv);
        Kernels kernels = kernels(c);
        long pdq = tensor(kernels.dq, dq, c), pdk = tensor(kernels.dkdv, dk, c), pdv = tensor(kernels.dkdv, dv, c);
        long pg = tensor(kernels.prep, dOut, c), po = tensor(kernels.prep, out, c), pq = tensor(kernels.dq, q, c);
        long pk = tensor(kernels.dq, k, c), pv = tensor(kernels.dq, v, c);
        HeadsLayout heads = HeadsLayout.heads(c.h(), c.t(), c.d());
        backward(kernels, c, pdq, pdk, pdv, true, pg, po, pq, pk, pv, heads, heads, lse, keyMask, scale, p, key);
    }

    /**
     * The backward of {@link #forwardQkv}: the query, key and value gradients written in place into
     * dQkv [B, T, 3*H*D] (overwritten, or added into when {@code accumulate}); dOut and out [B, T, H*D].
     */
    public void backwardQkv(Tensor dQkv, boolean accumulate, Tensor dOut, Tensor qkv, int heads, Tensor keyMask, Tensor lse,
                            Tensor out, float scale, float p, RngKey key) {
        FlashAttentionCall c = FlashAttentionCall.ofQkv("backward", qkv, heads, keyMask, lse, p, out, dOut);
        if (!dQkv.sameShape(qkv) || dQkv.dtype() != qkv.dtype()) {
            throw new IllegalArgumentException("flash_attention_backward (module flash_attention.ptx): dQkv " + dQkv.describe()
                    + " must match qkv " + qkv.describe());
        }
        Kernels kernels = kernels(c);
        long third = thirdBytes(c), pd = tensor(kernels.dq, dQkv, c), pq = tensor(kernels.dq, qkv, c);
        long pg = tensor(kernels.prep, dOut, c), po = tensor(kernels.prep, out, c);
        backward(kernels, c, pd, pd + third, pd + 2 * third, accumulate, pg, po, pq, pq + third, pq + 2 * third,
                HeadsLayout.qkv(c.h(), c.t(), c.d()), HeadsLayout.context(c.h(), c.t(), c.d()), lse, keyMask, scale, p, key);
    }

    private void backward(Kernels kernels, FlashAttentionCall c, long pdq, long pdk, long pdv, boolean accumulate, long pg, long po,
                          long pq, long pk, long pv, HeadsLayout in, HeadsLayout ol, Tensor lse, Tensor keyMask, float scale,
                          float p, RngKey key) {
        long pl = operands.f32(kernels.dq, lse), pm = operands.i32(kernels.dq, keyMask);
        if (c.empty()) return;
        long rows = (long) c.b() * c.h() * c.t();
        workspace.reserve(4 * rows, 1);
        long delta = workspace.take(4 * rows);
        launcher.args().ptr(delta).ptr(pg).ptr(po).i32(c.h()).i32(c.t()).i64(rows).i32(c.d()).i64(ol.batch()).i32(ol.head())
                .i32(ol.row());
        launcher.launch(kernels.prep, (int) ((rows + PREP_ROWS_PER_BLOCK - 1) / PREP_ROWS_PER_BLOCK), Launcher.BLOCK);

        KernelArgs dkdv = launcher.args().ptr(pdk).ptr(pdv).ptr(pq).ptr(pk).ptr(pv).ptr(pg).ptr(pl).ptr(delta).ptr(pm)
                .i32(c.h()).i32(c.t());
        DropoutKernels.withKey(launcher, layouts(dkdv, in, ol).i32(accumulate ? 1 : 0).f32(scale).f32(p)
                .f32(DropoutKernels.keepScale(p)), key);
        launch(kernels.dkdv, c);
        KernelArgs dq = launcher.args().ptr(pdq).ptr(pq).ptr(pk).ptr(pv).ptr(pg).ptr(pl).ptr(delta).ptr(pm).i32(c.h()).i32(c.t());
        DropoutKernels.withKey(launcher, layouts(dq, in, ol).i32(accumulate ? 1 : 0).f32(scale).f32(p)
                .f32(DropoutKernels.keepScale(p)), key);
        launch(kernels.dq, c);
    }

    /** The three backward kernels of one dtype and head dim. */
    private record Kernels(Kernel dq, Kernel dkdv, Kernel prep) {
    }

    private Kernels kernels(FlashAttentionCall c) {
        int i = index(c.dtype(), c.d());
        return new Kernels(dqKernels[i], dkdvKernels[i], c.dtype() == DType.BF16 ? prepBf16 : prepF32);
    }

    /** The kernels' (inBatch, inHead, inRow, outBatch, outHead, outRow). */
    private static KernelArgs layouts(KernelArgs args, HeadsLayout in, HeadsLayout ol) {
        return args.i64(in.batch()).i32(in.head()).i32(in.row()).i64(ol.batch()).i32(ol.head()).i32(ol.row());
    }

    /** Bytes from a fused projection's query third to its key third: H*D elements. */
    private static long thirdBytes(FlashAttentionCall c) {
        return (long) c.h() * c.d() * c.dtype().bytes;
    }

    private void launch(Kernel kernel, FlashAttentionCall c) {
        launcher.launch(kernel, (c.t() + rowsPerBlock(c.dtype(), c.d()) - 1) / rowsPerBlock(c.dtype(), c.d()), c.b() * c.h(), 1,
                THREADS, 0);
    }

    /** The address of q, k, v, out or a gradient: the call's dtype, 16-byte aligned for the bf16 tiles' cp.async. */
    private long tensor(Kernel kernel, Tensor t, FlashAttentionCall c) {
        long address = c.dtype() == DType.BF16 ? operands.bf16(kernel, t) : operands.f32(kernel, t);
        if (c.dtype() == DType.BF16 && address % 16 != 0) {
            throw new IllegalArgumentException(kernel + ": " + t.describe() + " starts at an address that is not 16-byte "
                    + "aligned (a view into the middle of a tensor?); the bf16 tiles are copied in 16-byte pieces");
        }
        return address;
    }

    /** Query (or key) rows one CTA owns: 64 on the tensor cores, 128 / (D / 16) on the CUDA cores. */
    static int rowsPerBlock(DType type, int headDim) {
        return type == DType.BF16 ? BF16_ROWS : THREADS / (headDim / 16);
    }

    /** flash_attention_forward_bf16_d64 and friends. */
    static String kernelName(String direction, DType type, int headDim) {
        return "flash_attention_" + direction + "_" + (type == DType.BF16 ? "bf16" : "f32") + "_d" + headDim;
    }

    private static int index(DType type, int headDim) {
        return (type == DType.BF16 ? 3 : 0) + Integer.numberOfTrailingZeros(headDim) - 4;
    }
}
