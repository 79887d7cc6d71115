package io.electra.tokenizer;

import it.unimi.dsi.fastutil.ints.IntArrayList;

import java.text.Normalizer;

/**
 * BERT's WordPiece tokenizer, token for token what HuggingFace's (slow, Python) {@code BertTokenizer}
 * of transformers 4.28 produces.
 *
 * <p>The steps, in HuggingFace's order, done in one pass over the text without regular expressions:
 * <ol>
 *   <li>literal special tokens are cut out of the raw text ({@link SpecialTokens});</li>
 *   <li>cleaning: NUL, U+FFFD and every {@code C*} character but {@code \t\n\r} are deleted (gluing
 *       their neighbours together); {@code Zs} and {@code \t\n\r} become spaces;</li>
 *   <li>every CJK ideograph becomes a word of its own; words end at whitespace (Python's
 *       {@code str.split()}, which also splits on U+2028/U+2029);</li>
 *   <li>uncased: each character is lower-cased on its own (so Greek final sigma never appears), then
 *       the word is NFD-decomposed and its {@code Mn} characters dropped;</li>
 *   <li>each punctuation character ({@code P*} or ASCII 33-47, 58-64, 91-96, 123-126) becomes a word;</li>
 *   <li>greedy longest-match-first WordPiece with {@code ##} continuations; a word that cannot be
 *       covered, or is longer than 100 code points, becomes {@code [UNK]}.</li>
 * </ol>
 * Character properties come from Unicode 14 ({@link CharTables}). NFD uses the JVM's normaliser,
 * whose only difference from Unicode 14 is the order of marks around characters new in 14.
 *
 * <p>Thread-safe: the vocabulary tries are immutable and each thread has its own scratch buffers,
 * so a warm call allocates only for non-ASCII words (NFD) and for growing the output list.
 */
public final class WordPieceTokenizer {
    /** HuggingFace's {@code max_input_chars_per_word}. */
    public static final int MAX_WORD_CODE_POINTS = 100;

    private final Vocab vocab;
    private final boolean lowerCase;
    private final SpecialTokens specials;
    private final PrefixTrie wordStart;        // every vocabulary entry
    private final PrefixTrie wordContinuation; // entries "##x", stored as "x"
    private final String[] specialText = Vocab.SPECIALS;
    private final int[] specialId = new int[Vocab.SPECIALS.length];
    private final int unkId, clsId, sepId;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    /**
     * @param lowerCase {@code true} for uncased vocabularies (lower-case and strip accents)
     */
    public WordPieceTokenizer(Vocab vocab, boolean lowerCase, SpecialTokens specials) {
        this.vocab = vocab;
        this.lowerCase = lowerCase;
        this.specials = specials;
        int chars = 0;
        for (int i = 0; i < vocab.size(); i++) chars += vocab.token(i).length();
        wordStart = new PrefixTrie(chars);
        wordContinuation = new PrefixTrie(chars / 2);
        for (int id = 0; id < vocab.size(); id++) {
            String t = vocab.token(id);
            // Later duplicates overwrite earlier ones, as the Python dict does.
            wordStart.add(t, 0, vocab.id(t));
            if (t.startsWith("##")) wordContinuation.add(t, 2, vocab.id(t));
        }
        for (int i = 0; i < specialText.length; i++) specialId[i] = vocab.id(specialText[i]);
        unkId = vocab.unkId();
        clsId = vocab.clsId();
        sepId = vocab.sepId();
    }

    /** The uncased tokenizer with HuggingFace's default handling of special tokens. */
    public static WordPieceTokenizer uncased(Vocab vocab) {
        return new WordPieceTokenizer(vocab, true, SpecialTokens.ANYWHERE);
    }

    public Vocab vocab() {
        return vocab;
    }

    public boolean lowerCase() {
        return lowerCase;
    }

    public SpecialTokens specialTokens() {
        return specials;
    }

    /** {@code [CLS] text [SEP]}, all token types 0. */
    public Encoding encode(String text) {
        return encode(text, null, Integer.MAX_VALUE);
    }

    /** {@code [CLS] a [SEP] b [SEP]} with token types 0 then 1; {@code b == null} encodes {@code a} alone. */
    public Encoding encode(String a, String b) {
        return encode(a, b, Integer.MAX_VALUE);
    }

