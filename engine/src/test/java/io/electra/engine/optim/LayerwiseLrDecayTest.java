package io.electra.engine.optim;

import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.nn.Parameter;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Depths and multipliers as ELECTRA's _get_layer_lrs assigns them, for a 12-layer encoder and decay 0.8. */
class LayerwiseLrDecayTest {
    @Test
    void depthsFollowTheEncoderLayout() {
        assertEquals(0, LayerwiseLrDecay.depth("electra.embeddings.word_embeddings.weight", 12));
        assertEquals(0, LayerwiseLrDecay.depth("electra.embeddings.LayerNorm.bias", 12));
        assertEquals(0, LayerwiseLrDecay.depth("electra.embeddings_project.weight", 12));
        assertEquals(1, LayerwiseLrDecay.depth("electra.encoder.layer.0.attention.self.query.weight", 12));
        assertEquals(11, LayerwiseLrDecay.depth("electra.encoder.layer.10.output.dense.bias", 12));
        assertEquals(12, LayerwiseLrDecay.depth("electra.encoder.layer.11.output.LayerNorm.weight", 12));
        assertEquals(14, LayerwiseLrDecay.depth("classifier.out_proj.weight", 12));
        assertThrows(IllegalArgumentException.class,
                () -> LayerwiseLrDecay.depth("electra.encoder.layer.12.output.dense.bias", 12));
    }

    @Test
    void multipliersAreDecayToTheDistanceFromTheTop() {
        try (CpuBackend backend = new CpuBackend(1)) {
            var mult = LayerwiseLrDecay.multipliers(0.8, 12);
            assertEquals(Math.pow(0.8, 14), mult.applyAsDouble(
                    new Parameter(backend, "electra.embeddings.word_embeddings.weight", true, 1)), 1e-15);
            assertEquals(Math.pow(0.8, 13), mult.applyAsDouble(
                    new Parameter(backend, "electra.encoder.layer.0.output.dense.weight", true, 1)), 1e-15);
            assertEquals(0.64, mult.applyAsDouble(
                    new Parameter(backend, "electra.encoder.layer.11.output.dense.weight", true, 1)), 1e-15);
            assertEquals(1.0, mult.applyAsDouble(new Parameter(backend, "classifier.dense.weight", true, 1)));
        }
    }
}
