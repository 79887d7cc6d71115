package io.electra.kernels.ops;

import io.electra.engine.DType;
import io.electra.engine.Tensor;

/**
 * The checked dimensions of one flash-attention call: q, k, v and every other [B, H, T, D] tensor
 * share one shape and one dtype (F32 or BF16), the head dim is one the kernels have, the mask is
 * [B, T], lse is [B, H, T] F32 and the dropout probability is in [0, 1). Needs no device, so the
 * checks are tested on the CPU.
 */
record FlashAttentionCall(DType dtype, int b, int h, int t, int d) {

    /** {@code same}: out, and in the backward dOut, dq, dk, dv, which must match q. */
    static FlashAttentionCall of(String direction, Tensor q, Tensor k, Tensor v, Tensor keyMask, Tensor lse, float p,
                                 Tensor... same) {
        String where = "flash_attention_" + direction + " (module flash_attention.ptx)";
        if (q.rank() != 4 || !k.sameShape(q) || !v.sameShape(q)) {
            throw new IllegalArgumentException(where + ": q " + q.describe() + ", k " + k.describe() + ", v " + v.describe()
                    + " must be one [B, H, T, D] shape");
        }
        for (Tensor t : same) {
            if (!t.sameShape(q)) throw new IllegalArgumentException(where + ": " + t.describe() + " must match q " + q.describe());
        }
        DType type = q.dtype();
        if (type != DType.F32 && type != DType.BF16) {
            throw new IllegalArgumentException(where + ": q " + q.describe() + " must be F32 or BF16");
        }
        for (Tensor t : concat(k, v, same)) {
            if (t.dtype() != type) {
                throw new IllegalArgumentException(where + ": " + t.describe() + " must have q's dtype " + type
                        + " (q, k, v, out and the gradients share one dtype)");
            }
        }
        return checked(where, type, q.dim(0), q.dim(1), q.dim(2), q.dim(3), "q " + q.describe(), keyMask, lse, p);
    }

    /** The checks every call shares, on its dimensions; {@code what} names the tensor that gave them. */
    private static FlashAttentionCall checked(String where, DType type, int b, int h, int t, int d, String what,
                                              Tensor keyMask, Tensor lse, float p) {
        if (!FlashAttentionKernels.supports(d)) {
            throw new IllegalArgumentException(where + ": head dim " + d + " of " + what + " has no flash kernel (16, 32, 64)");
        }
        if (keyMask.dtype() != DType.I32 || !keyMask.sameShape(b, t)) {
            throw new IllegalArgumentException(where + ": keyMask " + keyMask.describe() + " must be I32 [" + b + ", " + t + "]");
        }
        if (lse.dtype() != DType.F32 || !lse.sameShape(FlashAttentionKernels.savedShape(b, h, t))) {
            throw new IllegalArgumentException(where + ": saved " + lse.describe() + " must be the log-sum-exp, F32 [" + b + ", "
                    + h + ", " + t + "]");
        }
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException(where + ": dropout probability " + p + " is outside [0, 1)");
        if ((long) b * h > 65535) {
            throw new IllegalArgumentException(where + ": B*H = " + (long) b * h + " exceeds the grid's 65535 (y dimension)");
        }
        return new FlashAttentionCall(type, b, h, t, d);
    }

    /**
     * The checks for attention over a fused projection: qkv [B, T, 3*H*D], F32 or BF16; {@code same}
     * (out, and in the backward dOut) [B, T, H*D] of qkv's dtype; mask, lse and p as {@link #of}.
     */
    static FlashAttentionCall ofQkv(String direction, Tensor qkv, int heads, Tensor keyMask, Tensor lse, float p,
                                    Tensor... same) {
        String where = "flash_attention_" + direction + " (module flash_attention.ptx)";
        if (qkv.rank() != 3 || heads <= 0 || qkv.dim(2) % (3 * heads) != 0) {
            throw new IllegalArgumentException(where + ": qkv " + qkv.describe() + " is not [B, T, 3 * " + heads + " heads * D]");
        }
        int b = qkv.dim(0), t = qkv.dim(1), c = qkv.dim(2) / 3;
        for (Tensor x : same) {
            if (!x.sameShape(b, t, c) || x.dtype() != qkv.dtype()) {
                throw new IllegalArgumentException(where + ": " + x.describe() + " must be " + qkv.dtype() + " [" + b + ", " + t
                        + ", " + c + "], the context of qkv " + qkv.describe());
            }
        }
        if (qkv.dtype() != DType.F32 && qkv.dtype() != DType.BF16) {
            throw new IllegalArgumentException(where + ": qkv " + qkv.describe() + " must be F32 or BF16");
        }
        return checked(where, qkv.dtype(), b, heads, t, c / heads, "qkv " + qkv.describe(), keyMask, lse, p);
    }

    boolean empty() {
        return b == 0 || h == 0 || t == 0;
    }

    private static Tensor[] concat(Tensor k, Tensor v, Tensor[] rest) {
        Tensor[] all = new Tensor[rest.length + 2];
        all[0] = k;
        all[1] = v;
        System.arraycopy(rest, 0, all, 2, rest.length);
        return all;
    }
}
