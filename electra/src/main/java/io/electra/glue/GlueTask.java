package io.electra.glue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import static io.electra.glue.GlueMetric.ACCURACY;
import static io.electra.glue.GlueMetric.COMBINED;
import static io.electra.glue.GlueMetric.F1;
import static io.electra.glue.GlueMetric.MCC;
import static io.electra.glue.GlueMetric.PEARSON;
import static io.electra.glue.GlueMetric.SPEARMAN;

/**
 * The nine GLUE tasks and everything about them that does not depend on the model: labels,
 * metrics, default fine-tuning epochs, file names and TSV layouts (as written by GLUE's
 * {@code download_glue_data.py} into {@code glue_data/<dirName>/}).
 *
 * <p>Epochs follow the ELECTRA paper (3, but 10 for RTE and STS-B). The selection metric, used to
 * pick the best checkpoint, is the number GLUE's leaderboard uses for the task: the mean of the two
 * scores where GLUE reports two.
 */
public enum GlueTask {
    COLA("CoLA", List.of("0", "1"), List.of(MCC), MCC, 3, false,
            // source code, label, the original author's mark, sentence
            TsvLayout.headerless(List.of("source", "label", "author_label", "sentence"), "sentence", "label"),
            TsvLayout.withHeader("index", "sentence", null, null),
            List.of(GlueSplit.single("CoLA"))),
    SST2("SST-2", List.of("0", "1"), List.of(ACCURACY), ACCURACY, 3, false,
            TsvLayout.withHeader(null, "sentence", null, "label"),
            TsvLayout.withHeader("index", "sentence", null, null),
            List.of(GlueSplit.single("SST-2"))),
    MRPC("MRPC", List.of("0", "1"), List.of(F1, ACCURACY, COMBINED), COMBINED, 3, true,
            TsvLayout.withHeader(null, "#1 String", "#2 String", "Quality"),
            TsvLayout.withHeader("index", "#1 String", "#2 String", null),
            List.of(GlueSplit.single("MRPC"))),
    STSB("STS-B", List.of(), List.of(PEARSON, SPEARMAN, COMBINED), COMBINED, 10, true,
            TsvLayout.withHeader(null, "sentence1", "sentence2", "score"),
            TsvLayout.withHeader("index", "sentence1", "sentence2", null),
            List.of(GlueSplit.single("STS-B"))),
    QQP("QQP", List.of("0", "1"), List.of(F1, ACCURACY, COMBINED), COMBINED, 3, false,
            TsvLayout.withHeader(null, "question1", "question2", "is_duplicate"),
            TsvLayout.withHeader("id", "question1", "question2", null),
            List.of(GlueSplit.single("QQP"))),
    MNLI("MNLI", List.of("contradiction", "entailment", "neutral"), List.of(ACCURACY), ACCURACY, 3, false,
            // train has one annotator label before gold_label, dev five: the header decides the width
            TsvLayout.withHeader(null, "sentence1", "sentence2", "gold_label"),
            TsvLayout.withHeader("index", "sentence1", "sentence2", null),
            List.of(new GlueSplit("MNLI-m", "dev_matched.tsv", "test_matched.tsv", "MNLI-m.tsv"),
                    new GlueSplit("MNLI-mm", "dev_mismatched.tsv", "test_mismatched.tsv", "MNLI-mm.tsv"))),
    QNLI("QNLI", List.of("entailment", "not_entailment"), List.of(ACCURACY), ACCURACY, 3, false,
            TsvLayout.withHeader(null, "question", "sentence", "label"),
            TsvLayout.withHeader("index", "question", "sentence", null),
            List.of(GlueSplit.single("QNLI"))),
    RTE("RTE", List.of("entailment", "not_entailment"), List.of(ACCURACY), ACCURACY, 10, false,
            TsvLayout.withHeader(null, "sentence1", "sentence2", "label"),
            TsvLayout.withHeader("index", "sentence1", "sentence2", null),
            List.of(GlueSplit.single("RTE"))),
    WNLI("WNLI", List.of("0", "1"), List.of(ACCURACY), ACCURACY, 3, false,
            TsvLayout.withHeader(null, "sentence1", "sentence2", "label"),
            TsvLayout.withHeader("index", "sentence1", "sentence2", null),
            List.of(GlueSplit.single("WNLI")));

