package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Var;
import io.electra.engine.nn.Group;
import io.electra.engine.nn.Linear;
import io.electra.engine.nn.Module;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * HF's {@code ElectraForSequenceClassification}: the discriminator body, then on the [CLS] row
 * {@code out_proj(dropout(gelu(dense(dropout(h)))))}. One output means regression (STS-B).
 */
public final class ElectraClassifier extends Module {
    public final ElectraConfig config;
    public final ElectraBody electra;
    private final Linear dense;    // (C, C)
    private final Linear outProj;  // (labels, C)
    private final float dropout;

    public ElectraClassifier(Backend backend, ElectraConfig c, int numLabels) {
        super(backend);
        config = c.copy();
        config.numLabels = numLabels;
        config.architectures = List.of("ElectraForSequenceClassification");
        config.problemType = numLabels == 1 ? "regression" : "single_label_classification";
        electra = child("electra", new ElectraBody(backend, c, null, 0));
        Group head = child("classifier", new Group(backend));
        dense = head.add("dense", new Linear(backend, c.hiddenSize, c.hiddenSize, true));
        outProj = head.add("out_proj", new Linear(backend, c.hiddenSize, numLabels, true));
        Object classifierDropout = c.other().get("classifier_dropout");
        dropout = (float) (classifierDropout instanceof Number n ? n.doubleValue() : c.hiddenDropoutProb);
        assignNames("");
    }

    public int numLayers() {
        return electra.numLayers();
    }

    public int numLabels() {
        return outProj.out();
    }

    /** Logits (B, labels) from the [CLS] rows; {@code clsRows} (B) holds b*T. */
    public Var logits(Ops ops, ElectraInputs in, Tensor clsRows) {
        Var h = electra.forward(ops, in, null, "classifier");
        Var cls = ops.gatherRows(h, clsRows);
        int base = RngKey.DROPOUT_BASE + (1 << 14);
        Var x = ops.dropout(cls, dropout, base);
        x = dense.forwardGelu(ops, x);
        x = ops.dropout(x, dropout, base + 1);
        return outProj.forward(ops, x);
    }

    /**
     * Loads a discriminator (HF folder, ours or downloaded) into the body. The pre-training head is
     * ignored; a classifier head is loaded too when present with matching shape (a fine-tuned folder).
     * Returns the names of parameters left at their initial values.
     */
    public List<String> loadPretrained(Path dir) throws IOException {
        HfFolder.LoadReport r = HfFolder.load(namedParameters(), dir, Set.of());
        List<String> fresh = new ArrayList<>();
        for (String m : r.missing()) {
            if (!m.startsWith("classifier.")) {
                throw new IOException(dir + ": missing " + m + " (is this an ELECTRA discriminator with hidden size "
                        + config.hiddenSize + " and " + electra.numLayers() + " layers?)");
            }
            fresh.add(m);
        }
        for (String u : r.unexpected()) {
            if (!u.startsWith("discriminator_predictions.") && !u.startsWith("generator")) {
                throw new IOException(dir + ": unexpected tensor " + u + " for an ELECTRA classifier");
            }
        }
        return fresh;
    }
}
