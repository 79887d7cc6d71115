package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Var;
import io.electra.engine.nn.Group;
import io.electra.engine.nn.LayerNorm;
import io.electra.engine.nn.Linear;
import io.electra.engine.nn.Module;
import io.electra.engine.nn.StackedLinear;

import java.util.Map;

/**
 * One post-LN BERT encoder layer, with HF's parameter names:
 * {@code a = LN(dense(attention(h)) + h)}, {@code h' = LN(dense2(gelu(dense1(a))) + a)}.
 */
public final class ElectraLayer extends Module {
    private final StackedLinear queryKeyValue; // (3C, C): HF's query, key and value, stacked
    private final Linear attentionOut;        // (C, C)
    private final LayerNorm attentionNorm;    // (C)
    private final Linear intermediate;        // (F, C)
    private final Linear output;              // (C, F)
    private final LayerNorm outputNorm;       // (C)
    private final int heads;
    private final float hiddenDropout, attentionDropout;
    private final float eps;

    public ElectraLayer(Backend backend, ElectraConfig c) {
        super(backend);
        int h = c.hiddenSize;
        Group attention = child("attention", new Group(backend));
        queryKeyValue = attention.add("self", new StackedLinear(backend, h, h, true, "query", "key", "value"));
        Group attnOutput = attention.add("output", new Group(backend));
        attentionOut = attnOutput.add("dense", new Linear(backend, h, h, true));
        attentionNorm = attnOutput.add("LayerNorm", new LayerNorm(backend, h, c.layerNormEps));
        intermediate = child("intermediate", new Group(backend)).add("dense", new Linear(backend, h, c.intermediateSize, true));
        Group out = child("output", new Group(backend));
        output = out.add("dense", new Linear(backend, c.intermediateSize, h, true));
        outputNorm = out.add("LayerNorm", new LayerNorm(backend, h, c.layerNormEps));
        heads = c.numAttentionHeads;
        hiddenDropout = (float) c.hiddenDropoutProb;
        attentionDropout = (float) c.attentionProbsDropoutProb;
        eps = (float) c.layerNormEps;
    }

    /**
     * h (B, T, C) to the layer's output (B, T, C). {@code purpose} keys this layer's three dropout masks;
     * {@code trace}, when not null, receives the attention probabilities under {@code attentions}.
     */
    public Var forward(Ops ops, Var h, Tensor keyMask, int purpose, Map<String, Tensor> trace, String attentions) {
        // self-attention: the query, key and value projections as one GEMM, whose output the attention
        // reads its heads from in place; the context comes back [B, T, C], heads merged
        Ops.Attention att = ops.selfAttention(h, queryKeyValue.weight, queryKeyValue.bias, heads, keyMask,
                attentionDropout, purpose);
        if (trace != null) trace.put(attentions, att.saved());
        // projection, dropout, residual, LayerNorm (one op: its backward hands the projection a GEMM-ready gradient)
        Var a = ops.linearDropoutAddLayerNorm(att.context(), attentionOut.weight, attentionOut.bias, h, hiddenDropout,
                purpose + 1, attentionNorm.weight, attentionNorm.bias, eps);
        // feed-forward with exact GELU, dropout, residual, LayerNorm
        return ops.feedForwardDropoutAddLayerNorm(a, intermediate.weight, intermediate.bias, output.weight, output.bias,
                hiddenDropout, purpose + 2, outputNorm.weight, outputNorm.bias, eps);
    }
}
