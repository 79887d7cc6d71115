package io.electra.glue;

import java.io.IOException;
import java.nio.file.Path;

/** A GLUE file that does not have its task's layout; the message starts with {@code file:line:}. */
public final class MalformedTsvException extends IOException {
    private final Path file;
    private final int line;

    public MalformedTsvException(Path file, int line, String problem) {
        super(file + ":" + line + ": " + problem);
        this.file = file;
        this.line = line;
    }

    public Path file() {
        return file;
    }

    /** 1-based line number of the offending row. */
    public int line() {
        return line;
    }
}
