package io.electra.engine.optim;

/** A learning rate for each optimizer step. */
@FunctionalInterface
public interface LrSchedule {
    /**
     * @param step the number of updates already applied (0 for the first update), as TensorFlow's
     *             {@code global_step} before the optimizer increments it
     */
    double lr(long step);
}
