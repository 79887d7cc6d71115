package io.electra.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.electra.engine.testing.SharedData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Every record of HuggingFace's BertTokenizer fixtures, compared token for token. */
class HfFixtureTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Vocab vocab;

    @BeforeAll
    static void loadVocab() throws IOException {
        vocab = Vocab.load(SharedData.path("data/vocab/bert-base-uncased-vocab.txt"));
    }

    @Test
    void mainFixtureMatchesHuggingFace() throws IOException {
        List<JsonNode> records = read("bert_uncased_slow.jsonl");
        assertEquals(396, records.size(), "record count of bert_uncased_slow.jsonl");
        assertAllMatch(records, new WordPieceTokenizer(vocab, true, SpecialTokens.ANYWHERE));
    }

    @Test
    void naughtyStringsMatchHuggingFace() throws IOException {
        List<JsonNode> records = read("bert_uncased_slow_blns.jsonl");
        assertEquals(516, records.size(), "record count of bert_uncased_slow_blns.jsonl");
        assertAllMatch(records, new WordPieceTokenizer(vocab, true, SpecialTokens.ANYWHERE));
        // The manifest says no BLNS record changes with the bare constructor.
        assertAllMatch(records, new WordPieceTokenizer(vocab, true, SpecialTokens.WHOLE_WORD));
    }

    @Test
    void bareConstructorDiffersExactlyOnTheDocumentedRecords() throws IOException {
        List<JsonNode> diffs = read("bert_uncased_slow_direct_init_diffs.jsonl");
        assertEquals(3, diffs.size());
        assertAllMatch(diffs, new WordPieceTokenizer(vocab, true, SpecialTokens.WHOLE_WORD));
        // Every other main record is the same under both constructors.
        List<Integer> diffIds = new ArrayList<>();
        for (JsonNode d : diffs) diffIds.add(d.get("id").asInt());
        List<JsonNode> rest = new ArrayList<>();
        for (JsonNode r : read("bert_uncased_slow.jsonl")) if (!diffIds.contains(r.get("id").asInt())) rest.add(r);
        assertEquals(393, rest.size());
        assertAllMatch(rest, new WordPieceTokenizer(vocab, true, SpecialTokens.WHOLE_WORD));
    }

    static List<JsonNode> read(String name) throws IOException {
        Path p = SharedData.path("fixtures/hf-electra/tokenizer/" + name);
        List<JsonNode> out = new ArrayList<>();
        // Split on \n only: U+2028/U+2029/U+0085 inside records are escaped, but \r may not be.
        for (String line : new String(Files.readAllBytes(p), StandardCharsets.UTF_8).split("\n")) {
            if (!line.isEmpty()) out.add(JSON.readTree(line));
        }
        return out;
    }

    static void assertAllMatch(List<JsonNode> records, WordPieceTokenizer tok) {
        List<String> failures = new ArrayList<>();
        for (JsonNode r : records) {
            String text = r.get("text").asText();
            String pair = r.has("text_pair") ? r.get("text_pair").asText() : null;
            Encoding e = tok.encode(text, pair);
            int[] ids = ints(r.get("input_ids"));
            int[] types = ints(r.get("token_type_ids"));
            List<String> tokens = new ArrayList<>();
            r.get("tokens").forEach(t -> tokens.add(t.asText()));
            if (!Arrays.equals(ids, e.ids()) || !Arrays.equals(types, e.typeIds()) || !tokens.equals(e.tokens())) {
                int at = Arrays.mismatch(ids, e.ids());
                failures.add("id " + r.get("id") + " (" + r.get("category").asText() + ") text="
                        + JSON.valueToTree(text) + (pair == null ? "" : " pair=" + JSON.valueToTree(pair))
                        + "\n  first difference at index " + at
                        + "\n  expected " + tokens + " " + Arrays.toString(ids) + " types " + Arrays.toString(types)
                        + "\n  actual   " + e.tokens() + " " + Arrays.toString(e.ids()) + " types " + Arrays.toString(e.typeIds()));
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + records.size() + " records differ:\n" + String.join("\n", failures));
        }
    }

    private static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).asInt();
        return out;
    }
}
