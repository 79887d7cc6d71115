package io.electra.bench.step;

import io.electra.engine.Backend;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.nn.Parameter;
import io.electra.model.ElectraPretraining;
import io.electra.model.Preset;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StepFlopsTest {

    /**
     * Every matrix product of a linear layer costs 2 * rows * (weight size): the count must agree with the
     * weight matrices of the model we actually build (its module tree, not the formulas).
     */
    @Test
    void linearTermsMatchTheModelsWeightMatrices() {
        int batch = 3, seq = 40, n = batch * seq;
        int headRows = batch * 6; // int((0.15 + 0.005) * 40) = 6 prediction slots per sequence
        Preset p = Preset.named("small2l");
        try (Backend b = new CpuBackend(1)) {
            ElectraPretraining m = new ElectraPretraining(b, p.generator(), p.discriminator(), 50f);
            long expected = 2L * n * (bodyWeights(m.generator.namedParameters()) + bodyWeights(m.discriminator.namedParameters()))
                    + 2L * headRows * (size(m.generator.namedParameters(), "generator_predictions.dense.weight")
                    + size(m.discriminator.namedParameters(), "electra.embeddings.word_embeddings.weight"))
                    + 2L * n * (size(m.discriminator.namedParameters(), "discriminator_predictions.dense.weight")
                    + size(m.discriminator.namedParameters(), "discriminator_predictions.dense_prediction.weight"));
            StepFlops f = StepFlops.of(p, Objective.ELECTRA, batch, seq, false);
            long attention = f.forward().get("generator attention scores and context")
                    + f.forward().get("discriminator attention scores and context");
            assertEquals(expected, f.forwardTotal() - attention);
        }
    }

    /** Weight matrices of the embedding projection and the encoder layers (not tables, biases or LayerNorms). */
    private static long bodyWeights(Map<String, Parameter> params) {
        long s = 0;
        for (var e : params.entrySet()) {
            String k = e.getKey();
            boolean matrix = k.endsWith(".weight") && e.getValue().value().rank() == 2;
            if (matrix && (k.startsWith("electra.encoder.") || k.startsWith("electra.embeddings_project."))) {
                s += e.getValue().value().size();
            }
        }
        return s;
    }

    private static long size(Map<String, Parameter> params, String name) {
        Parameter p = params.get(name);
        if (p == null) throw new AssertionError("no parameter " + name + " in " + params.keySet());
        return p.value().size();
    }

    @Test
    void attentionCostsFourTimesSeqSquaredTimesHiddenPerSequenceAndLayer() {
        // tiny discriminator: 2 layers, hidden 64; one sequence of 128: QK^T and PV are 2*128*128*64 each
        StepFlops f = StepFlops.of(Preset.named("tiny"), Objective.MLM, 1, 128, false);
        assertEquals(2L * 2 * (2L * 128 * 128 * 64), f.forward().get("mlm attention scores and context"));
    }

    @Test
    void huggingFaceHeadRunsOnEveryPositionNotOnlyTheSlots() {
        Preset p = Preset.named("small");
        long slots = StepFlops.of(p, Objective.ELECTRA, 8, 128, false).forward().get("generator head logits");
        long all = StepFlops.of(p, Objective.ELECTRA, 8, 128, true).forward().get("generator head logits");
        assertEquals(2L * 8 * 19 * 128 * 30522, slots); // 19 = int(0.155 * 128) slots of 128-wide embeddings
        assertEquals(2L * 8 * 128 * 128 * 30522, all);
    }

    @Test
    void stepIsForwardPlusTwiceForwardForTheBackward() {
        StepFlops f = StepFlops.of(Preset.named("base"), Objective.ELECTRA, 2, 128, false);
        assertEquals(3 * f.forwardTotal(), f.stepTotal());
    }
}
