package io.electra.engine.cpu;

import io.electra.engine.RngKey;
import io.electra.engine.Tensor;

/**
 * The single-precision path of {@link AttentionCpu}: the same formulas, with the four products per
 * (b, h) pair done by the blocked matmul kernel ({@link MatmulF32}) and the masked softmax in float.
 * Per pair, with T x T scratch and Ks the dropout factors keep / (1 - p) (1 without dropout):
 * <pre>
 *   forward:  P = saved = scale q k^T, masked softmax in place;  out = (P * Ks) v
 *   backward: dv += (P * Ks)^T dOut;  dS = P * (dOut v^T * Ks - rowsum(...));  dq += scale dS k;
 *             dk += scale dS^T q
 * </pre>
 * A pair's matmuls run serially on the thread that owns the pair (the loop over pairs is the
 * parallel one), so the result does not depend on the thread count.
 */
final class AttentionF32 {
    private final Parallel parallel;
    private final MatmulF32 matmul;

    AttentionF32(Parallel parallel) {
        this.parallel = parallel;
        this.matmul = new MatmulF32(parallel, MatmulF32.VECTOR_DEFAULT);
    }

    void forward(Tensor out, Tensor saved, Tensor q, Tensor k, Tensor v, Tensor keyMask, float scale,
                 float dropoutP, RngKey key) {
        int heads = q.dim(1), seq = q.dim(2), dim = q.dim(3);
        int pairs = q.dim(0) * heads, td = seq * dim, tt = seq * seq;
        float[] qs = (float[]) q.storage(), ks = (float[]) k.storage(), vs = (float[]) v.storage();
        float[] os = (float[]) out.storage(), ps = (float[]) saved.storage();
        int[] mask = (int[]) keyMask.storage();
        parallel.parallelFor(pairs, 4L * tt * dim, (p0, p1) -> {
            float[] pd = Scratch.floats(0, tt);
            for (int bh = p0; bh < p1; bh++) {
                int pOff = Elements.index(saved, (long) bh * tt), maskOff = Elements.index(keyMask, (long) (bh / heads) * seq);
                matmul.multiply(qs, Elements.index(q, (long) bh * td), false, ks, Elements.index(k, (long) bh * td), true,
                        ps, pOff, seq, seq, dim, scale, false);
                for (int i = 0; i < seq; i++) maskedSoftmax(ps, pOff + i * seq, mask, maskOff, seq);
                float[] probs = ps;
                int probsOff = pOff;
                if (dropoutP > 0) {
                    DropoutCpu.keepScale(key, (long) bh * tt, pd, 0, tt, dropoutP);
                    for (int e = 0; e < tt; e++) pd[e] *= ps[pOff + e];
                    probs = pd;
                    probsOff = 0;
                }
                matmul.multiply(probs, probsOff, false, vs, Elements.index(v, (long) bh * td), false,
                        os, Elements.index(out, (long) bh * td), seq, dim, seq, 1f, false);
            }
        });
    }

    /** p[off, off+n) = softmax over the keys whose mask is not 0; masked keys, and rows with no key, get 0. */
    static void maskedSoftmax(float[] p, int off, int[] mask, int maskOff, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            if (mask[maskOff + j] == 0) p[off + j] = Float.NEGATIVE_INFINITY; // exp(-inf) = 0 exactly
            else max = Math.max(max, p[off + j]);
        }
        if (max == Float.NEGATIVE_INFINITY) {
            java.util.Arrays.fill(p, off, off + n, 0f);
            return;
        }
        float inv = 1f / Exp.expShifted(p, off, n, max);
        for (int j = 0; j < n; j++) p[off + j] *= inv;
    }

    void backward(Tensor dq, Tensor dk, Tensor dv, Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor saved,
                  float scale, float dropoutP, RngKey key) {
        int heads = q.dim(1), seq = q.dim(2), dim = q.dim(3);
        int pairs = q.dim(0) * heads, td = seq * dim, tt = seq * seq;
        float[] qs = (float[]) q.storage(), ks = (float[]) k.storage(), vs = (float[]) v.storage();
        float[] gs = (float[]) dOut.storage(), ps = (float[]) saved.storage();
        float[] dqs = (float[]) dq.storage(), dks = (float[]) dk.storage(), dvs = (float[]) dv.storage();
        parallel.parallelFor(pairs, 8L * tt * dim, (p0, p1) -> {
            float[] keep = Scratch.floats(0, tt), pd = Scratch.floats(1, tt), ds = Scratch.floats(2, tt);
            for (int bh = p0; bh < p1; bh++) {
                int pOff = Elements.index(saved, (long) bh * tt);
                int qo = Elements.index(q, (long) bh * td), ko = Elements.index(k, (long) bh * td);
                int vo = Elements.index(v, (long) bh * td), go = Elements.index(dOut, (long) bh * td);
                float[] probs = ps;
                int probsOff = pOff;
                if (dropoutP > 0) {
                    DropoutCpu.keepScale(key, (long) bh * tt, keep, 0, tt, dropoutP);
                    for (int e = 0; e < tt; e++) pd[e] = ps[pOff + e] * keep[e];
                    probs = pd;
                    probsOff = 0;
                }
                // dv += Pd^T dOut; ds = dPd = dOut v^T
                matmul.multiply(probs, probsOff, true, gs, go, false, dvs, Elements.index(dv, (long) bh * td),
                        seq, dim, seq, 1f, true);
                matmul.multiply(gs, go, false, vs, vo, true, ds, 0, seq, seq, dim, 1f, false);
                // ds = P (dP - sum_j dP P), dP = dPd * keep / (1 - p)
                for (int i = 0; i < seq; i++) {
                    int row = i * seq, pRow = pOff + row;
                    if (dropoutP > 0) for (int j = 0; j < seq; j++) ds[row + j] *= keep[row + j];
                    float dot = 0;
                    for (int j = 0; j < seq; j++) dot += ds[row + j] * ps[pRow + j];
                    for (int j = 0; j < seq; j++) ds[row + j] = ps[pRow + j] * (ds[row + j] - dot);
                }
                matmul.multiply(ds, 0, false, ks, ko, false, dqs, Elements.index(dq, (long) bh * td), seq, dim, seq, scale, true);
                matmul.multiply(ds, 0, true, qs, qo, false, dks, Elements.index(dk, (long) bh * td), seq, dim, seq, scale, true);
            }
        });
    }
}
