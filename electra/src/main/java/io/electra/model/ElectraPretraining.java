package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Precision;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Var;
import io.electra.engine.nn.Bf16Copies;
import io.electra.engine.nn.Parameter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replaced-token detection: the generator (a masked LM) predicts the masked tokens, a sample from
 * it replaces them, and the discriminator labels every token original or replaced.
 * {@code loss = mlm + discWeight * bce}. The two networks share the embedding module.
 */
public final class ElectraPretraining {
    public final ElectraGenerator generator;
    public final ElectraDiscriminator discriminator;
    public final float discWeight;

    public ElectraPretraining(Backend backend, ElectraConfig generatorConfig, ElectraConfig discriminatorConfig,
                              float discWeight) {
        checkShared(generatorConfig, discriminatorConfig);
        this.discriminator = new ElectraDiscriminator(backend, discriminatorConfig, null);
        this.generator = new ElectraGenerator(backend, generatorConfig, discriminator.electra.embeddings);
        this.discWeight = discWeight;
        // unique names for optimizer state; the shared embeddings end up under the discriminator
        generator.assignNames("generator.");
        discriminator.assignNames("discriminator.");
    }

    private static void checkShared(ElectraConfig g, ElectraConfig d) {
        if (g.vocabSize != d.vocabSize || g.embeddingSize != d.embeddingSize
                || g.maxPositionEmbeddings != d.maxPositionEmbeddings || g.typeVocabSize != d.typeVocabSize) {
            throw new IllegalArgumentException("generator and discriminator must share vocab_size, embedding_size, "
                    + "max_position_embeddings and type_vocab_size to share embeddings; got generator "
                    + g.vocabSize + "/" + g.embeddingSize + "/" + g.maxPositionEmbeddings + "/" + g.typeVocabSize
                    + ", discriminator " + d.vocabSize + "/" + d.embeddingSize + "/" + d.maxPositionEmbeddings
                    + "/" + d.typeVocabSize);
        }
    }

    /**
     * Loads a HuggingFace generator and discriminator folder pair (ours, the fixtures', or the hub's).
     * The shared embedding tensors come from the discriminator; a generator file that carries its own
     * copy (a separately saved HF generator) is accepted and its copy ignored.
     */
    public static ElectraPretraining fromHf(Backend backend, Path generatorDir, Path discriminatorDir,
                                            float discWeight) throws IOException {
        ElectraPretraining m = new ElectraPretraining(backend, HfFolder.readConfig(generatorDir),
                HfFolder.readConfig(discriminatorDir), discWeight);
        m.loadHf(generatorDir, discriminatorDir);
        return m;
    }

    /** Loads weights into this pair from HF folders whose shapes must match; see {@link #fromHf}. */
    public void loadHf(Path generatorDir, Path discriminatorDir) throws IOException {
        HfFolder.LoadReport dr = HfFolder.load(discriminator.namedParameters(), discriminatorDir, Set.of());
        HfFolder.requireComplete(dr, discriminatorDir);
        Set<String> shared = new HashSet<>();
        for (String k : discriminator.electra.embeddings.namedParameters().keySet()) shared.add("electra.embeddings." + k);
        shared.add("generator_lm_head.weight");
        HfFolder.LoadReport gr = HfFolder.load(generator.namedParameters(), generatorDir, shared);
        HfFolder.requireComplete(gr, generatorDir);
        if (!gr.unexpected().isEmpty()) {
            throw new IOException(generatorDir + ": tensors that are not part of an ELECTRA generator: " + gr.unexpected());
        }
        if (!dr.unexpected().isEmpty()) {
            throw new IOException(discriminatorDir + ": tensors that are not part of an ELECTRA discriminator: "
                    + dr.unexpected());
        }
    }

    /** Writes {@code generator/} and {@code discriminator/} HF folders under {@code dir}. */
    public void saveHf(Path dir) throws IOException {
        HfFolder.save(generator, generator.config, dir.resolve("generator"));
        HfFolder.save(discriminator, discriminator.config, dir.resolve("discriminator"));
    }

