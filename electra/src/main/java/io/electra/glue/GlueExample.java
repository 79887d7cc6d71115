package io.electra.glue;

/**
 * One row of a GLUE file. Texts are kept exactly as in the file (SST-2's trailing spaces and
 * every quote character included); the tokenizer decides what whitespace means.
 *
 * @param line       1-based line number of the row in its file
 * @param textA      the first (or only) sentence
 * @param textB      the second sentence, or null for single-sentence tasks
 * @param label      the gold label as written in the file, or null for test rows
 * @param labelIndex index of {@code label} in {@link GlueTask#labels()}; -1 for STS-B and test rows
 * @param score      STS-B's gold similarity in [0, 5]; NaN for every other row
 * @param id         the test file's {@code index} (QQP: {@code id}) column, or null for train and dev rows
 */
public record GlueExample(int line, String textA, String textB, String label, int labelIndex, float score,
                          String id) {

    /** The same example with its two sentences in the other order. */
    public GlueExample swapped() {
        if (textB == null) {
            throw new IllegalStateException("line " + line + " has a single sentence; nothing to swap");
        }
        return new GlueExample(line, textB, textA, label, labelIndex, score, id);
    }
}
