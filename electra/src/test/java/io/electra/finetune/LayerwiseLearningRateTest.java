package io.electra.finetune;

import io.electra.engine.Backend;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.nn.Parameter;
import io.electra.engine.optim.AdamW;
import io.electra.engine.optim.LrSchedule;
import io.electra.model.ElectraClassifier;
import io.electra.model.ElectraConfig;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The fine-tuning optimizer gives each parameter ELECTRA's layer-wise rate
 * {@code lr * decay^(layers + 2 - depth)} (embeddings depth 0, layer i depth i + 1, head depth layers + 2)
 * and decays weights only, never biases or LayerNorm; and its schedule warms up over 10% of the steps.
 */
class LayerwiseLearningRateTest {
    private static final double LR = 1e-3, DECAY = 0.8, WEIGHT_DECAY = 0.01, GRAD = 1e-3, EPS = 1e-6;

    /** The multipliers for 2 layers and decay 0.8, written out by hand from the formula. */
    private static double expectedMultiplier(String name) {
        if (name.startsWith("electra.embeddings.") || name.startsWith("electra.embeddings_project.")) return 0.4096; // 0.8^4
        if (name.startsWith("electra.encoder.layer.0.")) return 0.512;  // 0.8^3
        if (name.startsWith("electra.encoder.layer.1.")) return 0.64;   // 0.8^2
        if (name.startsWith("classifier.")) return 1.0;
        throw new AssertionError("unexpected parameter " + name);
    }

    private static boolean expectedDecay(String name) {
        return !name.endsWith(".bias") && !name.contains("LayerNorm");
    }

    @Test
    void eachParameterGroupMovesByItsLayerwiseRate() {
        ElectraConfig c = TinyDiscriminator.config(100);
        c.embeddingSize = 32; // adds embeddings_project, which sits with the embeddings
        try (Backend b = new CpuBackend(1)) {
            ElectraClassifier model = new ElectraClassifier(b, c, 2);
            Recipe recipe = new Recipe(LR, DECAY, 3, 32, 64, 0.1, WEIGHT_DECAY);
            try (AdamW opt = FinetuneOptimizer.create(b, model, recipe)) {
                // every weight 1 and every gradient GRAD: the global norm stays under the clip threshold,
                // so Adam's bias-corrected first step is exactly GRAD / (GRAD + eps) per element
                long count = 0;
                for (Parameter p : model.parameters()) {
                    b.fill(p.value(), 1.0);
                    b.fill(p.grad(), GRAD);
                    count += p.value().size();
                }
                assertEquals(true, GRAD * Math.sqrt(count) < 1, "gradient norm must stay below the clip threshold");
                opt.step(LR);
                int checked = 0;
                for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
                    String name = e.getKey();
                    double lr = LR * expectedMultiplier(name);
                    double expected = 1 - lr * (GRAD / (GRAD + EPS) + (expectedDecay(name) ? WEIGHT_DECAY : 0));
                    float[] got = b.downloadFloat(e.getValue().value());
                    for (int i = 0; i < got.length; i++) {
                        double diff = Math.abs(got[i] - expected);
                        if (diff > 1e-7 + 1e-6 * Math.abs(expected)) {
                            fail(name + "[" + i + "]: expected " + expected + " (lr " + lr + "), got " + got[i] + ", diff " + diff);
                        }
                    }
                    checked++;
                }
                assertEquals(model.namedParameters().size(), checked);
            }
        }
    }

    @Test
    void scheduleWarmsUpOverTenPercentOfStepsThenDecaysLinearlyToZero() {
        Recipe recipe = new Recipe(LR, DECAY, 3, 32, 64, 0.1, WEIGHT_DECAY);
        // 100 examples in batches of 32: 4 updates per epoch (the last has 4 rows), 12 in all, warmup 1.2
        assertEquals(12, recipe.totalSteps(100));
        LrSchedule s = FinetuneOptimizer.schedule(recipe, 100);
        assertEquals(0.0, s.lr(0), 0);
        assertEquals(LR * (1 - 1 / 12.0) / 1.2, s.lr(1), 1e-15);
        assertEquals(LR * (1 - 2 / 12.0), s.lr(2), 1e-15);
        assertEquals(LR / 12, s.lr(11), 1e-15);
    }
}
