package io.electra.engine.cpu;

import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.engine.io.HalfFloats;

/**
 * The mixed-precision path of {@link AttentionCpu}, defined as flash_attention.cu's _bf16 kernels
 * compute it: q, k, v, out, dOut, dq, dk, dv are BF16 and widen exactly to f32; scores, softmax
 * and every product accumulate in f32; the saved probabilities stay F32. Where the tensor cores
 * take a bf16 operand the kernels round it, and so does this reference:
 * <pre>
 *   forward:  S = scale q k^T; P = masked softmax (f32, saved); out = bf16( bf16(P * Ks) v )
 *   backward: delta_i = sum_d dOut_id out_id   (from the bf16 out, as the kernels' prep step)
 *             dv = bf16(dv + bf16(P * Ks)^T dOut)
 *             dS = bf16( P * (dOut v^T * Ks - delta) )
 *             dq = bf16(dq + scale dS k);  dk = bf16(dk + scale dS^T q)
 * </pre>
 * with Ks the dropout factors keep / (1 - p). One difference remains by construction: the forward
 * kernel rounds P relative to its running row maximum (online softmax) and divides by the row sum
 * at the end, while this rounds the normalised P; the two differ by at most one bf16 rounding of
 * each P_ij. Every other difference is f32 summation order.
 */
final class AttentionBf16 {
    private final Parallel parallel;
    private final MatmulF32 matmul;

    AttentionBf16(Parallel parallel) {
        this.parallel = parallel;
        this.matmul = new MatmulF32(parallel, MatmulF32.VECTOR_DEFAULT);
    }

    void forward(Tensor out, Tensor saved, Tensor q, Tensor k, Tensor v, Tensor keyMask, float scale,
                 float dropoutP, RngKey key) {
        int heads = q.dim(1), seq = q.dim(2), dim = q.dim(3);
        int pairs = q.dim(0) * heads, td = seq * dim, tt = seq * seq;
        float[] ps = (float[]) saved.storage();
        int[] mask = (int[]) keyMask.storage();
        parallel.parallelFor(pairs, 4L * tt * dim, (p0, p1) -> {
            float[] w = Scratch.floats(0, 4 * td), pd = Scratch.floats(1, tt); // w: q, k, v, out accumulators
            for (int bh = p0; bh < p1; bh++) {
                int pOff = Elements.index(saved, (long) bh * tt), maskOff = Elements.index(keyMask, (long) (bh / heads) * seq);
                widen(q, (long) bh * td, w, 0, td);
                widen(k, (long) bh * td, w, td, td);
                widen(v, (long) bh * td, w, 2 * td, td);
                matmul.multiply(w, 0, false, w, td, true, ps, pOff, seq, seq, dim, scale, false);
                for (int i = 0; i < seq; i++) AttentionF32.maskedSoftmax(ps, pOff + i * seq, mask, maskOff, seq);
                if (dropoutP > 0) DropoutCpu.keepScale(key, (long) bh * tt, pd, 0, tt, dropoutP);
                for (int e = 0; e < tt; e++) pd[e] = HalfFloats.roundToBf16(dropoutP > 0 ? ps[pOff + e] * pd[e] : ps[pOff + e]);
                matmul.multiply(pd, 0, false, w, 2 * td, false, w, 3 * td, seq, dim, seq, 1f, false);
                store(out, (long) bh * td, w, 3 * td, td, 0f, 1f);
            }
        });
    }

    void backward(Tensor dq, Tensor dk, Tensor dv, Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor saved,
                  float scale, float dropoutP, RngKey key) {
        int heads = q.dim(1), seq = q.dim(2), dim = q.dim(3);
        int pairs = q.dim(0) * heads, td = seq * dim, tt = seq * seq;
        float[] ps = (float[]) saved.storage();
        parallel.parallelFor(pairs, 8L * tt * dim, (p0, p1) -> {
            // w: q, k, v, dOut, out widened, then the dq, dk, dv accumulators; t: keep, bf16(P*keep), dS; delta
            float[] w = Scratch.floats(0, 8 * td), t = Scratch.floats(1, 3 * tt), delta = Scratch.floats(2, seq);
            int wq = 0, wk = td, wv = 2 * td, wg = 3 * td, wo = 4 * td, aq = 5 * td, ak = 6 * td, av = 7 * td;
            int keep = 0, pd = tt, ds = 2 * tt;
            for (int bh = p0; bh < p1; bh++) {
                int pOff = Elements.index(saved, (long) bh * tt);
                long at = (long) bh * td;
                widen(q, at, w, wq, td);
                widen(k, at, w, wk, td);
                widen(v, at, w, wv, td);
                widen(dOut, at, w, wg, td);
                widen(out, at, w, wo, td);
                for (int i = 0; i < seq; i++) {
                    float s = 0;
                    for (int d = 0; d < dim; d++) s += w[wg + i * dim + d] * w[wo + i * dim + d];
                    delta[i] = s;
                }
                if (dropoutP > 0) DropoutCpu.keepScale(key, (long) bh * tt, t, keep, tt, dropoutP);
                else java.util.Arrays.fill(t, keep, keep + tt, 1f);
                for (int e = 0; e < tt; e++) t[pd + e] = HalfFloats.roundToBf16(ps[pOff + e] * t[keep + e]);
                // dv += bf16(Pd)^T dOut; dPd = dOut v^T into ds
                matmul.multiply(t, pd, true, w, wg, false, w, av, seq, dim, seq, 1f, false);
                matmul.multiply(w, wg, false, w, wv, true, t, ds, seq, seq, dim, 1f, false);
                for (int i = 0; i < seq; i++) {
                    for (int j = 0; j < seq; j++) {
                        int e = i * seq + j;
                        t[ds + e] = HalfFloats.roundToBf16(ps[pOff + e] * (t[ds + e] * t[keep + e] - delta[i]));
                    }
                }
                matmul.multiply(t, ds, false, w, wk, false, w, aq, seq, dim, seq, 1f, false);
                matmul.multiply(t, ds, true, w, wq, false, w, ak, seq, dim, seq, 1f, false);
                store(dq, at, w, aq, td, 1f, scale);
                store(dk, at, w, ak, td, 1f, scale);
                store(dv, at, w, av, td, 1f, 1f);
            }
        });
    }

    /** dst[off + i] = the BF16 element t[from + i] widened to f32, i in [0, n). */
    private static void widen(Tensor t, long from, float[] dst, int off, int n) {
        short[] s = (short[]) t.storage();
        int base = Elements.index(t, from);
        for (int i = 0; i < n; i++) dst[off + i] = HalfFloats.bf16ToFloat(s[base + i]);
    }

    /** t[from + i] = bf16(keepOld * t[from + i] + alpha * src[off + i]): the kernels' read-add-round store. */
    private static void store(Tensor t, long from, float[] src, int off, int n, float keepOld, float alpha) {
        short[] s = (short[]) t.storage();
        int base = Elements.index(t, from);
        for (int i = 0; i < n; i++) {
            float old = keepOld == 0f ? 0f : HalfFloats.bf16ToFloat(s[base + i]);
            s[base + i] = HalfFloats.floatToBf16(old + alpha * src[off + i]);
        }
    }
}
