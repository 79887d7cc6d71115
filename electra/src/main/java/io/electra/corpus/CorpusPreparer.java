package io.electra.corpus;

import io.electra.tokenizer.SpecialTokens;
import io.electra.tokenizer.Vocab;
import io.electra.tokenizer.WordPieceTokenizer;
import it.unimi.dsi.fastutil.ints.IntArrayList;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Turns a text corpus into pre-training shards ({@code electra prepare}).
 *
 * <p>Three stages: this thread reads the files in order and cuts the text into batches of lines;
 * a pool of {@code threads} workers tokenizes batches; one builder thread takes the results in
 * batch order, packs rows ({@link ExampleBuilder}) and writes shards. Because the builder sees the
 * same token stream whatever the thread count, the output depends only on the seed and the input.
 * At most {@code 2 * threads} batches of about 1 MB of text are in flight, so memory stays bounded
 * however large the corpus or its lines.
 */
public final class CorpusPreparer {
    /** What to prepare. */
    public record Config(List<Path> corpus, Path vocab, Path out, int maxLength, long seed, boolean lowerCase,
                         int threads, long rowsPerShard, boolean overwrite) {
        public Config {
            if (maxLength < 5 || maxLength > 65535) throw new IllegalArgumentException("--max-length must be in [5, 65535], got " + maxLength);
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            if (rowsPerShard < 1) throw new IllegalArgumentException("--rows-per-shard must be at least 1, got " + rowsPerShard);
        }
    }

    /** Counters readable while the run goes on (progress display). */
    public static final class Progress {
        public final AtomicLong diskBytesRead = new AtomicLong();
        public final AtomicLong textBytesRead = new AtomicLong();
        public final AtomicLong tokens = new AtomicLong();
        public final AtomicLong rows = new AtomicLong();
        public volatile long diskBytesTotal;
    }

    private static final int BATCH_CHARS = 1 << 20;

    private final Config config;
    private final Progress progress = new Progress();
    private final Consumer<String> warnings;

    public CorpusPreparer(Config config, Consumer<String> warnings) {
        this.config = config;
        this.warnings = warnings;
    }

    public Progress progress() {
        return progress;
    }

