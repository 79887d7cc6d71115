package io.electra.finetune;

import io.electra.glue.GlueExample;
import io.electra.glue.GlueRows;
import io.electra.glue.GlueTsvReader;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/** {@code electra evaluate}: scores a fine-tuned model on a labelled GLUE file. */
public final class Evaluation {
    private Evaluation() {
    }

    /** The task's metrics and the logits (row order) on {@code o.data()}. */
    public record Result(GlueRows rows, float[][] logits, Map<String, Double> metrics) {
    }

    public static Result run(InferenceOptions o, PrintStream log) throws IOException {
        try (FinetunedModel m = FinetunedModel.open(o.model(), o.vocab(), o.task(), o.maxLength(), o.batch(), o.device(), log)) {
            GlueRows rows = new GlueTsvReader(o.skipBadRows()).readLabelled(o.task(), o.data());
            FinetuneData.report(rows, log);
            if (rows.size() == 0) throw new IOException(o.data() + ": no rows to evaluate");
            List<EncodedExample> encoded = m.encoder().encodeAll(rows.examples());
            float[][] logits = m.logits(encoded);
            Map<String, Double> metrics = Scoring.metrics(o.task(), logits, encoded);
            if (o.out() != null) writePredictions(o, rows.examples(), logits);
            return new Result(rows, logits, metrics);
        }
    }

    private static void writePredictions(InferenceOptions o, List<GlueExample> rows, float[][] logits) throws IOException {
        AtomicFiles.writeString(o.out(), DevPredictions.table(o.task(), rows, logits));
    }
}
