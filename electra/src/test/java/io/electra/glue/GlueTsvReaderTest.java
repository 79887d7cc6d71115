package io.electra.glue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reader on small synthetic files, one layout quirk or defect each. */
class GlueTsvReaderTest {
    private static final GlueTsvReader STRICT = new GlueTsvReader(false);
    private static final GlueTsvReader SKIPPING = new GlueTsvReader(true);

    @TempDir
    Path dir;

    @Test
    void byteOrderMarkBeforeTheHeaderIsIgnored() throws IOException {
        Path file = write("mrpc.tsv", "\uFEFFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
                + "1\t11\t12\tHe said so .\tHe said that .\n"
                + "0\t13\t14\tYes .\tNo .\n");
        GlueRows rows = STRICT.readLabelled(GlueTask.MRPC, file);
        assertEquals(List.of(
                new GlueExample(2, "He said so .", "He said that .", "1", 1, Float.NaN, null),
                new GlueExample(3, "Yes .", "No .", "0", 0, Float.NaN, null)), rows.examples());
        assertArrayEquals(new int[]{1, 0}, rows.labelIndexes());
    }

    @Test
    void byteOrderMarkBeforeAHeaderlessFirstRowIsIgnored() throws IOException {
        Path file = write("cola.tsv", "\uFEFFgj04\t1\t\tThe sailors rode the breeze.\nx\t0\t*\tBreeze the rode.\n");
        GlueRows rows = STRICT.readLabelled(GlueTask.COLA, file);
        assertEquals(List.of(
                new GlueExample(1, "The sailors rode the breeze.", null, "1", 1, Float.NaN, null),
                new GlueExample(2, "Breeze the rode.", null, "0", 0, Float.NaN, null)), rows.examples());
    }

    @Test
    void quotesAreTextNotCsvQuoting() throws IOException {
        // a CSV reader would join lines 2 and 3 into one field between the two quote characters
        Path file = write("sst2.tsv", "sentence\tlabel\n"
                + "\" the opening quote \t1\n"
                + "and the closing \" one \t0\n"
                + "\"fully quoted\"\t1\n");
        GlueRows rows = STRICT.readLabelled(GlueTask.SST2, file);
        assertEquals(List.of("\" the opening quote ", "and the closing \" one ", "\"fully quoted\""),
                rows.examples().stream().map(GlueExample::textA).toList());
    }

    @Test
    void wrongColumnCountNamesFileAndLine() throws IOException {
        Path file = write("rte.tsv", "index\tsentence1\tsentence2\tlabel\n"
                + "0\tA.\tB.\tentailment\n"
                + "1\tA tab\tsplit\tthis\tentailment\n"
                + "2\tC.\tD.\tnot_entailment\n");
        MalformedTsvException e = assertThrows(MalformedTsvException.class,
                () -> STRICT.readLabelled(GlueTask.RTE, file));
        assertEquals(3, e.line());
        assertEquals(file, e.file());
        assertTrue(e.getMessage().startsWith(file + ":3: expected 4 tab-separated columns, found 5"), e.getMessage());

        GlueRows rows = SKIPPING.readLabelled(GlueTask.RTE, file);
        assertEquals(1, rows.skipped());
        assertEquals(List.of(3), List.copyOf(rows.skippedLines()));
        assertEquals(List.of(2, 4), rows.examples().stream().map(GlueExample::line).toList());
    }

    @Test
    void blankLineIsABadRow() throws IOException {
        Path file = write("wnli.tsv", "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\t1\n\n1\tC.\tD.\t0\n");
        MalformedTsvException e = assertThrows(MalformedTsvException.class,
                () -> STRICT.readLabelled(GlueTask.WNLI, file));
        assertEquals(3, e.line());
        assertEquals(List.of(3), List.copyOf(SKIPPING.readLabelled(GlueTask.WNLI, file).skippedLines()));
    }

    @Test
    void unknownLabelNamesFileLineAndTheTasksLabels() throws IOException {
        Path file = write("qnli.tsv", "index\tquestion\tsentence\tlabel\n"
                + "0\tWho?\tHim.\tentailment\n"
                + "1\tWhat?\tThat.\tneutral\n");
        MalformedTsvException e = assertThrows(MalformedTsvException.class,
                () -> STRICT.readLabelled(GlueTask.QNLI, file));
        assertTrue(e.getMessage().startsWith(file + ":3: label 'neutral' is not one of [entailment, not_entailment]"),
                e.getMessage());
        GlueRows rows = SKIPPING.readLabelled(GlueTask.QNLI, file);
        assertEquals(1, rows.size());
        assertEquals(1, rows.skipped());
    }

    @Test
    void stsbScoresMustBePlainNumbersFromZeroToFive() throws IOException {
        String header = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n";
        String good = "0\tg\tf\t2012\t1\tnone\tnone\tA plane.\tAn airplane.\t";
        Path file = write("stsb.tsv", header + good + "3.800\n" + good + " 5 \n" + good + "0\n"
                + good + "5.5\n" + good + "NaN\n" + good + "3f\n" + good + "-1\n" + good + "\n");
        GlueRows rows = SKIPPING.readLabelled(GlueTask.STSB, file);
        assertArrayEquals(new float[]{3.8f, 5f, 0f}, rows.scores());
        assertEquals(List.of(5, 6, 7, 8, 9), List.copyOf(rows.skippedLines()));
        assertEquals(-1, rows.examples().get(0).labelIndex());

        MalformedTsvException e = assertThrows(MalformedTsvException.class,
                () -> STRICT.readLabelled(GlueTask.STSB, file));
        assertTrue(e.getMessage().startsWith(file + ":5: score '5.5' is not a number in [0, "), e.getMessage());
    }

