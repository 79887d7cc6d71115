package io.electra.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The generated Unicode 14 tables against an independent source, the JDK 17's own Unicode 13 data:
 * they must agree on every code point except the documented differences between the two versions.
 */
class CharTablesTest {

    @Test
    void tablesAreUnicode14() {
        assertEquals("14.0.0", CharTables.UNICODE_VERSION);
    }

    @Test
    void classesAgreeWithTheJdkExceptForUnicode14Additions() {
        assumeTrue(Runtime.version().feature() == 17, "the reference here is JDK 17's Unicode 13 data");
        Map<String, Integer> added = new TreeMap<>();
        StringBuilder mismatches = new StringBuilder();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            int ours = CharTables.charClass(cp);
            int jdk = jdkClass(cp);
            if (ours == jdk) continue;
            if (Character.getType(cp) == Character.UNASSIGNED) {
                added.merge(name(ours), 1, Integer::sum); // assigned in 14, unknown to the JDK
            } else if (cp == 0x1734 && ours == CharTables.OTHER) {
                // HANUNOO SIGN PAMUDPOD: Mn in Unicode 13, Mc (kept by accent stripping) in 14.
            } else if (mismatches.length() < 2000) {
                mismatches.append(String.format("U+%04X ours=%s jdk=%s%n", cp, name(ours), name(jdk)));
            }
        }
        assertEquals("", mismatches.toString(), "code points whose class differs from the JDK's");
        // Unicode 14 added 838 code points (Python's unicodedata 14.0 vs 13.0): 2 Cf (deleted, as
        // unassigned ones are), 112 Mn, 21 P*, 9 ideographs in BERT's CJK ranges (U+9FFD..9FFF,
        // U+2A6DE..2A6DF, U+2B735..2B738) and 694 letters, digits and symbols.
        assertEquals(Map.of("CJK", 9, "MARK", 112, "OTHER", 694, "PUNCT", 21), added);
    }

    @Test
    void lowerCaseAgreesWithTheJdkExceptForUnicode14Additions() {
        assumeTrue(Runtime.version().feature() == 17, "the reference here is JDK 17's Unicode 13 data");
        int newMappings = 0;
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (cp >= 0xD800 && cp <= 0xDFFF) continue;
            int ours = CharTables.lower(cp);
            int jdk = Character.toLowerCase(cp);
            if (ours == jdk) continue;
            assertEquals(Character.UNASSIGNED, Character.getType(cp),
                    String.format("U+%04X lower: ours U+%04X, JDK U+%04X", cp, ours, jdk));
            newMappings++;
        }
        // Vithkuqi (U+10570..), Glagolitic U+2C2F and four Latin letters U+A7C0.. got lower cases in 14.
        assertEquals(40, newMappings);
        assertEquals(0x69, CharTables.lower(0x130), "U+0130 maps to i (+ U+0307, added by the tokenizer)");
    }

    @Test
    void bertPunctuationIncludesAsciiSymbolsButNotOtherSymbols() {
        for (char c : "$+<=>^`|~!\"#%&'()*,-./:;?@[\\]_{}".toCharArray()) {
            assertEquals(CharTables.PUNCT, CharTables.charClass(c), "ASCII '" + c + "'");
        }
        for (int cp : new int[]{0xB0, 0xA9, 0x1F600, 0x20AC}) { // degree, copyright, emoji, euro sign
            assertEquals(CharTables.OTHER, CharTables.charClass(cp), String.format("U+%04X", cp));
        }
        assertEquals(CharTables.PUNCT, CharTables.charClass(0xBF), "inverted question mark is Po");
    }

    /** The tokenizer's rules applied to the JDK's categories. */
    private static int jdkClass(int cp) {
        int t = Character.getType(cp);
        if (cp == 0 || cp == 0xFFFD) return CharTables.DELETE;
        if (cp == '\t' || cp == '\n' || cp == '\r' || cp == ' ' || t == Character.SPACE_SEPARATOR
                || cp == 0x2028 || cp == 0x2029) return CharTables.SPACE;
        if (t == Character.CONTROL || t == Character.FORMAT || t == Character.PRIVATE_USE
                || t == Character.SURROGATE || t == Character.UNASSIGNED) return CharTables.DELETE;
        if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126))
            return CharTables.PUNCT;
        switch (t) {
            case Character.CONNECTOR_PUNCTUATION: case Character.DASH_PUNCTUATION: case Character.START_PUNCTUATION:
            case Character.END_PUNCTUATION: case Character.INITIAL_QUOTE_PUNCTUATION:
            case Character.FINAL_QUOTE_PUNCTUATION: case Character.OTHER_PUNCTUATION:
                return CharTables.PUNCT;
            case Character.NON_SPACING_MARK:
                return CharTables.MARK;
            default:
                return CharTables.isCjkRange(cp) ? CharTables.CJK : CharTables.OTHER;
        }
    }

    private static String name(int k) {
        return new String[]{"OTHER", "DELETE", "SPACE", "PUNCT", "MARK", "CJK"}[k];
    }
}