    /** Runs the whole preparation; the returned index is also written to the output directory. */
    public ShardIndex run() throws IOException, InterruptedException {
        Vocab vocab = Vocab.load(config.vocab());
        if (vocab.size() > 65536) {
            throw new IllegalArgumentException("vocab " + config.vocab() + " has " + vocab.size() + " tokens; shards store ids as uint16 (at most 65536)");
        }
        if (vocab.padId() != 0) {
            throw new IllegalArgumentException("vocab " + config.vocab() + " has [PAD] at id " + vocab.padId() + "; shards pad with id 0");
        }
        List<CorpusFiles.SourceFile> files = CorpusFiles.expand(config.corpus());
        progress.diskBytesTotal = files.stream().mapToLong(CorpusFiles.SourceFile::bytes).sum();
        prepareOutputDirectory();

        // Corpus text never yields special ids: "[MASK]" in a book is just punctuation and a word.
        WordPieceTokenizer tokenizer = new WordPieceTokenizer(vocab, config.lowerCase(), SpecialTokens.NEVER);
        ShardWriter writer = new ShardWriter(config.out(), config.maxLength(), config.rowsPerShard());
        ExampleBuilder builder = new ExampleBuilder(config.maxLength(), vocab.clsId(), vocab.sepId(), config.seed(),
                (ids, length, startB) -> {
                    writer.row(ids, length, startB);
                    progress.rows.incrementAndGet();
                });
        Assembler assembler = new Assembler(builder, config.maxLength());
        ExecutorService pool = Executors.newFixedThreadPool(config.threads(), r -> {
            Thread t = new Thread(r, "electra-tokenize");
            t.setDaemon(true);
            return t;
        });
        BlockingQueue<Future<Tokenized>> queue = new ArrayBlockingQueue<>(2 * config.threads());
        Future<Tokenized> endOfInput = CompletableFuture.completedFuture(null);
        ExecutorService builderThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "electra-build");
            t.setDaemon(true);
            return t;
        });
        CompletableFuture<Void> building = CompletableFuture.runAsync(() -> consume(queue, assembler), builderThread);
        List<ShardIndex.Source> sources = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        long replaced = 0;
        try {
            BatchCutter cutter = new BatchCutter(b -> submit(queue, pool.submit(() -> tokenize(tokenizer, b, config.maxLength())), building));
            for (CorpusFiles.SourceFile f : files) {
                long fileReplaced = readFile(f.path(), cutter, skipped);
                replaced += fileReplaced;
                sources.add(new ShardIndex.Source(f.path().toString(), f.bytes(), fileReplaced));
            }
            cutter.flush();
            submit(queue, endOfInput, building);
            building.join();
        } catch (Throwable t) {
            // Stop the builder before removing its half-written shard.
            builderThread.shutdownNow();
            builderThread.awaitTermination(30, TimeUnit.SECONDS);
            writer.close();
            throw unwrap(t instanceof CompletionException && t.getCause() != null ? t.getCause() : t);
        } finally {
            pool.shutdownNow();
            builderThread.shutdownNow();
        }
        if (writer.rows() == 0) {
            writer.close();
            throw new IllegalArgumentException("the corpus has no text (every file is empty, blank or skipped): " + config.corpus());
        }
        List<ShardIndex.Shard> shards = new ArrayList<>();
        for (ShardWriter.Shard s : writer.finish()) shards.add(new ShardIndex.Shard(s.file(), s.rows(), s.bytes()));
        ShardIndex index = new ShardIndex(ShardFormat.FORMAT, ShardFormat.VERSION, vocab.sha256(), vocab.size(),
                config.lowerCase(), config.maxLength(), config.rowsPerShard(), writer.rows(), writer.tokens(),
                assembler.corpusTokens, config.seed(), assembler.documents, assembler.lines, replaced,
                shards, sources, skipped);
        // the dataset carries its vocabulary, so pre-training needs only the folder (written before the index)
        java.nio.file.Path vocabCopy = config.out().resolve("vocab.txt" + ShardFormat.TMP_SUFFIX);
        Files.copy(config.vocab(), vocabCopy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.move(vocabCopy, config.out().resolve("vocab.txt"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        index.write(config.out());
        return index;
    }

    private long readFile(Path file, BatchCutter cutter, List<String> skipped) throws IOException {
        try (TextReader reader = TextReader.open(file, progress.diskBytesRead)) {
            if (reader == null) {
                warnings.accept("skipping " + file + ": it looks binary (NUL bytes in its first 64 KiB)");
                skipped.add(file.toString());
                return 0;
            }
            long bytes = reader.readAll(cutter::piece);
            progress.textBytesRead.addAndGet(bytes);
            cutter.endOfFile();
            if (reader.replacedSequences() > 0) {
                warnings.accept(file + ": " + reader.replacedSequences() + " invalid UTF-8 sequence(s) replaced by U+FFFD");
            }
            return reader.replacedSequences();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } catch (IOException e) {
            if (e instanceof FileSystemException && ((FileSystemException) e).getFile() != null) throw e;
            throw new IOException("cannot read corpus file " + file + ": " + e.getMessage(), e);
        }
    }

    private void submit(BlockingQueue<Future<Tokenized>> queue, Future<Tokenized> f, CompletableFuture<Void> building)
            throws IOException {
        try {
            while (!queue.offer(f, 200, TimeUnit.MILLISECONDS)) {
                if (building.isDone()) building.join(); // rethrows the builder's failure
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static void consume(BlockingQueue<Future<Tokenized>> queue, Assembler assembler) {
        try {
            while (true) {
                Tokenized t = queue.take().get();
                if (t == null) return;
                assembler.accept(t);
            }
        } catch (ExecutionException e) {
            throw new CompletionException(e.getCause());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.util.concurrent.CancellationException("interrupted");
        }
    }

    private Tokenized tokenize(WordPieceTokenizer tok, Batch b, int cap) {
        IntArrayList scratch = new IntArrayList();
        IntArrayList kept = new IntArrayList(b.size * 32);
        int[] keptEnd = new int[b.size];
        int[] full = new int[b.size];
        long tokens = 0;
        for (int i = 0; i < b.size; i++) {
            if (b.kinds[i] == Batch.LINE || b.kinds[i] == Batch.CONTINUATION) {
                scratch.clear();
                tok.tokenize(b.texts[i], scratch);
                kept.addElements(kept.size(), scratch.elements(), 0, Math.min(cap, scratch.size()));
                full[i] = scratch.size();
                tokens += scratch.size();
            }
            keptEnd[i] = kept.size();
        }
        progress.tokens.addAndGet(tokens);
        return new Tokenized(b.kinds, b.size, kept.toIntArray(), keptEnd, full);
    }

    private static IOException unwrap(Throwable t) throws InterruptedException {
        if (t instanceof UncheckedIOException u) return u.getCause();
        if (t instanceof IOException io) return io;
        if (t instanceof InterruptedException ie) throw ie;
        if (t instanceof RuntimeException r) throw r;
        if (t instanceof Error e) throw e;
        return new IOException(t);
    }

    /**
     * Refuses to replace an existing dataset without {@code overwrite}; with it, removes the old
     * index first (so an interrupted overwrite does not look finished) and then the old shards.
     * Files this program did not write are left alone.
     */
    private void prepareOutputDirectory() throws IOException {
        Path out = config.out();
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IllegalArgumentException("output " + out + " exists and is not a directory");
        }
        if (Files.isDirectory(out)) {
            List<Path> ours;
            boolean empty;
            try (Stream<Path> s = Files.list(out)) {
                List<Path> all = s.toList();
                empty = all.isEmpty();
                ours = all.stream().filter(p -> ShardFormat.isOurs(p.getFileName().toString())).sorted().toList();
            }
            if (!empty && !config.overwrite()) {
                throw new IllegalArgumentException("output directory " + out + " is not empty; pass --overwrite to replace a prepared dataset there");
            }
            Files.deleteIfExists(out.resolve(ShardFormat.INDEX));
            for (Path p : ours) Files.deleteIfExists(p);
        }
        try {
            Files.createDirectories(out);
            Path probe = Files.createTempFile(out, ".write-check", ShardFormat.TMP_SUFFIX);
            Files.delete(probe);
        } catch (AccessDeniedException e) {
            throw new AccessDeniedException(out.toString(), null, "output directory is not writable");
        } catch (FileSystemException e) {
            throw new IOException("output directory " + out + " is not writable: " + e.getMessage(), e);
        }
    }

    /** Lines of text cut from the files, with document boundaries, ready for a worker. */
    static final class Batch {
        static final byte LINE = 0, CONTINUATION = 1, BLANK = 2, END_OF_FILE = 3;
        final String[] texts = new String[4096];
        final byte[] kinds = new byte[4096];
        int size;
        long chars;

        boolean full() {
            return size == texts.length || chars >= BATCH_CHARS;
        }
    }

    /** What a worker returns: the first (at most max length) ids of each line and its full count. */
    record Tokenized(byte[] kinds, int size, int[] kept, int[] keptEnd, int[] full) {
    }

    /** Groups the reader's pieces into batches and hands full batches on. */
    private static final class BatchCutter {
        interface Submitter {
            void submit(Batch b) throws IOException;
        }

        private final Submitter submitter;
        private Batch batch = new Batch();

        BatchCutter(Submitter submitter) {
            this.submitter = submitter;
        }

        void piece(String text, boolean continues) throws IOException {
            if (!continues && isPythonBlank(text)) add(null, Batch.BLANK);
            else add(text, continues ? Batch.CONTINUATION : Batch.LINE);
        }

        void endOfFile() throws IOException {
            add(null, Batch.END_OF_FILE);
        }

        private void add(String text, byte kind) throws IOException {
            batch.texts[batch.size] = text;
            batch.kinds[batch.size++] = kind;
            if (text != null) batch.chars += text.length();
            if (batch.full()) flush();
        }

        void flush() throws IOException {
            if (batch.size == 0) return;
            submitter.submit(batch);
            batch = new Batch();
        }
    }

    /**
     * True when Python's {@code line.strip()} is empty: every char is one of Python's whitespace
     * characters (a zero-width space is not, so such a line is a line, though it has no tokens).
     */
    static boolean isPythonBlank(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean space = (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0
                    || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029
                    || c == 0x202F || c == 0x205F || c == 0x3000;
            if (!space) return false;
        }
        return true;
    }

    /** Runs on the builder thread: joins line pieces and feeds whole lines to the builder in order. */
    private static final class Assembler {
        final ExampleBuilder builder;
        final int cap;
        final IntArrayList pending = new IntArrayList();
        long pendingFull = -1; // -1: no line pending
        long corpusTokens, documents, lines;
        boolean documentHasText;

        Assembler(ExampleBuilder builder, int cap) {
            this.builder = builder;
            this.cap = cap;
        }

        void accept(Tokenized t) throws IOException {
            int from = 0;
            for (int i = 0; i < t.size(); i++) {
                int to = t.keptEnd()[i];
                switch (t.kinds()[i]) {
                    case Batch.LINE -> {
                        endLine();
                        pending.addElements(0, t.kept(), from, to - from);
                        pendingFull = t.full()[i];
                    }
                    case Batch.CONTINUATION -> {
                        int room = cap - pending.size();
                        if (room > 0) pending.addElements(pending.size(), t.kept(), from, Math.min(room, to - from));
                        pendingFull += t.full()[i];
                    }
                    default -> { // BLANK or END_OF_FILE: the document ends
                        endLine();
                        if (documentHasText) documents++;
                        documentHasText = false;
                        builder.endDocument();
                    }
                }
                from = to;
            }
        }

        private void endLine() throws IOException {
            if (pendingFull < 0) return;
            lines++;
            corpusTokens += pendingFull;
            if (pendingFull > 0) documentHasText = true;
            int full = (int) Math.min(Integer.MAX_VALUE, pendingFull);
            builder.addSentence(pending.toIntArray(), full);
            pending.clear();
            pendingFull = -1;
        }
    }

}