    @Test
    void mnliFindsGoldLabelInTrainAndDevWidths() throws IOException {
        String front = "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse"
                + "\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2";
        String row = "0\t31193\t31193n\tgovernment\t( ( x ) )\t( y )\t(ROOT x)\t(ROOT y)\tPremise here.\tHypothesis.";
        Path train = write("train.tsv", front + "\tlabel1\tgold_label\n" + row + "\tneutral\tneutral\n");
        Path dev = write("dev_matched.tsv", front + "\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label\n"
                + row + "\tneutral\tentailment\tneutral\tneutral\tneutral\tneutral\n"
                + row + "\tneutral\tneutral\n");
        GlueExample expected = new GlueExample(2, "Premise here.", "Hypothesis.", "neutral", 2, Float.NaN, null);
        assertEquals(List.of(expected), STRICT.readLabelled(GlueTask.MNLI, train).examples());
        // a train-width row in a dev file is a bad row: the header sets the width
        GlueRows devRows = SKIPPING.readLabelled(GlueTask.MNLI, dev);
        assertEquals(List.of(expected), devRows.examples());
        assertEquals(List.of(3), List.copyOf(devRows.skippedLines()));
    }

    @Test
    void testFilesKeepTheirIndexAndHaveNoLabel() throws IOException {
        Path qqp = write("qqp_test.tsv", "id\tquestion1\tquestion2\n0\tHow?\tWhy?\n1\t\"Who\"\tWhom?\n");
        assertEquals(List.of(
                new GlueExample(2, "How?", "Why?", null, -1, Float.NaN, "0"),
                new GlueExample(3, "\"Who\"", "Whom?", null, -1, Float.NaN, "1")),
                STRICT.readTest(GlueTask.QQP, qqp).examples());
        Path cola = write("cola_test.tsv", "index\tsentence\n0\tBill whistled.\n");
        assertEquals(List.of(new GlueExample(2, "Bill whistled.", null, null, -1, Float.NaN, "0")),
                STRICT.readTest(GlueTask.COLA, cola).examples());
    }

    @Test
    void qqpTrainHasItsOwnColumnNames() throws IOException {
        Path file = write("qqp.tsv", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
                + "133273\t213221\t213222\tHow is the life?\tHow is life?\t1\n"
                + "402555\t536040\t536041\tHow do I play?\n");
        GlueRows rows = SKIPPING.readLabelled(GlueTask.QQP, file);
        assertEquals(List.of(new GlueExample(2, "How is the life?", "How is life?", "1", 1, Float.NaN, null)),
                rows.examples());
        assertEquals(List.of(3), List.copyOf(rows.skippedLines()));
    }

    @Test
    void aFileOfAnotherTaskIsAnErrorEvenWhenSkippingBadRows() throws IOException {
        Path file = write("sst2.tsv", "sentence\tlabel\nfine .\t1\n");
        MalformedTsvException e = assertThrows(MalformedTsvException.class,
                () -> SKIPPING.readLabelled(GlueTask.RTE, file));
        assertEquals(1, e.line());
        assertTrue(e.getMessage().contains("no column 'sentence1'"), e.getMessage());
    }

    @Test
    void filesWithoutUsableRowsAreErrors() throws IOException {
        Path empty = write("empty.tsv", "");
        assertTrue(assertThrows(MalformedTsvException.class, () -> SKIPPING.readLabelled(GlueTask.COLA, empty))
                .getMessage().contains("empty"));
        Path headerOnly = write("header.tsv", "sentence\tlabel\n");
        assertThrows(MalformedTsvException.class, () -> STRICT.readLabelled(GlueTask.SST2, headerOnly));
        Path allBad = write("bad.tsv", "sentence\tlabel\nx\t7\ny\t8\n");
        MalformedTsvException e = assertThrows(MalformedTsvException.class,
                () -> SKIPPING.readLabelled(GlueTask.SST2, allBad));
        assertTrue(e.getMessage().contains("2 malformed rows skipped"), e.getMessage());
    }

    @Test
    void crlfEndingsAreStrippedAndALoneCarriageReturnIsText() throws IOException {
        Path file = write("crlf.tsv", "sentence\tlabel\r\nline one\r\t1\r\nline two\t0\r\n");
        GlueRows rows = STRICT.readLabelled(GlueTask.SST2, file);
        assertEquals(List.of(
                new GlueExample(2, "line one\r", null, "1", 1, Float.NaN, null),
                new GlueExample(3, "line two", null, "0", 0, Float.NaN, null)), rows.examples());
    }

    @Test
    void lastRowWithoutNewlineIsRead() throws IOException {
        Path file = write("sst2.tsv", "sentence\tlabel\na\t1\nb\t0");
        assertEquals(List.of("a", "b"), STRICT.readLabelled(GlueTask.SST2, file).examples().stream()
                .map(GlueExample::textA).toList());
    }

    @Test
    void rowsLongerThanTheReadBufferAreWhole() throws IOException {
        String longText = "word ".repeat(40_000);
        Path file = write("long.tsv", "sentence\tlabel\n" + longText + "\t1\nshort\t0\n");
        GlueRows rows = STRICT.readLabelled(GlueTask.SST2, file);
        assertEquals(longText, rows.examples().get(0).textA());
        assertEquals(3, rows.examples().get(1).line());
    }

    private Path write(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content, StandardCharsets.UTF_8);
        return file;
    }
}
