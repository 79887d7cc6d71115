package io.electra.engine.optim;

/**
 * ELECTRA's schedule (google-research/electra {@code model/optimization.py}): TensorFlow's
 * {@code polynomial_decay} to 0 over {@code totalSteps}, times a linear warmup factor:
 * <pre>
 *   lr(step) = base * (1 - min(step, totalSteps) / totalSteps)^power * min(1, step / warmupSteps)
 * </pre>
 * where {@code step} counts the updates already applied. So the first update (step 0) has learning
 * rate 0 and only moves Adam's moments, the rate peaks at {@code base * (1 - warmup/total)^power}
 * when warmup ends, and the last update (step {@code totalSteps - 1}) uses {@code base / totalSteps}
 * for power 1. Pre-training uses power 1 ({@code lr_decay_power}). With {@code warmupSteps == 0} the
 * warmup factor is 1 (TensorFlow would compute 0/0 there).
 */
public record LinearWarmupDecay(double base, double warmupSteps, long totalSteps, double power) implements LrSchedule {

    public LinearWarmupDecay {
        if (totalSteps <= 0) throw new IllegalArgumentException("totalSteps must be positive, got " + totalSteps);
        if (warmupSteps < 0) throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        if (base < 0 || power <= 0) {
            throw new IllegalArgumentException("need base >= 0 and power > 0, got " + base + ", " + power);
        }
    }

    /** Linear decay (power 1). */
    public LinearWarmupDecay(double base, double warmupSteps, long totalSteps) {
        this(base, warmupSteps, totalSteps, 1.0);
    }

    /**
     * As ELECTRA's fine-tuning configures it: warmup is {@code max(totalSteps * proportion, warmupSteps)}
     * steps (a fraction of a step is kept, as TensorFlow divides by it in floating point).
     */
    public static LinearWarmupDecay withWarmupProportion(double base, long totalSteps, double proportion,
                                                         long warmupSteps) {
        return new LinearWarmupDecay(base, Math.max(totalSteps * proportion, warmupSteps), totalSteps);
    }

    @Override
    public double lr(long step) {
        if (step < 0) throw new IllegalArgumentException("negative step " + step);
        double decay = Math.pow(1.0 - (double) Math.min(step, totalSteps) / totalSteps, power);
        double warmup = warmupSteps == 0 ? 1.0 : Math.min(1.0, step / warmupSteps);
        return base * decay * warmup;
    }
}
