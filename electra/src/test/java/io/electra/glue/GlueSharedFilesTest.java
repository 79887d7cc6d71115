package io.electra.glue;

import io.electra.engine.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reader on the real GLUE files in shared/data/glue. Row counts are those documented in
 * shared/data/SOURCES.md; label counts were counted with {@code awk -F'\t'} over the label column;
 * first and last rows are compared with the file split here by position (the reader finds columns
 * by header name), and a few texts are written out literally.
 */
class GlueSharedFilesTest {
    private static final GlueTsvReader READER = new GlueTsvReader(false);

    /** A shared file, what SOURCES.md and awk say about it, and its columns by position. */
    record Expected(String path, GlueTask task, int rows, Map<String, Integer> labelCounts,
                    boolean header, int textA, int textB, int label) {
        @Override
        public String toString() {
            return path;
        }
    }

    static Stream<Expected> files() {
        return Stream.of(
                new Expected("CoLA/train.tsv", GlueTask.COLA, 8551, Map.of("0", 2528, "1", 6023), false, 3, -1, 1),
                new Expected("CoLA/dev.tsv", GlueTask.COLA, 1043, Map.of("0", 322, "1", 721), false, 3, -1, 1),
                new Expected("SST-2/train.tsv", GlueTask.SST2, 67349, Map.of("0", 29780, "1", 37569), true, 0, -1, 1),
                new Expected("SST-2/dev.tsv", GlueTask.SST2, 872, Map.of("0", 428, "1", 444), true, 0, -1, 1),
                new Expected("MRPC/train.tsv", GlueTask.MRPC, 3668, Map.of("0", 1194, "1", 2474), true, 3, 4, 0),
                new Expected("MRPC/dev.tsv", GlueTask.MRPC, 408, Map.of("0", 129, "1", 279), true, 3, 4, 0),
                new Expected("STS-B/train.tsv", GlueTask.STSB, 5749, null, true, 7, 8, 9),
                new Expected("RTE/train.tsv", GlueTask.RTE, 2490,
                        Map.of("entailment", 1249, "not_entailment", 1241), true, 1, 2, 3),
                new Expected("QNLI/dev.tsv", GlueTask.QNLI, 5463,
                        Map.of("entailment", 2702, "not_entailment", 2761), true, 1, 2, 3),
                new Expected("WNLI/train.tsv", GlueTask.WNLI, 635, Map.of("0", 323, "1", 312), true, 1, 2, 3),
                new Expected("WNLI/dev.tsv", GlueTask.WNLI, 71, Map.of("0", 40, "1", 31), true, 1, 2, 3));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("files")
    void rowCountMatchesSources(Expected expected) throws IOException {
        GlueRows rows = READER.readLabelled(expected.task(), glue(expected.path()));
        assertEquals(expected.rows(), rows.size(), expected.path());
        assertEquals(0, rows.skipped());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("files")
    void labelCountsMatchAwkAndEveryClassOccurs(Expected expected) throws IOException {
        if (expected.labelCounts() == null) return; // STS-B: see stsbScoresAreInRangeAndSumAsAwkDoes
        GlueRows rows = READER.readLabelled(expected.task(), glue(expected.path()));
        Map<String, Integer> counts = new TreeMap<>();
        int[] byIndex = new int[expected.task().numOutputs()];
        for (GlueExample e : rows.examples()) {
            counts.merge(e.label(), 1, Integer::sum);
            byIndex[e.labelIndex()]++;
        }
        assertEquals(new TreeMap<>(expected.labelCounts()), counts, expected.path());
        for (int k = 0; k < byIndex.length; k++) {
            assertTrue(byIndex[k] > 0, expected.path() + ": class " + k + " never occurs");
            assertEquals(expected.labelCounts().get(expected.task().labels().get(k)), byIndex[k],
                    expected.path() + ": class " + k);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("files")
    void firstAndLastRowsMatchTheFileSplitByPosition(Expected expected) throws IOException {
        Path file = glue(expected.path());
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.get(0).startsWith("\uFEFF")) lines.set(0, lines.get(0).substring(1));
        int firstRowLine = expected.header() ? 2 : 1;
        int lastRowLine = lines.size();
        assertEquals(expected.rows(), lastRowLine - firstRowLine + 1, "independent count of " + expected.path());

        List<GlueExample> examples = READER.readLabelled(expected.task(), file).examples();
        assertRowMatches(expected, lines, firstRowLine, examples.get(0));
        assertRowMatches(expected, lines, lastRowLine, examples.get(examples.size() - 1));
    }

    @Test
    void textsAreKeptExactlyAsWritten() throws IOException {
        assertEquals("Our friends won't buy this analysis, let alone the next one we propose.",
                first("CoLA/train.tsv", GlueTask.COLA).textA());
        // SST-2 sentences end in a space before the tab
        assertEquals("it 's a charming and often affecting journey . ", first("SST-2/dev.tsv", GlueTask.SST2).textA());
        GlueExample mrpc = first("MRPC/train.tsv", GlueTask.MRPC);
        assertEquals("Amrozi accused his brother , whom he called \" the witness \" , of deliberately distorting"
                + " his evidence .", mrpc.textA());
        assertEquals("Referring to him as only \" the witness \" , Amrozi accused his brother of deliberately"
                + " distorting his evidence .", mrpc.textB());
        assertEquals(1, mrpc.labelIndex());
        GlueExample wnli = last("WNLI/dev.tsv", GlueTask.WNLI);
        assertEquals("George got free tickets to the play, but he gave them to Eric, because he was not particularly"
                + " eager to see it.", wnli.textA());
        assertEquals("Eric was not particularly eager to see it.", wnli.textB());
        assertEquals("0", wnli.label());
    }

    @Test
    void qnliFieldOpeningWithAQuoteStaysInItsRow() throws IOException {
        // line 660 of QNLI/dev.tsv: the sentence opens with '"' and never closes it
        GlueExample row = READER.readLabelled(GlueTask.QNLI, glue("QNLI/dev.tsv")).examples().get(660 - 2);
        assertEquals(660, row.line());
        assertEquals("Missing self desribes cells that only have small amounts of what cell-surface marker?",
                row.textA());
        assertTrue(row.textB().startsWith("\" This term describes cells with low levels of a cell-surfac"),
                row.textB());
        assertEquals("entailment", row.label());
    }

    @Test
    void stsbScoresAreInRangeAndSumAsAwkDoes() throws IOException {
        GlueRows rows = READER.readLabelled(GlueTask.STSB, glue("STS-B/train.tsv"));
        float[] scores = rows.scores();
        double sum = 0;
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float s : scores) {
            sum += s;
            min = Math.min(min, s);
            max = Math.max(max, s);
        }
        // awk: sum 15528.043, min 0.000, max 5.000 (float parsing costs at most ~1e-7 per row)
        assertEquals(15528.043, sum, 1e-3);
        assertEquals(0f, min);
        assertEquals(5f, max);
        assertEquals(5f, rows.examples().get(0).score());
        assertEquals(3.8f, rows.examples().get(1).score());
        GlueExample last = rows.examples().get(rows.size() - 1);
        assertEquals("Putin spokesman: Doping charges appear unfounded", last.textA());
        assertEquals("The Latest on Severe Weather: 1 Dead in Texas After Tornado", last.textB());
        assertEquals(0f, last.score());
    }

    private static void assertRowMatches(Expected expected, List<String> lines, int lineNumber, GlueExample actual) {
        String[] fields = lines.get(lineNumber - 1).split("\t", -1);
        String where = expected.path() + ":" + lineNumber;
        assertEquals(lineNumber, actual.line(), where);
        assertEquals(fields[expected.textA()], actual.textA(), where + " textA");
        assertEquals(expected.textB() < 0 ? null : fields[expected.textB()], actual.textB(), where + " textB");
        assertEquals(fields[expected.label()], actual.label(), where + " label");
    }

    private static GlueExample first(String path, GlueTask task) throws IOException {
        return READER.readLabelled(task, glue(path)).examples().get(0);
    }

    private static GlueExample last(String path, GlueTask task) throws IOException {
        List<GlueExample> examples = READER.readLabelled(task, glue(path)).examples();
        return examples.get(examples.size() - 1);
    }

    private static Path glue(String relative) {
        return SharedData.path("data/glue/" + relative);
    }
}
