package io.electra.tokenizer;

import it.unimi.dsi.fastutil.objects.Object2IntOpenHashMap;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.StringJoiner;

/**
 * A BERT {@code vocab.txt}: one token per line, the id is the line number (from 0). Lines end at
 * {@code \n}, {@code \r\n} or {@code \r}, as Python's text mode reads them; when a token repeats,
 * the last line wins, as in HuggingFace's {@code load_vocab}.
 *
 * <p>Every vocabulary must hold the five special tokens; the tokenizer and the pre-training data
 * depend on them.
 */
public final class Vocab {
    public static final String PAD = "[PAD]", UNK = "[UNK]", CLS = "[CLS]", SEP = "[SEP]", MASK = "[MASK]";
    static final String[] SPECIALS = {PAD, UNK, CLS, SEP, MASK};

    private final Path source;
    private final String[] tokens;
    private final Object2IntOpenHashMap<String> ids;
    private final String sha256;

    private Vocab(Path source, List<String> tokens) {
        this.source = source;
        this.tokens = tokens.toArray(new String[0]);
        this.ids = new Object2IntOpenHashMap<>(this.tokens.length);
        ids.defaultReturnValue(-1);
        for (int i = 0; i < this.tokens.length; i++) ids.put(this.tokens[i], i);
        this.sha256 = hash(this.tokens);
        StringJoiner missing = new StringJoiner(" ");
        for (String s : SPECIALS) if (id(s) < 0) missing.add(s);
        if (missing.length() > 0) {
            throw new IllegalArgumentException("vocab " + source + " lacks special token(s): " + missing
                    + " (a BERT vocab needs [PAD] [UNK] [CLS] [SEP] [MASK])");
        }
    }

    /** Reads {@code file}; a missing file, invalid UTF-8 or missing special tokens are errors naming it. */
    public static Vocab load(Path file) throws IOException {
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        List<String> tokens = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(file), decoder))) {
            String line;
            while ((line = r.readLine()) != null) tokens.add(line);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "vocab file not found");
        } catch (CharacterCodingException e) {
            throw new IOException("vocab " + file + " is not valid UTF-8 (near line " + (tokens.size() + 1) + ")", e);
        }
        if (tokens.isEmpty()) throw new IllegalArgumentException("vocab " + file + " is empty");
        return new Vocab(file, tokens);
    }

    /** A vocabulary from a list (tests, tools); ids are list positions. */
    public static Vocab of(List<String> tokens) {
        return new Vocab(Path.of("<memory>"), tokens);
    }

    /** Number of lines, so every id is in {@code [0, size())}. */
    public int size() {
        return tokens.length;
    }

    /** The id of {@code token}, or -1. */
    public int id(String token) {
        return ids.getInt(token);
    }

    public String token(int id) {
        return tokens[id];
    }

    public int padId() {
        return id(PAD);
    }

    public int unkId() {
        return id(UNK);
    }

    public int clsId() {
        return id(CLS);
    }

    public int sepId() {
        return id(SEP);
    }

    public int maskId() {
        return id(MASK);
    }

    public Path source() {
        return source;
    }

    /**
     * SHA-256 (lower-case hex) of the tokens in id order, each as UTF-8 followed by {@code \n}: for a
     * vocab.txt with {@code \n} line ends this is the file's own SHA-256, and it does not change when
     * the same vocabulary is saved with other line ends.
     */
    public String sha256() {
        return sha256;
    }

    /** The {@link #sha256()} of the vocabulary in {@code file}. */
    public static String sha256(Path file) throws IOException {
        return load(file).sha256();
    }

    private static String hash(String[] tokens) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String t : tokens) {
                md.update(t.getBytes(StandardCharsets.UTF_8));
                md.update((byte) '\n');
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
