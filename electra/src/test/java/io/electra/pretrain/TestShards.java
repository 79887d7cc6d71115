package io.electra.pretrain;

import io.electra.corpus.CorpusPreparer;
import io.electra.engine.testing.SharedData;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** Small prepared datasets for tests: the first paragraphs of the shared validation text, through `electra prepare`. */
public final class TestShards {
    private TestShards() {
    }

    public static Path prepare(Path tmp, int paragraphs, int maxLength) throws Exception {
        Path text = tmp.resolve("slice.txt");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(
                Files.newInputStream(SharedData.path("data/corpus/gutenberg-en/valid.txt.gz"))), StandardCharsets.UTF_8));
             BufferedWriter w = Files.newBufferedWriter(text)) {
            for (int i = 0; i < paragraphs; i++) {
                w.write(r.readLine());
                w.newLine();
            }
        }
        Path shards = tmp.resolve("shards");
        new CorpusPreparer(new CorpusPreparer.Config(List.of(text), SharedData.path("data/vocab/bert-base-uncased-vocab.txt"),
                shards, maxLength, 1, true, 2, 1000, false), msg -> { }).run();
        return shards;
    }
}
