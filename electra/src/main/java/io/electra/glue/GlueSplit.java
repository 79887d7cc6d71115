package io.electra.glue;

/**
 * One evaluation split of a task: its labelled dev file, the unlabelled test file scored by the
 * GLUE server, and the name the server expects for the predictions on that test file. MNLI has
 * two (matched and mismatched genres); every other task has one.
 *
 * @param name           short name for logs and metric prefixes, the submission file's stem ({@code "MNLI-m"})
 * @param devFile        file name inside the task's folder ({@code "dev_matched.tsv"})
 * @param testFile       file name inside the task's folder ({@code "test_matched.tsv"})
 * @param submissionFile file name the GLUE server expects ({@code "MNLI-m.tsv"})
 */
public record GlueSplit(String name, String devFile, String testFile, String submissionFile) {

    /** The split of a task with a single {@code dev.tsv} and {@code test.tsv}. */
    static GlueSplit single(String name) {
        return new GlueSplit(name, "dev.tsv", "test.tsv", name + ".tsv");
    }
}
