package io.electra.model;

import io.electra.engine.RngKey;
import io.electra.engine.random.Philox;

/**
 * Dynamic masking as the official ELECTRA code does it ({@code pretrain_helpers.mask}), on the host,
 * from the shared Philox stream so every backend sees the same masks:
 * <ul>
 *   <li>per sequence, {@code max(1, min(N, round(realTokens * maskProb)))} slots of N are live
 *       (real tokens include [CLS] and [SEP]); the other slots carry weight 0;</li>
 *   <li>each live slot draws a position uniformly, with replacement, among the candidates: real tokens
 *       that are not [CLS], [SEP], [MASK] or [PAD];</li>
 *   <li>ELECTRA: a position becomes [MASK] when any of its slots draws u &lt; 0.85, else keeps its token;
 *       no random-token replacement. BERT ({@link Style#BERT}): 80% [MASK], 10% a random token, 10% kept.</li>
 * </ul>
 * A duplicated position keeps all its slots in the loss (as the official weights do) but is replaced
 * by the sampled token only once (the official scatter averages duplicate updates, which can yield an
 * unrelated id; we take the first slot's sample instead).
 */
public final class Masking {
    public enum Style { ELECTRA, BERT }

    private final int maxPredictions;   // N
    private final double maskProb;
    private final int clsId, sepId, maskId, padId, vocabSize;
    private final Style style;

    public Masking(int maxPredictions, double maskProb, int clsId, int sepId, int maskId, int padId, int vocabSize,
                   Style style) {
        if (maxPredictions < 1) throw new IllegalArgumentException("max predictions per sequence must be >= 1");
        this.maxPredictions = maxPredictions;
        this.maskProb = maskProb;
        this.clsId = clsId;
        this.sepId = sepId;
        this.maskId = maskId;
        this.padId = padId;
        this.vocabSize = vocabSize;
        this.style = style;
    }

    /** The official default: N = int((maskProb + 0.005) * maxSeqLength). */
    public static int defaultMaxPredictions(double maskProb, int maxSeqLength) {
        return Math.max(1, (int) ((maskProb + 0.005) * maxSeqLength));
    }

    public int maxPredictions() {
        return maxPredictions;
    }

    /**
     * The masking of one batch.
     *
     * @param maskedIds  (B*T) generator input: ids with the chosen positions masked
     * @param rows       (B*N) flat row b*T+t of each slot (row start for dead slots, so gathers stay valid)
     * @param targets    (B*N) original id at each live slot, -1 for dead slots (ignored by the loss)
     * @param replaceAt  (B*N) flat row the sampled token goes to, -1 for dead or duplicate slots
     */
    public record Batch(int[] maskedIds, int[] rows, int[] targets, int[] replaceAt) {
    }

    /** Masks {@code ids} (B*T, attention mask 1 on real tokens) with the stream {@code key}. */
    public Batch apply(int[] ids, int[] attentionMask, int batch, int seq, RngKey key) {
        int n = maxPredictions;
        int[] masked = ids.clone();
        int[] rows = new int[batch * n], targets = new int[batch * n], replaceAt = new int[batch * n];
        int[] candidates = new int[seq];
        float[] u = new float[3 * n];
        boolean[] chosen = new boolean[seq];
        for (int b = 0; b < batch; b++) {
            int base = b * seq, real = 0, count = 0;
            for (int t = 0; t < seq; t++) {
                int id = ids[base + t];
                if (attentionMask[base + t] == 0) continue;
                real++;
                if (id != clsId && id != sepId && id != maskId && id != padId) candidates[count++] = t;
            }
            int live = count == 0 ? 0 : Math.max(1, Math.min(n, (int) Math.round(real * maskProb)));
            Philox.uniforms(key, (long) b * 3 * n, u, 3 * n);
            java.util.Arrays.fill(chosen, false);
            for (int j = 0; j < n; j++) {
                int slot = b * n + j;
                if (j >= live) {
                    rows[slot] = base;
                    targets[slot] = -1;
                    replaceAt[slot] = -1;
                    continue;
                }
                int t = candidates[Math.min(count - 1, (int) (u[3 * j] * count))];
                rows[slot] = base + t;
                targets[slot] = ids[base + t];
                replaceAt[slot] = chosen[t] ? -1 : base + t;
                chosen[t] = true;
                float r = u[3 * j + 1];
                if (style == Style.ELECTRA) {
                    if (r < 0.85f) masked[base + t] = maskId;
                } else if (masked[base + t] == ids[base + t]) { // BERT: decide once per position
                    if (r < 0.8f) masked[base + t] = maskId;
                    else if (r < 0.9f) masked[base + t] = Math.min(vocabSize - 1, (int) (u[3 * j + 2] * vocabSize));
                }
            }
        }
        return new Batch(masked, rows, targets, replaceAt);
    }
}
