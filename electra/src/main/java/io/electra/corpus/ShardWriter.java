package io.electra.corpus;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes rows into shard files of at most {@code rowsPerShard} rows. Each shard is written under a
 * {@code .tmp} name, forced to disk and renamed only when complete, so a crash never leaves a
 * half-written file under a shard's name.
 */
final class ShardWriter implements ExampleBuilder.RowSink, AutoCloseable {
    /** One finished shard. */
    record Shard(String file, long rows, long bytes) {
    }

    private final Path dir;
    private final int maxLength;
    private final long rowsPerShard;
    private final byte[] record;
    private final List<Shard> shards = new ArrayList<>();
    private OutputStream out;
    private Path tmp;
    private long rowsInShard;
    private long rows;
    private long tokens;

    ShardWriter(Path dir, int maxLength, long rowsPerShard) {
        this.dir = dir;
        this.maxLength = maxLength;
        this.rowsPerShard = rowsPerShard;
        this.record = new byte[ShardFormat.rowBytes(maxLength)];
    }

    @Override
    public void row(int[] ids, int length, int startB) throws IOException {
        if (out == null) {
            tmp = dir.resolve(ShardFormat.shardName(shards.size()) + ShardFormat.TMP_SUFFIX);
            out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20);
            rowsInShard = 0;
        }
        for (int i = 0; i < maxLength; i++) {
            record[2 * i] = (byte) ids[i];
            record[2 * i + 1] = (byte) (ids[i] >>> 8);
        }
        record[2 * maxLength] = (byte) startB;
        record[2 * maxLength + 1] = (byte) (startB >>> 8);
        out.write(record);
        rowsInShard++;
        rows++;
        tokens += length;
        if (rowsInShard == rowsPerShard) finishShard();
    }

    private void finishShard() throws IOException {
        out.close();
        out = null;
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        String name = ShardFormat.shardName(shards.size());
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        shards.add(new Shard(name, rowsInShard, rowsInShard * record.length));
    }

    /** Completes the last shard; call once all rows are written. */
    List<Shard> finish() throws IOException {
        if (out != null) finishShard();
        return List.copyOf(shards);
    }

    long rows() {
        return rows;
    }

    /** Real tokens (special tokens included, padding not) in all rows. */
    long tokens() {
        return tokens;
    }

    /** Leaves no partial shard behind when the run fails. */
    @Override
    public void close() throws IOException {
        if (out != null) {
            out.close();
            out = null;
            Files.deleteIfExists(tmp);
        }
    }
}
