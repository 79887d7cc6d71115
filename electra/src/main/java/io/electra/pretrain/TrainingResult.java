package io.electra.pretrain;

import java.nio.file.Path;

/**
 * How a run ended: the last step reached, the newest checkpoint, whether it was cancelled or hit
 * its time limit, and the last metrics record.
 */
public record TrainingResult(long step, Path checkpoint, boolean cancelled, StepMetrics last) {
}
