package io.electra.engine.optim;

/**
 * AdamW's constants.
 *
 * @param weightDecay    decoupled decay, applied only to parameters whose {@code decay()} is true
 * @param maxGradNorm    global gradient-norm clipping threshold; 0 turns clipping off
 * @param biasCorrection divide the moments by {@code 1 - beta^t} (standard Adam); ELECTRA does not
 */
public record AdamWConfig(double beta1, double beta2, double eps, double weightDecay, double maxGradNorm,
                          boolean biasCorrection) {

    public AdamWConfig {
        if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(eps > 0) || weightDecay < 0 || maxGradNorm < 0) {
            throw new IllegalArgumentException("need eps > 0, weightDecay >= 0, maxGradNorm >= 0; got " + eps + ", "
                    + weightDecay + ", " + maxGradNorm);
        }
    }

    /**
     * ELECTRA's official optimizer: beta1 0.9, beta2 0.999, eps 1e-6, weight decay 0.01, gradients
     * clipped to global norm 1.0, no bias correction.
     */
    public static AdamWConfig electra() {
        return new AdamWConfig(0.9, 0.999, 1e-6, 0.01, 1.0, false);
    }

    public AdamWConfig withBiasCorrection(boolean on) {
        return new AdamWConfig(beta1, beta2, eps, weightDecay, maxGradNorm, on);
    }

    public AdamWConfig withWeightDecay(double wd) {
        return new AdamWConfig(beta1, beta2, eps, wd, maxGradNorm, biasCorrection);
    }

    public AdamWConfig withMaxGradNorm(double norm) {
        return new AdamWConfig(beta1, beta2, eps, weightDecay, norm, biasCorrection);
    }

    public AdamWConfig withEps(double e) {
        return new AdamWConfig(beta1, beta2, e, weightDecay, maxGradNorm, biasCorrection);
    }
}