    /**
     * Sets up the weights for {@code precision}: BF16 gives every Linear weight of both networks and
     * the tied output projection (the word embeddings, the largest GEMM: V x E) a persistent bf16
     * copy made from the F32 master now; FP32 frees them. The embedding lookups always read the F32
     * tables (a gather, not a GEMM, so the embedding sum and its LayerNorm see exact fp32 values).
     * Pair it with {@link Ops#setPrecision}; the masters, and so the checkpoints, stay F32.
     */
    public void usePrecision(Precision precision) {
        if (precision == Precision.BF16) {
            Bf16Copies.enableLinearWeights(discriminator);
            Bf16Copies.enableLinearWeights(generator);
            generator.lmHeadWeight().enableBf16Copy();
        } else {
            Bf16Copies.disableAll(discriminator);
            Bf16Copies.disableAll(generator);
        }
    }

    /** Every trainable tensor once (the shared embeddings are not listed twice). */
    public List<Parameter> parameters() {
        IdentityHashMap<Parameter, Boolean> seen = new IdentityHashMap<>();
        List<Parameter> out = new ArrayList<>();
        for (Parameter p : discriminator.namedParameters().values()) if (seen.put(p, true) == null) out.add(p);
        for (Parameter p : generator.namedParameters().values()) if (seen.put(p, true) == null) out.add(p);
        return out;
    }

    /**
     * The masking of one batch on the device.
     *
     * @param generatorIds (B, T) masked input
     * @param rows         (K) flat row of each prediction slot
     * @param targets      (K) original ids, -1 for dead slots
     * @param replaceAt    (K) flat row the sampled token replaces, -1 to skip
     */
    public record DeviceMasking(Tensor generatorIds, Tensor rows, Tensor targets, Tensor replaceAt) {
        public static DeviceMasking upload(Backend b, Masking.Batch m, int batch, int seq) {
            return new DeviceMasking(put(b, m.maskedIds(), batch, seq), put(b, m.rows()), put(b, m.targets()),
                    put(b, m.replaceAt()));
        }

        private static Tensor put(Backend b, int[] data, int... shape) {
            Tensor t = b.allocate(DType.I32, shape.length == 0 ? new int[]{data.length} : shape);
            b.upload(t, data);
            return t;
        }
    }

    /** What one forward produced: losses, the discriminator's logits and labels, the sampled ids. */
    public record Output(Var generatorLoss, Var discriminatorLoss, Var total, Var generatorLogits,
                         Var discriminatorLogits, Tensor discriminatorIds, Tensor labels, Tensor sampled) {
    }

    /**
     * One forward of both networks.
     *
     * @param original the unmasked batch (its ids are the labels' reference)
     * @param sampled  fixed replacement ids (K) for tests, or null to sample from the generator
     *                 (Gumbel-max, keyed by {@code gumbelKey}, no gradient through the sample)
     * @param trace    receives the intermediate tensors under the fixture's names when not null
     */
    public Output forward(Ops ops, ElectraInputs original, DeviceMasking masking, Tensor sampled, RngKey gumbelKey,
                          Map<String, Tensor> trace) {
        Backend b = ops.backend();
        int n = original.batch() * original.seq();
        // 1. generator: masked LM logits at the prediction slots only
        Ops.LogitsAndLoss generated = generator.logitsAndLoss(ops, original.withIds(masking.generatorIds()), masking.rows(),
                masking.targets(), trace);
        Var genLogits = generated.logits(), genLoss = generated.loss();
        // 2. sample replacements (no gradient) and build the corrupted input and its labels
        if (sampled == null) {
            sampled = b.allocateTempUnfilled(DType.I32, (int) masking.rows().size());
            b.gumbelSample(sampled, genLogits.value(), gumbelKey);
        }
        Tensor discIds = b.allocateTempUnfilled(DType.I32, original.batch(), original.seq());
        Tensor labels = b.allocateTempUnfilled(genLogits.value().dtype(), n);
        b.replaceTokens(discIds.view(n), labels, original.ids().view(n), masking.replaceAt(), sampled);
        // 3. discriminator: one logit per token, BCE over real tokens
        Var discLogits = discriminator.logits(ops, original.withIds(discIds), trace);
        Var discLoss = ops.bceWithLogits(discLogits, labels, original.attentionMask().view(n));
        Var total = ops.add(genLoss, 1f, discLoss, discWeight);
        return new Output(genLoss, discLoss, total, genLogits, discLogits, discIds, labels, sampled);
    }
}
