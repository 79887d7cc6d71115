package io.electra.finetune;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Map;

/**
 * One epoch of a run, as {@code metrics.json} lists it.
 *
 * @param trainLoss         mean training loss over the epoch's examples
 * @param dev               per dev split (its GLUE name), every metric of the task
 * @param score             the selection metric on the first dev split
 * @param seconds           wall time of the epoch's training (evaluation excluded)
 * @param examplesPerSecond training throughput
 * @param learningRate      the base learning rate of the epoch's last update (before layer-wise factors)
 */
public record EpochRecord(@JsonProperty("epoch") int epoch,
                          @JsonProperty("train_loss") double trainLoss,
                          @JsonProperty("dev") Map<String, Map<String, Double>> dev,
                          @JsonProperty("score") double score,
                          @JsonProperty("seconds") double seconds,
                          @JsonProperty("examples_per_second") double examplesPerSecond,
                          @JsonProperty("learning_rate") double learningRate) {
}
