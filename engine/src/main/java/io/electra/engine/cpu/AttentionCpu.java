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
 * Work is split over the B*H independent (b, h) pairs. These loops, in double, are the reference
 * and run for F64; F32 takes the matmul-based {@link AttentionF32}, BF16 (mixed precision, with
 * F32 saved probabilities) {@link AttentionBf16}.
 */
final class AttentionCpu {
    private final Parallel parallel;
    private final AttentionF32 f32;
    private final AttentionBf16 bf16;

    AttentionCpu(Parallel parallel) {
        this.parallel = parallel;
        this.f32 = new AttentionF32(parallel);
        this.bf16 = new AttentionBf16(parallel);
    }

    void forward(Tensor out, Tensor saved, Tensor q, Tensor k, Tensor v, Tensor keyMask, float scale,
                 float dropoutP, RngKey key) {
        if (q.storage() instanceof float[]) {
            f32.forward(out, saved, q, k, v, keyMask, scale, dropoutP, key);
            return;
        }
        if (q.storage() instanceof short[]) {
            bf16.forward(out, saved, q, k, v, keyMask, scale, dropoutP, key);
            return;
        }
        int heads = q.dim(1), seq = q.dim(2), dim = q.dim(3);
        int pairs = q.dim(0) * heads, td = seq * dim, tt = seq * seq;
        parallel.parallelFor(pairs, 4L * tt * dim, (p0, p1) -> {
            // kT is k transposed [D,T], so that a row of scores is a sum of contiguous axpys.
            double[] qs = Scratch.get(0, td), kT = Scratch.get(1, td), vs = Scratch.get(2, td);
            double[] probs = Scratch.get(3, tt), os = Scratch.get(4, td), keep = Scratch.get(5, 2 * seq);
            for (int bh = p0; bh < p1; bh++) {
                int b = bh / heads;
                Elements.load(q, (long) bh * td, qs, 0, td);
                loadTransposed(k, (long) bh * td, seq, dim, kT, os);
                Elements.load(v, (long) bh * td, vs, 0, td);
                Arrays.fill(os, 0, td, 0);
                for (int i = 0; i < seq; i++) {
                    int row = i * seq;
                    Arrays.fill(probs, row, row + seq, 0);
                    for (int d = 0; d < dim; d++) {
                        double qid = qs[i * dim + d] * scale;
                        for (int j = 0; j < seq; j++) probs[row + j] += qid * kT[d * seq + j];
                    }
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < seq; j++) {
                        if (Elements.getInt(keyMask, (long) b * seq + j) == 0) probs[row + j] = Double.NEGATIVE_INFINITY;
                        else max = Math.max(max, probs[row + j]);
                    }
                    if (max == Double.NEGATIVE_INFINITY) { // every key is padding
                        Arrays.fill(probs, row, row + seq, 0);
                        continue;
                    }
                    double inv = 1 / Exp.expShifted(probs, row, seq, max); // exp(-inf) = 0 exactly for padding
                    for (int j = 0; j < seq; j++) probs[row + j] *= inv;
                    if (dropoutP > 0) DropoutCpu.keepScale(key, ((long) bh * seq + i) * seq, keep, 0, seq, dropoutP);
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

    /** dst[d*T + t] = src[from + t*D + d]: one (b, h) slice transposed to [D,T], via tmp. */
    private static void loadTransposed(Tensor src, long from, int seq, int dim, double[] dst, double[] tmp) {
        Elements.load(src, from, tmp, 0, seq * dim);
        for (int t = 0; t < seq; t++) {
            for (int d = 0; d < dim; d++) dst[d * seq + t] = tmp[t * dim + d];
        }
    }

    void backward(Tensor dq, Tensor dk, Tensor dv, Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor saved,
                  float scale, float dropoutP, RngKey key) {
        if (q.storage() instanceof float[]) {
            f32.backward(dq, dk, dv, dOut, q, k, v, saved, scale, dropoutP, key);
            return;
        }
        if (q.storage() instanceof short[]) {
            bf16.backward(dq, dk, dv, dOut, q, k, v, out, saved, scale, dropoutP, key);
            return;
        }
        int heads = q.dim(1), seq = q.dim(2), dim = q.dim(3);
        int pairs = q.dim(0) * heads, td = seq * dim, tt = seq * seq;
        parallel.parallelFor(pairs, 8L * tt * dim, (p0, p1) -> {
            // The second halves of qs, ks, vs accumulate dq, dk, dv of one (b, h); vT is v as [D,T].
            double[] qs = Scratch.get(0, 2 * td), ks = Scratch.get(1, 2 * td), vs = Scratch.get(2, 2 * td);
            double[] probs = Scratch.get(3, tt + td), gs = Scratch.get(4, td), rowBuf = Scratch.get(5, 2 * seq);
            for (int bh = p0; bh < p1; bh++) {
                Elements.load(q, (long) bh * td, qs, 0, td);
                Elements.load(k, (long) bh * td, ks, 0, td);
                Elements.load(v, (long) bh * td, vs, 0, td);
                Elements.load(dOut, (long) bh * td, gs, 0, td);
                Elements.load(saved, (long) bh * tt, probs, 0, tt);
                for (int t = 0; t < seq; t++) {
                    for (int d = 0; d < dim; d++) probs[tt + d * seq + t] = vs[t * dim + d];
                }
                Arrays.fill(qs, td, 2 * td, 0);
                Arrays.fill(ks, td, 2 * td, 0);
                Arrays.fill(vs, td, 2 * td, 0);
                for (int i = 0; i < seq; i++) {
                    int row = i * seq, qi = i * dim;
                    // rowBuf[seq + j] = keep_ij / (1 - p); rowBuf[j] becomes dP_ij
                    if (dropoutP > 0) DropoutCpu.keepScale(key, ((long) bh * seq + i) * seq, rowBuf, seq, seq, dropoutP);
                    else Arrays.fill(rowBuf, seq, 2 * seq, 1);
                    // dPd_ij = dOut_i . v_j, as axpys over j along the rows of vT
                    Arrays.fill(rowBuf, 0, seq, 0);
                    for (int d = 0; d < dim; d++) {
                        double g = gs[qi + d];
                        for (int j = 0; j < seq; j++) rowBuf[j] += g * probs[tt + d * seq + j];
                    }
                    double dot = 0; // sum_j dP_ij P_ij
                    for (int j = 0; j < seq; j++) {
                        rowBuf[j] *= rowBuf[seq + j];
                        dot += rowBuf[j] * probs[row + j];
                    }
                    for (int j = 0; j < seq; j++) {
                        double pij = probs[row + j];
                        if (pij == 0) continue; // padding: nothing flows through it
                        double pd = pij * rowBuf[seq + j], ds = pij * (rowBuf[j] - dot) * scale;
                        int kj = j * dim;
                        for (int d = 0; d < dim; d++) {
                            vs[td + kj + d] += pd * gs[qi + d];
                            qs[td + qi + d] += ds * ks[kj + d];
                            ks[td + kj + d] += ds * qs[qi + d];
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
