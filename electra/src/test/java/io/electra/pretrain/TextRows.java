package io.electra.pretrain;

import io.electra.engine.testing.SharedData;
import io.electra.tokenizer.Vocab;
import io.electra.tokenizer.WordPieceTokenizer;
import it.unimi.dsi.fastutil.ints.IntArrayList;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Pre-training rows for tests, built in memory from the first paragraphs of the shared Gutenberg
 * validation text: each row is [CLS] A [SEP] B [SEP] of consecutive tokens, full length.
 */
final class TextRows implements ExampleSource {
    private final Vocab vocab;
    private final int seq;
    private final List<int[]> ids = new ArrayList<>(), types = new ArrayList<>();

    TextRows(int rows, int seq) throws IOException {
        this.vocab = Vocab.load(SharedData.path("data/vocab/bert-base-uncased-vocab.txt"));
        this.seq = seq;
        WordPieceTokenizer tok = WordPieceTokenizer.uncased(vocab);
        IntArrayList stream = new IntArrayList();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(
                Files.newInputStream(SharedData.path("data/corpus/gutenberg-en/valid.txt.gz"))), StandardCharsets.UTF_8))) {
            String line;
            int body = seq - 3;
            while (ids.size() < rows && (line = r.readLine()) != null) {
                tok.tokenize(line, stream);
                while (stream.size() >= body && ids.size() < rows) {
                    int[] row = new int[seq], type = new int[seq];
                    int half = body / 2, t = 0;
                    row[t++] = vocab.clsId();
                    for (int i = 0; i < half; i++) row[t++] = stream.getInt(i);
                    row[t++] = vocab.sepId();
                    for (int i = half; i < body; i++) { type[t] = 1; row[t++] = stream.getInt(i); }
                    type[t] = 1;
                    row[t] = vocab.sepId();
                    stream.removeElements(0, body);
                    ids.add(row);
                    types.add(type);
                }
            }
        }
        if (ids.size() < rows) throw new IllegalStateException("validation text too short for " + rows + " rows");
    }

    @Override public long rows() { return ids.size(); }
    @Override public int maxLength() { return seq; }
    @Override public Vocab vocab() { return vocab; }

    @Override
    public void readRow(long i, int[] rowIds, int[] rowTypes) {
        System.arraycopy(ids.get((int) i), 0, rowIds, 0, seq);
        System.arraycopy(types.get((int) i), 0, rowTypes, 0, seq);
    }
}