    /**
     * As {@link #encode(String, String)}, truncated to at most {@code maxLength} ids (special tokens
     * included) the way HuggingFace's {@code longest_first} does: one token at a time from the end of
     * the longer part, from {@code b} when both are equally long.
     */
    public Encoding encode(String a, String b, int maxLength) {
        int specialCount = b == null ? 2 : 3;
        if (maxLength < specialCount) {
            throw new IllegalArgumentException("max length " + maxLength + " leaves no room for the "
                    + specialCount + " special tokens");
        }
        IntArrayList first = new IntArrayList();
        tokenize(a, first);
        IntArrayList second = new IntArrayList();
        if (b != null) tokenize(b, second);
        int excess = first.size() + second.size() + specialCount - maxLength;
        if (excess > 0) {
            int lenA = first.size(), lenB = second.size();
            if (b == null) {
                lenA -= excess;
            } else {
                // Removing one at a time from the longer side ends with both sides as equal as
                // possible; compute the result directly.
                int keep = lenA + lenB - excess;
                if (lenA > lenB) {
                    int fromA = Math.min(excess, lenA - lenB);
                    lenA -= fromA;
                    int rest = excess - fromA;
                    lenB -= (rest + 1) / 2;
                    lenA -= rest / 2;
                } else {
                    int fromB = Math.min(excess, lenB - lenA);
                    lenB -= fromB;
                    int rest = excess - fromB;
                    lenB -= (rest + 1) / 2;
                    lenA -= rest / 2;
                }
                assert lenA + lenB == keep;
            }
            first.size(lenA);
            second.size(lenB);
        }
        int n = first.size() + second.size() + specialCount;
        int[] ids = new int[n];
        int[] types = new int[n];
        int p = 0;
        ids[p++] = clsId;
        first.getElements(0, ids, p, first.size());
        p += first.size();
        ids[p++] = sepId;
        if (b != null) {
            int startB = p;
            second.getElements(0, ids, p, second.size());
            p += second.size();
            ids[p++] = sepId;
            for (int i = startB; i < n; i++) types[i] = 1;
        }
        return new Encoding(ids, types, vocab);
    }

