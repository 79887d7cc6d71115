package io.electra.glue;

import it.unimi.dsi.fastutil.ints.IntList;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link GlueTsvReader} read from one file.
 *
 * @param file         the file read
 * @param examples     its rows in file order
 * @param skippedLines 1-based line numbers of malformed rows that were skipped (empty unless the
 *                     reader skips bad rows)
 */
public record GlueRows(Path file, List<GlueExample> examples, IntList skippedLines) {

    public int size() {
        return examples.size();
    }

    public int skipped() {
        return skippedLines.size();
    }

    /** Gold label indexes in row order, for {@link Metrics}; fails on unlabelled or STS-B rows. */
    public int[] labelIndexes() {
        int[] out = new int[examples.size()];
        for (int i = 0; i < out.length; i++) {
            GlueExample e = examples.get(i);
            if (e.labelIndex() < 0) throw new IllegalStateException(file + ":" + e.line() + ": row has no class label");
            out[i] = e.labelIndex();
        }
        return out;
    }

    /** Gold STS-B scores in row order, for {@link Metrics}; fails on rows without a score. */
    public float[] scores() {
        float[] out = new float[examples.size()];
        for (int i = 0; i < out.length; i++) {
            GlueExample e = examples.get(i);
            if (Float.isNaN(e.score())) throw new IllegalStateException(file + ":" + e.line() + ": row has no score");
            out[i] = e.score();
        }
        return out;
    }
}
