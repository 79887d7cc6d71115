package io.electra.model;

import java.util.List;
import java.util.Locale;

/**
 * The official ELECTRA model sizes and pre-training hyper-parameters (Clark et al. 2020, appendix;
 * google-research/electra {@code configure_pretraining.py}), plus {@code tiny} for demos and tests
 * and {@code small2l} (Small shapes, 2 layers) for benchmarks. The generator has the discriminator's
 * depth and a fraction of its width: hidden, heads and FFN scaled, heads at least 1.
 */
public record Preset(String name, ElectraConfig discriminator, ElectraConfig generator, double learningRate,
                     int batchSize, int maxSeqLength, double maskProb, int warmupSteps, int trainSteps) {

    public static final List<String> NAMES = List.of("tiny", "small2l", "small", "base", "large");

    public static Preset named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "tiny" -> of("tiny", 64, 64, 2, 2, 256, 0.5, 1e-3, 16, 128, 0.15, 100, 2000);
            case "small2l" -> of("small2l", 128, 256, 2, 4, 1024, 0.25, 5e-4, 128, 128, 0.15, 10000, 1_000_000);
            case "small" -> of("small", 128, 256, 12, 4, 1024, 0.25, 5e-4, 128, 128, 0.15, 10000, 1_000_000);
            case "base" -> of("base", 768, 768, 12, 12, 3072, 1.0 / 3, 2e-4, 256, 512, 0.15, 10000, 766_000);
            case "large" -> of("large", 1024, 1024, 24, 16, 4096, 0.25, 2e-4, 2048, 512, 0.25, 10000, 400_000);
            default -> throw new IllegalArgumentException("unknown preset '" + name + "'; choose one of " + NAMES);
        };
    }

    private static Preset of(String name, int embedding, int hidden, int layers, int heads, int ffn, double genFraction,
                             double lr, int batch, int seq, double mask, int warmup, int steps) {
        ElectraConfig d = new ElectraConfig();
        d.architectures = List.of("ElectraForPreTraining");
        d.embeddingSize = embedding;
        d.hiddenSize = hidden;
        d.numHiddenLayers = layers;
        d.numAttentionHeads = heads;
        d.intermediateSize = ffn;
        ElectraConfig g = generatorOf(d, genFraction);
        return new Preset(name, d, g, lr, batch, seq, mask, warmup, steps);
    }

    /** The generator config for a discriminator at {@code fraction} of its width (official get_generator_config). */
    public static ElectraConfig generatorOf(ElectraConfig d, double fraction) {
        ElectraConfig g = d.copy();
        g.architectures = List.of("ElectraForMaskedLM");
        g.hiddenSize = (int) Math.round(d.hiddenSize * fraction);
        g.numAttentionHeads = Math.max(1, (int) Math.round(d.numAttentionHeads * fraction));
        g.intermediateSize = (int) Math.round(d.intermediateSize * fraction);
        if (g.hiddenSize % g.numAttentionHeads != 0) {
            throw new IllegalArgumentException("generator hidden size " + g.hiddenSize + " not divisible by "
                    + g.numAttentionHeads + " heads");
        }
        return g;
    }

    /** Official max_predictions_per_seq for this preset's mask rate and length. */
    public int maxPredictions() {
        return Masking.defaultMaxPredictions(maskProb, maxSeqLength);
    }
}
