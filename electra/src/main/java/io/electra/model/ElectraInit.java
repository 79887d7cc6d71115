package io.electra.model;

import io.electra.engine.nn.Init;
import io.electra.engine.nn.Parameter;

import java.util.List;

/**
 * Fresh weights as the official ELECTRA code draws them: truncated normal with std
 * {@code initializer_range} (0.02) for every weight and embedding, zero biases, LayerNorm weight one.
 * Each tensor's stream derives from (seed, its full name), so adding a parameter changes no other.
 */
public final class ElectraInit {
    private ElectraInit() {
    }

    public static void apply(List<Parameter> params, double std, long seed) {
        for (Parameter p : params) {
            String n = p.name();
            if (n.endsWith("LayerNorm.weight")) Init.ones(p);
            else if (n.endsWith(".bias")) Init.zeros(p);
            else Init.truncatedNormal(p, std, seed);
        }
    }
}
