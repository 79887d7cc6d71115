package io.electra.glue;

import java.io.Closeable;
import java.io.IOException;
import java.io.Reader;

/**
 * Reads text one line at a time, ending lines at {@code '\n'} only (a {@code "\r\n"} ending loses
 * its {@code '\r'}). {@link java.io.BufferedReader#readLine()} also ends lines at a lone
 * {@code '\r'}, which would split a field in two and shift every later line number away from what
 * an editor shows.
 */
final class TsvLines implements Closeable {
    private final Reader in;
    private final char[] buffer = new char[1 << 16];
    private final StringBuilder line = new StringBuilder(256);
    private int position;
    private int limit;
    private int lineNumber;

    TsvLines(Reader in) {
        this.in = in;
    }

    /** The next line without its terminator, or null at the end of the input. */
    String next() throws IOException {
        line.setLength(0);
        boolean sawAny = false;
        while (true) {
            if (position == limit) {
                limit = in.read(buffer, 0, buffer.length);
                position = 0;
                if (limit <= 0) {
                    limit = 0;
                    if (!sawAny) return null;
                    break;
                }
            }
            sawAny = true;
            int start = position;
            while (position < limit && buffer[position] != '\n') position++;
            line.append(buffer, start, position - start);
            if (position < limit) {
                position++;
                break;
            }
        }
        lineNumber++;
        int n = line.length();
        if (n > 0 && line.charAt(n - 1) == '\r') line.setLength(n - 1);
        return line.toString();
    }

    /** 1-based number of the line last returned by {@link #next()}. */
    int lineNumber() {
        return lineNumber;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
