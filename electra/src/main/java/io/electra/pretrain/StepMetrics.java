package io.electra.pretrain;

/**
 * One metrics record, written as a JSON line every few steps and handed to listeners.
 * Losses are those of the last micro-batch of the step; rates are over the interval since the
 * previous record. {@code precision} is the run's arithmetic, "fp32" or "bf16".
 */
public record StepMetrics(long step, double generatorLoss, double discriminatorLoss, double totalLoss,
                          double discriminatorAccuracy, double replacedPrecision, double replacedRecall,
                          double replacedFraction, double learningRate, double gradNorm, double sequencesPerSecond,
                          double tokensPerSecond, long memoryBytes, Double validationLoss, String precision) {
}
