package io.electra.finetune;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What one fine-tuning run (one seed) produced.
 *
 * @param bestEpoch    1-based epoch with the highest dev score; its model is in {@code bestModel}
 * @param score        its selection metric on the first dev split
 * @param bestMetrics  its metrics per dev split
 * @param bestLogits   its dev logits per split, in file order (what the saved model reproduces)
 */
public record RunResult(long seed, int bestEpoch, double score, Map<String, Map<String, Double>> bestMetrics,
                        List<EpochRecord> epochs, Path bestModel, List<float[][]> bestLogits, double seconds) {
}