    /** Appends the ids of {@code text} (no {@code [CLS]}/{@code [SEP]} added) to {@code out}. */
    public void tokenize(String text, IntArrayList out) {
        Scratch s = scratch.get();
        s.reset();
        int n = text.length();
        int i = 0;
        while (i < n) {
            char c = text.charAt(i);
            int cp = c;
            int width = 1;
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                cp = Character.toCodePoint(c, text.charAt(i + 1));
                width = 2;
            }
            switch (CharTables.charClass(cp)) {
                case CharTables.OTHER:
                case CharTables.MARK:
                    s.append(cp);
                    break;
                case CharTables.PUNCT:
                    if (c == '[' && specials != SpecialTokens.NEVER) {
                        int k = specialAt(text, i);
                        if (k >= 0) {
                            special(s, k, out);
                            i += specialText[k].length();
                            continue;
                        }
                    }
                    s.append(cp);
                    break;
                case CharTables.SPACE:
                    flush(s, out);
                    break;
                case CharTables.CJK:
                    flush(s, out);
                    s.append(cp);
                    flush(s, out);
                    break;
                default: // DELETE
                    break;
            }
            i += width;
        }
        flush(s, out);
    }

    private int specialAt(String text, int i) {
        for (int k = 0; k < specialText.length; k++) {
            if (text.startsWith(specialText[k], i)) return k;
        }
        return -1;
    }

    private void special(Scratch s, int k, IntArrayList out) {
        if (specials == SpecialTokens.ANYWHERE) {
            flush(s, out);
            out.add(specialId[k]);
            return;
        }
        // WHOLE_WORD: special only if nothing else ends up in this word (deleted characters around
        // it do not count); otherwise it is ordinary text, lower-cased with the rest of the word.
        boolean alone = s.wordLen == 0;
        for (int j = 0; j < specialText[k].length(); j++) s.append(specialText[k].charAt(j));
        if (alone) s.wordSpecial = k;
    }

    /** Ends the current word: normalises it, splits off punctuation and runs WordPiece on each piece. */
    private void flush(Scratch s, IntArrayList out) {
        if (s.wordLen == 0) return;
        if (s.wordSpecial >= 0) {
            out.add(specialId[s.wordSpecial]);
        } else if (s.wordAscii) {
            char[] w = s.word;
            int len = s.wordLen;
            if (lowerCase) {
                for (int j = 0; j < len; j++) if (w[j] >= 'A' && w[j] <= 'Z') w[j] += 32;
            }
            splitOnPunctuation(w, len, true, out);
        } else {
            splitOnPunctuation(s.normalised(lowerCase), s.normLen, false, out);
        }
        s.reset();
    }

    private void splitOnPunctuation(char[] w, int len, boolean ascii, IntArrayList out) {
        int runStart = 0;
        int j = 0;
        while (j < len) {
            char c = w[j];
            int cp = c;
            int width = 1;
            if (Character.isHighSurrogate(c) && j + 1 < len) {
                cp = Character.toCodePoint(c, w[j + 1]);
                width = 2;
            }
            if (CharTables.charClass(cp) == CharTables.PUNCT) {
                if (j > runStart) wordPiece(w, runStart, j, ascii, out);
                wordPiece(w, j, j + width, ascii, out);
                runStart = j + width;
            }
            j += width;
        }
        if (len > runStart) wordPiece(w, runStart, len, ascii, out);
    }

    /** Greedy longest-match-first over {@code w[from..to)}; the whole word is [UNK] if any part fails. */
    private void wordPiece(char[] w, int from, int to, boolean ascii, IntArrayList out) {
        int codePoints = ascii ? to - from : Character.codePointCount(w, from, to - from);
        if (codePoints > MAX_WORD_CODE_POINTS) {
            out.add(unkId);
            return;
        }
        int mark = out.size();
        int start = from;
        while (start < to) {
            long m = (start == from ? wordStart : wordContinuation).longestMatch(w, start, to);
            if (m < 0) {
                out.size(mark);
                out.add(unkId);
                return;
            }
            out.add((int) (m >>> 32));
            start = (int) m;
        }
    }

    /** Per-thread buffers: the current word as cleaned (original case), and its normalised form. */
    private static final class Scratch {
        char[] word = new char[64];
        int wordLen;
        boolean wordAscii;
        int wordSpecial;
        char[] norm = new char[64];
        int normLen;
        final StringBuilder lowered = new StringBuilder(64);

        void reset() {
            wordLen = 0;
            wordAscii = true;
            wordSpecial = -1;
        }

        void append(int cp) {
            if (wordLen + 2 > word.length) word = java.util.Arrays.copyOf(word, word.length * 2);
            if (cp < 0x10000) {
                word[wordLen++] = (char) cp;
                if (cp >= 0x80) wordAscii = false;
            } else {
                word[wordLen++] = Character.highSurrogate(cp);
                word[wordLen++] = Character.lowSurrogate(cp);
                wordAscii = false;
            }
            wordSpecial = -1;
        }

        /** Lower-cases (each character alone), NFD-decomposes and drops Mn, into {@link #norm}. */
        char[] normalised(boolean lowerCase) {
            CharSequence text;
            if (lowerCase) {
                StringBuilder sb = lowered;
                sb.setLength(0);
                boolean decomposable = false;
                for (int j = 0; j < wordLen; ) {
                    int cp = Character.codePointAt(word, j, wordLen);
                    j += Character.charCount(cp);
                    if (cp == CharTables.DOTTED_CAPITAL_I) {
                        sb.append('i').append('\u0307');
                        decomposable = true;
                        continue;
                    }
                    int low = CharTables.lower(cp);
                    if (low >= 0xC0) decomposable = true; // nothing below U+00C0 decomposes
                    sb.appendCodePoint(low);
                }
                text = decomposable ? Normalizer.normalize(sb, Normalizer.Form.NFD) : sb;
            } else {
                text = java.nio.CharBuffer.wrap(word, 0, wordLen);
            }
            int n = text.length();
            if (norm.length < n) norm = new char[Math.max(n, norm.length * 2)];
            normLen = 0;
            for (int j = 0; j < n; ) {
                char c = text.charAt(j);
                int cp = c;
                int width = 1;
                if (Character.isHighSurrogate(c) && j + 1 < n) {
                    cp = Character.toCodePoint(c, text.charAt(j + 1));
                    width = 2;
                }
                if (!(lowerCase && CharTables.charClass(cp) == CharTables.MARK)) {
                    norm[normLen++] = c;
                    if (width == 2) norm[normLen++] = text.charAt(j + 1);
                }
                j += width;
            }
            return norm;
        }
    }
}
