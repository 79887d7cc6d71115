package io.electra.pretrain;

import io.electra.engine.testing.SharedData;
import io.electra.tokenizer.Vocab;

import java.io.IOException;
import java.util.SplittableRandom;

/**
 * Rows of random word ids in BERT's pair layout, [CLS] a [SEP] b [SEP] with token types 0 and 1:
 * pre-training input that needs only the vocabulary file, not the tokenizer or a corpus (the GPU
 * bundle carries no corpus and leaves out the tokenizer's fastutil dependency).
 */
final class SyntheticRows implements ExampleSource {
    private final Vocab vocab;
    private final int rows, seq;
    private final long seed;

    SyntheticRows(int rows, int seq, long seed) throws IOException {
        this.vocab = Vocab.load(SharedData.path("data/vocab/bert-base-uncased-vocab.txt"));
        this.rows = rows;
        this.seq = seq;
        this.seed = seed;
    }

    @Override public long rows() { return rows; }
    @Override public int maxLength() { return seq; }
    @Override public Vocab vocab() { return vocab; }

    @Override
    public void readRow(long i, int[] ids, int[] types) {
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + i);
        int body = seq - 3, half = body / 2, t = 0;
        ids[t] = vocab.clsId();
        types[t++] = 0;
        for (int k = 0; k < half; k++) { ids[t] = 1000 + r.nextInt(vocab.size() - 1000); types[t++] = 0; }
        ids[t] = vocab.sepId();
        types[t++] = 0;
        for (int k = half; k < body; k++) { ids[t] = 1000 + r.nextInt(vocab.size() - 1000); types[t++] = 1; }
        ids[t] = vocab.sepId();
        types[t] = 1;
    }
}
