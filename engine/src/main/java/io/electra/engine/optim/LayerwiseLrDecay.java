package io.electra.engine.optim;

import io.electra.engine.nn.Parameter;

import java.util.function.ToDoubleFunction;

/**
 * Layer-wise learning-rate decay for fine-tuning, as ELECTRA's {@code _get_layer_lrs}: a parameter at
 * depth d gets the multiplier {@code decay^(layers + 2 - d)}, where the embeddings (and
 * {@code embeddings_project}) have depth 0, encoder layer i has depth i + 1, and everything else (the
 * task head) has depth layers + 2, multiplier 1. Depth is read from HuggingFace names: a name segment
 * {@code embeddings} or {@code embeddings_project}, or the segments {@code encoder.layer.<i>}.
 * (The official code raises for a variable matching no key; here such a parameter is the task head.)
 */
public final class LayerwiseLrDecay {
    private LayerwiseLrDecay() {
    }

    /** Multipliers for an encoder of {@code layers} layers; use with {@link AdamW}. */
    public static ToDoubleFunction<Parameter> multipliers(double decay, int layers) {
        if (!(decay > 0 && decay <= 1)) throw new IllegalArgumentException("decay must be in (0, 1], got " + decay);
        return p -> Math.pow(decay, layers + 2 - depth(p.name(), layers));
    }

    /** The depth of the parameter named {@code name}. */
    public static int depth(String name, int layers) {
        String[] s = name.split("\\.");
        for (int i = 0; i < s.length; i++) {
            if (s[i].equals("embeddings") || s[i].equals("embeddings_project")) return 0;
            if (s[i].equals("encoder") && i + 2 < s.length && s[i + 1].equals("layer")) {
                int layer = Integer.parseInt(s[i + 2]);
                if (layer < 0 || layer >= layers) {
                    throw new IllegalArgumentException("'" + name + "' is layer " + layer + " of a " + layers
                            + "-layer encoder");
                }
                return layer + 1;
            }
        }
        return layers + 2;
    }
}
