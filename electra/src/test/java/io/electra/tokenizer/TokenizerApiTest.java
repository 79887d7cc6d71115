package io.electra.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import io.electra.engine.testing.SharedData;
import it.unimi.dsi.fastutil.ints.IntArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Vocabulary loading, truncation and thread safety. */
class TokenizerApiTest {
    private static Vocab vocab;
    private static WordPieceTokenizer tok;

    @BeforeAll
    static void load() throws IOException {
        vocab = Vocab.load(SharedData.path("data/vocab/bert-base-uncased-vocab.txt"));
        tok = WordPieceTokenizer.uncased(vocab);
    }

    @Test
    void vocabHashIsTheFileSha256FromTheFixtureManifest() throws IOException {
        JsonNode manifest = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(SharedData.path("fixtures/hf-electra/tokenizer/manifest.json").toFile());
        assertEquals(manifest.at("/tokenizer/vocab_sha256").asText(), vocab.sha256());
        assertEquals(30522, vocab.size());
        assertEquals(List.of(0, 100, 101, 102, 103), List.of(vocab.padId(), vocab.unkId(), vocab.clsId(), vocab.sepId(), vocab.maskId()));
    }

    @Test
    void crlfVocabularyHasTheSameTokensAndHash(@TempDir Path dir) throws IOException {
        Path crlf = dir.resolve("vocab.txt");
        Files.writeString(crlf, "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nhello\r\n");
        Path lf = dir.resolve("vocab-lf.txt");
        Files.writeString(lf, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n");
        assertEquals(Vocab.sha256(lf), Vocab.sha256(crlf));
        assertEquals(5, Vocab.load(crlf).id("hello"));
    }

    @Test
    void vocabularyLackingSpecialTokensNamesThem(@TempDir Path dir) throws IOException {
        Path v = dir.resolve("vocab.txt");
        Files.writeString(v, "[PAD]\n[UNK]\n[CLS]\nhello\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Vocab.load(v));
        assertTrue(e.getMessage().contains("[SEP] [MASK]") && e.getMessage().contains(v.toString()), e.getMessage());
    }

    @Test
    void missingVocabularyNamesTheFile(@TempDir Path dir) {
        Path v = dir.resolve("nope.txt");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Vocab.load(v));
        assertTrue(e.getMessage().contains(v.toString()), e.getMessage());
    }

    @Test
    void truncationRemovesFromTheLongerSideOneTokenAtATime() {
        String a = "one two three four five six seven eight nine ten";
        String b = "alpha beta gamma delta";
        IntArrayList ta = new IntArrayList(), tb = new IntArrayList();
        tok.tokenize(a, ta);
        tok.tokenize(b, tb);
        for (int max = 3; max <= ta.size() + tb.size() + 4; max++) {
            // HuggingFace's longest_first loop, literally.
            List<Integer> x = new ArrayList<>(ta), y = new ArrayList<>(tb);
            for (int r = x.size() + y.size() + 3 - max; r > 0; r--) {
                if (x.size() > y.size()) x.remove(x.size() - 1);
                else y.remove(y.size() - 1);
            }
            List<Integer> expected = new ArrayList<>();
            expected.add(101);
            expected.addAll(x);
            expected.add(102);
            expected.addAll(y);
            expected.add(102);
            Encoding e = tok.encode(a, b, max);
            assertEquals(expected, Arrays.stream(e.ids()).boxed().toList(), "max length " + max);
            assertEquals(x.size() + 2, Arrays.stream(e.typeIds()).filter(t -> t == 0).count(), "type 0 count at " + max);
        }
        assertArrayEquals(new int[]{101, ta.getInt(0), 102}, tok.encode(a, null, 3).ids());
    }

    @Test
    void concurrentCallsGiveTheSameResultsAsOneThread() throws Exception {
        List<String> texts = new ArrayList<>();
        for (JsonNode r : HfFixtureTest.read("bert_uncased_slow_blns.jsonl")) texts.add(r.get("text").asText());
        for (JsonNode r : HfFixtureTest.read("bert_uncased_slow.jsonl")) texts.add(r.get("text").asText());
        List<int[]> expected = new ArrayList<>();
        for (String t : texts) expected.add(tok.encode(t).ids());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<int[]>>> futures = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                int offset = w;
                futures.add(pool.submit(() -> {
                    List<int[]> out = new ArrayList<>();
                    for (int rep = 0; rep < 3; rep++) {
                        for (int i = 0; i < texts.size(); i++) out.add(tok.encode(texts.get((i + offset * 97) % texts.size())).ids());
                    }
                    return out;
                }));
            }
            for (int w = 0; w < 4; w++) {
                List<int[]> got = futures.get(w).get();
                for (int k = 0; k < got.size(); k++) {
                    int i = (k % texts.size() + w * 97) % texts.size();
                    assertArrayEquals(expected.get(i), got.get(k), "thread " + w + " text " + i);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void invalidUtf8VocabularyIsAnErrorNamingTheFile(@TempDir Path dir) throws IOException {
        Path v = dir.resolve("vocab.txt");
        Files.write(v, new byte[]{'[', 'P', 'A', 'D', ']', '\n', (byte) 0xC3, '\n'});
        IOException e = assertThrows(IOException.class, () -> Vocab.load(v));
        assertTrue(e.getMessage().contains(v.toString()) && e.getMessage().contains("UTF-8"), e.getMessage());
        assertEquals("[PAD]", new String(Files.readAllBytes(v), StandardCharsets.UTF_8).substring(0, 5));
    }
}
