package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Tensor;

/**
 * One batch on the device, fixed shape B x T. Positions are 0..T-1 in every row (HF's default).
 *
 * @param ids           (B, T) token ids
 * @param tokenTypes    (B, T) segment ids
 * @param positions     (B, T) position ids
 * @param attentionMask (B, T) 1 real token, 0 padding
 */
public record ElectraInputs(Tensor ids, Tensor tokenTypes, Tensor positions, Tensor attentionMask) {

    public int batch() {
        return ids.dim(0);
    }

    public int seq() {
        return ids.dim(1);
    }

    /** The same batch with other token ids (the generator's masked input, the discriminator's corrupted one). */
    public ElectraInputs withIds(Tensor newIds) {
        return new ElectraInputs(newIds, tokenTypes, positions, attentionMask);
    }

    /** Uploads host arrays (each B*T long) into persistent tensors of {@code backend}. */
    public static ElectraInputs upload(Backend backend, int batch, int seq, int[] ids, int[] tokenTypes,
                                       int[] attentionMask) {
        int n = batch * seq;
        if (ids.length != n || tokenTypes.length != n || attentionMask.length != n) {
            throw new IllegalArgumentException("inputs must each hold batch*seq = " + n + " ids");
        }
        int[] pos = new int[n];
        for (int i = 0; i < n; i++) pos[i] = i % seq;
        return new ElectraInputs(put(backend, ids, batch, seq), put(backend, tokenTypes, batch, seq),
                put(backend, pos, batch, seq), put(backend, attentionMask, batch, seq));
    }

    private static Tensor put(Backend b, int[] data, int batch, int seq) {
        Tensor t = b.allocate(DType.I32, batch, seq);
        b.upload(t, data);
        return t;
    }
}