    private final String dirName;
    private final List<String> labels;
    private final List<GlueMetric> metrics;
    private final GlueMetric selectionMetric;
    private final int defaultEpochs;
    private final boolean trainsOnSwappedPairs;
    private final TsvLayout labelledLayout;
    private final TsvLayout testLayout;
    private final List<GlueSplit> splits;

    GlueTask(String dirName, List<String> labels, List<GlueMetric> metrics, GlueMetric selectionMetric,
             int defaultEpochs, boolean trainsOnSwappedPairs, TsvLayout labelledLayout, TsvLayout testLayout,
             List<GlueSplit> splits) {
        this.dirName = dirName;
        this.labels = labels;
        this.metrics = metrics;
        this.selectionMetric = selectionMetric;
        this.defaultEpochs = defaultEpochs;
        this.trainsOnSwappedPairs = trainsOnSwappedPairs;
        this.labelledLayout = labelledLayout;
        this.testLayout = testLayout;
        this.splits = splits;
    }

    /**
     * The task for a command-line name: the enum name or GLUE's folder name, in any case, with or
     * without the hyphen ({@code sst2}, {@code SST-2}, {@code sts-b}).
     */
    public static GlueTask fromName(String name) {
        String wanted = name.strip().replace("-", "").toLowerCase(Locale.ROOT);
        for (GlueTask t : values()) {
            if (t.cliName().equals(wanted)) return t;
        }
        throw new IllegalArgumentException("unknown GLUE task '" + name + "'; expected one of "
                + Arrays.stream(values()).map(GlueTask::cliName).toList());
    }

    /** Lower-case name used on the command line and in file names: {@code cola}, {@code sst2}, ... */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** GLUE's folder name for the task ({@code SST-2}). */
    public String dirName() {
        return dirName;
    }

    /** The task's folder under a {@code glue_data} root. */
    public Path dir(Path glueRoot) {
        return glueRoot.resolve(dirName);
    }

    public boolean isRegression() {
        return labels.isEmpty();
    }

    /** Width of the model's output layer: the number of labels, or 1 for STS-B's score. */
    public int numOutputs() {
        return isRegression() ? 1 : labels.size();
    }

    /** Label strings as they appear in the files, in output-index order; empty for STS-B. */
    public List<String> labels() {
        return labels;
    }

    /** Index of a label string, or -1 when it is not one of {@link #labels()}. */
    public int labelIndex(String label) {
        return labels.indexOf(label);
    }

    /** Sentence-pair tasks give every example a second text; CoLA and SST-2 do not. */
    public boolean isPairTask() {
        return labelledLayout.textB() != null;
    }

    /** The scores {@link Metrics} reports for this task, in GLUE's order. */
    public List<GlueMetric> metrics() {
        return metrics;
    }

    /** The score that picks the best checkpoint. */
    public GlueMetric selectionMetric() {
        return selectionMetric;
    }

    public int defaultEpochs() {
        return defaultEpochs;
    }

    /**
     * Whether training also sees each pair with its sentences swapped. ELECTRA does this for MRPC
     * and STS-B, whose labels are symmetric in the two sentences; the entailment tasks are not.
     */
    public boolean trainsOnSwappedPairs() {
        return trainsOnSwappedPairs;
    }

    /**
     * The training examples to fine-tune on: the train file's rows, followed by each row with its
     * sentences swapped when {@link #trainsOnSwappedPairs()}.
     */
    public List<GlueExample> trainingExamples(List<GlueExample> trainRows) {
        if (!trainsOnSwappedPairs) return trainRows;
        List<GlueExample> out = new ArrayList<>(2 * trainRows.size());
        out.addAll(trainRows);
        for (GlueExample e : trainRows) out.add(e.swapped());
        return List.copyOf(out);
    }

    /** Name of the training file inside the task's folder. */
    public String trainFile() {
        return "train.tsv";
    }

    /** Evaluation splits: one, or two for MNLI (matched, mismatched). */
    public List<GlueSplit> splits() {
        return splits;
    }

    /** Layout of the train and dev files. */
    public TsvLayout labelledLayout() {
        return labelledLayout;
    }

    /** Layout of the unlabelled test files: an index column first, no label. */
    public TsvLayout testLayout() {
        return testLayout;
    }
}
