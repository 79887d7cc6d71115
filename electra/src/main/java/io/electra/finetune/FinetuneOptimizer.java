package io.electra.finetune;

import io.electra.engine.Backend;
import io.electra.engine.optim.AdamW;
import io.electra.engine.optim.AdamWConfig;
import io.electra.engine.optim.LayerwiseLrDecay;
import io.electra.engine.optim.LinearWarmupDecay;
import io.electra.engine.optim.LrSchedule;
import io.electra.model.ElectraClassifier;

/**
 * ELECTRA's fine-tuning optimizer: AdamW (beta 0.9/0.999, eps 1e-6, gradients clipped to norm 1)
 * with bias correction, weight decay on every parameter but biases and LayerNorm, each parameter's
 * learning rate scaled by {@code decay^(layers + 2 - depth)} (embeddings lowest, the head at 1), and a
 * linear warmup over the first {@code warmupProportion} of the updates followed by linear decay to 0.
 */
public final class FinetuneOptimizer {
    private FinetuneOptimizer() {
    }

    public static AdamW create(Backend backend, ElectraClassifier model, Recipe recipe) {
        AdamWConfig config = AdamWConfig.electra().withBiasCorrection(true).withWeightDecay(recipe.weightDecay());
        return new AdamW(backend, model.parameters(), config,
                LayerwiseLrDecay.multipliers(recipe.layerwiseDecay(), model.numLayers()));
    }

    public static LrSchedule schedule(Recipe recipe, int trainExamples) {
        return LinearWarmupDecay.withWarmupProportion(recipe.learningRate(), recipe.totalSteps(trainExamples),
                recipe.warmupProportion(), 0);
    }
}
