package io.electra.bench.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** The benchmark text: non-blank lines of the Gutenberg validation shard, up to a byte budget. */
final class BenchText {
    final String[] lines;
    final long utf8Bytes;

    private BenchText(String[] lines, long utf8Bytes) {
        this.lines = lines;
        this.utf8Bytes = utf8Bytes;
    }

    static Path shared() {
        String p = System.getProperty("electra.shared", System.getenv().getOrDefault("ELECTRA_SHARED", "../shared"));
        return Path.of(p);
    }

    static BenchText load(long maxBytes) throws IOException {
        Path valid = shared().resolve("data/corpus/gutenberg-en/valid.txt.gz");
        List<String> out = new ArrayList<>();
        long bytes = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(valid)), StandardCharsets.UTF_8))) {
            String line;
            while (bytes < maxBytes && (line = r.readLine()) != null) {
                if (line.isBlank()) continue;
                out.add(line);
                bytes += line.getBytes(StandardCharsets.UTF_8).length + 1;
            }
        }
        return new BenchText(out.toArray(new String[0]), bytes);
    }
}
