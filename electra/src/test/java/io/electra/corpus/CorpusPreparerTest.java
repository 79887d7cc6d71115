package io.electra.corpus;

import io.electra.engine.testing.SharedData;
import io.electra.tokenizer.SpecialTokens;
import io.electra.tokenizer.Vocab;
import io.electra.tokenizer.WordPieceTokenizer;
import it.unimi.dsi.fastutil.ints.IntArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** electra prepare on slices of the Gutenberg validation text and on synthetic bad input. */
class CorpusPreparerTest {
    private static Path vocabFile;
    private static Vocab vocab;
    private static List<String> slice;

    @BeforeAll
    static void load() throws IOException {
        vocabFile = SharedData.path("data/vocab/bert-base-uncased-vocab.txt");
        vocab = Vocab.load(vocabFile);
        slice = new ArrayList<>();
        Path valid = SharedData.path("data/corpus/gutenberg-en/valid.txt.gz");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(valid)), StandardCharsets.UTF_8))) {
            String line;
            while (slice.size() < 3000 && (line = r.readLine()) != null) slice.add(line);
        }
    }

    private static CorpusPreparer.Config config(List<Path> corpus, Path out, long seed, int threads, boolean overwrite) {
        return new CorpusPreparer.Config(corpus, vocabFile, out, 64, seed, true, threads, 500, overwrite);
    }

    private static ShardIndex prepare(CorpusPreparer.Config c, List<String> warnings) throws Exception {
        return new CorpusPreparer(c, warnings::add).run();
    }

    private static Path gz(Path file, List<String> lines) throws IOException {
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(file))) {
            o.write((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return file;
    }

    @Test
    void sliceOfGutenbergBecomesRowsThatReadBack(@TempDir Path tmp) throws Exception {
        Path corpus = gz(tmp.resolve("valid-slice.txt.gz"), slice);
        Path out = tmp.resolve("out");
        ShardIndex index = prepare(config(List.of(corpus), out, 1, 2, false), new ArrayList<>());
        assertEquals(vocab.sha256(), index.vocabSha256());
        assertTrue(index.shards().size() > 1, "500 rows per shard: " + index.shards().size() + " shards");
        assertEquals(slice.size(), index.lines() + slice.stream().filter(String::isBlank).count());
        assertFalse(Files.list(out).anyMatch(p -> p.toString().endsWith(".tmp")), "no temporary files left");

        // Every row's segment A starts a line: its first ids are that line's first ids.
        WordPieceTokenizer tok = new WordPieceTokenizer(vocab, true, SpecialTokens.NEVER);
        java.util.Set<List<Integer>> lineStarts = new java.util.HashSet<>();
        IntArrayList ids = new IntArrayList();
        long corpusTokens = 0;
        for (String line : slice) {
            ids.clear();
            tok.tokenize(line, ids);
            corpusTokens += ids.size();
            if (ids.size() >= 3) lineStarts.add(List.of(ids.getInt(0), ids.getInt(1), ids.getInt(2)));
        }
        assertEquals(corpusTokens, index.corpusTokens());
        try (ShardDataset ds = ShardDataset.open(out, vocab, 64 * 130 * 7)) { // several small windows per shard
            assertEquals(index.rows(), ds.rows());
            int[] row = new int[64], types = new int[64];
            long tokens = 0;
            int startsFound = 0;
            for (long i = 0; i < ds.rows(); i++) {
                ds.readRow(i, row, types);
                assertEquals(vocab.clsId(), row[0], "row " + i);
                int len = 0;
                while (len < 64 && row[len] != 0) len++;
                tokens += len;
                assertEquals(vocab.sepId(), row[len - 1], "row " + i + " ends with [SEP]");
                for (int j = len; j < 64; j++) assertEquals(0, types[j], "padding type, row " + i);
                if (len >= 4 && lineStarts.contains(List.of(row[1], row[2], row[3]))) startsFound++;
            }
            assertEquals(index.tokens(), tokens);
            assertTrue(startsFound > 0.95 * ds.rows(), "rows starting a line: " + startsFound + " of " + ds.rows());
        }
    }

    @Test
    void outputIsTheSameForAnyThreadCountAndChangesWithTheSeed(@TempDir Path tmp) throws Exception {
        Path corpus = gz(tmp.resolve("valid-slice.txt.gz"), slice);
        prepare(config(List.of(corpus), tmp.resolve("t1"), 7, 1, false), new ArrayList<>());
        prepare(config(List.of(corpus), tmp.resolve("t3"), 7, 3, false), new ArrayList<>());
        prepare(config(List.of(corpus), tmp.resolve("s8"), 8, 3, false), new ArrayList<>());
        assertArrayEquals(Files.readAllBytes(tmp.resolve("t1/shard-00000.bin")), Files.readAllBytes(tmp.resolve("t3/shard-00000.bin")));
        assertEquals(Files.readString(tmp.resolve("t1/index.json")), Files.readString(tmp.resolve("t3/index.json")));
        assertFalse(Arrays.equals(Files.readAllBytes(tmp.resolve("t1/shard-00000.bin")), Files.readAllBytes(tmp.resolve("s8/shard-00000.bin"))));
    }

    @Test
    void invalidUtf8IsReplacedAndCounted(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("bad.txt");
        byte[] text = "good words here\nbad \u00ff byte\n".getBytes(StandardCharsets.ISO_8859_1); // 0xFF alone
        byte[] more = {'x', (byte) 0xC3, ' ', 'y', '\n', (byte) 0xE2, (byte) 0x82}; // truncated sequences
        Files.write(f, concat(text, more));
        List<String> warnings = new ArrayList<>();
        ShardIndex index = prepare(config(List.of(f), tmp.resolve("out"), 1, 1, false), warnings);
        assertEquals(3, index.replacedInvalidUtf8());
        assertEquals(3, index.sources().get(0).replacedInvalidUtf8());
        assertTrue(warnings.stream().anyMatch(w -> w.contains(f.toString()) && w.contains("3 invalid UTF-8")), warnings.toString());
        assertTrue(index.tokens() > 0);
    }

    @Test
    void binaryFilesAreSkippedWithAWarningNamingThem(@TempDir Path tmp) throws Exception {
        Path bin = tmp.resolve("image.txt");
        byte[] b = new byte[10_000];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (i % 7 == 0 ? 0 : 'a' + i % 26);
        Files.write(bin, b);
        Path good = gz(tmp.resolve("good.txt.gz"), slice.subList(0, 200));
        List<String> warnings = new ArrayList<>();
        ShardIndex index = prepare(config(List.of(bin, good), tmp.resolve("out"), 1, 2, false), warnings);
        assertEquals(List.of(bin.toString()), index.skippedBinaryFiles());
        assertTrue(warnings.stream().anyMatch(w -> w.contains(bin.toString()) && w.contains("binary")), warnings.toString());
        assertTrue(index.rows() > 0);
    }

    @Test
    void tenMegabyteLineIsTokenizedInPieces(@TempDir Path tmp) throws Exception {
        StringBuilder line = new StringBuilder(10_500_000);
        String[] words = {"the", "river", "ran", "past", "old", "mills,", "and", "children", "laughed."};
        for (int i = 0; line.length() < 10_000_000; i++) line.append(words[i % words.length]).append(' ');
        StringBuilder noSpaces = new StringBuilder(3_000_000);
        while (noSpaces.length() < 3_000_000) noSpaces.append("abc,def.");
        Path f = tmp.resolve("long.txt");
        Files.writeString(f, "short first line\n\n" + line + "\n\n" + noSpaces + "\n");
        ShardIndex index = prepare(config(List.of(f), tmp.resolve("out"), 1, 2, false), new ArrayList<>());
        assertEquals(3, index.documents());
        // The long line's document makes one row whose segment A is the line's first tokens.
        WordPieceTokenizer tok = new WordPieceTokenizer(vocab, true, SpecialTokens.NEVER);
        IntArrayList expected = new IntArrayList();
        tok.tokenize(line.substring(0, 2000), expected);
        IntArrayList all = new IntArrayList();
        tok.tokenize(noSpaces.toString(), all);
        long longLineTokens = 0;
        for (String piece : line.toString().split(" ")) longLineTokens += piece.endsWith(",") || piece.endsWith(".") ? 2 : 1;
        assertEquals(3 + longLineTokens + all.size(), index.corpusTokens(), "every token of every piece counted");
        try (ShardDataset ds = ShardDataset.open(tmp.resolve("out"), vocab)) {
            int[] row = new int[64];
            ds.readRow(1, row, null);
            assertArrayEquals(expected.subList(0, 62).toIntArray(), Arrays.copyOfRange(row, 1, 63));
            ds.readRow(2, row, null);
            assertArrayEquals(all.subList(0, 62).toIntArray(), Arrays.copyOfRange(row, 1, 63));
        }
    }

    @Test
    void cutPointsFallOnWhitespaceOrSafePunctuation() {
        assertEquals(6, TextReader.cutPoint("hello world"));
        assertEquals(10, TextReader.cutPoint("abcdefghi,jklmn"));
        assertEquals(8, TextReader.cutPoint("abcdefg,[MASK"), "not inside a possible [MASK]");
        assertEquals(8, TextReader.cutPoint("abcdefg,[S]x"), "no cut within 4 chars after a bracket");
        assertEquals(5, TextReader.cutPoint("abcd\uD83D\uDE00".substring(0, 5) + "\uD83D"), "not inside a surrogate pair");
    }

    @Test
    void blankCorpusIsAnError(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("blank.txt");
        Files.writeString(f, "  \n\t\n\u3000\n\n");
        Path empty = tmp.resolve("empty.txt");
        Files.writeString(empty, "");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> prepare(config(List.of(f, empty), tmp.resolve("out"), 1, 1, false), new ArrayList<>()));
        assertTrue(e.getMessage().contains("no text"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("out/index.json")));
    }

    @Test
    void badVocabAndMissingFilesAreNamed(@TempDir Path tmp) throws Exception {
        Path corpus = gz(tmp.resolve("c.txt.gz"), slice.subList(0, 50));
        Path noVocab = tmp.resolve("missing-vocab.txt");
        NoSuchFileException nf = assertThrows(NoSuchFileException.class, () -> new CorpusPreparer(
                new CorpusPreparer.Config(List.of(corpus), noVocab, tmp.resolve("o"), 64, 1, true, 1, 100, false), w -> { }).run());
        assertTrue(nf.getMessage().contains(noVocab.toString()));

        Path partial = tmp.resolve("partial-vocab.txt");
        Files.writeString(partial, "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CorpusPreparer(
                new CorpusPreparer.Config(List.of(corpus), partial, tmp.resolve("o"), 64, 1, true, 1, 100, false), w -> { }).run());
        assertTrue(e.getMessage().contains("[MASK]") && e.getMessage().contains(partial.toString()), e.getMessage());

        Path missing = tmp.resolve("no-such-corpus.txt");
        NoSuchFileException mc = assertThrows(NoSuchFileException.class,
                () -> prepare(config(List.of(corpus, missing), tmp.resolve("o"), 1, 1, false), new ArrayList<>()));
        assertTrue(mc.getMessage().contains(missing.toString()));

        Path link = tmp.resolve("dangling.txt");
        Files.createSymbolicLink(link, tmp.resolve("gone.txt"));
        assertThrows(NoSuchFileException.class, () -> prepare(config(List.of(link), tmp.resolve("o"), 1, 1, false), new ArrayList<>()));
    }

    @Test
    void unwritableOutputIsAnError(@TempDir Path tmp) throws Exception {
        Path corpus = gz(tmp.resolve("c.txt.gz"), slice.subList(0, 50));
        Path file = tmp.resolve("a-file");
        Files.writeString(file, "x");
        Exception e = assertThrows(Exception.class, () -> prepare(config(List.of(corpus), file.resolve("out"), 1, 1, false), new ArrayList<>()));
        assertTrue(e.getMessage().contains(file.resolve("out").toString()) && e.getMessage().contains("not writable"), e.getMessage());
    }

    @Test
    void existingOutputNeedsOverwriteAndAFailedRunLeavesNoIndex(@TempDir Path tmp) throws Exception {
        Path corpus = gz(tmp.resolve("c.txt.gz"), slice.subList(0, 400));
        Path out = tmp.resolve("out");
        prepare(config(List.of(corpus), out, 1, 1, false), new ArrayList<>());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> prepare(config(List.of(corpus), out, 1, 1, false), new ArrayList<>()));
        assertTrue(e.getMessage().contains("--overwrite"), e.getMessage());
        assertTrue(Files.exists(out.resolve("index.json")), "a refused run leaves the old dataset alone");

        // A gzip file cut short fails half-way: the old index is gone and nothing looks finished.
        byte[] whole = Files.readAllBytes(corpus);
        Path broken = tmp.resolve("broken.txt.gz");
        Files.write(broken, Arrays.copyOf(whole, whole.length / 2));
        IOException io = assertThrows(IOException.class, () -> prepare(config(List.of(corpus, broken), out, 1, 2, true), new ArrayList<>()));
        assertTrue(io.getMessage().contains(broken.toString()), io.getMessage());
        assertFalse(Files.exists(out.resolve("index.json")));
        assertFalse(Files.list(out).anyMatch(p -> p.toString().endsWith(".tmp")), "no temporary files left");
        assertThrows(IOException.class, () -> ShardDataset.open(out, vocab));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
