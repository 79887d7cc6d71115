package io.electra.engine.cpu;

import io.electra.engine.RngKey;
import io.electra.engine.Tensor;

import java.util.Arrays;

/**
 * Scaled dot-product attention with a key padding mask, the plain reference:
 * <pre>
 *   S = q k^T * scale                  [T,T] per (b, h)
 *   P = softmax over unmasked keys     masked keys get exactly 0, as HF's additive finfo.min gives
 *   out = dropout(P) v                 dropout element index ((b*H + h)*T + i)*T + j
 * </pre>
 * The probabilities P (before dropout) are saved, [B,H,T,T]. A query row whose keys are all masked
 * (an all-padding sequence) gets P = 0 and out = 0 rather than HF's uniform average over padding.
 * Backward, with Pd = dropout(P): dv += Pd^T dOut; dPd = dOut v^T; dP = dPd * keep/(1-p);
 * dS = P (dP - sum_j dP P); dq += scale dS k; dk += scale dS^T q.
 * Work is split over the B*H independent (b, h) pairs.
 */
final class AttentionCpu {
    private final Parallel parallel;

    AttentionCpu(Parallel parallel) {
        this.parallel = parallel;
    }

    void forward(Tensor out, Tensor saved, Tensor q, Tensor k, Tensor v, Tensor keyMask, float scale,
                 float dropoutP, RngKey key) {
        int heads = q.dim(1), seq = q.dim(2), dim = q.dim(3);
        int pairs = q.dim(0) * heads, td = seq * dim, tt = seq * seq;
        parallel.parallelFor(pairs, 4L * tt * dim, (p0, p1) -> {
            double[] qs = Scratch.get(0, td), ks = Scratch.get(1, td), vs = Scratch.get(2, td);
            double[] probs = Scratch.get(3, tt), os = Scratch.get(4, td), keep = Scratch.get(5, seq);
            for (int bh = p0; bh < p1; bh++) {
                int b = bh / heads;
                Elements.load(q, (long) bh * td, qs, 0, td);
                Elements.load(k, (long) bh * td, ks, 0, td);
                Elements.load(v, (long) bh * td, vs, 0, td);
                for (int i = 0; i < seq; i++) {
                    int row = i * seq;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < seq; j++) {
                        if (Elements.getInt(keyMask, (long) b * seq + j) == 0) continue;
                        double s = 0;
                        for (int d = 0; d < dim; d++) s += qs[i * dim + d] * ks[j * dim + d];
                        probs[row + j] = s * scale;
                        max = Math.max(max, probs[row + j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < seq; j++) {
                        boolean masked = Elements.getInt(keyMask, (long) b * seq + j) == 0;
                        probs[row + j] = masked ? 0 : Math.exp(probs[row + j] - max);
                        sum += probs[row + j];
                    }
                    double inv = sum > 0 ? 1 / sum : 0;
                    for (int j = 0; j < seq; j++) probs[row + j] *= inv;
                    if (dropoutP > 0) DropoutCpu.keepScale(key, ((long) bh * seq + i) * seq, keep, 0, seq, dropoutP);
                    for (int d = 0; d < dim; d++) os[i * dim + d] = 0;
                    for (int j = 0; j < seq; j++) {
                        double pj = dropoutP > 0 ? probs[row + j] * keep[j] : probs[row + j];
                        if (pj == 0) continue;
                        for (int d = 0; d < dim; d++) os[i * dim + d] += pj * vs[j * dim + d];
                    }
                }
                Elements.store(saved, (long) bh * tt, probs, 0, tt);
                Elements.store(out, (long) bh * td, os, 0, td);
            }
        });
    }

    void backward(Tensor dq, Tensor dk, Tensor dv, Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor saved,
                  float scale, float dropoutP, RngKey key) {
        int heads = q.dim(1), seq = q.dim(2), dim = q.dim(3);
        int pairs = q.dim(0) * heads, td = seq * dim, tt = seq * seq;
        parallel.parallelFor(pairs, 8L * tt * dim, (p0, p1) -> {
            // The second halves of qs, ks, vs accumulate dq, dk, dv of one (b, h).
            double[] qs = Scratch.get(0, 2 * td), ks = Scratch.get(1, 2 * td), vs = Scratch.get(2, 2 * td);
            double[] probs = Scratch.get(3, tt), gs = Scratch.get(4, td), rowBuf = Scratch.get(5, 2 * seq);
            for (int bh = p0; bh < p1; bh++) {
                Elements.load(q, (long) bh * td, qs, 0, td);
                Elements.load(k, (long) bh * td, ks, 0, td);
                Elements.load(v, (long) bh * td, vs, 0, td);
                Elements.load(dOut, (long) bh * td, gs, 0, td);
                Elements.load(saved, (long) bh * tt, probs, 0, tt);
                Arrays.fill(qs, td, 2 * td, 0);
                Arrays.fill(ks, td, 2 * td, 0);
                Arrays.fill(vs, td, 2 * td, 0);
                for (int i = 0; i < seq; i++) {
                    int row = i * seq, qi = i * dim;
                    if (dropoutP > 0) DropoutCpu.keepScale(key, ((long) bh * seq + i) * seq, rowBuf, seq, seq, dropoutP);
                    double dot = 0; // sum_j dP_ij P_ij
                    for (int j = 0; j < seq; j++) {
                        double pij = probs[row + j], keep = dropoutP > 0 ? rowBuf[seq + j] : 1;
                        if (pij == 0) { // masked key: no gradient flows through it
                            rowBuf[j] = 0;
                            continue;
                        }
                        double dPd = 0, pd = pij * keep;
                        for (int d = 0; d < dim; d++) {
                            dPd += gs[qi + d] * vs[j * dim + d];
                            vs[td + j * dim + d] += pd * gs[qi + d];
                        }
                        rowBuf[j] = dPd * keep; // dP_ij
                        dot += rowBuf[j] * pij;
                    }
                    for (int j = 0; j < seq; j++) {
                        double ds = probs[row + j] * (rowBuf[j] - dot) * scale;
                        if (ds == 0) continue;
                        for (int d = 0; d < dim; d++) {
                            qs[td + qi + d] += ds * ks[j * dim + d];
                            ks[td + j * dim + d] += ds * qs[qi + d];
                        }
                    }
                }
                Elements.addTo(dq, (long) bh * td, qs, td, td);
                Elements.addTo(dk, (long) bh * td, ks, td, td);
                Elements.addTo(dv, (long) bh * td, vs, td, td);
            }
        });
    }
}
