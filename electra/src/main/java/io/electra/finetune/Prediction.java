package io.electra.finetune;

import io.electra.glue.GlueRows;
import io.electra.glue.GlueSplit;
import io.electra.glue.GlueTsvReader;
import io.electra.glue.PredictionWriter;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code electra predict}: GLUE submission files for unlabelled test files. {@code --data} is a test
 * TSV, or a task folder whose test file of every split is used; each split's predictions go to the
 * file name the GLUE server expects ({@code SST-2.tsv}, {@code MNLI-m.tsv}) under {@code --out}.
 */
public final class Prediction {
    private Prediction() {
    }

    /** Returns the files written. */
    public static List<Path> run(InferenceOptions o, PrintStream log) throws IOException {
        if (o.out() == null) throw new IllegalArgumentException("predict needs --out DIR");
        List<GlueSplit> splits = new ArrayList<>();
        List<Path> inputs = new ArrayList<>();
        if (Files.isDirectory(o.data())) {
            for (GlueSplit s : o.task().splits()) {
                Path f = o.data().resolve(s.testFile());
                if (!Files.isRegularFile(f)) throw new IOException("missing " + f);
                splits.add(s);
                inputs.add(f);
            }
        } else {
            splits.add(splitOf(o));
            inputs.add(o.data());
        }
        GlueTsvReader reader = new GlueTsvReader(o.skipBadRows());
        List<Path> written = new ArrayList<>();
        try (FinetunedModel m = FinetunedModel.open(o.model(), o.vocab(), o.task(), o.maxLength(), o.batch(), o.device(), log)) {
            for (int i = 0; i < splits.size(); i++) {
                GlueRows rows = reader.readTest(o.task(), inputs.get(i));
                FinetuneData.report(rows, log);
                float[][] logits = m.logits(m.encoder().encodeAll(rows.examples()));
                Path file = o.out().resolve(splits.get(i).submissionFile());
                if (o.task().isRegression()) PredictionWriter.writeScores(file, o.task(), rows.examples(), Scoring.regression(logits));
                else PredictionWriter.writeLabels(file, o.task(), rows.examples(), Scoring.argmax(logits));
                log.printf("%s: %d predictions -> %s%n", inputs.get(i), rows.size(), file);
                written.add(file);
            }
        }
        return written;
    }

    /** The split a single test file belongs to: by its GLUE file name, or the task's only split. */
    private static GlueSplit splitOf(InferenceOptions o) throws IOException {
        if (!Files.isRegularFile(o.data())) throw new IOException("--data " + o.data() + " is neither a file nor a folder");
        String name = o.data().getFileName().toString();
        for (GlueSplit s : o.task().splits()) if (s.testFile().equals(name)) return s;
        if (o.task().splits().size() == 1) return o.task().splits().get(0);
        throw new IllegalArgumentException("cannot tell which " + o.task().dirName() + " split " + o.data() + " is: name it "
                + o.task().splits().stream().map(GlueSplit::testFile).toList() + " or pass the task folder");
    }
}
