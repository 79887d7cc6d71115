package io.electra.bench.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads and writes the benchmark JSON files; unknown fields are kept out of the way, not fatal. */
public final class BenchJson {
    static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private BenchJson() {
    }

    public static RunFile read(Path file) throws IOException {
        try {
            RunFile r = MAPPER.readValue(file.toFile(), RunFile.class);
            if (r.results() == null) throw new IOException("no \"results\" array");
            return r;
        } catch (IOException e) {
            throw new IOException(file + ": not a benchmark result file: " + e.getMessage(), e);
        }
    }

    /** Writes through a temporary file and a rename, so a crash never leaves half a file. */
    public static void write(Path file, Object value) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = parent.resolve(file.getFileName() + ".tmp");
        Files.writeString(tmp, MAPPER.writeValueAsString(value) + "\n");
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
