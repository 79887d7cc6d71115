package io.electra.tokenizer;

import io.electra.engine.testing.SharedData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Strings the HuggingFace fixture never saw, with the tokens worked out by hand from BertTokenizer's
 * rules (the comment on each case says which rule decides it).
 */
class HandVerifiedCasesTest {
    private static WordPieceTokenizer uncased;
    private static WordPieceTokenizer cased;

    @BeforeAll
    static void load() throws IOException {
        uncased = WordPieceTokenizer.uncased(Vocab.load(SharedData.path("data/vocab/bert-base-uncased-vocab.txt")));
        cased = new WordPieceTokenizer(Vocab.load(SharedData.path("data/vocab/bert-base-cased-vocab.txt")),
                false, SpecialTokens.ANYWHERE);
    }

    private static void check(WordPieceTokenizer tok, String text, String... expected) {
        Encoding e = tok.encode(text);
        List<String> tokens = e.tokens().subList(1, e.length() - 1);
        assertEquals(List.of(expected), tokens, "tokens of " + escape(text));
        for (int i = 1; i < e.length() - 1; i++) {
            assertEquals(tok.vocab().id(tokens.get(i - 1)), e.ids()[i], "id of " + tokens.get(i - 1));
        }
    }

    @Test
    void accentsAreStrippedAfterLowerCasing() {
        check(uncased, "Héllo wörld!", "hello", "world", "!");
        check(uncased, "naïve café", "naive", "cafe");
        // NFD of e + U+0301, sixty times: 120 code points raw, 60 after dropping the marks, so not [UNK].
        check(uncased, "e\u0301".repeat(60), expected("ee", 30));
    }

    @Test
    void formatAndControlCharactersGlueTheirNeighbours() {
        check(uncased, "a\u00adb c\u200bd", "ab", "cd");                  // soft hyphen, zero-width space: Cf
        check(uncased, "x\u2028y\u2029z\u0085w", "x", "y", "z", "##w");     // U+2028/9 split; NEL (Cc) glues
        check(uncased, "tab\there\r\nnew\u0000line", "tab", "here", "new", "##line");
    }

    @Test
    void lowerCasingIsPerCharacter() {
        // Each Σ alone lower-cases to σ, never the final ς; İ becomes i + U+0307, and the mark is dropped.
        check(uncased, "İstanbul ΣΟΦΟΣ", "istanbul", "σ", "##ο", "##φ", "##ο", "##σ");
    }

    @Test
    void unicode14CharactersAreKnown() {
        // U+2E53 (Po, new in 14) splits as punctuation; U+9FFD (new ideograph) is its own word.
        check(uncased, "foo\u2E53bar \u9FFD\u4E2D", "foo", "[UNK]", "bar", "[UNK]", "中");
        check(uncased, "\uD83E\uDEE0 melt", "[UNK]", "melt");  // U+1FAE0 (So, new in 14): kept, unknown
    }

    @Test
    void asciiSymbolsArePunctuation() {
        check(uncased, "$5.00+tax=~6", "$", "5", ".", "00", "+", "tax", "=", "~", "6");
        check(uncased, "don't", "don", "'", "t");
    }

    @Test
    void wordLengthLimitCountsCodePointsAfterAccentStripping() {
        check(uncased, "a".repeat(101), "[UNK]");
        List<String> hundred = uncased.encode("a".repeat(100) + "\u0301").tokens();
        assertEquals("aaa", hundred.get(1), "100 a's plus a dropped mark are within the limit");
        StringBuilder joined = new StringBuilder();
        for (String t : hundred.subList(1, hundred.size() - 1)) joined.append(t.replace("##", ""));
        assertEquals("a".repeat(100), joined.toString());
    }

    @Test
    void specialTokensAreCutOutOfRawText() {
        check(uncased, "[MASK]ed un[UNK]known", "[MASK]", "ed", "un", "[UNK]", "known");
        check(uncased, "[MA\u200bSK] x", "[", "mask", "]", "x");  // lower-cased before cleaning glues it
        check(cased, "[MA\u200bSK] x", "[MASK]", "x");             // cased: the cleaned word is [MASK]
    }

    @Test
    void casedKeepsCaseAndAccents() {
        check(cased, "naïve Café", "na", "##ï", "##ve", "Café");
        check(cased, "Héllo [CLS]", "H", "##é", "##llo", "[CLS]");
    }

    private static String[] expected(String piece, int n) {
        String[] out = new String[n];
        for (int i = 0; i < n; i++) out[i] = i == 0 ? piece : "##" + piece;
        return out;
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(cp -> b.append(cp < 0x20 || cp > 0x7E ? String.format("\\u{%X}", cp) : String.valueOf((char) cp)));
        return b.toString();
    }
}
