package io.electra.glue;

import java.nio.file.Path;
import java.util.List;

/**
 * Which columns of a GLUE TSV file hold a task's fields, by GLUE's column names. Most files name
 * their columns in a header row; CoLA's train and dev files have none, so their layout supplies
 * the names. Every row must have exactly as many tab-separated fields as the header.
 *
 * <p>Finding columns by name rather than position lets one layout serve files of different widths
 * (MNLI's train file has one annotator label column, its dev files five) and turns a file given to
 * the wrong task into an error about a missing column rather than silently wrong examples.
 *
 * @param impliedHeader column names of a headerless file, or null when the first line is the header
 * @param id            column of the row's identifier, kept for prediction files; null when unused
 * @param textA         column of the first (or only) text
 * @param textB         column of the second text, or null for single-sentence tasks
 * @param label         column of the gold label or score, or null for unlabelled test files
 */
public record TsvLayout(List<String> impliedHeader, String id, String textA, String textB, String label) {

    public TsvLayout {
        if (textA == null) throw new IllegalArgumentException("a layout needs a text column");
        impliedHeader = impliedHeader == null ? null : List.copyOf(impliedHeader);
    }

    static TsvLayout withHeader(String id, String textA, String textB, String label) {
        return new TsvLayout(null, id, textA, textB, label);
    }

    /** A layout for files without a header row, whose columns are {@code names} in order. */
    static TsvLayout headerless(List<String> names, String textA, String label) {
        return new TsvLayout(names, null, textA, null, label);
    }

    public boolean hasHeaderRow() {
        return impliedHeader == null;
    }

    /** Column positions in one file, -1 for a field the layout does not use. */
    record Columns(int count, int id, int textA, int textB, int label) {
    }

    /**
     * Positions of this layout's columns given a file's header fields (ignored for headerless
     * layouts). A named column missing from the header is an error naming the file.
     */
    Columns resolve(Path file, String[] fileHeader) throws MalformedTsvException {
        List<String> header = hasHeaderRow() ? List.of(fileHeader) : impliedHeader;
        return new Columns(header.size(),
                find(file, header, id), find(file, header, textA), find(file, header, textB), find(file, header, label));
    }

    private static int find(Path file, List<String> header, String name) throws MalformedTsvException {
        if (name == null) return -1;
        int at = header.indexOf(name);
        if (at < 0) {
            throw new MalformedTsvException(file, 1, "header has no column '" + name + "' (found " + header
                    + "); is this the right task's file?");
        }
        return at;
    }
}
