package io.electra.pretrain;

/**
 * Replaced-token-detection quality over the real tokens of one batch: accuracy, and precision and
 * recall of the "replaced" class, plus the fraction of sampled tokens that actually replaced
 * something (the rest equal the original and are labelled original).
 */
public record DetectionStats(double accuracy, double precision, double recall, double replacedFraction,
                             long tokens) {

    /**
     * @param logits  (N) discriminator logits
     * @param labels  (N) 1 replaced, 0 original
     * @param mask    (N) 1 real token
     * @param targets (K) prediction slots' original ids, negative for dead slots
     */
    public static DetectionStats of(float[] logits, float[] labels, int[] mask, int[] targets) {
        long tp = 0, fp = 0, fn = 0, correct = 0, tokens = 0, replaced = 0;
        for (int i = 0; i < logits.length; i++) {
            if (mask[i] == 0) continue;
            tokens++;
            boolean predicted = logits[i] > 0, actual = labels[i] > 0.5f;
            if (predicted == actual) correct++;
            if (predicted && actual) tp++;
            if (predicted && !actual) fp++;
            if (!predicted && actual) fn++;
            if (actual) replaced++;
        }
        long live = 0;
        for (int t : targets) if (t >= 0) live++;
        return new DetectionStats(ratio(correct, tokens), ratio(tp, tp + fp), ratio(tp, tp + fn),
                ratio(replaced, live), tokens);
    }

    private static double ratio(long a, long b) {
        return b == 0 ? 0 : (double) a / b;
    }
}
