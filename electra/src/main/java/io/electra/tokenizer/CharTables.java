package io.electra.tokenizer;

import it.unimi.dsi.fastutil.ints.Int2IntOpenHashMap;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * What BERT's basic tokenizer needs to know about each code point: whether cleaning deletes it,
 * whether it is whitespace, punctuation, a non-spacing mark or a CJK ideograph, and its lower case.
 *
 * <p>The tables are read from {@code unicode-tables.txt}, generated from Python's
 * {@code unicodedata} (Unicode 14.0, the version HuggingFace's reference ran on) by
 * {@code electra/tools/gen_unicode_tables.py}. {@link Character} is deliberately not used: Java 17
 * knows Unicode 13, and would delete the 838 characters Unicode 14 added (new punctuation, CJK
 * ideographs U+9FFD..U+9FFF, emoji) as unassigned; a newer JVM would disagree the other way.
 */
final class CharTables {
    static final byte OTHER = 0, DELETE = 1, SPACE = 2, PUNCT = 3, MARK = 4, CJK = 5;

    /** Class of every code point, 0..U+10FFFF (1.1 MB, read once per JVM). */
    private static final byte[] CLASS = new byte[Character.MAX_CODE_POINT + 1];
    /** Lower case of each BMP code point (identity where none); astral ones in the map. */
    private static final int[] LOWER_BMP = new int[0x10000];
    private static final Int2IntOpenHashMap LOWER_ASTRAL = new Int2IntOpenHashMap();
    /** U+0130 (capital I with dot above) is the only code point whose lower case is two. */
    static final int DOTTED_CAPITAL_I = 0x130;
    static final String UNICODE_VERSION;

    static {
        for (int i = 0; i < LOWER_BMP.length; i++) LOWER_BMP[i] = i;
        UNICODE_VERSION = load();
        markCjk();
    }

    private CharTables() {
    }

    static int charClass(int cp) {
        return CLASS[cp];
    }

    /** Python's {@code chr(cp).lower()} for every code point except U+0130 (see {@link #DOTTED_CAPITAL_I}). */
    static int lower(int cp) {
        if (cp < 0x10000) return LOWER_BMP[cp];
        return LOWER_ASTRAL.getOrDefault(cp, cp);
    }

    /** BERT's CJK ranges: ideographs only, not kana, Hangul or the Kangxi radicals. */
    static boolean isCjkRange(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF)
                || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F)
                || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    private static void markCjk() {
        // Cleaning runs before CJK splitting, so an unassigned (deleted) code point stays deleted.
        int[][] ranges = {{0x4E00, 0x9FFF}, {0x3400, 0x4DBF}, {0x20000, 0x2A6DF}, {0x2A700, 0x2B73F},
                {0x2B740, 0x2B81F}, {0x2B820, 0x2CEAF}, {0xF900, 0xFAFF}, {0x2F800, 0x2FA1F}};
        for (int[] r : ranges) {
            for (int cp = r[0]; cp <= r[1]; cp++) if (CLASS[cp] == OTHER) CLASS[cp] = CJK;
        }
    }

    private static String load() {
        String name = "unicode-tables.txt";
        try (InputStream in = CharTables.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("tokenizer resource missing: " + name);
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            String version = null;
            String section = "";
            int prevStart = -1;
            byte prevClass = OTHER;
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isEmpty() || line.startsWith("#")) continue;
                if (line.startsWith("unicode ")) {
                    version = line.substring(8);
                    continue;
                }
                if (line.equals("classes") || line.equals("lower") || line.equals("end")) {
                    section = line;
                    continue;
                }
                String[] f = line.split(" ");
                int cp = Integer.parseInt(f[0], 16);
                if (section.equals("classes")) {
                    if (prevStart >= 0) fill(prevStart, cp, prevClass);
                    prevStart = cp;
                    prevClass = classCode(f[1]);
                } else if (section.equals("lower")) {
                    // The one two-code-point lower case (U+0130) is handled by the tokenizer itself.
                    int low = Integer.parseInt(f[1], 16);
                    if (cp < 0x10000) LOWER_BMP[cp] = low;
                    else LOWER_ASTRAL.put(cp, low);
                }
            }
            if (!section.equals("end") || prevStart < 0 || version == null) {
                throw new IllegalStateException("tokenizer resource " + name + " is truncated");
            }
            fill(prevStart, Character.MAX_CODE_POINT + 1, prevClass);
            return version;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer resource " + name, e);
        }
    }

    private static void fill(int from, int to, byte k) {
        for (int cp = from; cp < to; cp++) CLASS[cp] = k;
    }

    private static byte classCode(String s) {
        switch (s) {
            case "O": return OTHER;
            case "D": return DELETE;
            case "S": return SPACE;
            case "P": return PUNCT;
            case "M": return MARK;
            default: throw new IllegalStateException("unknown character class '" + s + "' in unicode-tables.txt");
        }
    }
}
