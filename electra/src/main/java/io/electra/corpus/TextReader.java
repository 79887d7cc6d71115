package io.electra.corpus;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;

/**
 * Reads one corpus file, plain or gzip (recognised by its magic bytes), as lines of UTF-8 text.
 *
 * <p>Invalid UTF-8 becomes U+FFFD and is counted. Lines end at {@code \n} only. A line longer than
 * {@link #MAX_PIECE} characters is handed over in pieces, cut at whitespace (or, failing that, after
 * punctuation), where the tokenizer would split anyway: a 10 MB line never sits in memory whole.
 * A single word longer than a piece is cut as it comes; it is {@code [UNK]} either way.
 */
final class TextReader implements AutoCloseable {
    /** Longest piece of a line handed to the tokenizer at once, in chars. */
    static final int MAX_PIECE = 1 << 20;
    /** Bytes looked at to tell binary files (with NULs) from text. */
    static final int SNIFF_BYTES = 64 * 1024;

    /** Receives the text of one file in order. */
    interface Sink {
        /** A piece of a line; {@code continues} when it continues the previous piece's line. */
        void piece(String text, boolean continues) throws IOException;
    }

    private final Path file;
    private final InputStream in;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private long replaced;

    private TextReader(Path file, InputStream in) {
        this.file = file;
        this.in = in;
    }

    /**
     * Opens {@code file}, counting raw (on-disk) bytes into {@code diskBytes}; {@code null} when the
     * file looks binary (more than 1% NUL bytes in its first 64 KiB).
     */
    static TextReader open(Path file, AtomicLong diskBytes) throws IOException {
        InputStream raw = new CountingInputStream(Files.newInputStream(file), diskBytes);
        BufferedInputStream buffered = new BufferedInputStream(raw, 1 << 16);
        buffered.mark(2);
        int b0 = buffered.read(), b1 = buffered.read();
        buffered.reset();
        InputStream text = b0 == 0x1F && b1 == 0x8B
                ? new BufferedInputStream(new GZIPInputStream(buffered, 1 << 16), 1 << 16) : buffered;
        text.mark(SNIFF_BYTES);
        byte[] head = text.readNBytes(SNIFF_BYTES);
        text.reset();
        int nul = 0;
        for (byte x : head) if (x == 0) nul++;
        if (nul > head.length / 100) {
            text.close();
            return null;
        }
        return new TextReader(file, text);
    }

    /** Number of invalid UTF-8 sequences replaced by U+FFFD so far. */
    long replacedSequences() {
        return replaced;
    }

    /** Feeds every line to {@code sink}; returns the number of (decompressed) bytes read. */
    long readAll(Sink sink) throws IOException {
        byte[] bytes = new byte[1 << 16];
        ByteBuffer bb = ByteBuffer.wrap(bytes);
        bb.limit(0);
        CharBuffer cb = CharBuffer.allocate(1 << 16);
        LineState state = new LineState(sink);
        long total = 0;
        boolean eof = false;
        while (!eof) {
            bb.compact();
            int n = in.read(bytes, bb.position(), bb.remaining());
            if (n < 0) eof = true;
            else {
                bb.position(bb.position() + n);
                total += n;
            }
            bb.flip();
            while (true) {
                CoderResult r = decoder.decode(bb, cb, eof);
                state.take(cb);
                if (r.isError()) {
                    // One U+FFFD per invalid sequence, as Python's errors="replace" does.
                    bb.position(bb.position() + r.length());
                    cb.put('\uFFFD');
                    replaced++;
                } else if (!r.isOverflow()) {
                    break;
                }
            }
        }
        decoder.flush(cb);
        state.take(cb);
        state.finish();
        return total;
    }

    /** The line being assembled across decoder buffers. */
    private static final class LineState {
        final Sink sink;
        final StringBuilder line = new StringBuilder(256);
        boolean continues;

        LineState(Sink sink) {
            this.sink = sink;
        }

        /** Consumes the decoded chars in {@code cb} and leaves it empty for writing. */
        void take(CharBuffer cb) throws IOException {
            cb.flip();
            while (cb.hasRemaining()) {
                char c = cb.get();
                if (c == '\n') {
                    sink.piece(line.toString(), continues);
                    line.setLength(0);
                    continues = false;
                    continue;
                }
                line.append(c);
                if (line.length() >= MAX_PIECE) {
                    int cut = cutPoint(line);
                    sink.piece(line.substring(0, cut), continues);
                    line.delete(0, cut);
                    continues = true;
                }
            }
            cb.clear();
        }

        void finish() throws IOException {
            if (line.length() > 0 || continues) sink.piece(line.toString(), continues);
        }
    }

    /**
     * Where to cut an over-long line so that both sides tokenize as the whole would: after the last
     * space or tab, else after the last ASCII punctuation that cannot be inside {@code [MASK]} and its
     * kin, else at the end (never inside a surrogate pair).
     */
    static int cutPoint(CharSequence line) {
        int n = line.length();
        for (int i = n - 1; i > 0; i--) {
            char c = line.charAt(i);
            if (c == ' ' || c == '\t') return i + 1;
        }
        for (int i = n - 1; i > 5; i--) {
            char c = line.charAt(i);
            if (isAsciiPunctuation(c) && c != '[' && noBracketIn(line, i - 4, i)) return i + 1;
        }
        return Character.isHighSurrogate(line.charAt(n - 1)) ? n - 1 : n;
    }

    private static boolean noBracketIn(CharSequence s, int from, int to) {
        for (int i = from; i <= to; i++) if (s.charAt(i) == '[') return false;
        return true;
    }

    private static boolean isAsciiPunctuation(char c) {
        return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
    }

    Path file() {
        return file;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    /** Counts the bytes read from the file itself, for progress in on-disk terms. */
    private static final class CountingInputStream extends java.io.FilterInputStream {
        private final AtomicLong counter;

        CountingInputStream(InputStream in, AtomicLong counter) {
            super(in);
            this.counter = counter;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) counter.incrementAndGet();
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) counter.addAndGet(n);
            return n;
        }
    }
}
