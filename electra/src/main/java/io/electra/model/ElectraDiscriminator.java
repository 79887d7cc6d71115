package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Var;
import io.electra.engine.nn.Group;
import io.electra.engine.nn.Linear;
import io.electra.engine.nn.Module;

import java.util.Map;

/** HF's {@code ElectraForPreTraining}: the body, then {@code dense_prediction(gelu(dense(h)))}, one logit per token. */
public final class ElectraDiscriminator extends Module {
    public final ElectraConfig config;
    public final ElectraBody electra;
    private final Linear dense;           // (C, C)
    private final Linear densePrediction; // (1, C)

    public ElectraDiscriminator(Backend backend, ElectraConfig c, ElectraEmbeddings shared) {
        super(backend);
        config = c;
        electra = child("electra", new ElectraBody(backend, c, shared, 1 << 12));
        Group predictions = child("discriminator_predictions", new Group(backend));
        dense = predictions.add("dense", new Linear(backend, c.hiddenSize, c.hiddenSize, true));
        densePrediction = predictions.add("dense_prediction", new Linear(backend, c.hiddenSize, 1, true));
    }

    /** Logits (B*T) that each token was replaced. */
    public Var logits(Ops ops, ElectraInputs in, Map<String, Tensor> trace) {
        Var h = electra.forward(ops, in, trace, "discriminator");
        // the head is a feed-forward block (dense, exact GELU, dense to one logit): one op, whose backward never stores
        // the GELU output's gradient; a trace also gets dense's output, computed once more for it
        if (trace != null) trace.put("discriminator.predictions_dense_output", dense.forward(ops, h).value());
        Var logits = ops.feedForward(h, dense.weight, dense.bias, densePrediction.weight, densePrediction.bias);
        return ops.view(logits, in.batch() * in.seq());
    }
}
