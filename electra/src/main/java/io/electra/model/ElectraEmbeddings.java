package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Var;
import io.electra.engine.nn.Embedding;
import io.electra.engine.nn.LayerNorm;
import io.electra.engine.nn.Module;

/**
 * word + position + token-type embeddings, then LayerNorm and dropout. In ELECTRA pre-training the
 * generator and the discriminator share this whole module (tables and LayerNorm).
 */
public final class ElectraEmbeddings extends Module {
    public final Embedding wordEmbeddings;      // (V, E)
    public final Embedding positionEmbeddings;  // (maxPos, E)
    public final Embedding tokenTypeEmbeddings; // (types, E)
    public final LayerNorm layerNorm;           // (E)
    private final float dropout;

    public ElectraEmbeddings(Backend backend, ElectraConfig c) {
        super(backend);
        wordEmbeddings = child("word_embeddings", new Embedding(backend, c.vocabSize, c.embeddingSize));
        positionEmbeddings = child("position_embeddings", new Embedding(backend, c.maxPositionEmbeddings, c.embeddingSize));
        tokenTypeEmbeddings = child("token_type_embeddings", new Embedding(backend, c.typeVocabSize, c.embeddingSize));
        layerNorm = child("LayerNorm", new LayerNorm(backend, c.embeddingSize, c.layerNormEps));
        dropout = (float) c.hiddenDropoutProb;
    }

    /** (B, T) inputs to (B, T, E). */
    public Var forward(Ops ops, ElectraInputs in, int dropoutPurpose) {
        // the three lookups and their sum as one op (the values and gradients of two adds)
        Var sum = ops.embeddingSum(wordEmbeddings.weight, in.ids(), positionEmbeddings.weight, in.positions(),
                tokenTypeEmbeddings.weight, in.tokenTypes());
        return ops.dropout(layerNorm.forward(ops, sum), dropout, dropoutPurpose);
    }
}
