package io.electra.finetune;

import io.electra.glue.GlueExample;
import io.electra.glue.GlueTask;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Predictions on labelled rows as TSV: the row's line in its file, the prediction (label or score),
 * and the gold value, so errors can be read next to the file. A run writes its best epoch's, one
 * file per dev split.
 */
final class DevPredictions {
    private DevPredictions() {
    }

    static String fileName(DevSet d, int splits) {
        return splits == 1 ? "dev_predictions.tsv" : "dev_predictions-" + d.split().name() + ".tsv";
    }

    static void write(Path dir, GlueTask task, List<DevSet> dev, List<float[][]> logits) throws IOException {
        for (int s = 0; s < dev.size(); s++) {
            DevSet d = dev.get(s);
            AtomicFiles.writeString(dir.resolve(fileName(d, dev.size())), table(task, d.rows().examples(), logits.get(s)));
        }
    }

    /** The TSV text: header, then line, prediction and gold value of each labelled row. */
    static String table(GlueTask task, List<GlueExample> rows, float[][] logits) {
        StringBuilder out = new StringBuilder("line\tprediction\tgold\n");
        for (int i = 0; i < rows.size(); i++) {
            GlueExample e = rows.get(i);
            String gold = task.isRegression() ? String.format(Locale.ROOT, "%.4f", e.score()) : e.label();
            out.append(e.line()).append('\t').append(Scoring.predictionText(task, logits[i])).append('\t')
                    .append(gold).append('\n');
        }
        return out.toString();
    }
}
