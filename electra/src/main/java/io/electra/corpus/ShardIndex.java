package io.electra.corpus;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The JSON index of a prepared dataset ({@code index.json}, snake_case keys). It is written last,
 * so a directory without one is not a finished dataset.
 */
public record ShardIndex(String format, int version, String vocabSha256, int vocabSize, boolean lowerCase,
                         int maxLength, long rowsPerShard, long rows, long tokens, long corpusTokens,
                         long seed, long documents, long lines, long replacedInvalidUtf8,
                         List<Shard> shards, List<Source> sources, List<String> skippedBinaryFiles) {

    /** A shard file: its name in the dataset directory, rows and size in bytes. */
    public record Shard(String file, long rows, long bytes) {
    }

    /** An input file as given (directories expanded), its size on disk, and the U+FFFD replacements in it. */
    public record Source(String path, long bytes, long replacedInvalidUtf8) {
    }

    static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    static ShardIndex read(Path dir) throws IOException {
        Path p = dir.resolve(ShardFormat.INDEX);
        if (!Files.isRegularFile(p)) {
            throw new IOException("no " + ShardFormat.INDEX + " in " + dir
                    + ": not a prepared dataset, or its preparation did not finish");
        }
        ShardIndex index = JSON.readValue(p.toFile(), ShardIndex.class);
        if (!ShardFormat.FORMAT.equals(index.format()) || index.version() != ShardFormat.VERSION) {
            throw new IOException(p + ": format " + index.format() + " version " + index.version()
                    + ", expected " + ShardFormat.FORMAT + " version " + ShardFormat.VERSION);
        }
        return index;
    }

    /** Writes under a temporary name, then renames: readers never see half an index. */
    void write(Path dir) throws IOException {
        Path tmp = dir.resolve(ShardFormat.INDEX + ShardFormat.TMP_SUFFIX);
        JSON.writeValue(tmp.toFile(), this);
        Files.move(tmp, dir.resolve(ShardFormat.INDEX), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
