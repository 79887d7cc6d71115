package io.electra.engine.nn;

import io.electra.engine.Backend;
import io.electra.engine.DType;

import java.util.ArrayList;
import java.util.List;

/**
 * The parameter layout of HuggingFace's {@code ElectraForPreTraining} (no forward pass), written from
 * its module structure, to check that module-tree names come out as HuggingFace's state-dict keys.
 */
final class TinyElectra extends Module {
    record Config(int vocab, int embedding, int hidden, int layers, int intermediate, int positions, int types) {
    }

    static final class Linear extends Module {
        final Parameter weight, bias;

        Linear(Backend b, DType d, int in, int out) {
            super(b, d);
            weight = param("weight", true, out, in);
            bias = param("bias", false, out);
        }
    }

    static final class LayerNorm extends Module {
        LayerNorm(Backend b, DType d, int c) {
            super(b, d);
            param("weight", false, c);
            param("bias", false, c);
        }
    }

    static final class Embedding extends Module {
        Embedding(Backend b, DType d, int rows, int c) {
            super(b, d);
            param("weight", true, rows, c);
        }
    }

    static final class Embeddings extends Module {
        Embeddings(Backend b, DType d, Config c) {
            super(b, d);
            child("word_embeddings", new Embedding(b, d, c.vocab, c.embedding));
            child("position_embeddings", new Embedding(b, d, c.positions, c.embedding));
            child("token_type_embeddings", new Embedding(b, d, c.types, c.embedding));
            child("LayerNorm", new LayerNorm(b, d, c.embedding));
        }
    }

    static final class Dense extends Module { // a Linear followed by LayerNorm: attention.output / output
        Dense(Backend b, DType d, int in, int out) {
            super(b, d);
            child("dense", new Linear(b, d, in, out));
            child("LayerNorm", new LayerNorm(b, d, out));
        }
    }

    static final class SelfAttention extends Module {
        SelfAttention(Backend b, DType d, int h) {
            super(b, d);
            child("query", new Linear(b, d, h, h));
            child("key", new Linear(b, d, h, h));
            child("value", new Linear(b, d, h, h));
        }
    }

    static final class Attention extends Module {
        Attention(Backend b, DType d, int h) {
            super(b, d);
            child("self", new SelfAttention(b, d, h));
            child("output", new Dense(b, d, h, h));
        }
    }

    static final class Intermediate extends Module {
        Intermediate(Backend b, DType d, int h, int i) {
            super(b, d);
            child("dense", new Linear(b, d, h, i));
        }
    }

    static final class Layer extends Module {
        Layer(Backend b, DType d, Config c) {
            super(b, d);
            child("attention", new Attention(b, d, c.hidden));
            child("intermediate", new Intermediate(b, d, c.hidden, c.intermediate));
            child("output", new Dense(b, d, c.intermediate, c.hidden));
        }
    }

    static final class Encoder extends Module {
        Encoder(Backend b, DType d, Config c) {
            List<Layer> layers = new ArrayList<>();
            for (int i = 0; i < c.layers; i++) layers.add(new Layer(b, d, c));
            child("layer", new ModuleList<>(layers));
        }
    }

    static final class Body extends Module {
        Body(Backend b, DType d, Config c) {
            child("embeddings", new Embeddings(b, d, c));
            if (c.embedding != c.hidden) child("embeddings_project", new Linear(b, d, c.embedding, c.hidden));
            child("encoder", new Encoder(b, d, c));
        }
    }

    static final class Head extends Module {
        Head(Backend b, DType d, int h) {
            child("dense", new Linear(b, d, h, h));
            child("dense_prediction", new Linear(b, d, h, 1));
        }
    }

    /** The tiny fixture's discriminator: vocab 1000, embedding 16, hidden 32, 2 layers, intermediate 64. */
    static final Config TINY_DISCRIMINATOR = new Config(1000, 16, 32, 2, 64, 64, 2);

    TinyElectra(Backend b, DType d, Config c) {
        child("electra", new Body(b, d, c));
        child("discriminator_predictions", new Head(b, d, c.hidden));
        assignNames("");
    }
}
