package io.electra.pretrain;

import io.electra.tokenizer.Vocab;

/** Fixed-length pre-training rows, by index (the shards from {@code electra prepare}, or anything else). */
public interface ExampleSource {
    long rows();

    int maxLength();

    /** Fills ids and token types of row {@code i} (padding is id 0). */
    void readRow(long i, int[] ids, int[] tokenTypes);

    /** The vocabulary the rows were built with (special ids, size, hash). */
    Vocab vocab();
}
