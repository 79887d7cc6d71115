package io.electra.pretrain;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** Appends one JSON object per line to {@code metrics.jsonl} and keeps the records for the plots. */
public final class MetricsLog implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final BufferedWriter out;
    private final List<StepMetrics> records = new ArrayList<>();

    public MetricsLog(Path file, boolean append) throws IOException {
        out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        if (append) {
            for (String line : Files.readAllLines(file)) {
                if (!line.isBlank()) records.add(JSON.readValue(line, StepMetrics.class));
            }
        }
    }

    public void write(StepMetrics m) throws IOException {
        records.add(m);
        out.write(JSON.writeValueAsString(m));
        out.newLine();
        out.flush();
    }

    /** Records from the start of the log; a resumed run keeps only those before its own first step. */
    public List<StepMetrics> records() {
        return records;
    }

    public void dropFrom(long step) {
        records.removeIf(r -> r.step() >= step);
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
