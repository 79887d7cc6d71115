package io.electra.corpus;

import io.electra.tokenizer.Vocab;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Reads a prepared dataset (see the package documentation for the format): random access to any
 * row through memory-mapped windows of at most 1 GiB, so shards may be larger than the 2 GiB a
 * single Java buffer can map. Safe for concurrent readers (absolute reads only).
 */
public final class ShardDataset implements AutoCloseable {
    private static final long WINDOW_BYTES = 1L << 30;

    private final ShardIndex index;
    private final int maxLength;
    private final int rowBytes;
    private final long windowRows;
    private final long[] shardStart;         // first row of each shard, plus the total at the end
    private final MappedByteBuffer[][] windows;

    private ShardDataset(Path dir, ShardIndex index, long windowBytes) throws IOException {
        this.index = index;
        this.maxLength = index.maxLength();
        this.rowBytes = ShardFormat.rowBytes(maxLength);
        this.windowRows = Math.max(1, windowBytes / rowBytes);
        int shards = index.shards().size();
        shardStart = new long[shards + 1];
        windows = new MappedByteBuffer[shards][];
        for (int s = 0; s < shards; s++) {
            ShardIndex.Shard shard = index.shards().get(s);
            Path file = dir.resolve(shard.file());
            long expected = shard.rows() * rowBytes;
            if (!Files.isRegularFile(file)) throw new IOException("shard " + file + " listed in the index is missing");
            if (Files.size(file) != expected) {
                throw new IOException("shard " + file + " has " + Files.size(file) + " bytes, the index says "
                        + shard.rows() + " rows of " + rowBytes + " = " + expected);
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                int count = (int) ((shard.rows() + windowRows - 1) / windowRows);
                windows[s] = new MappedByteBuffer[count];
                for (int w = 0; w < count; w++) {
                    long first = w * windowRows;
                    long rowsHere = Math.min(windowRows, shard.rows() - first);
                    windows[s][w] = ch.map(FileChannel.MapMode.READ_ONLY, first * rowBytes, rowsHere * rowBytes);
                    windows[s][w].order(ByteOrder.LITTLE_ENDIAN);
                }
            }
            shardStart[s + 1] = shardStart[s] + shard.rows();
        }
        if (shardStart[shards] != index.rows()) {
            throw new IOException(dir + ": shards hold " + shardStart[shards] + " rows, the index says " + index.rows());
        }
    }

    /**
     * Opens the dataset in {@code dir}, checking that it was made with {@code vocab} (same
     * {@link Vocab#sha256()}): ids from another vocabulary would silently mean other words.
     */
    public static ShardDataset open(Path dir, Vocab vocab) throws IOException {
        return open(dir, vocab, WINDOW_BYTES);
    }

    /** With windows of {@code windowBytes} (tests use small ones to cross window edges). */
    static ShardDataset open(Path dir, Vocab vocab, long windowBytes) throws IOException {
        ShardIndex index = ShardIndex.read(dir);
        if (!index.vocabSha256().equals(vocab.sha256())) {
            throw new IllegalArgumentException("dataset " + dir + " was prepared with vocab sha256 " + index.vocabSha256()
                    + ", but the vocab in use (" + vocab.source() + ") has " + vocab.sha256());
        }
        return new ShardDataset(dir, index, windowBytes);
    }

    /** The hash a dataset's index records for {@code vocab}: {@link Vocab#sha256()}. */
    public static String vocabHash(Vocab vocab) {
        return vocab.sha256();
    }

    public long rows() {
        return shardStart[shardStart.length - 1];
    }

    public int maxLength() {
        return maxLength;
    }

    public ShardIndex index() {
        return index;
    }

    /**
     * Copies row {@code i} into {@code ids} and, when not null, {@code tokenTypeIds} (both of
     * length {@link #maxLength()}). Padding is id 0; the attention mask is {@code ids != 0}.
     */
    public void readRow(long i, int[] ids, int[] tokenTypeIds) {
        if (i < 0 || i >= rows()) throw new IndexOutOfBoundsException("row " + i + " of " + rows());
        if (ids.length < maxLength || (tokenTypeIds != null && tokenTypeIds.length < maxLength)) {
            throw new IllegalArgumentException("row buffers must hold " + maxLength + " ids");
        }
        int s = Arrays.binarySearch(shardStart, i);
        if (s < 0) s = -s - 2;
        while (shardStart[s + 1] <= i) s++; // empty shards share a start
        long local = i - shardStart[s];
        MappedByteBuffer w = windows[s][(int) (local / windowRows)];
        int base = (int) ((local % windowRows) * rowBytes);
        for (int j = 0; j < maxLength; j++) ids[j] = w.getShort(base + 2 * j) & 0xFFFF;
        if (tokenTypeIds != null) {
            int startB = w.getShort(base + 2 * maxLength) & 0xFFFF;
            for (int j = 0; j < maxLength; j++) tokenTypeIds[j] = j >= startB && ids[j] != 0 ? 1 : 0;
        }
    }

    /** The shuffled row order of {@code epoch} for {@code seed}: the same on every run and machine. */
    public EpochOrder epochOrder(long seed, int epoch) {
        return new EpochOrder(rows(), seed, epoch);
    }

    /** Mapped windows are released by the garbage collector; this only drops the references. */
    @Override
    public void close() {
        for (MappedByteBuffer[] w : windows) Arrays.fill(w, null);
    }
}
