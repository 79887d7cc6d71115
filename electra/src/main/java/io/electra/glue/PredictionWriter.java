package io.electra.glue;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * Writes predictions on a GLUE test file in the form the GLUE server accepts: a header
 * {@code index\tprediction}, then one row per test example, in file order, with the example's
 * {@code index} and the predicted label as written in the task's files ({@code entailment},
 * {@code 1}) or STS-B's score. The file is named by {@link GlueSplit#submissionFile()}.
 *
 * <p>Files are written under a temporary name and renamed into place, so an interrupted run never
 * leaves a truncated submission behind.
 */
public final class PredictionWriter {
    private PredictionWriter() {
    }

    /** Writes predicted class indexes of a classification task, one per test example. */
    public static void writeLabels(Path file, GlueTask task, List<GlueExample> testRows, int[] predicted)
            throws IOException {
        if (task.isRegression()) throw new IllegalArgumentException(task.cliName() + " predicts scores, not labels");
        checkCount(testRows, predicted.length);
        ClassificationMetrics.checkClasses("predicted", predicted, task.numOutputs());
        String[] values = new String[predicted.length];
        for (int i = 0; i < values.length; i++) values[i] = task.labels().get(predicted[i]);
        write(file, testRows, values);
    }

    /** Writes predicted STS-B scores, to three decimals like GLUE's gold scores. */
    public static void writeScores(Path file, GlueTask task, List<GlueExample> testRows, float[] predicted)
            throws IOException {
        if (!task.isRegression()) throw new IllegalArgumentException(task.cliName() + " predicts labels, not scores");
        checkCount(testRows, predicted.length);
        String[] values = new String[predicted.length];
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(predicted[i])) {
                throw new IllegalArgumentException("prediction for line " + testRows.get(i).line() + " is " + predicted[i]);
            }
            values[i] = String.format(Locale.ROOT, "%.3f", predicted[i]);
        }
        write(file, testRows, values);
    }

    private static void checkCount(List<GlueExample> testRows, int predictions) {
        if (testRows.size() != predictions) {
            throw new IllegalArgumentException(testRows.size() + " test rows but " + predictions + " predictions");
        }
    }

    private static void write(Path file, List<GlueExample> testRows, String[] values) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temporary = Files.createTempFile(dir, file.getFileName().toString(), ".partial");
        try {
            try (BufferedWriter out = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8)) {
                out.write("index\tprediction\n");
                for (int i = 0; i < values.length; i++) {
                    GlueExample row = testRows.get(i);
                    if (row.id() == null) {
                        throw new IllegalArgumentException("row at line " + row.line()
                                + " has no index; read test files with GlueTsvReader.readTest");
                    }
                    out.write(row.id());
                    out.write('\t');
                    out.write(values[i]);
                    out.write('\n');
                }
            }
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
