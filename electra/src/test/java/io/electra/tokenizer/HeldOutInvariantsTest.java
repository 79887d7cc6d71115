package io.electra.tokenizer;

import io.electra.engine.testing.SharedData;
import it.unimi.dsi.fastutil.ints.IntArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Text the fixture never saw (GLUE training rows; the fixture used dev rows), checked against a
 * second, deliberately naive implementation of the rules for ASCII text: split on whitespace, lower
 * case, split off ASCII punctuation, then WordPiece by trying every substring against a hash map.
 */
class HeldOutInvariantsTest {
    private static Vocab vocab;
    private static WordPieceTokenizer tok;

    @BeforeAll
    static void load() throws IOException {
        vocab = Vocab.load(SharedData.path("data/vocab/bert-base-uncased-vocab.txt"));
        tok = WordPieceTokenizer.uncased(vocab);
    }

    @Test
    void asciiTrainingSentencesMatchTheNaiveTokenizer() throws IOException {
        List<String> sentences = new ArrayList<>();
        for (String tsv : new String[]{"data/glue/CoLA/train.tsv", "data/glue/SST-2/train.tsv", "data/glue/MRPC/train.tsv"}) {
            List<String> lines = Files.readAllLines(SharedData.path(tsv), StandardCharsets.UTF_8);
            for (int i = 1; i < lines.size(); i += 7) {
                for (String field : lines.get(i).split("\t")) {
                    if (field.length() > 20 && isAscii(field)) sentences.add(field);
                }
            }
        }
        assertTrue(sentences.size() > 2000, "held-out sentences: " + sentences.size());
        int checked = 0;
        for (String s : sentences) {
            compare(s);
            checked++;
        }
        assertEquals(sentences.size(), checked);
    }

    @Test
    void randomAsciiMatchesTheNaiveTokenizer() {
        Random rng = new Random(20240605);
        String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t\n!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
        for (int n = 0; n < 3000; n++) {
            StringBuilder b = new StringBuilder();
            int len = rng.nextInt(60);
            for (int i = 0; i < len; i++) {
                if (rng.nextInt(8) == 0) b.append(vocab.token(1996 + rng.nextInt(20000)).replace("##", ""));
                else b.append(alphabet.charAt(rng.nextInt(alphabet.length())));
            }
            if (rng.nextInt(10) == 0) b.append("x".repeat(95 + rng.nextInt(10))); // around the 100 limit
            compare(b.toString().replace("[", "(")); // literal special tokens have their own test
        }
    }

    @Test
    void everyIdIsInTheVocabularyAndNoTextStartsWithAContinuation() throws IOException {
        // Non-ASCII held-out text too: WikiText lines the fixture did not use.
        List<String> lines = Files.readAllLines(SharedData.path("data/corpus/wikitext-2-raw/wiki.test.raw"), StandardCharsets.UTF_8);
        IntArrayList ids = new IntArrayList();
        int count = 0;
        for (int i = 0; i < lines.size(); i++) {
            ids.clear();
            tok.tokenize(lines.get(i), ids);
            for (int j = 0; j < ids.size(); j++) {
                int id = ids.getInt(j);
                if (id < 0 || id >= vocab.size()) fail("line " + i + ": id " + id + " outside the vocabulary");
                if (j == 0 && vocab.token(id).startsWith("##")) fail("line " + i + " starts with a continuation");
            }
            count++;
        }
        assertTrue(count > 2500, "lines checked: " + count);
    }

    private static void compare(String text) {
        IntArrayList actual = new IntArrayList();
        tok.tokenize(text, actual);
        List<Integer> expected = naive(text);
        if (!expected.equals(actual)) {
            List<String> e = new ArrayList<>(), a = new ArrayList<>();
            expected.forEach(id -> e.add(vocab.token(id)));
            actual.forEach(id -> a.add(vocab.token(id)));
            fail("text " + text.replace("\n", "\\n").replace("\t", "\\t") + "\n expected " + e + "\n actual   " + a);
        }
    }

    /** The reference: every rule written the slow, obvious way, for ASCII input only. */
    private static List<Integer> naive(String text) {
        List<Integer> out = new ArrayList<>();
        StringBuilder cleaned = new StringBuilder();
        for (char c : text.toCharArray()) {
            if (c == 0 || (c < 32 && c != '\t' && c != '\n' && c != '\r') || c == 127) continue;
            cleaned.append(c == '\t' || c == '\n' || c == '\r' ? ' ' : Character.toLowerCase(c));
        }
        for (String ws : cleaned.toString().trim().split(" +")) {
            if (ws.isEmpty()) continue;
            List<String> words = new ArrayList<>();
            StringBuilder w = new StringBuilder();
            for (char c : ws.toCharArray()) {
                if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) {
                    if (w.length() > 0) words.add(w.toString());
                    w.setLength(0);
                    words.add(String.valueOf(c));
                } else {
                    w.append(c);
                }
            }
            if (w.length() > 0) words.add(w.toString());
            for (String word : words) out.addAll(wordPiece(word));
        }
        return out;
    }

    private static List<Integer> wordPiece(String word) {
        if (word.length() > 100) return List.of(vocab.unkId());
        List<Integer> pieces = new ArrayList<>();
        int start = 0;
        while (start < word.length()) {
            int found = -1, end = word.length();
            for (; end > start; end--) {
                String sub = (start > 0 ? "##" : "") + word.substring(start, end);
                if (vocab.id(sub) >= 0) {
                    found = vocab.id(sub);
                    break;
                }
            }
            if (found < 0) return List.of(vocab.unkId());
            pieces.add(found);
            start = end;
        }
        return pieces;
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) > 126) return false;
        return true;
    }
}
