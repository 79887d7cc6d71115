package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Var;
import io.electra.engine.nn.Group;
import io.electra.engine.nn.Linear;
import io.electra.engine.nn.Module;

import java.util.Map;

/**
 * HF's {@code ElectraModel} (the "electra." prefix): the embeddings (possibly shared with the other
 * network), {@code embeddings_project} when the embedding size differs from the hidden size, and the
 * encoder layers.
 */
public final class ElectraBody extends Module {
    public final ElectraEmbeddings embeddings;
    private final Linear project;          // (C, E), or null when E == C
    private final ElectraLayer[] layers;
    private final int dropoutBase;         // keeps this network's dropout streams apart from the other's

    public ElectraBody(Backend backend, ElectraConfig c, ElectraEmbeddings shared, int dropoutBase) {
        super(backend);
        embeddings = child("embeddings", shared != null ? shared : new ElectraEmbeddings(backend, c));
        project = c.embeddingSize != c.hiddenSize
                ? child("embeddings_project", new Linear(backend, c.embeddingSize, c.hiddenSize, true)) : null;
        Group encoder = child("encoder", new Group(backend));
        Group layerList = encoder.add("layer", new Group(backend));
        layers = new ElectraLayer[c.numHiddenLayers];
        for (int i = 0; i < layers.length; i++) layers[i] = layerList.add(Integer.toString(i), new ElectraLayer(backend, c));
        this.dropoutBase = dropoutBase;
    }

    public int numLayers() {
        return layers.length;
    }

    /**
     * (B, T) inputs to the last hidden state (B, T, C). With a {@code trace}, records
     * {@code <prefix>.embeddings_output}, {@code <prefix>.hidden_states.i} and {@code <prefix>.attentions.i}
     * under the fixture's names.
     */
    public Var forward(Ops ops, ElectraInputs in, Map<String, Tensor> trace, String prefix) {
        int base = RngKey.DROPOUT_BASE + dropoutBase;
        Var e = embeddings.forward(ops, in, base);
        if (trace != null) trace.put(prefix + ".embeddings_output", e.value());
        Var h = project != null ? project.forward(ops, e) : e;
        for (int i = 0; i < layers.length; i++) {
            if (trace != null) trace.put(prefix + ".hidden_states." + i, h.value());
            h = layers[i].forward(ops, h, in.attentionMask(), base + 4 * (i + 1), trace, prefix + ".attentions." + i);
        }
        if (trace != null) trace.put(prefix + ".hidden_states." + layers.length, h.value());
        return h;
    }
}
