package io.electra.finetune;

import io.electra.engine.Backend;
import io.electra.engine.cpu.CpuBackend;
import io.electra.model.ElectraConfig;
import io.electra.model.ElectraDiscriminator;
import io.electra.model.HfFolder;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** A small randomly initialised ELECTRA discriminator saved as an HF folder, for fine-tuning tests. */
final class TinyDiscriminator {
    private TinyDiscriminator() {
    }

    static ElectraConfig config(int vocabSize) {
        ElectraConfig c = new ElectraConfig();
        c.architectures = List.of("ElectraForPreTraining");
        c.vocabSize = vocabSize;
        c.embeddingSize = 64;
        c.hiddenSize = 64;
        c.numHiddenLayers = 2;
        c.numAttentionHeads = 2;
        c.intermediateSize = 128;
        c.maxPositionEmbeddings = 128;
        return c;
    }

    static Path save(ElectraConfig c, Path dir, long seed) throws IOException {
        try (Backend b = new CpuBackend(1)) {
            ElectraDiscriminator d = new ElectraDiscriminator(b, c, null);
            d.assignNames("");
            FreshWeights.initialise(d.parameters(), c.initializerRange, seed);
            HfFolder.save(d, c, dir);
        }
        return dir;
    }
}
