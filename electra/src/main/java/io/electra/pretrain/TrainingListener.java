package io.electra.pretrain;

/** Receives every metrics record of a run (on the training thread: return quickly). */
@FunctionalInterface
public interface TrainingListener {
    void onMetrics(StepMetrics metrics);
}
