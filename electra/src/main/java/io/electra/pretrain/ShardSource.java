package io.electra.pretrain;

import io.electra.corpus.ShardDataset;
import io.electra.tokenizer.Vocab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Training rows from the shards written by {@code electra prepare}. The vocabulary is the one given,
 * else the {@code vocab.txt} the dataset folder carries; the shard index's vocab hash must match it.
 */
final class ShardSource implements ExampleSource {
    private final ShardDataset dataset;
    private final Vocab vocab;

    private ShardSource(ShardDataset dataset, Vocab vocab) {
        this.dataset = dataset;
        this.vocab = vocab;
    }

    static ExampleSource open(Path dir, Path vocabFile) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException("--data " + dir + " is not a folder of prepared shards");
        Path v = vocabFile != null ? vocabFile : dir.resolve("vocab.txt");
        if (!Files.isRegularFile(v)) {
            throw new IOException(dir + " has no vocab.txt; pass --vocab with the vocabulary the shards were prepared with");
        }
        Vocab vocab = Vocab.load(v);
        return new ShardSource(ShardDataset.open(dir, vocab), vocab);
    }

    @Override public long rows() { return dataset.rows(); }
    @Override public int maxLength() { return dataset.maxLength(); }
    @Override public Vocab vocab() { return vocab; }

    @Override
    public void readRow(long i, int[] ids, int[] tokenTypes) {
        dataset.readRow(i, ids, tokenTypes);
    }
}
