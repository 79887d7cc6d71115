package io.electra.finetune;

import io.electra.engine.nn.Init;
import io.electra.engine.nn.Parameter;

import java.util.Collection;

/**
 * Initial values for parameters a checkpoint does not provide (the new classifier head, or a whole
 * model trained from scratch), as ELECTRA initialises them: weights from a normal distribution of
 * standard deviation {@code initializer_range} truncated at two deviations, biases zero, LayerNorm
 * weights one. Each parameter's stream depends only on (seed, its name).
 */
public final class FreshWeights {
    private FreshWeights() {
    }

    /** Initialises each parameter by its full HF name (see the class comment). */
    public static void initialise(Collection<Parameter> params, double std, long seed) {
        for (Parameter p : params) {
            String name = p.name();
            if (name.endsWith(".bias")) Init.zeros(p);
            else if (name.endsWith("LayerNorm.weight")) Init.ones(p);
            else Init.truncatedNormal(p, std, seed);
        }
    }
}
