package io.electra.glue;

import it.unimi.dsi.fastutil.ints.IntArrayList;
import it.unimi.dsi.fastutil.ints.IntLists;

import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads GLUE's TSV files as GLUE's own processors do: UTF-8 with an optional byte-order mark
 * (MRPC has one), fields split at tabs and nothing else. Quote characters are text: QNLI, MRPC and
 * RTE have fields that start with {@code "} and SST-2 is full of {@code '}, which a CSV parser
 * would take as quoting and run into the next fields or lines.
 *
 * <p>A row with the wrong number of columns, or a label that is not one of the task's, is an error
 * naming the file and its 1-based line. With {@code skipBadRows} such rows are skipped instead and
 * their line numbers returned ({@link GlueRows#skippedLines()}), for files known to have a few
 * broken rows (QQP's train file). A file without the task's columns, or without a single usable
 * row, is an error either way.
 */
public final class GlueTsvReader {
    private static final char BYTE_ORDER_MARK = '\uFEFF';
    /** Plain decimal numbers; {@link Float#parseFloat} would also take "NaN", "0x1p2" or "3f". */
    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
    private static final float MAX_SCORE = 5f;

    private final boolean skipBadRows;

    /** @param skipBadRows skip and count malformed rows rather than fail on the first */
    public GlueTsvReader(boolean skipBadRows) {
        this.skipBadRows = skipBadRows;
    }

    /** Reads a train or dev file, whose rows carry gold labels (or STS-B scores). */
    public GlueRows readLabelled(GlueTask task, Path file) throws IOException {
        return read(task, file, task.labelledLayout(), true);
    }

    /** Reads an unlabelled test file; each example keeps its {@code index} for the prediction file. */
    public GlueRows readTest(GlueTask task, Path file) throws IOException {
        return read(task, file, task.testLayout(), false);
    }

    private GlueRows read(GlueTask task, Path file, TsvLayout layout, boolean labelled) throws IOException {
        List<GlueExample> examples = new ArrayList<>();
        IntArrayList skipped = new IntArrayList();
        try (TsvLines lines = new TsvLines(new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8))) {
            String first = lines.next();
            if (first == null) throw new MalformedTsvException(file, 1, "file is empty");
            if (!first.isEmpty() && first.charAt(0) == BYTE_ORDER_MARK) first = first.substring(1);
            TsvLayout.Columns columns = layout.resolve(file, split(first));
            String line = layout.hasHeaderRow() ? lines.next() : first;
            for (; line != null; line = lines.next()) {
                try {
                    examples.add(parse(task, file, lines.lineNumber(), line, columns, labelled));
                } catch (MalformedTsvException e) {
                    if (!skipBadRows) throw e;
                    skipped.add(lines.lineNumber());
                }
            }
        }
        if (examples.isEmpty()) {
            throw new MalformedTsvException(file, 1, "no usable rows for " + task.cliName()
                    + (skipped.isEmpty() ? "" : " (" + skipped.size() + " malformed rows skipped)"));
        }
        return new GlueRows(file, List.copyOf(examples), IntLists.unmodifiable(skipped));
    }

    private static GlueExample parse(GlueTask task, Path file, int lineNumber, String line,
                                     TsvLayout.Columns columns, boolean labelled) throws MalformedTsvException {
        String[] fields = split(line);
        if (fields.length != columns.count()) {
            throw badRow(file, lineNumber, "expected " + columns.count() + " tab-separated columns, found "
                    + fields.length);
        }
        String textA = fields[columns.textA()];
        String textB = columns.textB() < 0 ? null : fields[columns.textB()];
        String id = columns.id() < 0 ? null : fields[columns.id()];
        if (!labelled) return new GlueExample(lineNumber, textA, textB, null, -1, Float.NaN, id);

        String label = fields[columns.label()].strip();
        if (task.isRegression()) {
            float score = DECIMAL.matcher(label).matches() ? Float.parseFloat(label) : Float.NaN;
            if (!(score >= 0 && score <= MAX_SCORE)) {
                throw badRow(file, lineNumber, "score '" + label + "' is not a number in [0, " + MAX_SCORE + "]");
            }
            return new GlueExample(lineNumber, textA, textB, label, -1, score, id);
        }
        int index = task.labelIndex(label);
        if (index < 0) throw badRow(file, lineNumber, "label '" + label + "' is not one of " + task.labels());
        return new GlueExample(lineNumber, textA, textB, label, index, Float.NaN, id);
    }

    private static MalformedTsvException badRow(Path file, int line, String problem) {
        return new MalformedTsvException(file, line, problem + " (a reader made with skipBadRows skips and counts such rows)");
    }

    /** Splits at every tab, keeping empty fields (CoLA's third column is always empty). */
    private static String[] split(String line) {
        return line.split("\t", -1);
    }
}
