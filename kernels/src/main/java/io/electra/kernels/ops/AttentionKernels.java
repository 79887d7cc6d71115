package io.electra.kernels.ops;

import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Workspace;

import static io.electra.kernels.ops.Operands.shape;

/**
 * Attention composed from the fp32 batched GEMM, the masked softmax and dropout, with the CPU
 * backend's semantics: the probabilities [B, H, T, T] (before dropout) are what the forward
 * saves, and dropout element ((b*H + h)*T + i)*T + j is element ((b*H + h)*T + i)*T + j of the
 * key's stream. The flash-attention kernel replaces this composition in a later issue.
 * Scratch: one [B*H, T, T] buffer in the forward (two in the backward with dropout).
 */
public final class AttentionKernels {
    private final Operands operands;
    private final GemmKernels gemm;
    private final SoftmaxKernels softmax;
    private final DropoutKernels dropout;
    private final Workspace workspace;
    private final Kernel named;  // errors name the masked softmax, the composition's own kernel

    public AttentionKernels(CudaRuntime runtime, Operands operands, GemmKernels gemm, SoftmaxKernels softmax,
                            DropoutKernels dropout) {
        this.operands = operands;
        this.gemm = gemm;
        this.softmax = softmax;
        this.dropout = dropout;
        this.workspace = runtime.workspace();
        this.named = softmax.maskedKernel();
    }

    public static int[] savedShape(int batch, int heads, int seq) {
        return new int[] {batch, heads, seq, seq};
    }

    /** out = dropout(softmax(q k^T * scale + mask)) v; saved = the probabilities before dropout. */
    public void forward(Tensor out, Tensor saved, Tensor q, Tensor k, Tensor v, Tensor keyMask, float scale, float p, RngKey key) {
        int[] s = check(q, k, v, keyMask, saved);
        if (!out.sameShape(q)) throw shape(named, "out " + out.describe() + " must match q " + q.describe());
        int B = s[0], H = s[1], T = s[2], D = s[3], bh = B * H;
        long o = operands.f32(named, out), pr = operands.f32(named, saved), qa = operands.f32(named, q);
        long ka = operands.f32(named, k), va = operands.f32(named, v), m = operands.i32(named, keyMask);
        if (bh == 0 || T == 0) return;
        long scoreBytes = 4L * bh * T * T;
        workspace.reserve(scoreBytes, 1);
        long scores = workspace.take(scoreBytes);
        gemm.batched(scores, qa, false, ka, true, T, T, D, bh, scale, false);
        softmax.forwardMasked(pr, scores, m, bh * T, T, H * T);
        long probs = pr;
        if (p > 0f) {  // the scores are dead: their buffer takes the dropped probabilities
            dropout.forward(scores, pr, (long) bh * T * T, p, key);
            probs = scores;
        }
        gemm.batched(o, probs, false, va, false, T, D, T, bh, 1f, false);
    }

    /** dq, dk, dv += the gradients of {@link #forward}, from the saved probabilities. */
    public void backward(Tensor dq, Tensor dk, Tensor dv, Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor keyMask, Tensor saved,
                         float scale, float p, RngKey key) {
        int[] s = check(q, k, v, keyMask, saved);
        for (Tensor g : new Tensor[] {dq, dk, dv, dOut}) {
            if (!g.sameShape(q)) throw shape(named, "gradient " + g.describe() + " must match q " + q.describe());
        }
        int B = s[0], H = s[1], T = s[2], D = s[3], bh = B * H;
        long dqa = operands.f32(named, dq), dka = operands.f32(named, dk), dva = operands.f32(named, dv);
        long go = operands.f32(named, dOut), qa = operands.f32(named, q), ka = operands.f32(named, k);
        long va = operands.f32(named, v), pr = operands.f32(named, saved);
        operands.i32(named, keyMask);  // masked keys have probability 0, so the backward needs no mask
        if (bh == 0 || T == 0) return;
        long n = (long) bh * T * T;
        workspace.reserve(4 * n * (p > 0f ? 2 : 1), 2);
        long dProbs = workspace.take(4 * n);
        long probs = pr;
        if (p > 0f) {
            probs = workspace.take(4 * n);
            dropout.forward(probs, pr, n, p, key);
        }
        gemm.batched(dva, probs, true, go, false, T, D, T, bh, 1f, true);        // dv += P'^T dOut
        gemm.batched(dProbs, go, false, va, true, T, T, D, bh, 1f, false);       // dP' = dOut v^T
        if (p > 0f) dropout.forward(dProbs, dProbs, n, p, key);                   // dP = dP' * keep / (1 - p)
        softmax.backward(dProbs, dProbs, pr, bh * T, T, scale, false);           // dScores = scale * softmax'
        gemm.batched(dqa, dProbs, false, ka, false, T, D, T, bh, 1f, true);      // dq += dS k
        gemm.batched(dka, dProbs, true, qa, false, T, D, T, bh, 1f, true);       // dk += dS^T q
    }

    private int[] check(Tensor q, Tensor k, Tensor v, Tensor keyMask, Tensor saved) {
        if (q.rank() != 4 || !k.sameShape(q) || !v.sameShape(q)) {
            throw shape(named, "q " + q.describe() + ", k " + k.describe() + ", v " + v.describe() + " must be one [B, H, T, D] shape");
        }
        int B = q.dim(0), H = q.dim(1), T = q.dim(2), D = q.dim(3);
        if (!keyMask.sameShape(B, T)) throw shape(named, "keyMask " + keyMask.describe() + " must be [" + B + ", " + T + "]");
        if (!saved.sameShape(savedShape(B, H, T))) {
            throw shape(named, "saved " + saved.describe() + " must be [" + B + ", " + H + ", " + T + ", " + T + "]");
        }
        return new int[] {B, H, T, D};
    }
}
