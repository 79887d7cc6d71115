package io.electra.bench.step;

import java.util.SplittableRandom;

/**
 * Full-length synthetic token rows, so a step benchmark needs no corpus: {@code [CLS] a.. [SEP] b.. [SEP]}
 * with segment A the first half, random word-piece ids from {@code [FIRST_WORD_ID, V)}, no padding.
 * Speed does not depend on which ids are drawn, only on the shapes, which match a packed pre-training row.
 *
 * @param ids           (B*T) token ids
 * @param tokenTypes    (B*T) 0 for segment A (with [CLS] and its [SEP]), 1 for segment B
 * @param attentionMask (B*T) all ones: rows are packed to full length, as in pre-training
 */
public record SyntheticBatch(int batch, int seq, int[] ids, int[] tokenTypes, int[] attentionMask) {
    /** BERT's uncased vocabulary: [PAD] 0, [CLS] 101, [SEP] 102, [MASK] 103. */
    public static final int PAD = 0, CLS = 101, SEP = 102, MASK = 103;
    /** Ids below this are [PAD], [unused*] and the special tokens; above it are real word pieces. */
    public static final int FIRST_WORD_ID = 999;

    public static SyntheticBatch random(int batch, int seq, int vocabSize, long seed) {
        if (seq < 4) throw new IllegalArgumentException("sequence length must be >= 4 ([CLS] a [SEP] b [SEP]), got " + seq);
        if (vocabSize <= FIRST_WORD_ID) {
            throw new IllegalArgumentException("vocab size " + vocabSize + " leaves no word pieces above id " + FIRST_WORD_ID);
        }
        SplittableRandom rng = new SplittableRandom(seed);
        int n = batch * seq;
        int[] ids = new int[n], types = new int[n], mask = new int[n];
        int firstSep = seq / 2;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seq; t++) {
                int i = b * seq + t;
                ids[i] = t == 0 ? CLS : t == firstSep || t == seq - 1 ? SEP : rng.nextInt(FIRST_WORD_ID, vocabSize);
                types[i] = t <= firstSep ? 0 : 1;
                mask[i] = 1;
            }
        }
        return new SyntheticBatch(batch, seq, ids, types, mask);
    }
}
