package io.electra.glue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PredictionWriterTest {
    @TempDir
    Path dir;

    @Test
    void labelsAreWrittenAsTheirStringsUnderTheTestIndex() throws IOException {
        Path test = dir.resolve("test_matched.tsv");
        Files.writeString(test, "index\tpromptID\tpairID\tgenre\tb1\tb2\tp1\tp2\tsentence1\tsentence2\n"
                + "0\t1\t1n\tfiction\t(x)\t(y)\t(X x)\t(Y y)\tA man sleeps.\tA man is awake.\n"
                + "7\t2\t2e\tslate\t(x)\t(y)\t(X x)\t(Y y)\tIt rains.\tIt is wet.\n");
        GlueRows rows = new GlueTsvReader(false).readTest(GlueTask.MNLI, test);
        Path out = dir.resolve("out").resolve("MNLI-m.tsv");

        PredictionWriter.writeLabels(out, GlueTask.MNLI, rows.examples(), new int[]{0, 1});

        assertEquals("index\tprediction\n0\tcontradiction\n7\tentailment\n",
                Files.readString(out, StandardCharsets.UTF_8));
        try (var files = Files.list(out.getParent())) {
            assertEquals(List.of(out), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void scoresAreWrittenWithThreeDecimals() throws IOException {
        List<GlueExample> rows = List.of(
                new GlueExample(2, "a", "b", null, -1, Float.NaN, "0"),
                new GlueExample(3, "c", "d", null, -1, Float.NaN, "1"));
        Path out = dir.resolve("STS-B.tsv");

        PredictionWriter.writeScores(out, GlueTask.STSB, rows, new float[]{4.21875f, 0.0004f});

        assertEquals("index\tprediction\n0\t4.219\n1\t0.000\n", Files.readString(out));
    }

    @Test
    void mismatchedPredictionsAreRejectedWithoutWritingAFile() {
        List<GlueExample> rows = List.of(new GlueExample(2, "a", null, null, -1, Float.NaN, "0"));
        Path out = dir.resolve("SST-2.tsv");
        assertThrows(IllegalArgumentException.class,
                () -> PredictionWriter.writeLabels(out, GlueTask.SST2, rows, new int[]{0, 1}));
        assertThrows(IllegalArgumentException.class,
                () -> PredictionWriter.writeLabels(out, GlueTask.SST2, rows, new int[]{2}));
        assertThrows(IllegalArgumentException.class,
                () -> PredictionWriter.writeScores(out, GlueTask.SST2, rows, new float[]{1}));
        assertFalse(Files.exists(out));
    }

    @Test
    void rowsWithoutAnIndexAreRejected() throws IOException {
        List<GlueExample> rows = List.of(new GlueExample(5, "a", null, "1", 1, Float.NaN, null));
        Path out = dir.resolve("SST-2.tsv");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PredictionWriter.writeLabels(out, GlueTask.SST2, rows, new int[]{1}));
        assertTrue(e.getMessage().contains("line 5"), e.getMessage());
        assertFalse(Files.exists(out));
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "no temporary file left behind");
        }
    }
}
