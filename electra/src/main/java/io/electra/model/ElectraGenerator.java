package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Var;
import io.electra.engine.nn.Group;
import io.electra.engine.nn.LayerNorm;
import io.electra.engine.nn.Linear;
import io.electra.engine.nn.Module;
import io.electra.engine.nn.Parameter;

import java.util.Map;

/**
 * HF's {@code ElectraForMaskedLM}: the body, then {@code LN(gelu(dense(h)))} and the output layer
 * tied to the word embeddings, with its own bias. During pre-training the head runs only on the
 * masked positions (as the official code does), not on all B*T rows.
 */
public final class ElectraGenerator extends Module {
    public final ElectraConfig config;
    public final ElectraBody electra;
    private final Linear dense;            // (E, C)
    private final LayerNorm norm;          // (E)
    public final Parameter lmHeadBias;     // (V)

    public ElectraGenerator(Backend backend, ElectraConfig c, ElectraEmbeddings shared) {
        super(backend);
        config = c;
        electra = child("electra", new ElectraBody(backend, c, shared, 0));
        Group predictions = child("generator_predictions", new Group(backend));
        norm = predictions.add("LayerNorm", new LayerNorm(backend, c.embeddingSize, c.layerNormEps));
        dense = predictions.add("dense", new Linear(backend, c.hiddenSize, c.embeddingSize, true));
        lmHeadBias = child("generator_lm_head", new Bias(backend, c.vocabSize)).bias;
    }

    /** The tied output weight: the (shared) word embeddings (V, E). */
    public Parameter lmHeadWeight() {
        return electra.embeddings.wordEmbeddings.weight;
    }

    /**
     * Logits (K, V) at the rows {@code index} (K, flat b*T+t) of the batch, or at every row when
     * {@code index} is null (then (B*T, V)).
     */
    public Var logits(Ops ops, ElectraInputs in, Tensor index, Map<String, Tensor> trace) {
        return ops.linear(predictions(ops, in, index, trace), lmHeadWeight(), lmHeadBias);
    }

    /**
     * The logits at the rows {@code index} (as {@link #logits}, values only) and their mean cross-entropy
     * against {@code targets}, the head and the loss as one op (its backward writes the head's GEMM-ready
     * gradient and bias sums in the loss's own pass).
     */
    public Ops.LogitsAndLoss logitsAndLoss(Ops ops, ElectraInputs in, Tensor index, Tensor targets, Map<String, Tensor> trace) {
        return ops.linearCrossEntropy(predictions(ops, in, index, trace), lmHeadWeight(), lmHeadBias, targets);
    }

    /** The prediction head's hidden states at the rows {@code index} (all rows when null): dense, GELU, LayerNorm. */
    private Var predictions(Ops ops, ElectraInputs in, Tensor index, Map<String, Tensor> trace) {
        Var h = electra.forward(ops, in, trace, "generator");
        int c = h.value().dim(2);
        Var rows = index != null ? ops.gatherRows(h, index) : ops.view(h, in.batch() * in.seq(), c);
        Var p = norm.forward(ops, dense.forwardGelu(ops, rows));
        if (trace != null) trace.put("generator.predictions_output", p.value());
        return p;
    }

    /** A module holding one bias vector (HF's {@code generator_lm_head} whose weight is tied). */
    static final class Bias extends Module {
        final Parameter bias;

        Bias(Backend backend, int n) {
            super(backend);
            bias = param("bias", false, n);
        }
    }
}
